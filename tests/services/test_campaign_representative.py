"""A campaign group carries its representative's received time
(`campaign_group.representative_received_at`, what `review list` pages groups by); it
follows the representative when grouping changes it."""

from __future__ import annotations

import random
import string
from datetime import datetime

from sqlmodel import col, select

from benchmarks.bulk_responses import insert_responses
from services import campaigns
from services.hearings import get_hearing
from services.review_queue import review_queue
from storage.db import read_session, write_session
from storage.intake_models import ResponseRow
from storage.review_models import CampaignGroupRow, CampaignMemberRow
from storage.rows import row_id
from tests.hearing_helpers import create
from tests.services.test_campaign_batches import NOW


def _words(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(count)]


def _letters() -> tuple[str, str, str]:
    """Two letters that share too little to be copies, and one that covers both."""
    common, own_a, own_b = _words(160, 1), _words(20, 2), _words(20, 3)
    a = " ".join(common[:100] + own_a)
    b = " ".join(common[80:] + own_b)
    bridge = " ".join(common)
    return a, b, bridge


def _groups(engine) -> list[tuple[CampaignGroupRow, set[int], dict[int | None, datetime]]]:
    """Each group with its members and their received times; checks the stored column."""
    with read_session(engine) as session:
        received = dict(session.exec(select(ResponseRow.id, ResponseRow.received_at)).all())
        members: dict[int, set[int]] = {}
        for gid, rid in session.exec(
            select(CampaignMemberRow.campaign_id, CampaignMemberRow.response_id)
        ).all():
            members.setdefault(gid, set()).add(rid)
        groups = session.exec(select(CampaignGroupRow).order_by(col(CampaignGroupRow.id))).all()
    for group in groups:
        assert group.representative_id == min(members[row_id(group)])
        assert group.representative_received_at == received[group.representative_id]
    return [(g, members[row_id(g)], received) for g in groups]


def test_the_received_time_follows_a_new_representative(engine):
    case = create(engine)
    with read_session(engine) as session:
        hearing_id = row_id(get_hearing(session, case))
    a, b, bridge = _letters()
    first = insert_responses(engine, hearing_id, [a, b, b], reviewed_share=0)
    with write_session(engine) as session:
        campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)
    ((group, members, _),) = _groups(engine)
    assert members == set(first[1:])  # the single letter a is not in it yet
    with read_session(engine) as session:
        rows = review_queue(session, case, limit=10, counts=False)["rows"]
    assert [(r["response_id"], r["campaign"]) for r in rows] == [
        (first[0], None),
        (first[1], group.number),
    ]
    # a letter covering both a and b joins them: a, older, becomes the representative
    late = insert_responses(engine, hearing_id, [bridge], seed=7, reviewed_share=0)
    with write_session(engine) as session:
        done = campaigns.group_new_responses(session, hearing_id, actor="t", now=NOW)
    assert done["joined"] == 2
    ((joined, members, received),) = _groups(engine)
    assert joined.id == group.id and members == set(first + late)
    assert joined.representative_id == first[0]
    assert joined.representative_received_at == received[first[0]]
    with read_session(engine) as session:
        rows = review_queue(session, case, limit=10, counts=False)["rows"]
        after_first = review_queue(session, case, limit=10, after=str(first[0]), counts=False)
    assert [(r["response_id"], r["campaign_size"]) for r in rows] == [(first[0], 4)]
    assert after_first["rows"] == []
    # grouping the hearing again keeps the group, its representative and its time
    with write_session(engine) as session:
        campaigns.group_campaigns(session, case, actor="t", now=NOW)
    ((again, members, _),) = _groups(engine)
    assert (again.id, again.representative_id) == (group.id, first[0])
