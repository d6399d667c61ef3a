"""The table writer of the .xlsx files (change sheet, høringsoppsummering), and their
deterministic bytes: fixed workbook properties and zip entry times."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from copy import copy
from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, NamedStyle
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from domain.cells import is_formula_like
from rendering.docx_files import AUTHOR, normalise_zip, normalise_zip_file

MAX_COLUMN_WIDTH = 60
MAX_SHEET_TITLE = 31
_FORBIDDEN_IN_TITLE = re.compile(r"[\[\]:*?/\\]")
_RESERVED_TITLES = {"history"}  # Excel reserves "History" for change tracking
_HEADER_FONT = Font(bold=True)
_WRAPPED = Alignment(wrap_text=True, vertical="top")  # one style object for every cell
# The streamed tables' cell styles, registered once per workbook and named by every cell.
WRAPPED_STYLE = "hoering-celle"
HEADER_STYLE = "hoering-overskrift"


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
    widths = ColumnWidths(headers)
    for row in rows:
        widths.add(row)
    widths.apply(sheet)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


class ColumnWidths:
    """Each column as wide as its longest value or header, plus 2, at most 60: counted
    row by row, so a streamed table knows its widths before it writes its rows."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.longest = [len(h) for h in headers]

    def add(self, row: Sequence[object]) -> None:
        longest = self.longest
        for column, value in enumerate(row):
            size = len(value) if isinstance(value, str) else len(str(value))
            if size > longest[column]:
                longest[column] = size

    def apply(self, sheet: Worksheet | WriteOnlyWorksheet) -> None:
        for column, longest in enumerate(self.longest, start=1):
            width = min(longest + 2, MAX_COLUMN_WIDTH)
            sheet.column_dimensions[get_column_letter(column)].width = width


def new_streamed_workbook() -> Workbook:
    """A write-only workbook (rows go to disk as they are appended), with the tables'
    two cell styles registered once."""
    workbook = Workbook(write_only=True)
    workbook.add_named_style(NamedStyle(name=WRAPPED_STYLE, alignment=_WRAPPED))
    workbook.add_named_style(NamedStyle(name=HEADER_STYLE, font=_HEADER_FONT))
    return workbook


class StreamedTable:
    """A table sheet of a write-only workbook, written row by row: what `write_table`
    writes, for any number of rows. The widths must be known before the first row."""

    def __init__(
        self, workbook: Workbook, name: str, headers: Sequence[str], widths: ColumnWidths
    ) -> None:
        self.title = sheet_title(name, workbook.sheetnames)
        sheet = workbook.create_sheet(self.title)
        assert isinstance(sheet, WriteOnlyWorksheet)
        self.sheet = sheet
        self.columns = len(headers)
        self.rows = 0
        # Each named style resolved once; a cell takes a copy of its (small) style array.
        self._styles = {name: self._styled(name) for name in (WRAPPED_STYLE, HEADER_STYLE)}
        widths.apply(sheet)
        sheet.freeze_panes = "A2"
        sheet.append([self._cell(h, HEADER_STYLE) for h in headers])

    def _styled(self, name: str) -> StyleArray:
        probe = WriteOnlyCell(self.sheet)
        probe.style = name
        return probe._style

    def _cell(self, value: object, style: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet)
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            if text:
                cell.value = text
                cell.data_type = "s"
        elif value is not None:
            cell.value = value
        cell._style = copy(self._styles[style])
        if isinstance(cell.value, str) and is_formula_like(cell.value):
            cell.quotePrefix = True  # shown as text, and text when edited
        return cell

    def append(self, row: Sequence[object]) -> None:
        self.sheet.append([self._cell(value, WRAPPED_STYLE) for value in row])
        self.rows += 1

    def close(self) -> None:
        """The filter over the table (written at the end of the sheet)."""
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(self.columns)}{self.rows + 1}"


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


def write_workbook(workbook: Workbook, stream: BinaryIO, day: date, scratch: Path) -> None:
    """Write `workbook` (a write-only one too) to `stream` as `workbook_bytes` would,
    through the file `scratch`: the bytes are never all in memory."""
    with ZipFile(scratch, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    normalise_zip_file(scratch, stream, day)
