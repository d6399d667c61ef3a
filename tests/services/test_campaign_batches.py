"""Campaign grouping as responses arrive: three batches, each grouped by
`group_new_responses` from what the database remembers, give the groups of grouping all
responses at once (`group_campaigns`, and the pure `group_near_duplicates`)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

from sqlmodel import col, select

from benchmarks import campaign_letters
from benchmarks.bulk_responses import insert_responses
from benchmarks.campaigns import generate_hard
from domain.campaigns import group_near_duplicates
from services import campaigns
from services.hearings import get_hearing
from storage import campaign_state
from storage.db import read_session, write_session
from storage.intake_models import ResponseRow
from storage.review_models import CampaignGroupRow, CampaignMemberRow
from storage.rows import row_id
from tests.hearing_helpers import create

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


def _stored_groups(engine) -> set[frozenset[int]]:
    with read_session(engine) as session:
        rows = session.exec(
            select(CampaignMemberRow.response_id, CampaignGroupRow).join(
                CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id)
            )
        ).all()
    members: dict[int, set[int]] = defaultdict(set)
    groups = {}
    for response_id, group in rows:
        members[row_id(group)].add(response_id)
        groups[row_id(group)] = group
    with read_session(engine) as session:
        received = dict(session.exec(select(ResponseRow.id, ResponseRow.received_at)).all())
    for gid, found in members.items():  # the stored size and representative hold
        assert groups[gid].size == len(found)
        assert groups[gid].representative_id == min(found)
        assert groups[gid].representative_received_at == received[min(found)]
    return {frozenset(found) for found in members.values()}


def test_grouping_in_three_batches_equals_grouping_at_once(engine):
    case = create(engine)
    with read_session(engine) as session:
        hearing_id = row_id(get_hearing(session, case))
    texts, _, _ = generate_hard(700, seed=21, sizes=(70, 45, 30), quoting=60)
    texts += texts[:25]  # exact copies arriving in the last batch
    # The hearing's own proposal is what the letters quote: make it the spec's text.
    with write_session(engine) as session:
        hearing = get_hearing(session, case)
        hearing.spec_json = json.dumps({"background": campaign_letters.PROPOSAL})
        session.add(hearing)
    ids: list[int] = []
    for start, end in ((0, 200), (200, 480), (480, len(texts))):
        ids += insert_responses(engine, hearing_id, texts[start:end], seed=start)
        with write_session(engine) as session:
            done = campaigns.group_new_responses(session, hearing_id, actor="test", now=NOW)
        assert done["responses"] == end - start
    batched = _stored_groups(engine)
    with read_session(engine) as session:
        pending = session.exec(
            select(ResponseRow.id).where(col(ResponseRow.campaign_scanned_at).is_(None))
        ).all()
        bodies = [
            (int(rid or 0), body)
            for rid, body in session.exec(
                select(ResponseRow.id, ResponseRow.body_text).order_by(col(ResponseRow.id))
            ).all()
        ]
    assert pending == []
    with write_session(engine) as session:
        campaigns.group_campaigns(session, case, actor="test", now=NOW)
    at_once = _stored_groups(engine)
    pure = group_near_duplicates(bodies, quoted=campaign_letters.PROPOSAL)
    assert batched == at_once == {frozenset(g.members) for g in pure}
    assert len(batched) >= 3 and max(len(g) for g in batched) >= 70


def test_nothing_new_changes_nothing_and_a_late_copy_joins_its_group(engine):
    case = create(engine)
    with read_session(engine) as session:
        hearing_id = row_id(get_hearing(session, case))
    texts, _, _ = generate_hard(120, seed=3, sizes=(20,), quoting=0)
    insert_responses(engine, hearing_id, texts)
    with write_session(engine) as session:
        campaigns.group_campaigns(session, case, actor="test", now=NOW)
    before = _stored_groups(engine)
    with write_session(engine) as session:
        assert (
            campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)["responses"] == 0
        )
    assert _stored_groups(engine) == before
    largest = max(before, key=len)
    copy = texts[min(largest) - 1]
    (late,) = insert_responses(engine, hearing_id, [copy], seed=99)
    with write_session(engine) as session:
        done = campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)
    assert done == {"responses": 1, "joined": 1, "new_groups": 0}
    after = _stored_groups(engine)
    assert largest | {late} in after and len(after) == len(before)


def test_a_hearing_grouped_before_the_memory_was_stored_is_regrouped_once(engine):
    case = create(engine)
    with read_session(engine) as session:
        hearing_id = row_id(get_hearing(session, case))
    texts, _, _ = generate_hard(100, seed=4, sizes=(15,), quoting=0)
    insert_responses(engine, hearing_id, texts)
    with write_session(engine) as session:
        campaigns.group_campaigns(session, case, actor="test", now=NOW)
    before = _stored_groups(engine)
    with write_session(engine) as session:  # as a database upgraded by migration 0009
        campaign_state.reset_state(session, hearing_id)
        campaign_state.mark_hearing_scanned(session, hearing_id, None)
    with write_session(engine) as session:
        done = campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)
    assert done["regrouped"] == len(before) == 1
    assert _stored_groups(engine) == before
    with write_session(engine) as session:
        again = campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)
    assert again == {"responses": 0, "joined": 0, "new_groups": 0}
