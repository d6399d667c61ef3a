"""An explicit ID at codification (`resolve_id: HJS-101`): checked against the ledger and
the catalogue; one above the verified floor needs --accept-unverified-id and is recorded
as unverified, without becoming the verified floor (issue 12, point 6)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from domain.decisions import parse_decisions
from domain.errors import UserError
from domain.lifecycle import Action, Command
from services import hearings
from services.codification import check_explicit_ids
from storage import ledger
from storage.db import read_session, write_session
from storage.models import IdPrefixRow, IdReservationRow, LearningGoalRow
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import (
    AFTER_DEADLINE,
    CIRCULATED,
    CODIFIED,
    DECISIONS_PATH,
    REVIEWED,
    act,
    create,
    dump,
)

HJS_LINE = DECISIONS_PATH.read_text(encoding="utf-8").splitlines().index("  - item: HJS") + 3


def _decisions(resolve_id: str) -> str:
    text = DECISIONS_PATH.read_text(encoding="utf-8")
    assert "    resolve_id: next" in text
    return text.replace("    resolve_id: next", f"    resolve_id: {resolve_id}", 1)


def _reviewed(engine, tmp_path) -> None:
    create(engine)
    for action, when in (
        (Action.CIRCULATE, CIRCULATED),
        (Action.CLOSE, AFTER_DEADLINE),
        (Action.REVIEW_DONE, REVIEWED),
    ):
        act(engine, action, when, tmp_path / "letters")


def _codify(engine, tmp_path, resolve_id: str, accept: bool = False):
    decisions = parse_decisions(_decisions(resolve_id), "vedtak.yaml")
    decisions.accepting_unverified_ids(accept)
    with write_session(engine) as session:
        return hearings.transition(
            session,
            "24/750",
            Command(Action.CODIFY, "tester", None),
            CODIFIED,
            tmp_path / "letters",
            decisions,
        )


def _precheck(engine, resolve_id: str, accept: bool = False) -> None:
    decisions = parse_decisions(_decisions(resolve_id), "vedtak.yaml")
    decisions.accepting_unverified_ids(accept)
    with read_session(engine) as session:
        check_explicit_ids(session, hearings.get_hearing(session, "24/750"), decisions)


def _refused(engine, tmp_path, resolve_id: str, *fragments: str) -> None:
    """Refused before the flow and inside it, in one line naming the line; nothing changes."""
    before = dump(engine)
    for attempt in (
        lambda: _precheck(engine, resolve_id),
        lambda: _codify(engine, tmp_path, resolve_id),
    ):
        with pytest.raises(UserError) as err:
            attempt()
        message = str(err.value)
        assert "\n" not in message
        assert f"vedtak.yaml line {HJS_LINE}, decisions[" in message and "resolve_id" in message
        for fragment in fragments:
            assert fragment in message, message
    assert dump(engine) == before


def test_next_id_on_an_unverified_floor_needs_the_flag(engine, tmp_path):
    _reviewed(engine, tmp_path)
    _refused(
        engine,
        tmp_path,
        "HJS-101",
        "HJS-101 rests on the unverified floor HJS-100",
        "--accept-unverified-id",
    )


def test_flagged_unverified_id_is_recorded_and_never_the_verified_floor(engine, tmp_path):
    _reviewed(engine, tmp_path)
    _precheck(engine, "HJS-101", accept=True)
    codified = _codify(engine, tmp_path, "HJS-101", accept=True)
    assert codified.details["final_ids"]["HJS"] == "HJS-101"
    with read_session(engine) as session:
        held = {r.display: r for r in ledger.reservations_for_case(session, "24/750")}
        floor = session.get(IdPrefixRow, "HJS")
        nxt = str(ledger.peek_next(session, "HJS"))
    assert held["HJS-101"].accepted_unverified and held["HJS-101"].status == "used"
    assert not held["BLS-154"].accepted_unverified
    assert floor is not None and (floor.floor, floor.floor_verified) == (100, False)
    assert nxt == "HJS-102"


def test_an_id_that_skips_numbers_needs_the_flag_even_on_a_verified_floor(engine, tmp_path):
    _reviewed(engine, tmp_path)
    with write_session(engine) as session:
        ledger.raise_floor(session, "HJS", 100, verified=True, source="test")
    _refused(engine, tmp_path, "HJS-105", "HJS-105 skips numbers after HJS-100")


def test_the_next_id_on_a_verified_floor_is_taken_without_the_flag(engine, tmp_path):
    _reviewed(engine, tmp_path)
    with write_session(engine) as session:
        ledger.raise_floor(session, "HJS", 100, verified=True, source="test")
    codified = _codify(engine, tmp_path, "HJS-101")
    assert codified.details["final_ids"]["HJS"] == "HJS-101"
    with read_session(engine) as session:
        row = session.exec(select(IdReservationRow).where(IdReservationRow.number == 101)).one()
    assert not row.accepted_unverified


def test_an_id_below_the_next_free_number_is_refused(engine, tmp_path):
    _reviewed(engine, tmp_path)
    _refused(engine, tmp_path, "HJS-050", "HJS-050 is below the next free number HJS-101")


def test_an_id_held_in_the_ledger_is_refused(engine, tmp_path):
    _reviewed(engine, tmp_path)
    with write_session(engine) as session:
        ledger.reserve(session, "HJS", "another-hearing", CODIFIED)
    _refused(
        engine,
        tmp_path,
        "HJS-101",
        "HJS-101 is already reserved in the ledger (key 'another-hearing')",
        "resolve_id: next",
    )


def test_an_existing_catalogue_goal_is_refused_even_with_the_flag(engine, tmp_path):
    _reviewed(engine, tmp_path)
    with write_session(engine) as session:
        session.add(
            LearningGoalRow(
                goal_id="HJS-120", prefix="HJS", number=120, catalogue_code="HJS", text="Mål."
            )
        )
    with pytest.raises(UserError, match="HJS-120 is already a goal in the catalogue"):
        _precheck(engine, "HJS-120", accept=True)
    with pytest.raises(UserError, match="HJS-120 is already a goal in the catalogue"):
        _codify(engine, tmp_path, "HJS-120", accept=True)


def test_codify_on_the_command_line_refuses_in_one_line(engine, tmp_path, hoering_env):
    _reviewed(engine, tmp_path)
    decisions = tmp_path / "vedtak.yaml"
    decisions.write_text(_decisions("HJS-101"), encoding="utf-8")
    result = run_hoering("hearing", "codify", "24/750", str(decisions), env=hoering_env)
    assert_one_line_error(
        result, f"vedtak.yaml line {HJS_LINE}", "HJS-101", "--accept-unverified-id"
    )


def test_ids_list_shows_an_unverified_id(engine, tmp_path, hoering_env):
    _reviewed(engine, tmp_path)
    _codify(engine, tmp_path, "HJS-101", accept=True)
    listed = run_hoering("ids", "list", "--prefix", "HJS", "--json", env=hoering_env)
    assert listed.code == 0, listed.stderr
    assert [(r["id"], r["status"], r["unverified"]) for r in listed.json()] == [
        ("HJS-101", "used", True)
    ]
    shown = run_hoering("ids", "list", "--case", "24/750", env=hoering_env)
    assert "HJS-101" in shown.stdout and "unverified" in shown.stdout
