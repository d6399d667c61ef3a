"""Create, circulate and codify say which unverified data they rely on; the høringsbrev
marks an ID from an unverified prefix or floor as provisional."""

from __future__ import annotations

import re

from docx import Document
from sqlalchemy import update

from domain.lifecycle import Action
from flows.hearing_flows import store_hearing
from services import hearings, verification
from storage.db import dispose_engines, read_session, write_session
from storage.models import IdPrefixRow, SpecialtyRow
from tests.hearing_helpers import (
    AFTER_DEADLINE,
    CIRCULATED,
    CODIFIED,
    DECISIONS_PATH,
    REVIEWED,
    act,
    create,
    spec_text,
)

ADDRESSES = re.compile(
    r"^(\d+) of (\d+) recipient addresses are unverified placeholders: [^;]+ and \d+ more; "
    r"confirm them in data/stakeholders\.yaml \(email_verified: true\)$"
)


def _warnings(engine) -> list[str]:
    with read_session(engine) as session:
        return verification.hearing_warnings(session, hearings.get_hearing(session, "24/750"))


def test_24_750_warns_of_the_hjs_floor_and_the_placeholder_addresses(engine):
    create(engine)
    floor, addresses = _warnings(engine)
    assert floor == (
        "HJS-xxx rests on an unverified ID floor (highest_used HJS 100, verified: false): the "
        "numbers may already be in use; confirm the highest number in use and set verified: "
        "true in data/id_floors.yaml"
    )
    unverified, total = map(int, ADDRESSES.match(addresses).groups())  # type: ignore[union-attr]
    assert 0 < unverified < total


def test_circulate_warns_and_the_letter_marks_provisional_ids(engine, tmp_path):
    create(engine)
    with write_session(engine) as session:
        session.execute(
            update(SpecialtyRow).where(SpecialtyRow.prefix == "ONC").values(prefix_verified=False)
        )
        session.execute(
            update(IdPrefixRow).where(IdPrefixRow.prefix == "BLS").values(floor_verified=False)
        )
    result = act(engine, Action.CIRCULATE, CIRCULATED, tmp_path / "letters")
    unverified = [w for w in result.warnings if "three months" not in w]
    assert unverified[0] == (
        "unverified ID prefix ONC (prefix_verified: false); confirm it against "
        "Kompetanseportalen and set prefix_verified: true in data/specialties.yaml"
    )
    assert unverified[1].startswith("BLS-154, HJS-xxx rest on an unverified ID floor")
    assert ADDRESSES.match(unverified[2])
    assert len(unverified) == 3

    document = Document(result.details["letters"][0])
    cells = [row.cells[1].text for table in document.tables for row in table.rows]
    assert "BLS-154 (foreløpig)" in cells and "ONC-069 (foreløpig)" in cells
    assert "AMM-068" in cells and "HJS-xxx" in cells
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Læringsmåls-ID merket «foreløpig» bygger på opplysninger" in text


def test_the_create_flow_step_returns_the_warnings(engine, hoering_env, tmp_path):
    from tests.hearing_helpers import SPEC_PATH

    result = store_hearing.fn(str(SPEC_PATH), "tester", "2024-03-20T10:00:00+01:00")
    assert result["created"] is True
    assert result["warnings"][0].startswith("HJS-xxx rests on an unverified ID floor")
    assert ADDRESSES.match(result["warnings"][1])
    dispose_engines()


def test_codify_warns_of_a_deferred_id_numbered_from_an_unverified_floor(engine, tmp_path):
    create(engine)
    letters = tmp_path / "letters"
    for action, moment in [
        (Action.CIRCULATE, CIRCULATED),
        (Action.CLOSE, AFTER_DEADLINE),
        (Action.REVIEW_DONE, REVIEWED),
    ]:
        act(engine, action, moment, letters)
    codified = act(
        engine, Action.CODIFY, CODIFIED, letters, decisions_text=DECISIONS_PATH.read_text()
    )
    assert codified.details["final_ids"]["HJS"] == "HJS-101"
    assert codified.warnings[0].startswith(
        "HJS-101 rests on an unverified ID floor (highest_used HJS 100, verified: false)"
    )
    assert ADDRESSES.match(codified.warnings[1])


AMENDED_BLS_001 = """
  - kind: amended_text
    specialty: BLS
    goal_id: BLS-001
    heading: Hematologi med vekt på morfologisk diagnostikk
    old_text: >-
      Ha god kunnskap om og beherske utredning og behandling av anemi som skyldes mangel på
      jern, vitamin B12 og folat.
    new_text: >-
      Ha god kunnskap om og selvstendig kunne utrede og behandle anemi som skyldes mangel på
      jern, vitamin B12 og folat.
"""


def test_an_existing_goal_with_an_unverified_prefix_is_provisional_in_the_letter(engine, tmp_path):
    create(engine, spec_text() + AMENDED_BLS_001)
    with write_session(engine) as session:
        session.execute(
            update(SpecialtyRow).where(SpecialtyRow.prefix == "BLS").values(prefix_verified=False)
        )
    result = act(engine, Action.CIRCULATE, CIRCULATED, tmp_path / "letters")
    assert any(w.startswith("unverified ID prefix BLS (prefix_verified") for w in result.warnings)
    document = Document(result.details["letters"][0])
    cells = [row.cells[1].text for table in document.tables for row in table.rows]
    assert "BLS-001 (foreløpig)" in cells and "BLS-154 (foreløpig)" in cells
    assert "AMM-068" in cells
