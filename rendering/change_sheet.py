"""The change sheet (.xlsx) of a hearing: every change item, overall and per specialty.

Sheet "Oversikt" has one row per change item; then one sheet per specialty (in the
order the specialties first appear) with each change, its reason and its effect on
the IDs. The file is deterministic: fixed workbook properties and zip entry times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from io import BytesIO
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from domain.letter_context import ChangeItemRow, ChangeSheetContext
from rendering.letters import AUTHOR, normalise_zip, write_atomically

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
_MAX_COLUMN_WIDTH = 60


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


def _write_table(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            if text:
                cell.value = text
                # A record value such as "=SUM(...)" is text, never a formula.
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, header in enumerate(headers, start=1):
        longest = max([len(header)] + [len(row[column - 1]) for row in rows])
        sheet.column_dimensions[get_column_letter(column)].width = min(
            longest + 2, _MAX_COLUMN_WIDTH
        )
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def build_change_workbook(context: ChangeSheetContext) -> Workbook:
    """The workbook of the change sheet (not yet saved)."""
    workbook = Workbook()
    overview = workbook.active
    assert overview is not None
    overview.title = OVERVIEW_SHEET
    _write_table(overview, OVERVIEW_HEADERS, [_overview_row(i) for i in context.change_items])

    by_specialty: dict[str, list[ChangeItemRow]] = {}
    for item in context.change_items:
        by_specialty.setdefault(item.specialty_name, []).append(item)
    titles = [OVERVIEW_SHEET]
    for specialty, items in by_specialty.items():
        title = sheet_title(specialty, titles)
        titles.append(title)
        sheet = workbook.create_sheet(title)
        _write_table(sheet, SPECIALTY_HEADERS, [_specialty_row(i) for i in items])

    stamp = datetime.combine(context.sheet_date, time(0, 0), tzinfo=UTC).replace(tzinfo=None)
    props = workbook.properties
    props.creator = AUTHOR
    props.lastModifiedBy = AUTHOR
    props.created = stamp
    props.modified = stamp
    props.title = f"Endringsoversikt sak {context.case_number}"
    props.subject = context.title
    return workbook


def change_sheet_bytes(context: ChangeSheetContext) -> bytes:
    """The .xlsx bytes, deterministic for the same context."""
    workbook = build_change_workbook(context)
    buffer = BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with the clock.
    with ZipFile(buffer, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return normalise_zip(buffer.getvalue(), context.sheet_date)


def write_change_sheet(context: ChangeSheetContext, path: Path) -> str:
    """Write the change sheet to `path` (atomically); returns its sha256 hex."""
    return write_atomically(Path(path), change_sheet_bytes(context))
