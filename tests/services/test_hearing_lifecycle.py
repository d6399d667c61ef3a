"""The hearing lifecycle in storage: every transition, and every refusal changes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from docx import Document
from sqlmodel import select

from domain.calendar import OSLO
from domain.errors import TransitionRefused, UserError
from domain.lifecycle import Action
from services import hearings
from storage import catalogue, ledger
from storage.db import read_session
from storage.hearing_models import OutboxMessageRow
from tests.hearing_helpers import (
    AFTER_DEADLINE,
    CIRCULATED,
    CODIFIED,
    DECISIONS_PATH,
    EFFECTIVE,
    REVIEWED,
    act,
    create,
    dump,
    spec_text,
)

LETTER_IDS = [
    ("Akutt- og mottaksmedisin", "AMM-068"),
    ("Blodsykdommer", "BLS-154"),
    ("Geriatri", "GER-064"),
    ("Hjertesykdommer", "HJS-xxx"),
    ("Indremedisin", "MED-106"),
    ("Lungesykdommer", "LUN-061"),
    ("Nyresykdommer", "NYR-067"),
    ("Generell kirurgi", "KIR-174"),
    ("Nevrokirurgi", "NKI-037"),
    ("Urologi", "URO-090"),
    ("Barnesykdommer", "PED-165"),
    ("Nevrologi", "NEV-068"),
    ("Onkologi", "ONC-069"),
]


def _docx_text(path: str) -> tuple[str, list[list[str]]]:
    document = Document(path)
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    rows = [[cell.text for cell in row.cells] for t in document.tables for row in t.rows]
    return paragraphs, rows


def _refused(engine, tmp_path, fragment: str, **kwargs) -> None:
    before = dump(engine)
    with pytest.raises(UserError) as err:
        act(engine, now=kwargs.pop("now"), letters_dir=tmp_path / "letters", **kwargs)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
    assert dump(engine) == before
    assert not any((tmp_path / "letters").rglob("*.docx"))


def test_whole_24_750_lifecycle(engine, tmp_path):
    letters = tmp_path / "letters"
    assert create(engine) == "24/750"
    circulated = act(engine, Action.CIRCULATE, CIRCULATED, letters)
    assert circulated.to_state == "circulated"
    assert any("three months" in w for w in circulated.warnings)

    paragraphs, rows = _docx_text(circulated.details["letters"][0])
    assert "31. mai 2024" in paragraphs and "24/750" in paragraphs
    table = [(r[0], r[1]) for r in rows if r[0] != "Spesialitet"]
    assert table[: len(LETTER_IDS)] == LETTER_IDS

    with read_session(engine) as session:
        row = hearings.get_hearing(session, "24/750")
        recipients = hearings.recipients(session, row)
        letters_sent = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "hoeringsbrev")
        ).all()
    assert sorted(m.to_address for m in letters_sent) == sorted(r.email for r in recipients)
    assert {r.group for r in recipients} >= {"rhf", "spesialitetskomite"}

    assert act(engine, Action.CLOSE, AFTER_DEADLINE, letters).to_state == "closed"
    assert act(engine, Action.REVIEW_DONE, REVIEWED, letters).to_state == "reviewed"
    codified = act(
        engine, Action.CODIFY, CODIFIED, letters, decisions_text=DECISIONS_PATH.read_text()
    )
    assert codified.to_state == "codified"
    assert codified.details["final_ids"]["HJS"] == "HJS-101"
    assert codified.details["final_ids"]["BLS"] == "BLS-154"

    with read_session(engine) as session:
        on_day = {g.id: g for g in catalogue.goals_on(session, date(2025, 9, 1), "BLS")}
        day_before = {g.id for g in catalogue.goals_on(session, date(2025, 8, 31), "BLS")}
        reservations = {
            r.display: r.status for r in ledger.reservations_for_case(session, "24/750")
        }
        orientations = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "orienteringsbrev")
        ).all()
    assert "BLS-154" in on_day and "BLS-154" not in day_before
    assert on_day["BLS-154"].text.startswith("Ha kunnskap om kliniske studier")
    assert on_day["BLS-154"].heading == "Kliniske studier"
    assert on_day["BLS-154"].level == "middle"
    assert set(reservations.values()) == {"used"} and "HJS-101" in reservations
    assert len(orientations) == len(recipients)

    with pytest.raises(TransitionRefused, match="has not come"):
        act(engine, Action.ACTIVATE, datetime(2025, 8, 31, 23, 0, tzinfo=OSLO), letters)
    assert act(engine, Action.ACTIVATE, EFFECTIVE, letters).to_state == "in_effect"
    again = act(engine, Action.ACTIVATE, EFFECTIVE, letters)
    assert again.already_done

    with read_session(engine) as session:
        events = hearings.history(session, hearings.get_hearing(session, "24/750"))
    assert [e.action for e in events] == [
        "create",
        "circulate",
        "close",
        "review_done",
        "codify",
        "activate",
    ]
    assert all(e.actor == "tester" for e in events)


def test_creating_the_same_spec_twice_returns_the_stored_hearing(engine):
    create(engine)
    create(engine)
    with read_session(engine) as session:
        reservations = ledger.reservations_for_case(session, "24/750")
    assert len(reservations) == 13


def test_a_different_spec_under_the_same_case_is_refused(engine):
    create(engine)
    changed = spec_text(**{"  Kompetanse om kliniske": "  Endret: kompetanse om kliniske"})
    with pytest.raises(UserError, match="already exists with a different spec"):
        create(engine, changed)


def test_unknown_stakeholder_in_spec_names_its_line(engine):
    content = spec_text(**{"    - helse-bergen\n": "    - helse-bergen-finnes-ikke\n"})
    before = dump(engine)
    with pytest.raises(UserError, match=r"line \d+.*unknown stakeholder"):
        create(engine, content)
    assert dump(engine) == before


def test_circulate_refused_without_every_rhf(engine, tmp_path):
    create(engine, spec_text(**{"groups: [rhf, regut,": "groups: [regut,"}))
    _refused(engine, tmp_path, "RHF", action=Action.CIRCULATE, now=CIRCULATED)


def test_circulate_refused_for_deadline_on_a_holiday(engine, tmp_path):
    create(engine, spec_text(**{"deadline: 2024-05-31": "deadline: 2024-05-17"}))
    _refused(engine, tmp_path, "2024-05-21", action=Action.CIRCULATE, now=CIRCULATED)


def test_circulate_refused_for_deadline_under_six_weeks(engine, tmp_path):
    create(engine)
    late = datetime(2024, 5, 1, 10, 0, tzinfo=OSLO)
    _refused(engine, tmp_path, "six weeks", action=Action.CIRCULATE, now=late)


def test_close_refused_before_the_deadline_day_ends(engine, tmp_path):
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, tmp_path / "first")
    last_minute = datetime(2024, 5, 31, 23, 59, tzinfo=OSLO)
    _refused(engine, tmp_path, "has not ended", action=Action.CLOSE, now=last_minute)


def _to_reviewed(engine, tmp_path):
    create(engine)
    for action, now in [
        (Action.CIRCULATE, CIRCULATED),
        (Action.CLOSE, AFTER_DEADLINE),
        (Action.REVIEW_DONE, REVIEWED),
    ]:
        act(engine, action, now, tmp_path / "earlier")


def test_codify_refused_when_an_item_has_no_decision(engine, tmp_path):
    _to_reviewed(engine, tmp_path)
    decisions = DECISIONS_PATH.read_text()
    start = decisions.index("  - item: ONC")
    _refused(
        engine,
        tmp_path,
        "ONC",
        action=Action.CODIFY,
        now=CODIFIED,
        decisions_text=decisions[:start],
    )


def test_codify_refused_for_an_odd_effective_date_without_reason(engine, tmp_path):
    _to_reviewed(engine, tmp_path)
    decisions = DECISIONS_PATH.read_text().replace(
        "effective_date: 2025-09-01", "effective_date: 2025-10-01"
    )
    _refused(
        engine,
        tmp_path,
        "1 March or 1 September",
        action=Action.CODIFY,
        now=CODIFIED,
        decisions_text=decisions,
    )


def test_withdraw_burns_reserved_ids_and_needs_a_reason(engine, tmp_path):
    create(engine)
    _refused(engine, tmp_path, "reason", action=Action.WITHDRAW, now=CIRCULATED)
    result = act(engine, Action.WITHDRAW, CIRCULATED, tmp_path / "l", reason="feil i forslaget")
    assert result.to_state == "withdrawn"
    with read_session(engine) as session:
        statuses = {r.status for r in ledger.reservations_for_case(session, "24/750")}
        assert statuses == {"burned"}
        assert str(ledger.peek_next(session, "BLS")) == "BLS-155"
    history = json.loads(result.as_json()["details"] and json.dumps(result.details))
    assert "BLS-154" in history["burned_reservations"]


def test_withdraw_refused_after_codification(engine, tmp_path):
    _to_reviewed(engine, tmp_path)
    act(engine, Action.CODIFY, CODIFIED, tmp_path / "l", decisions_text=DECISIONS_PATH.read_text())
    _refused(
        engine,
        tmp_path,
        "withdraw applies only",
        action=Action.WITHDRAW,
        now=CODIFIED,
        reason="for sent",
    )
