"""Catalogue spreadsheets: export then import changes nothing; a changed file shows its
difference, applies it in one go and raises the ID floor; bad cells are one line naming
the sheet, row and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from domain.errors import UserError
from services.catalogue_files import export_catalogue, import_catalogue
from services.hearing_records import current_version
from storage import catalogue, ledger
from storage.db import read_session, write_session
from storage.models import IdPrefixRow, LearningGoalRow
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import dump

DAY = date(2025, 1, 6)


def _export(engine, path: Path, code: str = "BLS") -> int:
    with read_session(engine) as session:
        return export_catalogue(session, code, path, DAY)


def _edit(path: Path, edits: dict[tuple[int, int], object], append=(), delete_row=None) -> None:
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for (row, column), value in edits.items():
        sheet.cell(row=row, column=column).value = value
    for values in append:
        sheet.append(list(values))
    if delete_row is not None:
        sheet.delete_rows(delete_row)
    workbook.save(path)


def _row_of(path: Path, goal_id: str) -> int:
    sheet = load_workbook(path).worksheets[0]
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == goal_id)


def test_export_then_import_changes_nothing(engine, tmp_path):
    path = tmp_path / "bls.xlsx"
    count = _export(engine, path)
    assert count == 133
    with read_session(engine) as session:
        dry = import_catalogue(session, path, DAY, dry_run=True)
    assert [d.empty for d in dry.diffs] == [True]
    goals_before = dump(engine)["learning_goal"]
    with write_session(engine) as session:
        applied = import_catalogue(session, path, DAY, dry_run=False)
    assert not applied.changed
    assert dump(engine)["learning_goal"] == goals_before
    again = tmp_path / "again.xlsx"
    _export(engine, again)
    assert again.read_bytes() == path.read_bytes()  # deterministic, same content


def test_a_changed_file_shows_and_applies_its_difference(engine, tmp_path):
    path = tmp_path / "bls.xlsx"
    _export(engine, path)
    new_text = "Ha god kunnskap om og beherske utredning og behandling av jernmangelanemi."
    _edit(
        path,
        {(2, 2): new_text, (2, 5): 3},  # BLS-001: text and training part
        append=[("BLS-160", "Ha kunnskap om VEXAS-syndrom.", "", "", 3, "Benigne blodsykdommer")],
    )
    _edit(path, {}, delete_row=_row_of(path, "BLS-002"))
    before = dump(engine)
    with read_session(engine) as session:
        dry = import_catalogue(session, path, DAY, dry_run=True)
    assert dry.as_json()["catalogues"] == [
        {
            "catalogue": "BLS",
            "added": ["BLS-160"],
            "changed": {"BLS-001": ["text", "training_part"]},
            "removed": ["BLS-002"],
        }
    ]
    assert dump(engine) == before  # a dry run writes nothing

    with write_session(engine) as session:
        import_catalogue(session, path, DAY, dry_run=False)
    with read_session(engine) as session:
        on_day = {g.id: g for g in catalogue.goals_on(session, DAY, "BLS")}
        day_before = {g.id: g for g in catalogue.goals_on(session, date(2025, 1, 5), "BLS")}
        floor = session.get(IdPrefixRow, "BLS")
        next_id = str(ledger.peek_next(session, "BLS"))
        versions = session.exec(
            select(LearningGoalRow).where(LearningGoalRow.goal_id == "BLS-001")
        ).all()
    assert on_day["BLS-001"].text == new_text and day_before["BLS-001"].text != new_text
    assert sorted(v.training_part for v in versions if v.training_part) == [3]
    assert on_day["BLS-002"].status == "retired" and day_before["BLS-002"].status == "active"
    assert on_day["BLS-160"].heading == "Benigne blodsykdommer"
    assert floor is not None and (floor.floor, floor.floor_verified) == (160, True)
    assert next_id == "BLS-161"

    with read_session(engine) as session:  # importing the same file again: nothing to do
        assert not import_catalogue(session, path, DAY, dry_run=True).changed


def test_bad_cells_are_one_line_naming_sheet_row_and_column(hoering_env, engine, tmp_path):
    path = tmp_path / "bls.xlsx"
    _export(engine, path)
    row = _row_of(path, "BLS-005")
    before = dump(engine)
    _edit(path, {(row, 5): "del 4"})
    result = run_hoering("catalogue", "import", str(path), "--dry-run", env=hoering_env)
    assert_one_line_error(
        result,
        f"hoering: error: {path}, sheet 'BLS' row {row}, column E (Del): 'del 4' is not a "
        "training part; write 1, 2 or 3",
    )
    _edit(path, {(row, 5): None, (row, 1): "KIR-005"})
    result = run_hoering("catalogue", "import", str(path), env=hoering_env)
    assert_one_line_error(
        result,
        f"hoering: error: {path}, sheet 'BLS' row {row}, column A (Læringsmåls-ID): KIR-005 "
        "is not an ID of catalogue BLS (prefixes BLS); move the row to that catalogue's sheet",
    )
    _edit(path, {(row, 1): "BLS-5"})
    result = run_hoering("catalogue", "import", str(path), env=hoering_env)
    assert_one_line_error(result, f"sheet 'BLS' row {row}, column A", "BLS-005")
    _edit(path, {(row, 1): "BLS-005", (row, 2): None})
    result = run_hoering("catalogue", "import", str(path), env=hoering_env)
    assert_one_line_error(
        result,
        f"hoering: error: {path}, sheet 'BLS' row {row}, column B (Læringsmål): the goal text "
        "is empty; write it",
    )
    assert dump(engine) == before  # nothing half-written


def test_cli_export_and_dry_run_import(hoering_env, tmp_path):
    path = tmp_path / "fkm.xlsx"
    exported = run_hoering("catalogue", "export", "FKM", str(path), "--json", env=hoering_env)
    assert exported.code == 0, exported.stderr
    assert exported.json()["goals"] == 1
    shown = run_hoering("catalogue", "import", str(path), "--dry-run", env=hoering_env)
    assert shown.code == 0, shown.stderr
    assert "FKM: 0 added, 0 changed, 0 removed" in shown.stdout
    unknown = run_hoering("catalogue", "export", "XYZ", str(path), env=hoering_env)
    assert_one_line_error(unknown, "unknown catalogue 'XYZ'", "FKM, LIS1")


def test_an_import_never_overwrites_a_codified_change_that_is_not_in_effect_yet(engine, tmp_path):
    path = tmp_path / "bls.xlsx"
    _export(engine, path)  # exported before the hearing's change was codified
    with write_session(engine) as session:
        current = current_version(session, "BLS-010")
        assert current is not None
        catalogue.add_version(
            session, current, date(2025, 9, 1), "hearing:25/9", text="Kunne gjøre noe nytt."
        )
    before = dump(engine)["learning_goal"]
    with pytest.raises(UserError) as refused, write_session(engine) as session:
        import_catalogue(session, path, DAY, dry_run=False)
    assert "BLS-010: hearing 25/9 changed it from 2025-09-01" in str(refused.value)
    assert "export the catalogue again" in str(refused.value)
    assert dump(engine)["learning_goal"] == before  # nothing half-written
