"""Reading filed responses: per hearing, per recipient, and what needs a person.

Read-only, cheap to import (no Prefect, no letters), for the CLI listings and the
hearing status. Auto-replies (out of office, bounces) are filed like any message but
never count as a recipient's answer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.case_numbers import find_case_numbers
from domain.hearing_suggestions import HearingTitle, suggest_hearings
from storage.hearing_models import HearingRecipientRow, HearingRow
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from storage.review_queries import is_counted, is_unreviewed, unreviewed_response_count

__all__ = [
    "answered_stakeholder_keys",
    "list_quarantine",
    "list_responses",
    "list_unmatched",
    "recipient_answer_status",
    "response_counts_by_review",
    "response_detail",
    "supplement_firsts",
    "supplements_by_first",
    "unreviewed_response_count",
]


def _answers(hearing_id: int) -> ColumnElement[bool]:
    """SQL condition: a response that counts as a stakeholder's answer to the hearing
    (filed under it, from a known stakeholder, not an automatic reply, not a supplement
    of an earlier response: that one is the answer)."""
    return and_(
        col(ResponseRow.hearing_id) == hearing_id,
        col(ResponseRow.stakeholder_key).is_not(None),
        col(ResponseRow.auto_submitted).is_(False),
        is_counted(),
    )


def answered_stakeholder_keys(session: Session, hearing_id: int) -> set[str]:
    """Stakeholders with a filed response to the hearing (by address or mail domain)."""
    keys = session.exec(
        select(ResponseRow.stakeholder_key).where(_answers(hearing_id)).distinct()
    ).all()
    return {key for key in keys if key is not None}  # _answers requires a stakeholder


def recipient_answer_status(session: Session, hearing_id: int) -> list[dict[str, Any]]:
    """Per høringsinstans of the hearing: answered or not, with the tracking numbers."""
    responses: dict[str, list[ResponseRow]] = defaultdict(list)
    for response in session.exec(
        select(ResponseRow)
        .where(_answers(hearing_id))
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
    ).all():
        responses[response.stakeholder_key or ""].append(response)
    status = []
    for recipient in session.exec(
        select(HearingRecipientRow)
        .where(HearingRecipientRow.hearing_id == hearing_id)
        .order_by(col(HearingRecipientRow.position), col(HearingRecipientRow.id))
    ).all():
        theirs = responses.get(recipient.stakeholder_key, [])
        first = theirs[0] if theirs else None
        status.append(
            {
                "stakeholder": recipient.stakeholder_key,
                "name": recipient.name,
                "email": recipient.email,
                "group": recipient.group,
                "answered": bool(theirs),
                "tracking_numbers": [r.tracking_number for r in theirs],
                "first_received_at": first.received_at if first else None,
                "late": first.late if first else None,
            }
        )
    return status


def response_counts_by_review(session: Session, hearing_id: int) -> dict[str, int]:
    """How many responses the hearing has (a supplement counted with the response it
    adds to, not on its own), how many automatic replies, how many have a stance, how
    many are unreviewed (`storage.review_queries.is_unreviewed`), and how many
    supplements were filed."""
    total, reviewed, unreviewed, automatic, supplements = session.execute(
        sql_select(  # SQLAlchemy's: sqlmodel's select takes at most four columns
            func.count(col(ResponseRow.id)).filter(is_counted()),
            func.count(col(ResponseRow.stance)),
            func.count(col(ResponseRow.id)).filter(is_unreviewed()),
            func.count(col(ResponseRow.id)).filter(
                col(ResponseRow.auto_submitted).is_(True), is_counted()
            ),
            func.count(col(ResponseRow.supplement_of_id)),
        ).where(col(ResponseRow.hearing_id) == hearing_id)
    ).one()
    return {
        "total": int(total),
        "reviewed": reviewed,
        "unreviewed": int(unreviewed),
        "auto_submitted": int(automatic),
        "supplements": int(supplements),
    }


def _document_number(tracking: str | None) -> int:
    try:
        return int((tracking or "").rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _attachments(session: Session, response_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(response_ids), 500):
        for row in session.exec(
            select(ResponseAttachmentRow)
            .where(col(ResponseAttachmentRow.response_id).in_(response_ids[start : start + 500]))
            .order_by(col(ResponseAttachmentRow.response_id), col(ResponseAttachmentRow.position))
        ).all():
            found[row.response_id].append(
                {
                    "name": row.filename,
                    "safe_name": row.safe_name,
                    "content_type": row.content_type,
                    "size": row.size,
                    "sha256": row.sha256,
                    "forwarded": row.forwarded,
                    "text": row.text,
                    "unreadable_reason": row.unreadable_reason,
                }
            )
    return found


def _response_json(response: ResponseRow, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": response.id,
        "tracking_number": response.tracking_number,
        "subject": response.subject,
        "sender_name": response.from_name,
        "sender_address": response.from_address,
        "organisation": response.organisation,
        "stakeholder": response.stakeholder_key,
        "matched_by": response.matched_by,
        "received_at": response.received_at,
        "received_from": response.received_source,
        "late": response.late,
        "auto_reply": response.auto_submitted,
        "body_text": response.body_text,
        "attachments": attachments,
        "receipt_queued": response.receipt_outbox_id is not None,
        "stance": response.stance,
        "reviewed_at": response.reviewed_at,
    }


def list_responses(session: Session, hearing: HearingRow) -> list[dict[str, Any]]:
    """Every response filed under the hearing, in document-number order; a supplement
    names the response it adds to (`supplement_of`), which lists its `supplements`."""
    rows = session.exec(select(ResponseRow).where(ResponseRow.hearing_id == hearing.id)).all()
    rows = sorted(rows, key=lambda r: (_document_number(r.tracking_number), r.id or 0))
    attachments = _attachments(session, [r.id for r in rows if r.id is not None])
    numbers = {r.id: r.tracking_number or f"#{r.id}" for r in rows}
    supplements = supplements_by_first(session, hearing.id or 0)
    listed = []
    for r in rows:
        entry = _response_json(r, attachments.get(r.id or 0, []))
        first = r.supplement_of_id
        entry["supplement_of"] = numbers.get(first, f"#{first}") if first is not None else None
        entry["supplements"] = supplements.get(r.id or 0, [])
        listed.append(entry)
    return listed


# Hearings a response may still be filed under: suggested for unmatched ones by subject.
OPEN_STATES = ("circulated", "closed")


def _open_hearings(session: Session) -> list[HearingTitle]:
    rows = session.exec(
        select(HearingRow.case_number, HearingRow.title)
        .where(col(HearingRow.state).in_(OPEN_STATES))
        .order_by(col(HearingRow.case_number))
    ).all()
    return [HearingTitle(case, title) for case, title in rows]


def response_detail(
    session: Session, *, tracking_number: str | None = None, response_id: int | None = None
) -> dict[str, Any] | None:
    """One response (by document number or ID) as `list_responses` shows it, or None."""
    statement = select(ResponseRow)
    if tracking_number is not None:
        statement = statement.where(col(ResponseRow.tracking_number) == tracking_number)
    else:
        statement = statement.where(col(ResponseRow.id) == response_id)
    response = session.exec(statement).first()
    if response is None or response.id is None:
        return None
    entry = _response_json(response, _attachments(session, [response.id]).get(response.id, []))
    first = (
        session.get(ResponseRow, response.supplement_of_id) if response.supplement_of_id else None
    )
    entry["supplement_of"] = (first.tracking_number or f"#{first.id}") if first else None
    entry["supplements"] = [
        tracking or f"#{rid}"
        for rid, tracking in session.exec(
            select(ResponseRow.id, ResponseRow.tracking_number)
            .where(col(ResponseRow.supplement_of_id) == response.id)
            .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
        ).all()
    ]
    return entry


def supplement_firsts(
    session: Session, hearing_id: int, ids: Sequence[int] | None = None
) -> dict[int, str]:
    """The hearing's supplements (among `ids`, when given: a batch reads its own):
    response id -> the document number of the response it adds to."""
    first = aliased(ResponseRow)
    query = (
        select(ResponseRow.id, first.tracking_number, first.id)
        .join(first, col(first.id) == col(ResponseRow.supplement_of_id))
        .where(col(ResponseRow.hearing_id) == hearing_id)
    )
    if ids is not None:
        query = query.where(col(ResponseRow.id).in_(list(ids)))
    rows = session.exec(query).all()
    return {rid: tracking or f"#{first_id}" for rid, tracking, first_id in rows if rid}


def supplements_by_first(
    session: Session, hearing_id: int, first_ids: Sequence[int] | None = None
) -> dict[int, list[str]]:
    """The hearing's first responses that have supplements (of `first_ids` only, when
    given: a page reads its own): id -> the supplements' document numbers, in the order
    received."""
    found: dict[int, list[str]] = defaultdict(list)
    query = select(ResponseRow.supplement_of_id, ResponseRow.id, ResponseRow.tracking_number)
    if first_ids is None:
        query = query.where(
            col(ResponseRow.hearing_id) == hearing_id,
            col(ResponseRow.supplement_of_id).is_not(None),
        )
    else:
        query = query.where(col(ResponseRow.supplement_of_id).in_(list(first_ids)))
    for first_id, rid, tracking in session.exec(
        query.order_by(col(ResponseRow.received_at), col(ResponseRow.id))
    ).all():
        found[first_id or 0].append(tracking or f"#{rid}")
    return dict(found)


def list_unmatched(session: Session) -> list[dict[str, Any]]:
    """Responses filed without a hearing, oldest first, with any case numbers they quote
    and the open hearings whose subject they name (`domain.hearing_suggestions`; worked
    out when listed, so a hearing circulated after the message came is suggested too)."""
    rows = session.exec(
        select(ResponseRow, IntakeMessageRow.source)
        .join(IntakeMessageRow, col(IntakeMessageRow.id) == col(ResponseRow.intake_message_id))
        .where(col(ResponseRow.hearing_id).is_(None))
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
    ).all()
    attachments = _attachments(session, [r.id for r, _ in rows if r.id is not None])
    hearings = _open_hearings(session)
    listed = []
    for response, source in rows:
        entry = _response_json(response, attachments.get(response.id or 0, []))
        entry["source"] = source
        entry["quoted_cases"] = find_case_numbers(f"{response.subject or ''}\n{response.body_text}")
        suggestions = suggest_hearings(response.subject, response.body_text, hearings)
        entry["suggested_cases"] = [suggestion.as_json() for suggestion in suggestions]
        listed.append(entry)
    return listed


def list_quarantine(session: Session, include_released: bool = False) -> list[dict[str, Any]]:
    """Quarantined messages with their reason and where their raw bytes are kept."""
    statement = (
        select(QuarantineRow, IntakeMessageRow)
        .join(IntakeMessageRow, col(IntakeMessageRow.id) == col(QuarantineRow.intake_message_id))
        .order_by(col(QuarantineRow.id))
    )
    if not include_released:
        statement = statement.where(col(QuarantineRow.released_at).is_(None))
    return [
        {
            "id": quarantine.id,
            "source": message.source,
            "reason": quarantine.reason,
            "raw_sha256": message.raw_sha256,
            "size": message.size,
            "quarantined_at": quarantine.quarantined_at,
            "warnings": json.loads(message.warnings_json),
            "note": quarantine.note,
        }
        for quarantine, message in session.exec(statement).all()
    ]
