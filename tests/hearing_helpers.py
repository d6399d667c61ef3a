"""Building and driving the 24/750 reference hearing in tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from domain.calendar import OSLO
from domain.decisions import parse_decisions
from domain.hearing_spec import parse_hearing_spec
from domain.lifecycle import Action, Command
from services import hearings
from storage.db import write_session

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "examples" / "hearings" / "24-750-kliniske-studier.yaml"
DECISIONS_PATH = ROOT / "examples" / "hearings" / "24-750-vedtak.yaml"

CIRCULATED = datetime(2024, 3, 22, 10, 0, tzinfo=OSLO)
AFTER_DEADLINE = datetime(2024, 6, 1, 0, 0, tzinfo=OSLO)
REVIEWED = datetime(2024, 6, 10, 9, 0, tzinfo=OSLO)
CODIFIED = datetime(2024, 9, 16, 9, 0, tzinfo=OSLO)
EFFECTIVE = datetime(2025, 9, 1, 7, 0, tzinfo=OSLO)


def spec_text(**replacements: str) -> str:
    """The 24/750 spec, with exact line replacements (old line -> new line)."""
    content = SPEC_PATH.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in content, old
        content = content.replace(old, new, 1)
    return content


def create(engine: Engine, content: str | None = None, now: datetime = CIRCULATED):
    content = content if content is not None else spec_text()
    spec = parse_hearing_spec(content, "spec.yaml")
    with write_session(engine) as session:
        row, _ = hearings.create_hearing(session, spec, content, "spec.yaml", now, "tester")
        return row.case_number


def act(
    engine: Engine,
    action: Action,
    now: datetime,
    letters_dir: Path,
    case: str = "24/750",
    reason: str | None = None,
    decisions_text: str | None = None,
):
    decisions = None
    if decisions_text is not None:
        decisions = parse_decisions(decisions_text, "vedtak.yaml")
    with write_session(engine) as session:
        return hearings.transition(
            session, case, Command(action, "tester", reason), now, letters_dir, decisions
        )


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused transition changed nothing."""
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {
            name: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{name}"')).all()), key=repr)
            for name in names
        }
