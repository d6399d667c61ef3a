"""The change sheet (.xlsx) of a hearing: every change item, overall and per specialty.

Sheet "Oversikt" has one row per change item; then one sheet per specialty (in the
order the specialties first appear) with each change, its reason and its effect on
the IDs. The adopted change sheet (after codification) has two last columns, "Vedtak"
and "Helsedirektoratets vurdering", the final IDs and the adopted texts. The file is
deterministic: fixed workbook properties and zip entry times.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from domain.letter_context import ChangeItemRow, ChangeSheetContext
from fileio.atomic import write_atomically
from rendering.xlsx_tables import (
    add_table_sheet,
    new_workbook,
    set_workbook_properties,
    workbook_bytes,
)

OVERVIEW_SHEET = "Oversikt"
OVERVIEW_HEADERS = (
    "Spesialitet",
    "Læringsmåls-ID",
    "Endring",
    "Kompetansenivå før",
    "Kompetansenivå etter",
    "Skjerpet krav",
    "Kommentar",
)
SPECIALTY_HEADERS = (
    "Læringsmåls-ID",
    "Type endring",
    "Endring",
    "Tekst før",
    "Tekst etter",
    "Kompetansenivå før",
    "Kompetansenivå etter",
    "Skjerpet krav",
    "Begrunnelse",
    "Effekt på ID",
    "Kommentar",
)
DECISION_HEADER = "Vedtak"
ASSESSMENT_HEADER = "Helsedirektoratets vurdering"


def _yes_no(value: bool) -> str:
    return "Ja" if value else "Nei"


def _overview_row(item: ChangeItemRow) -> tuple[str, ...]:
    return (
        item.specialty_name,
        item.goal_id_display,
        item.change_nb,
        item.level_before or "",
        item.level_after or "",
        _yes_no(item.stricter),
        item.comment,
    )


def _specialty_row(item: ChangeItemRow) -> tuple[str, ...]:
    return (
        item.goal_id_display,
        item.kind.label_nb,
        item.change_nb,
        item.old_text or "",
        item.new_text or "",
        item.level_before or "",
        item.level_after or "",
        _yes_no(item.stricter),
        item.reason,
        item.id_effect_nb,
        item.comment,
    )


def build_change_workbook(context: ChangeSheetContext) -> Workbook:
    """The workbook of the change sheet (not yet saved)."""
    decided = context.decided
    extra = (DECISION_HEADER, ASSESSMENT_HEADER) if decided else ()

    def with_decision(item: ChangeItemRow, row: tuple[str, ...]) -> tuple[str, ...]:
        return (*row, item.decision_nb, item.assessment) if decided else row

    workbook = new_workbook()
    add_table_sheet(
        workbook,
        OVERVIEW_SHEET,
        OVERVIEW_HEADERS + extra,
        [with_decision(i, _overview_row(i)) for i in context.change_items],
    )

    by_specialty: dict[str, list[ChangeItemRow]] = {}
    for item in context.change_items:
        by_specialty.setdefault(item.specialty_name, []).append(item)
    for specialty, items in by_specialty.items():
        add_table_sheet(
            workbook,
            specialty,
            SPECIALTY_HEADERS + extra,
            [with_decision(i, _specialty_row(i)) for i in items],
        )

    set_workbook_properties(
        workbook,
        day=context.sheet_date,
        title=f"Endringsoversikt sak {context.case_number}",
        subject=context.title,
    )
    return workbook


def change_sheet_bytes(context: ChangeSheetContext) -> bytes:
    """The .xlsx bytes, deterministic for the same context."""
    return workbook_bytes(build_change_workbook(context), context.sheet_date)


def write_change_sheet(context: ChangeSheetContext, path: Path) -> str:
    """Write the change sheet to `path` (atomically); returns its sha256 hex."""
    return write_atomically(Path(path), change_sheet_bytes(context))
