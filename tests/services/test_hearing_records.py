"""What the hearing records read from the catalogue: the version an item changes."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from services.hearing_records import current_version
from storage.catalogue import add_version
from storage.db import read_session, write_session
from storage.models import LearningGoalRow


def _latest(session, goal_id: str) -> LearningGoalRow:
    rows = session.exec(select(LearningGoalRow).where(LearningGoalRow.goal_id == goal_id)).all()
    return max(rows, key=lambda row: row.version)


def test_a_retired_goal_has_no_version_a_later_change_can_build_on(engine):
    with write_session(engine) as session:
        active = current_version(session, "BLS-010")
        assert active is not None and active.status == "active"
        add_version(session, active, date(2026, 9, 1), "hearing:25/1", status="retired")
    with read_session(engine) as session:
        assert _latest(session, "BLS-010").status == "retired"
        assert current_version(session, "BLS-010") is None
        assert current_version(session, "BLS-011") is not None
