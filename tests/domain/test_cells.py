"""Cells that look like formulas are written as text in CSV and .xlsx files."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from openpyxl import load_workbook

from domain.cells import csv_cell, is_formula_like
from rendering.xlsx_tables import add_table_sheet, new_workbook, workbook_bytes


def test_formula_like_cells_are_neutralised_by_one_rule():
    for text in ("=1+1", "+47 912 34 567", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert is_formula_like(text) and csv_cell(text) == "'" + text
    assert not is_formula_like("Høring 24/750")
    assert csv_cell("Høring 24/750") == "Høring 24/750" and csv_cell(None) == ""


def test_xlsx_cells_that_look_like_formulas_are_quote_prefixed_text():
    workbook = new_workbook()
    add_table_sheet(workbook, "Svar", ("Nr.", "Emne"), [("24/750-1", "=1+1 sak 24/750")])
    sheet = load_workbook(BytesIO(workbook_bytes(workbook, date(2024, 9, 20))))["Svar"]
    cell = sheet["B2"]
    assert cell.value == "=1+1 sak 24/750" and cell.data_type == "s" and cell.quotePrefix
    assert not sheet["A2"].quotePrefix
