"""The table writer of the .xlsx files (change sheet, høringsoppsummering), and their
deterministic bytes: fixed workbook properties and zip entry times."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from domain.cells import is_formula_like
from rendering.docx_files import AUTHOR, normalise_zip

MAX_COLUMN_WIDTH = 60
MAX_SHEET_TITLE = 31
_FORBIDDEN_IN_TITLE = re.compile(r"[\[\]:*?/\\]")
_RESERVED_TITLES = {"history"}  # Excel reserves "History" for change tracking
_HEADER_FONT = Font(bold=True)
_WRAPPED = Alignment(wrap_text=True, vertical="top")  # one style object for every cell


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


def new_workbook() -> Workbook:
    """An empty workbook: its first sheet is the first `add_table_sheet`."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    return workbook


def add_table_sheet(
    workbook: Workbook, name: str, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> str:
    """A new sheet titled after `name` (valid and unique, see `sheet_title`) holding the
    table; returns the title."""
    title = sheet_title(name, workbook.sheetnames)
    write_table(workbook.create_sheet(title), headers, rows)
    return title


def write_table(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A bold header row, then the rows (wrapped, top-aligned); columns as wide as their
    longest value (at most 60), the header frozen and filterable. Text is always text:
    a value such as "=SUM(...)" from a record or a sender never becomes a formula
    (`domain.cells`)."""
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                text = ILLEGAL_CHARACTERS_RE.sub("", value)
                if text:
                    cell.value = text
                    cell.data_type = "s"
                    if is_formula_like(text):
                        cell.quotePrefix = True  # shown as text, and text when edited
            else:
                cell.value = value
            cell.alignment = _WRAPPED
    for column, header in enumerate(headers, start=1):
        longest = max([len(header)] + [len(str(row[column - 1])) for row in rows])
        sheet.column_dimensions[get_column_letter(column)].width = min(
            longest + 2, MAX_COLUMN_WIDTH
        )
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def set_workbook_properties(workbook: Workbook, *, day: date, title: str, subject: str) -> None:
    """Fixed metadata: the same workbook gives the same bytes."""
    stamp = datetime.combine(day, time(0, 0), tzinfo=UTC).replace(tzinfo=None)
    props = workbook.properties
    props.creator = AUTHOR
    props.lastModifiedBy = AUTHOR
    props.created = stamp
    props.modified = stamp
    props.title = title
    props.subject = subject


def workbook_bytes(workbook: Workbook, day: date) -> bytes:
    """The .xlsx bytes, every zip entry dated `day`."""
    buffer = BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with the clock.
    with ZipFile(buffer, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return normalise_zip(buffer.getvalue(), day)
