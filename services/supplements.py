"""Linking a supplement (tillegg) to the first response it adds to, as responses are
filed: the one place the rule `domain.supplements.supplement_of` is applied.

`link_supplements` runs in the import's write transaction, after the batch's responses
(and their receipts) are written. It looks up only the earlier responses a new one can
supplement (by the Message-IDs it answers, the document numbers its subject quotes, and
its organisation), so its cost follows the batch, not the size of the hearing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.supplements import (
    EarlierResponse,
    IncomingResponse,
    SupplementLink,
    organisation_key,
    receipt_reply_numbers,
    supplement_of,
)
from storage.hearing_models import OutboxMessageRow
from storage.intake_models import IntakeMessageRow, ResponseRow
from storage.timeutil import from_db

_CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _incoming(row: ResponseRow, reply_ids: Sequence[str]) -> IncomingResponse:
    assert row.id is not None
    return IncomingResponse(
        response_id=row.id,
        subject=row.subject,
        reply_ids=tuple(reply_ids),
        stakeholder_key=row.stakeholder_key,
        from_address=row.from_address,
        received_at=from_db(row.received_at) or row.received_at,
        late=row.late,
        auto_submitted=row.auto_submitted,
    )


def _candidates(
    session: Session, hearing_ids: set[int], news: Sequence[IncomingResponse]
) -> dict[int, tuple[int, EarlierResponse]]:
    """Response id -> (hearing id, earlier response) for every response a new one may
    supplement; each lookup goes by an index (outbox Message-ID, intake Message-ID,
    document number, stakeholder, sender address)."""
    reply_ids = sorted({i for n in news for i in n.reply_ids})
    numbers = sorted({x for n in news for x in receipt_reply_numbers(n.subject)})
    stakeholders = sorted({n.stakeholder_key for n in news if n.stakeholder_key})
    mailboxes = sorted(
        {
            (n.from_address or "").strip().lower()
            for n in news
            if not n.stakeholder_key and organisation_key(None, n.from_address)
        }
    )
    base = (
        col(ResponseRow.hearing_id).in_(sorted(hearing_ids)),
        col(ResponseRow.auto_submitted).is_(False),
    )
    receipt = col(OutboxMessageRow.message_id)
    by_receipt = select(ResponseRow, receipt).join(
        OutboxMessageRow, col(OutboxMessageRow.id) == col(ResponseRow.receipt_outbox_id)
    )
    by_message = select(ResponseRow, receipt).join(
        IntakeMessageRow, col(IntakeMessageRow.id) == col(ResponseRow.intake_message_id)
    )
    plain = select(ResponseRow, receipt).outerjoin(
        OutboxMessageRow, col(OutboxMessageRow.id) == col(ResponseRow.receipt_outbox_id)
    )
    first = col(ResponseRow.supplement_of_id).is_(None)
    lookups: list[Any] = []
    for chunk in _chunks(reply_ids):
        lookups.append(by_receipt.where(receipt.in_(chunk), *base))
        lookups.append(
            by_message.outerjoin(
                OutboxMessageRow, col(OutboxMessageRow.id) == col(ResponseRow.receipt_outbox_id)
            ).where(col(IntakeMessageRow.message_id).in_(chunk), *base)
        )
    for chunk in _chunks(numbers):
        lookups.append(plain.where(col(ResponseRow.tracking_number).in_(chunk), *base))
    for chunk in _chunks(stakeholders):
        lookups.append(plain.where(col(ResponseRow.stakeholder_key).in_(chunk), first, *base))
    for chunk in _chunks(mailboxes):
        lookups.append(plain.where(col(ResponseRow.from_address).in_(chunk), first, *base))
    found: dict[int, tuple[int, EarlierResponse]] = {}
    for statement in lookups:
        for row, receipt_id in session.exec(statement).all():
            found[row.id or 0] = (row.hearing_id or 0, _earlier(row, receipt_id))
    return found


def _earlier(row: ResponseRow, receipt_message_id: str | None) -> EarlierResponse:
    assert row.id is not None
    return EarlierResponse(
        response_id=row.id,
        tracking_number=row.tracking_number,
        stakeholder_key=row.stakeholder_key,
        from_address=row.from_address,
        received_at=from_db(row.received_at) or row.received_at,
        supplement_of=row.supplement_of_id,
        message_id=row.message_id,
        receipt_message_id=receipt_message_id,
    )


def link_supplements(
    session: Session, filed: Sequence[tuple[int, Sequence[str]]]
) -> dict[int, SupplementLink]:
    """Mark each just-filed response that supplements an earlier one of its hearing
    (`filed`: response id and the Message-IDs its message answers, In-Reply-To and
    References); response id -> link. Taken in the order received, so of two messages
    of one organisation in the same batch the later is the supplement."""
    replies = {response_id: reply_ids for response_id, reply_ids in filed}
    rows: list[ResponseRow] = []
    for chunk in _chunks(sorted(replies)):
        rows += session.exec(
            select(ResponseRow).where(
                col(ResponseRow.id).in_(chunk),
                col(ResponseRow.hearing_id).is_not(None),
                col(ResponseRow.supplement_of_id).is_(None),
            )
        ).all()
    if not rows:
        return {}
    news = sorted(
        (_incoming(row, replies[row.id or 0]) for row in rows),
        key=lambda n: (n.received_at, n.response_id),
    )
    hearing_of = {row.id: row.hearing_id or 0 for row in rows}
    by_hearing: dict[int, dict[int, EarlierResponse]] = defaultdict(dict)
    for hearing_id, earlier in _candidates(session, set(hearing_of.values()), news).values():
        by_hearing[hearing_id][earlier.response_id] = earlier
    links: dict[int, SupplementLink] = {}
    for new in news:
        known = by_hearing[hearing_of[new.response_id]]
        link = supplement_of(new, known.values())
        if link is None:
            continue
        links[new.response_id] = link
        if new.response_id in known:  # later ones in the batch see it as a supplement
            known[new.response_id] = replace(known[new.response_id], supplement_of=link.first_id)
    if links:
        session.execute(
            update(ResponseRow),
            [{"id": rid, "supplement_of_id": link.first_id} for rid, link in links.items()],
        )
    return links


__all__ = ["link_supplements"]
