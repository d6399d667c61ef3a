"""The change sheet (.xlsx) of a hearing: every change item, overall and per specialty.

Sheet "Oversikt" has one row per change item; then one sheet per specialty (in the
order the specialties first appear) with each change, its reason and its effect on
the IDs. The file is deterministic: fixed workbook properties and zip entry times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook

from domain.letter_context import ChangeItemRow, ChangeSheetContext
from fileio.atomic import write_atomically
from rendering.xlsx_tables import set_workbook_properties, workbook_bytes, write_table

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
MAX_SHEET_TITLE = 31
_FORBIDDEN_IN_TITLE = re.compile(r"[\[\]:*?/\\]")
_RESERVED_TITLES = {"history"}  # Excel reserves "History" for change tracking


def sheet_title(name: str, taken: Iterable[str]) -> str:
    """A valid, unused sheet title for `name`: at most 31 characters, none of []:*?/\\,
    not starting or ending with an apostrophe, unique regardless of case."""
    used = {title.casefold() for title in taken} | _RESERVED_TITLES
    base = " ".join(_FORBIDDEN_IN_TITLE.sub("-", name).split()).strip("'").strip()
    base = base or "Spesialitet"
    candidate = base[:MAX_SHEET_TITLE].rstrip("' ")
    number = 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate = base[: MAX_SHEET_TITLE - len(suffix)].rstrip("' ") + suffix
        number += 1
    return candidate


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
    workbook = Workbook()
    overview = workbook.active
    assert overview is not None
    overview.title = OVERVIEW_SHEET
    write_table(overview, OVERVIEW_HEADERS, [_overview_row(i) for i in context.change_items])

    by_specialty: dict[str, list[ChangeItemRow]] = {}
    for item in context.change_items:
        by_specialty.setdefault(item.specialty_name, []).append(item)
    titles = [OVERVIEW_SHEET]
    for specialty, items in by_specialty.items():
        title = sheet_title(specialty, titles)
        titles.append(title)
        sheet = workbook.create_sheet(title)
        write_table(sheet, SPECIALTY_HEADERS, [_specialty_row(i) for i in items])

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
