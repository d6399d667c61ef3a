"""Campaigns: copies of a form letter found with MinHash/LSH (`domain.campaigns`), not
counting passages quoted from the hearing's own proposal, and stored as groups. A campaign
is reviewed as one; its stance then counts for every member, also for members that join
the group when it is regrouped."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, update
from sqlmodel import Session, col, select

from domain.campaigns import DEFAULT_THRESHOLD, GroupingState, signatures
from domain.review_file import ReviewInput
from domain.stance import Stance
from services import hearings
from services.review_lookup import (
    campaign_groups,
    campaign_membership,
    hearing_responses,
    reviews_of,
)
from services.review_recording import ResolvedReview, write_reviews
from storage import campaign_state
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseRow
from storage.review_models import (
    CampaignGroupRow,
    CampaignMemberRow,
    ResponseReviewRow,
    ReviewEventRow,
)
from storage.rows import row_id
from storage.timeutil import to_db

_Kept = list[tuple[CampaignGroupRow, list[int]]]


def group_campaigns(
    session: Session,
    case: str,
    *,
    actor: str,
    now: datetime,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Find the campaigns of the hearing again and store them; safe to repeat.

    A group keeps its number (and review) when it still holds most of the same
    responses; a reviewed group's stance is given to members that have no review.
    """
    hearing = hearings.get_hearing(session, case)
    responses = sorted(hearing_responses(session, hearing), key=row_id)
    # Everything again, in id order (the order `group_new_responses` takes them in), and
    # the memory the grouping as responses arrive continues from.
    campaign_state.reset_state(session, row_id(hearing))
    state = GroupingState()
    state.add(
        signatures(
            [(row_id(r), r.body_text or "") for r in responses], proposal_text(hearing.spec_json)
        ),
        threshold,
    )
    campaign_state.save_state(session, row_id(hearing), state)
    campaign_state.mark_hearing_scanned(session, row_id(hearing), now)
    found = sorted(
        (members for members in state.groups().values() if len(members) >= 2),
        key=lambda members: (-len(members), members[0]),
    )
    old = campaign_groups(session, hearing)
    old_members: dict[int, set[int]] = {g.id: set() for g in old if g.id is not None}
    for response_id, group in campaign_membership(session, hearing).items():
        old_members[row_id(group)].add(response_id)
    if old:
        session.execute(
            delete(CampaignMemberRow).where(
                col(CampaignMemberRow.campaign_id).in_([g.id for g in old])
            )
        )
    kept, reused = _match_groups(session, hearing, old, old_members, found, threshold, now)
    for group, _ in kept:
        session.add(group)
    session.flush()
    _drop_groups(session, [g for g in old if g.id not in reused])
    session.add_all(
        CampaignMemberRow(campaign_id=row_id(group), response_id=rid)
        for group, members in kept
        for rid in members
    )
    session.flush()
    _extend_group_reviews(session, hearing, kept, actor, now)
    by_response = {r.id: r for r in responses}
    return [_campaign_json(group, [by_response[m] for m in members]) for group, members in kept]


GROUP_BATCH = 1000  # responses taken in per step of `group_new_responses`


def group_new_responses(
    session: Session,
    hearing_id: int,
    *,
    actor: str,
    now: datetime,
    threshold: float = DEFAULT_THRESHOLD,
    batch: int = GROUP_BATCH,
    max_batches: int | None = None,
) -> dict[str, int]:
    """Group the hearing's responses that are not grouped yet (`response.
    campaign_scanned_at` unset, by its index), oldest id first, without regrouping the
    rest: each is compared with the stored first texts and representatives it can meet,
    then joins a group, starts one, or merges two. The groups equal those of
    `group_campaigns` on the same responses. Call it after each imported batch. A
    hearing grouped before this memory was stored is regrouped whole, once."""
    hearing = session.get(HearingRow, hearing_id)
    if hearing is None:
        raise ValueError(f"no hearing {hearing_id}")
    campaign_state.lock_grouping(session)  # two imports ending at once group in turn
    counts = {"responses": 0, "joined": 0, "new_groups": 0}
    if campaign_state.grouped_without_memory(session, hearing_id):
        groups = group_campaigns(session, hearing.case_number, actor=actor, now=now)
        return {**counts, "regrouped": len(groups)}
    quoted = proposal_text(hearing.spec_json)
    batches = 0
    while (max_batches is None or batches < max_batches) and (
        pending := campaign_state.pending_responses(session, hearing_id, batch)
    ):
        batches += 1
        texts = signatures([(rid, body) for rid, body, auto in pending if not auto], quoted)
        state = campaign_state.load_state(session, hearing_id, texts)
        before = {text: state.root(text) for text in list(state.joined.parent)}
        state.add(texts, threshold)
        campaign_state.save_state(session, hearing_id, state)
        new = {t.id for t in texts}
        for members in state.groups().values():
            joined = _join_component(session, hearing, members, before, new, threshold, now)
            if joined is not None:
                group, added, created = joined
                counts["joined"] += len(added)
                counts["new_groups"] += created
                _extend_group_reviews(session, hearing, [(group, added)], actor, now)
        campaign_state.mark_scanned(session, [rid for rid, _, _ in pending], now)
        counts["responses"] += len(pending)
    return counts


def group_all_new_responses(engine: Engine, *, actor: str, now: datetime) -> dict[str, Any]:
    """`group_new_responses` for every hearing, one batch per transaction (a reviewer's
    save waits for one batch at most): what the import calls after its batches. Counts
    per case."""
    with read_session(engine) as session:
        hearings = session.exec(select(HearingRow.id, HearingRow.case_number)).all()
    done: dict[str, Any] = {}
    for hearing_id, case in sorted(hearings, key=lambda row: row[0] or 0):
        total: Counter[str] = Counter()
        while True:
            with write_session(engine) as session:
                counts = group_new_responses(
                    session, hearing_id or 0, actor=actor, now=now, max_batches=1
                )
            total.update(counts)
            if not counts["responses"] or "regrouped" in counts:
                break
        if total["responses"] or total["regrouped"]:
            done[case] = dict(total)
    return done


def _join_component(
    session: Session,
    hearing: HearingRow,
    members: list[int],
    before: dict[int, int],
    new: set[int],
    threshold: float,
    now: datetime,
) -> tuple[CampaignGroupRow, list[int], bool] | None:
    """Store one joined set of texts of a batch (`members`, smallest id first): the groups
    it had (roots in `before`) become one, holding the new texts and former singles.
    Returns the group, the responses added to it and whether it is new; None if nothing
    changed."""
    arrived = [m for m in members if m in new]
    old_roots = sorted({before[m] for m in members if m in before})
    if not arrived and len(old_roots) < 2:
        return None
    groups = campaign_state.groups_by_representative(session, row_id(hearing), old_roots)
    singles = [root for root in old_roots if root not in groups]
    added = sorted(singles + arrived)
    kept = [groups[root] for root in old_roots if root in groups]
    if not kept and len(added) < 2:
        return None
    created = not kept
    group = kept[0] if kept else _new_group(session, hearing, members[0], threshold, now)
    merged = kept[1:]
    for other in merged:
        session.execute(
            update(CampaignMemberRow)
            .where(col(CampaignMemberRow.campaign_id) == other.id)
            .values(campaign_id=group.id)
        )
        group.size += other.size
    _drop_groups(session, merged)
    session.add_all(CampaignMemberRow(campaign_id=row_id(group), response_id=m) for m in added)
    group.size += len(added)
    campaign_state.set_representative(session, group, members[0])
    group.grouped_at = to_db(now)
    session.add(group)
    session.flush()
    return group, added, created


def _new_group(
    session: Session, hearing: HearingRow, representative: int, threshold: float, now: datetime
) -> CampaignGroupRow:
    last = session.exec(
        select(func.max(CampaignGroupRow.number)).where(
            col(CampaignGroupRow.hearing_id) == hearing.id
        )
    ).one()
    group = CampaignGroupRow(
        hearing_id=row_id(hearing),
        number=(last or 0) + 1,
        size=0,
        threshold=threshold,
        grouped_at=to_db(now),
        **campaign_state.representative(session, representative),
    )
    session.add(group)
    session.flush()
    return group


def proposal_text(spec_json: str) -> str:
    """Every text of a hearing's `spec_json` (introduction, background, purpose, the
    items' wording ...), one per line: passages quoted from it make no campaign."""
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(json.loads(spec_json or "{}"))
    return "\n".join(texts)


def _match_groups(
    session: Session,
    hearing: HearingRow,
    old: Sequence[CampaignGroupRow],
    old_members: dict[int, set[int]],
    found: Sequence[list[int]],
    threshold: float,
    now: datetime,
) -> tuple[_Kept, set[int]]:
    """Each found group reuses the old group holding most of its members, if that is more
    than half of them, else gets the next number; returns the groups and the reused ids."""
    reused: dict[int, CampaignGroupRow] = {}
    by_id = {g.id: g for g in old}
    next_number = max((g.number for g in old), default=0) + 1
    kept: _Kept = []
    for members in found:
        overlap = sorted(
            (
                (len(old_members[gid] & set(members)), gid)
                for gid in old_members
                if gid not in reused
            ),
            reverse=True,
        )
        if overlap and overlap[0][0] * 2 > len(members):
            group = by_id[overlap[0][1]]
            reused[row_id(group)] = group
        else:
            group = CampaignGroupRow(
                hearing_id=row_id(hearing),
                number=next_number,
                size=0,
                threshold=threshold,
                grouped_at=to_db(now),
                **campaign_state.representative(session, members[0]),
            )
            next_number += 1
        group.size = len(members)
        campaign_state.set_representative(session, group, members[0])
        group.threshold = threshold
        group.grouped_at = to_db(now)
        kept.append((group, members))
    return kept, set(reused)


def _drop_groups(session: Session, dropped: Sequence[CampaignGroupRow]) -> None:
    """Delete groups that were not found again; their reviews and history stay, ungrouped."""
    if not dropped:
        return
    ids = [g.id for g in dropped]
    session.execute(
        update(ResponseReviewRow)
        .where(col(ResponseReviewRow.campaign_id).in_(ids))
        .values(campaign_id=None)
    )
    session.execute(
        update(ReviewEventRow)
        .where(col(ReviewEventRow.campaign_id).in_(ids))
        .values(campaign_id=None)
    )
    for group in dropped:
        session.delete(group)


def _extend_group_reviews(
    session: Session,
    hearing: HearingRow,
    kept: Sequence[tuple[CampaignGroupRow, list[int]]],
    actor: str,
    now: datetime,
) -> None:
    """Members of a reviewed group without a review of their own get the group's."""
    for group, members in kept:
        if group.stance is None:
            continue
        reviewed = reviews_of(session, members)
        missing = [m for m in members if m not in reviewed]
        if not missing:
            continue
        rows = [session.get(ResponseRow, m) for m in missing]
        entry = ResolvedReview(
            input=ReviewInput(
                where="", source=f"campaign {group.number} (regrouped)", note=group.note
            ),
            responses=[r for r in rows if r is not None],
            campaign=group,
            stance=Stance(group.stance),
            items=tuple(json.loads(group.items_json)),
            suggested=None,
            accepted=False,
            excerpts=[],
        )
        reviewer = group.reviewed_by or actor
        write_reviews(session, hearing, [entry], reviewer, now)


def _campaign_json(group: CampaignGroupRow, members: Sequence[ResponseRow]) -> dict[str, Any]:
    first = members[0] if members else None
    return {
        "campaign": group.number,
        "size": group.size,
        "stance": group.stance,
        "stance_nb": Stance(group.stance).label_nb if group.stance else None,
        "reviewed_by": group.reviewed_by,
        "representative": first.tracking_number if first else None,
        "first_lines": " ".join((first.body_text if first else "").split())[:160],
        "members": [m.tracking_number for m in members],
    }
