"""A learning-goal catalogue as a spreadsheet (.xlsx): writing it for export and reading
the cells of one for import. The layout (one sheet per catalogue, titled with its code;
the columns of `domain.catalogue_sheet.COLUMNS`) and the validation of the cells are in
`domain.catalogue_sheet`."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from domain.catalogue_sheet import ACTIVE_NB, HEADERS, RETIRED_NB, GoalState, level_words
from domain.errors import UserError
from fileio.atomic import write_atomically
from rendering.xlsx_tables import (
    add_table_sheet,
    new_workbook,
    set_workbook_properties,
    workbook_bytes,
)


def _row(goal: GoalState) -> tuple[object, ...]:
    return (
        goal.goal_id,
        goal.text,
        goal.elaboration or "",
        level_words(goal.text),
        goal.training_part,
        goal.heading or "",
        goal.valid_from,
        goal.valid_to,
        RETIRED_NB if goal.status == "retired" else ACTIVE_NB,
    )


def catalogue_sheet_bytes(catalogues: Mapping[str, Sequence[GoalState]], day: date) -> bytes:
    """The .xlsx bytes: one sheet per catalogue code, one row per goal; deterministic."""
    workbook = new_workbook()
    for code, goals in catalogues.items():
        add_table_sheet(workbook, code, HEADERS, [_row(g) for g in goals])
    codes = ", ".join(catalogues)
    set_workbook_properties(
        workbook, day=day, title=f"Læringsmål {codes}", subject=f"Læringsmålkatalog {codes}"
    )
    return workbook_bytes(workbook, day)


def write_catalogue_sheet(
    catalogues: Mapping[str, Sequence[GoalState]], path: Path, day: date
) -> str:
    """Write the catalogue spreadsheet to `path` (atomically); returns its sha256 hex."""
    return write_atomically(Path(path), catalogue_sheet_bytes(catalogues, day))


def read_sheet_cells(path: Path) -> list[tuple[str, list[list[object]]]]:
    """(sheet title, rows of cell values) of every sheet of the .xlsx at `path`."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; check the path") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}); save it as "
            "Excel workbook (.xlsx)"
        ) from None
    try:
        return [
            (sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
            for sheet in workbook.worksheets
        ]
    finally:
        workbook.close()
