"""Persistence of the campaign grouping's memory (`storage.campaign_models`): the slice of
it a batch of responses needs, what the batch added, and the responses not grouped yet.
Every lookup goes through an index and asks only for the batch's own keys, so a batch
costs the same at 10,000 responses as at a million."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, or_, text, update
from sqlmodel import Session, col, select

from domain.campaigns import GroupingState, Signature
from storage.campaign_models import CampaignKeyRow, CampaignRepRow, CampaignTextRow
from storage.intake_models import ResponseRow
from storage.review_models import CampaignGroupRow, CampaignMemberRow
from storage.timeutil import to_db

_CHUNK = 500
_SIGN = 1 << 63


def _signed(key: int) -> int:
    """A 64-bit unsigned run key as the signed BIGINT both databases store."""
    return key - (1 << 64) if key >= _SIGN else key


def _unsigned(key: int) -> int:
    return key + (1 << 64) if key < 0 else key


def _chunks(values: Sequence[object]) -> Iterable[Sequence[object]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


_GROUPING_LOCK = 0x63616D70  # "camp": one campaign grouping at a time on PostgreSQL


def lock_grouping(session: Session) -> None:
    """Serialise concurrent groupings until commit (SQLite already does: BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _GROUPING_LOCK})


def pending_responses(session: Session, hearing_id: int, limit: int) -> list[tuple[int, str, bool]]:
    """Up to `limit` responses of the hearing not grouped yet, oldest id first:
    (id, body, left out: an automatic reply, or a supplement counted with its first)."""
    rows = session.exec(
        select(
            ResponseRow.id,
            ResponseRow.body_text,
            or_(col(ResponseRow.auto_submitted), col(ResponseRow.supplement_of_id).is_not(None)),
        )
        .where(
            col(ResponseRow.hearing_id) == hearing_id,
            col(ResponseRow.campaign_scanned_at).is_(None),
        )
        .order_by(col(ResponseRow.id))
        .limit(limit)
    ).all()
    return [(int(rid or 0), body or "", bool(auto)) for rid, body, auto in rows]


def mark_scanned(session: Session, ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(ids):
        session.execute(
            update(ResponseRow)
            .where(col(ResponseRow.id).in_(chunk))
            .values(campaign_scanned_at=to_db(now))
        )


def mark_hearing_scanned(session: Session, hearing_id: int, now: datetime | None) -> None:
    """Every response of the hearing grouped at `now` (None: none grouped yet)."""
    session.execute(
        update(ResponseRow)
        .where(col(ResponseRow.hearing_id) == hearing_id)
        .values(campaign_scanned_at=to_db(now) if now is not None else None)
    )


def grouped_without_memory(session: Session, hearing_id: int) -> bool:
    """The hearing has campaign groups but no stored memory (grouped before migration
    0009): only a full regroup can continue from there."""
    has_groups = session.exec(
        select(CampaignGroupRow.id).where(col(CampaignGroupRow.hearing_id) == hearing_id).limit(1)
    ).first()
    has_memory = session.exec(
        select(CampaignTextRow.id).where(col(CampaignTextRow.hearing_id) == hearing_id).limit(1)
    ).first()
    return has_groups is not None and has_memory is None


def reset_state(session: Session, hearing_id: int) -> None:
    """Forget what the grouping remembers of the hearing (before grouping it again)."""
    for table in (CampaignKeyRow, CampaignRepRow, CampaignTextRow):
        session.execute(delete(table).where(col(table.hearing_id) == hearing_id))


def load_state(session: Session, hearing_id: int, batch: Sequence[Signature]) -> GroupingState:
    """The part of the hearing's grouping memory that `batch` can meet: the first texts
    of its wordings, the representatives indexed under its run keys, and their groups."""
    state = GroupingState()
    digests = sorted({s.digest.hex() for s in batch if s.digest is not None})
    for chunk in _chunks(digests):
        for digest, first in session.exec(
            select(CampaignTextRow.digest, CampaignTextRow.first_response_id).where(
                col(CampaignTextRow.hearing_id) == hearing_id,
                col(CampaignTextRow.digest).in_(chunk),
            )
        ).all():
            state.first_of_text[bytes.fromhex(digest)] = first
    keys = sorted(
        {_signed(k) for s in batch if s.digest is not None for k in s.letter().index_keys()}
    )
    postings: list[tuple[int, int, int]] = []
    for chunk in _chunks(keys):
        postings += (
            (int(pid or 0), key, rep)
            for pid, key, rep in session.exec(
                select(CampaignKeyRow.id, CampaignKeyRow.key, CampaignKeyRow.rep_id).where(
                    col(CampaignKeyRow.hearing_id) == hearing_id,
                    col(CampaignKeyRow.key).in_(chunk),
                )
            ).all()
        )
    for _, key, rep in sorted(postings):  # in the order they were indexed
        found = state.postings.get(_unsigned(key))
        if found is None:
            state.postings[_unsigned(key)] = rep
        elif isinstance(found, int):
            state.postings[_unsigned(key)] = [found, rep]
        else:
            found.append(rep)
    reps = sorted({rep for _, _, rep in postings})
    for chunk in _chunks(reps):
        for rid, runs in session.exec(
            select(CampaignRepRow.response_id, CampaignRepRow.runs).where(
                col(CampaignRepRow.response_id).in_(chunk)
            )
        ).all():
            state.reps[rid] = Signature(rid, b"", np.frombuffer(runs, dtype="<u8")).letter()
    known = sorted(set(state.first_of_text.values()) | set(reps))
    roots = dict.fromkeys(known, 0)
    for chunk in _chunks(known):
        for rid, root in session.exec(
            select(CampaignMemberRow.response_id, CampaignGroupRow.representative_id)
            .join(CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id))
            .where(col(CampaignMemberRow.response_id).in_(chunk))
        ).all():
            roots[rid] = root
    for rid, root in roots.items():
        state.remember(rid, root or rid)
    return state


def save_state(session: Session, hearing_id: int, state: GroupingState) -> None:
    """Store what the last batch added to the memory (`state.new_*`), then clear that.
    Plain multi-row inserts: a batch adds thousands of run keys."""
    rows: list[tuple[type, list[dict[str, object]]]] = [
        (
            CampaignTextRow,
            [
                {"hearing_id": hearing_id, "digest": digest.hex(), "first_response_id": first}
                for digest, first in state.new_texts
            ],
        ),
        (
            CampaignRepRow,
            [
                {
                    "response_id": rid,
                    "hearing_id": hearing_id,
                    "runs": state.reps[rid].runs.astype("<u8").tobytes(),
                }
                for rid in state.new_reps
            ],
        ),
        (
            CampaignKeyRow,
            [
                {"hearing_id": hearing_id, "key": _signed(key), "rep_id": rep}
                for key, rep in state.new_postings
            ],
        ),
    ]
    for table, values in rows:
        for start in range(0, len(values), 5000):
            session.execute(insert(table), values[start : start + 5000])
    state.new_texts, state.new_reps, state.new_postings = [], [], []


def groups_by_representative(
    session: Session, hearing_id: int, representatives: Iterable[int]
) -> dict[int, CampaignGroupRow]:
    wanted = sorted(set(representatives))
    found: dict[int, CampaignGroupRow] = {}
    for chunk in _chunks(wanted):
        for group in session.exec(
            select(CampaignGroupRow).where(
                col(CampaignGroupRow.hearing_id) == hearing_id,
                col(CampaignGroupRow.representative_id).in_(chunk),
            )
        ).all():
            found[group.representative_id] = group
    return found


def representative(session: Session, response_id: int) -> dict[str, Any]:
    """The columns of a campaign group represented by `response_id`: `representative_id`
    and `representative_received_at` (the response's received time, which `review list`
    pages the groups by); the one place they are worked out, always together. Reads the
    response from the session's identity map when it is loaded."""
    with session.no_autoflush:
        response = session.get(ResponseRow, response_id)
    if response is None:
        raise ValueError(f"no response {response_id} to represent a campaign group")
    return {"representative_id": response_id, "representative_received_at": response.received_at}


def set_representative(session: Session, group: CampaignGroupRow, response_id: int) -> None:
    """Make `response_id` the group's representative (see `representative`); reads
    nothing when it already is."""
    if group.representative_id == response_id and group.representative_received_at:
        return
    for name, value in representative(session, response_id).items():
        setattr(group, name, value)
