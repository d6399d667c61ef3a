"""Queuing outgoing e-mail in the outbox, in the caller's transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

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
