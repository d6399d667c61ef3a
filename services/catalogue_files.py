"""Catalogue spreadsheets: export a catalogue's goals, import a full catalogue.

`export_catalogue` writes the latest version of every goal of one catalogue (layout:
`domain.catalogue_sheet`). `import_catalogue` reads every sheet of a workbook (each
titled with a catalogue code), compares it with the goals loaded (added, changed,
removed) and, unless it is a dry run, applies the difference in the caller's
transaction: new goals enter at version 1, a changed goal gets a new version from the
import day, a goal missing from the sheet retires from that day; the ID floor of each
prefix rises to the highest number in the sheet and is marked verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from domain.catalogue_sheet import (
    CatalogueDiff,
    CatalogueSheetRow,
    GoalState,
    diff_catalogue,
    parse_catalogue_sheet,
)
from domain.competence import level_of_text
from domain.errors import UserError
from domain.reference import CatalogueKind
from rendering.catalogue_sheet import read_sheet_cells, write_catalogue_sheet
from services.goal_history import PendingChange, pending_changes
from storage import catalogue, ledger
from storage.models import IdPrefixRow, LearningGoalRow


@dataclass
class ImportReport:
    file: str
    dry_run: bool
    diffs: list[CatalogueDiff] = field(default_factory=list)
    floors: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(not d.empty for d in self.diffs)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "catalogues": [d.as_json() for d in self.diffs],
            "floors": self.floors,
            "warnings": self.warnings,
        }


def _state(row: LearningGoalRow) -> GoalState:
    return GoalState(
        row.goal_id,
        row.text,
        row.elaboration,
        row.heading,
        row.training_part,
        "retired" if row.status == "retired" else "active",
        row.valid_from,
        row.valid_to,
    )


def _known_code(session: Session, code: str) -> str:
    clean = code.strip().upper()
    facts = catalogue.catalogue_facts(session)
    if clean not in facts:
        others = sorted(c for c, f in facts.items() if f.kind != CatalogueKind.SPECIALTY)
        raise UserError(
            f"unknown catalogue '{code}'; use a specialty prefix (BLS) or one of "
            f"{', '.join(others)}"
        )
    return clean


def export_catalogue(session: Session, code: str, path: Path, day: date) -> int:
    """Write catalogue `code` to `path` (.xlsx); returns the number of goals."""
    clean = _known_code(session, code)
    goals = [_state(row) for row in catalogue.latest_versions(session, clean)]
    write_catalogue_sheet({clean: goals}, path, day)
    return len(goals)


def read_catalogue_file(
    session: Session, path: Path
) -> list[tuple[str, tuple[CatalogueSheetRow, ...]]]:
    """(catalogue code, rows) of every sheet of the workbook, validated."""
    facts = catalogue.catalogue_facts(session)
    paddings = catalogue.prefix_paddings(session)
    sheets = []
    for title, cells in read_sheet_cells(path):
        code = title.strip().upper()
        if code not in facts:
            raise UserError(
                f"{path}, sheet '{title}': not a catalogue code; title each sheet with its "
                "catalogue's code (a specialty prefix such as BLS, or FKM, LIS1)"
            )
        wanted = {p: paddings[p] for p in facts[code].prefixes}
        sheets.append((code, parse_catalogue_sheet(cells, str(path), title, wanted)))
    if not sheets:
        raise UserError(f"{path}: the workbook has no sheets; export one to see the layout")
    return sheets


def import_catalogue(session: Session, path: Path, day: date, dry_run: bool) -> ImportReport:
    """Compare the workbook at `path` with the loaded catalogues; apply it unless `dry_run`."""
    report = ImportReport(str(path), dry_run)
    source = f"import:{Path(path).name}"
    pending = pending_changes(session)
    for code, rows in read_catalogue_file(session, path):
        loaded = {r.goal_id: r for r in catalogue.latest_versions(session, code)}
        before = [_state(r) for r in loaded.values()]
        diff = diff_catalogue(code, before, map(GoalState.of_row, rows))
        report.diffs.append(diff)
        report.warnings += _under_change(diff, pending)
        highest = _highest_numbers(rows)
        _check_not_reserved(session, path, diff)
        if not dry_run:
            _apply(session, code, diff, loaded, day, source)
        for prefix, number in highest.items():
            verified = dry_run or _raise_floor(session, prefix, number, f"{source} ({day})")
            report.floors[prefix] = {"highest": number, "verified": verified}
    return report


def _raise_floor(session: Session, prefix: str, highest: int, source: str) -> bool:
    """Raise the floor (and the counter) to the catalogue's highest number, verified;
    True unless a higher floor from another source stays in force."""
    ledger.raise_floor(session, prefix, highest, verified=True, source=source)
    row = session.get(IdPrefixRow, prefix)
    return row is not None and row.floor == highest and row.floor_verified


def _under_change(diff: CatalogueDiff, pending: dict[str, list[PendingChange]]) -> list[str]:
    """One line per changed or removed goal that an open hearing proposes to change: its
    item was checked against the catalogue as it was."""
    touched = [c.after.goal_id for c in diff.changed] + [g.goal_id for g in diff.removed]
    return [
        f"{goal_id} is changed by this import and by hearing {p.case} ({p.kind}, {p.state}); "
        "check the hearing's item against the new catalogue"
        for goal_id in touched
        for p in pending.get(goal_id, ())
    ]


def _highest_numbers(rows: Sequence[CatalogueSheetRow]) -> dict[str, int]:
    highest: dict[str, int] = {}
    for row in rows:
        prefix, _, digits = row.id.partition("-")
        highest[prefix] = max(highest.get(prefix, 0), int(digits))
    return highest


def _check_not_reserved(session: Session, path: Path, diff: CatalogueDiff) -> None:
    for goal in diff.added:
        holder = catalogue.reservation_holder(session, goal.goal_id)
        if holder is not None:
            raise UserError(
                f"{path}: {goal.goal_id} is reserved in the ID ledger ({holder}) but not in "
                "the catalogue; remove the row, or codify or withdraw that hearing first"
            )


def _apply(
    session: Session,
    code: str,
    diff: CatalogueDiff,
    loaded: dict[str, LearningGoalRow],
    day: date,
    source: str,
) -> None:
    for goal in diff.added:
        prefix, _, digits = goal.goal_id.partition("-")
        level = level_of_text(goal.text)
        session.add(
            LearningGoalRow(
                goal_id=goal.goal_id,
                prefix=prefix,
                number=int(digits),
                catalogue_code=code,
                text=goal.text,
                elaboration=goal.elaboration,
                heading=goal.heading,
                training_part=goal.training_part,
                level=level.name.lower() if level else None,
                status=goal.status,
                valid_from=goal.valid_from,
                valid_to=goal.valid_to,
                source=source,
            )
        )
    for change in diff.changed:
        after = change.after
        _new_state(
            session,
            loaded[after.goal_id],
            day,
            source,
            text=after.text,
            elaboration=after.elaboration,
            heading=after.heading,
            training_part=after.training_part,
            status=after.status,
        )
    for goal in diff.removed:
        _new_state(session, loaded[goal.goal_id], day, source, status="retired")
    session.flush()


def _new_state(
    session: Session, current: LearningGoalRow, day: date, source: str, **changes: Any
) -> None:
    """A new version from `day`; a version that starts that day is corrected instead.
    A hearing's codified version that starts on or after `day` is never overwritten."""
    start = max(day, current.valid_from) if current.valid_from else day
    if current.valid_from == start and (current.source or "").startswith("hearing:"):
        case = (current.source or "").removeprefix("hearing:")
        raise UserError(
            f"{current.goal_id}: hearing {case} changed it from {current.valid_from}, and the "
            "file differs from that version; export the catalogue again, or import with "
            f"--as-of after {current.valid_from} to change it from then"
        )
    if current.valid_from == start:
        for name, value in changes.items():
            setattr(current, name, value)
        level = level_of_text(current.text)
        current.level = level.name.lower() if level else None
        current.source = source
        session.add(current)
        return
    catalogue.add_version(session, current, start, source, **changes)
