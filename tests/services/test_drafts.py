"""Drafts: revising a draft keeps the IDs of the items that stay, burns those of removed
items and none for nothing; a withdrawn case number is reused only on purpose."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlmodel import col, select

from domain.errors import TransitionRefused, UserError
from domain.hearing_spec import parse_hearing_spec
from domain.lifecycle import Action
from services import hearings
from storage import ledger
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from tests.hearing_helpers import CIRCULATED, act, create, dump, spec_text

ONC_ITEM = """
  - kind: new_goal
    specialty: ONC
    heading: Kliniske studier
    training_part: 3
    expected_id: ONC-069
"""
SECOND_BLS_ITEM = """
  - kind: new_goal
    specialty: BLS
    ref: BLS-praktisk
    heading: Kliniske studier
    training_part: 3
    text: Under supervisjon kunne delta i gjennomføringen av en klinisk studie.
"""


def _revise(engine, content: str, case: str = "24/750") -> dict:
    spec = parse_hearing_spec(content, "revidert.yaml")
    with write_session(engine) as session:
        return hearings.revise_hearing(
            session, case, spec, content, "revidert.yaml", CIRCULATED, "tester"
        )


def _statuses(engine, case: str = "24/750") -> dict[str, str]:
    with read_session(engine) as session:
        return {r.display: r.status for r in ledger.reservations_for_case(session, case)}


def test_revising_the_text_keeps_every_id_and_burns_none(engine):
    create(engine)
    before = _statuses(engine)
    revised = _revise(engine, spec_text(**{"  Kompetanse om kliniske": "  Revidert: kliniske"}))
    assert revised["revised"] is True
    assert revised["new_ids"] == {} and revised["burned_ids"] == []
    assert revised["kept_ids"]["BLS"] == "BLS-154" and revised["ids"]["HJS"] == "HJS-xxx"
    assert _statuses(engine) == before  # 13 reservations, all still held
    with read_session(engine) as session:
        assert str(ledger.peek_next(session, "BLS")) == "BLS-155"
        row = hearings.get_hearing(session, "24/750")
        assert row.title.startswith("Revidert: kliniske")
        events = hearings.history(session, row)
    assert [e.action for e in events] == ["create", "revise"]
    details = json.loads(events[1].details_json)
    assert "Kompetanse om kliniske" in details["previous_spec"]["text"]


def test_revision_reserves_only_new_items_and_burns_removed_ones(engine):
    create(engine)
    content = spec_text(**{ONC_ITEM: SECOND_BLS_ITEM})
    revised = _revise(engine, content)
    assert revised["new_ids"] == {"BLS-praktisk": "BLS-155"}
    assert revised["burned_ids"] == ["ONC-069"]
    assert len(revised["kept_ids"]) == 12
    statuses = _statuses(engine)
    assert statuses["ONC-069"] == "burned" and statuses["BLS-155"] == "reserved"
    with read_session(engine) as session:
        assert str(ledger.peek_next(session, "ONC")) == "ONC-070"  # never reused
        row = hearings.get_hearing(session, "24/750")
        refs = [item.ref for item in hearings.items(session, row)]
    assert "ONC" not in refs and refs[-1] == "BLS-praktisk"

    again = _revise(engine, content)  # the same spec again: nothing happens
    assert again["revised"] is False
    assert _statuses(engine) == statuses


def test_an_item_that_is_deferred_by_the_revision_burns_its_number(engine):
    create(engine)
    content = spec_text(
        **{"    expected_id: ONC-069\n": "    defer_reason: Avventer revisjonen av ONC.\n"}
    )
    revised = _revise(engine, content)
    assert revised["burned_ids"] == ["ONC-069"] and revised["new_ids"] == {"ONC": "ONC-xxx"}


def test_revising_a_circulated_hearing_is_refused_and_changes_nothing(engine, tmp_path):
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, tmp_path / "letters")
    before = dump(engine)
    with pytest.raises(TransitionRefused) as refused:
        _revise(engine, spec_text(**{"  Kompetanse om kliniske": "  Revidert: kliniske"}))
    assert str(refused.value) == (
        "cannot revise hearing 24/750: it is circulated; only a draft can be revised "
        "(withdraw it and create it again with --reuse-withdrawn-case)"
    )
    assert dump(engine) == before


def test_a_spec_for_another_case_is_refused(engine):
    create(engine)
    with pytest.raises(UserError, match=r"the spec is for case 24/751, not 24/750"):
        _revise(engine, spec_text(**{'case: "24/750"': 'case: "24/751"'}))


def _without_expected_ids(content: str) -> str:
    return re.sub(r"\n    expected_id: [A-Z]+-\d+", "", content)


def test_a_withdrawn_case_number_is_reused_only_with_the_flag(engine, tmp_path):
    create(engine)
    act(engine, Action.WITHDRAW, CIRCULATED, tmp_path / "l", reason="feil i forslaget")
    content = _without_expected_ids(spec_text())
    spec = parse_hearing_spec(content, "ny.yaml")
    with pytest.raises(UserError, match="add --reuse-withdrawn-case"), write_session(engine) as s:
        hearings.create_hearing(s, spec, content, "ny.yaml", CIRCULATED, "tester")

    with write_session(engine) as session:
        row, created = hearings.create_hearing(
            session, spec, content, "ny.yaml", CIRCULATED, "tester", reuse_withdrawn_case=True
        )
        assert created and row.state == "draft" and row.case_number == "24/750"
        ids = hearings.id_displays(session, row)
    assert ids["BLS"] == "BLS-155" and ids["ONC"] == "ONC-070"  # the burned ones stay burned

    with read_session(engine) as session:
        rows = session.exec(select(HearingRow).order_by(col(HearingRow.id))).all()
        assert [(r.case_number, r.state) for r in rows] == [
            ("24/750~1", "withdrawn"),
            ("24/750", "draft"),
        ]
        old = hearings.get_hearing(session, "24/750~1")
        assert [e.action for e in hearings.history(session, old)] == [
            "create",
            "withdraw",
            "archive",
        ]
        assert hearings.id_displays(session, old)["BLS"] == "BLS-154"
        new_events = hearings.history(session, hearings.get_hearing(session, "24/750"))
    assert json.loads(new_events[0].details_json)["withdrawn_record"] == "24/750~1"
    statuses = _statuses(engine)
    assert statuses["BLS-154"] == "burned" and statuses["BLS-155"] == "reserved"


def test_a_reused_case_circulates_anew_beside_the_withdrawn_record(engine, tmp_path):
    letters = tmp_path / "letters"
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, letters)
    act(engine, Action.WITHDRAW, CIRCULATED, letters, reason="Forslaget omarbeides.")
    content = _without_expected_ids(spec_text())
    spec = parse_hearing_spec(content, "ny.yaml")
    with write_session(engine) as session:
        hearings.create_hearing(
            session, spec, content, "ny.yaml", CIRCULATED, "tester", reuse_withdrawn_case=True
        )
    again = act(engine, Action.CIRCULATE, CIRCULATED, letters)
    assert again.to_state == "circulated"
    with read_session(engine) as session:
        old = hearings.get_hearing(session, "24/750~1")
        new = hearings.get_hearing(session, "24/750")
        old_letters = {row.kind: row for row in hearings.letters(session, old)}
        new_letters = {row.kind: row for row in hearings.letters(session, new)}
        rows = session.exec(select(OutboxMessageRow).where(OutboxMessageRow.hearing_id == new.id))
        queued = [(row.kind, row.status, row.dedupe_key) for row in rows.all()]
        recipients = len(hearings.recipients(session, new))
    assert old_letters["hoeringsbrev"].document_number == "24/750-1"
    assert old_letters["tilbaketrekking"].document_number == "24/750-2"
    assert new_letters["hoeringsbrev"].document_number == "24/750-3"
    assert new_letters["hoeringsbrev"].path != old_letters["hoeringsbrev"].path
    assert new_letters["endringsoversikt"].path != old_letters["endringsoversikt"].path
    for row in old_letters.values():  # the withdrawn record's files are untouched
        assert hashlib.sha256(Path(row.path).read_bytes()).hexdigest() == row.sha256
    assert len(queued) == recipients
    assert all(kind == "hoeringsbrev" and status == "pending" for kind, status, _ in queued)
    assert all(key.startswith(f"hoeringsbrev:24/750#{new.id}:") for _, _, key in queued)
