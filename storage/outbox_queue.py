"""Queuing outgoing e-mail in the outbox, in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.hearing_models import OutboxMessageRow

MESSAGE_ID_DOMAIN = "hoering.helsedir.no"


def stable_message_id(dedupe_key: str) -> str:
    """A Message-ID derived from what the message is, so a resend is the same message."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def queue_message(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    to_address: str,
    to_name: str,
    subject: str,
    body_text: str,
    now: datetime,
    hearing_id: int | None = None,
    organisation: str | None = None,
    stakeholder_key: str | None = None,
    attachments: list[Path] | None = None,
) -> tuple[OutboxMessageRow, bool]:
    """Queue one message unless one with the same `dedupe_key` exists; (row, created)."""
    existing = session.exec(
        select(OutboxMessageRow).where(OutboxMessageRow.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return existing, False
    row = OutboxMessageRow(
        hearing_id=hearing_id,
        kind=kind,
        dedupe_key=dedupe_key,
        message_id=stable_message_id(dedupe_key),
        to_address=to_address.lower(),
        to_name=to_name,
        organisation=organisation,
        stakeholder_key=stakeholder_key,
        subject=subject,
        body_text=body_text,
        attachments_json=json.dumps([str(p) for p in attachments or []]),
        queued_at=now,
        status="pending",
    )
    try:
        with session.begin_nested():  # a concurrent run may queue the same key first
            session.add(row)
    except IntegrityError:
        existing = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.dedupe_key == dedupe_key)
        ).first()
        if existing is None:
            raise
        return existing, False
    return row, True


def cancel_pending(session: Session, hearing_id: int, reason: str) -> dict[str, int]:
    """Cancel every message of the hearing that has not gone out (status pending, also
    those waiting for a retry); kind -> how many. A message being sent, sent or failed
    is left as it is."""
    rows = session.exec(
        select(OutboxMessageRow).where(
            OutboxMessageRow.hearing_id == hearing_id, OutboxMessageRow.status == "pending"
        )
    ).all()
    cancelled: dict[str, int] = {}
    for row in rows:
        taken = session.exec(  # only if a sender has not claimed it meanwhile
            update(OutboxMessageRow)
            .where(col(OutboxMessageRow.id) == row.id, col(OutboxMessageRow.status) == "pending")
            .values(status="cancelled", last_error=reason, next_attempt_at=None)
        )
        if taken.rowcount == 1:
            cancelled[row.kind] = cancelled.get(row.kind, 0) + 1
    return dict(sorted(cancelled.items()))
