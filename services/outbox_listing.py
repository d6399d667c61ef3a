"""Listing the outbox as the CLI shows it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col

from domain.calendar import OSLO
from mail.outgoing import subject_with_reference
from services.outbox import hearing_id_for_case, kind_label, select_with_hearing
from storage.hearing_models import OutboxMessageRow


def list_outbox(session: Session, case: str | None = None) -> list[dict]:
    """Every message (or one case's), oldest first, as the CLI shows it."""
    statement = select_with_hearing().order_by(
        col(OutboxMessageRow.queued_at), col(OutboxMessageRow.id)
    )
    if case is not None:
        statement = statement.where(
            OutboxMessageRow.hearing_id == hearing_id_for_case(session, case)
        )
    listing = []
    for row, case_number, _state, _deadline in session.exec(statement).all():
        listing.append(
            {
                "kind": kind_label(row.kind),
                "case": case_number,
                "to": row.to_address,
                "name": row.to_name,
                "organisation": row.organisation,
                "subject": subject_with_reference(row.subject, case_number),
                "queued_at": _oslo(row.queued_at),
                "sent_at": _oslo(row.sent_at),
                "status": row.status,
                "attempts": row.attempts,
                "next_attempt_at": _oslo(row.next_attempt_at),
                "last_error": row.last_error,
                "message_id": row.message_id,
            }
        )
    return listing


def _oslo(moment: datetime | None) -> str | None:
    return moment.astimezone(OSLO).isoformat() if moment is not None else None
