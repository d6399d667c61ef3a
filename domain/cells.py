"""Spreadsheet cells that stay text (CSV/formula injection).

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as
a formula by Excel and LibreOffice (`=1+1 sak 24/750`, `=HYPERLINK(...)`). Every CSV and
spreadsheet writer asks `is_formula_like` (one rule) and writes such a cell as text: in a
CSV file with a leading apostrophe (`csv_cell`), which both programs take as "text
follows"; in an .xlsx file as a string cell with the quote-prefix style, which shows the
text unchanged and keeps it text when edited.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program would read `text` as a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> str:
    """`value` as CSV cell text, with an apostrophe in front when it looks like a formula."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula_like(text) else text


__all__ = ["FORMULA_STARTS", "csv_cell", "is_formula_like"]
