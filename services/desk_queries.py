"""What the review desk (`hoering web`) reads: hearings with their deadline, recipients
with their status, one page of a hearing's responses under filters, one response with
what a reviewer needs, a campaign's members. Every list is paged in SQL
(LIMIT/OFFSET on the index `ix_response_hearing_received`), so a hearing of 50,000
responses reads one page at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from domain.private_persons import is_private_sender
from domain.stance import Stance
from services import hearings
from services.review_lookup import respondent_name, suggestion
from storage.hearing_models import HearingRecipientRow, HearingRow, OutboxMessageRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.intake_queries import recipient_answer_status
from storage.review_models import (
    CampaignGroupRow,
    CampaignMemberRow,
    ResponseExcerptRow,
    ResponseReviewRow,
)
from storage.review_queries import is_counted, is_unreviewed
from storage.rows import row_id

PAGE_SIZE = 50
RECEIPT_KIND = "kvittering"
REMINDER_KIND = "paaminnelse"
LETTER_KIND = "hoeringsbrev"


def hearings_overview(session: Session, today: date) -> list[dict[str, Any]]:
    rows = session.exec(select(HearingRow).order_by(col(HearingRow.deadline).desc())).all()
    counts = {
        hearing_id: (total, unreviewed)
        for hearing_id, total, unreviewed in session.exec(
            select(
                ResponseRow.hearing_id,
                func.count(col(ResponseRow.id)).filter(is_counted()),  # supplements once
                func.count(col(ResponseRow.id)).filter(is_unreviewed()),
            ).group_by(col(ResponseRow.hearing_id))
        ).all()
    }
    return [
        {
            "case": h.case_number,
            "title": h.title,
            "state": h.state,
            "circulated_on": h.circulated_on,
            "deadline": h.deadline,
            "days_left": (h.deadline - today).days,
            "effective_date": h.effective_date,
            "responses": counts.get(h.id, (0, 0))[0],
            "unreviewed": counts.get(h.id, (0, 0))[1],
        }
        for h in rows
    ]


def _outbox_by_stakeholder(session: Session, hearing_id: int, kind: str) -> dict[str, str]:
    """stakeholder key -> the best status of the hearing's outbox messages of `kind`."""
    found: dict[str, str] = {}
    for key, status in session.exec(
        select(OutboxMessageRow.stakeholder_key, OutboxMessageRow.status).where(
            OutboxMessageRow.hearing_id == hearing_id, OutboxMessageRow.kind == kind
        )
    ).all():
        if key is not None and found.get(key) != "sent":
            found[key] = status
    return found


def recipient_status(session: Session, hearing: HearingRow, today: date) -> list[dict[str, Any]]:
    """Per høringsinstans: sent, receipted, answered, reminded, overdue."""
    hearing_id = row_id(hearing)
    letters = _outbox_by_stakeholder(session, hearing_id, LETTER_KIND)
    receipts = _outbox_by_stakeholder(session, hearing_id, RECEIPT_KIND)
    reminders = _outbox_by_stakeholder(session, hearing_id, REMINDER_KIND)
    rows = []
    for entry in recipient_answer_status(session, hearing_id):
        key = entry["stakeholder"]
        entry["sent"] = letters.get(key)
        entry["receipted"] = receipts.get(key)
        entry["reminded"] = reminders.get(key)
        entry["overdue"] = not entry["answered"] and today > hearing.deadline
        rows.append(entry)
    return rows


@dataclass(frozen=True)
class ResponseFilter:
    """The filters of the responses list; empty fields filter nothing."""

    stance: str = ""  # a Stance value, or "none"
    unreviewed: bool = False
    late: bool = False
    campaign: int | None = None
    specialty: str = ""  # a specialty prefix among the review's items
    sender: str = ""  # "organisation" | "private"
    search: str = ""

    def conditions(self, hearing_id: int) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            col(ResponseRow.hearing_id) == hearing_id,
            col(ResponseRow.auto_submitted).is_(False),
        ]
        if self.stance == "none":
            where.append(col(ResponseRow.stance).is_(None))
        elif self.stance:
            where.append(col(ResponseRow.stance) == self.stance)
        if self.unreviewed:
            where.append(is_unreviewed())
        if self.late:
            where.append(col(ResponseRow.late).is_(True))
        if self.sender == "organisation":
            where.append(col(ResponseRow.stakeholder_key).is_not(None))
        elif self.sender == "private":
            where.append(col(ResponseRow.stakeholder_key).is_(None))
        if self.campaign is not None:
            where.append(_in_campaign(hearing_id, self.campaign))
        if self.specialty:
            where.append(_about_specialty(self.specialty))
        if self.search.strip():
            where.append(_text_contains(self.search.strip()))
        return where


def _in_campaign(hearing_id: int, number: int) -> ColumnElement[bool]:
    return exists(
        select(CampaignMemberRow.id)
        .join(CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id))
        .where(
            col(CampaignMemberRow.response_id) == col(ResponseRow.id),
            col(CampaignGroupRow.hearing_id) == hearing_id,
            col(CampaignGroupRow.number) == number,
        )
    )


def _about_specialty(prefix: str) -> ColumnElement[bool]:
    wanted = prefix.strip().upper()
    return exists(
        select(ResponseReviewRow.id).where(
            col(ResponseReviewRow.response_id) == col(ResponseRow.id),
            or_(
                col(ResponseReviewRow.items_json).contains(f'"{wanted}"'),
                col(ResponseReviewRow.items_json).contains(f'"{wanted}-'),
            ),
        )
    )


def _text_contains(words: str) -> ColumnElement[bool]:
    pattern = f"%{words.replace('%', '').replace('_', '')}%"
    in_attachment = exists(
        select(ResponseAttachmentRow.id).where(
            col(ResponseAttachmentRow.response_id) == col(ResponseRow.id),
            col(ResponseAttachmentRow.text).ilike(pattern),
        )
    )
    return or_(
        col(ResponseRow.body_text).ilike(pattern),
        col(ResponseRow.subject).ilike(pattern),
        in_attachment,
    )


def hearing_counts(session: Session, hearing_id: int) -> dict[str, int]:
    """The counts at the top of the list: all, unreviewed, late, each stance (a
    supplement counted with the response it adds to)."""
    base = and_(
        col(ResponseRow.hearing_id) == hearing_id,
        col(ResponseRow.auto_submitted).is_(False),
        is_counted(),
    )
    total, unreviewed, late = session.exec(
        select(
            func.count(col(ResponseRow.id)),
            func.count(col(ResponseRow.id)).filter(is_unreviewed()),
            func.count(col(ResponseRow.id)).filter(col(ResponseRow.late).is_(True)),
        ).where(base)
    ).one()
    counts = {"total": total, "unreviewed": int(unreviewed), "late": int(late)}
    for stance, count in session.exec(
        select(ResponseRow.stance, func.count(col(ResponseRow.id)))
        .where(base, col(ResponseRow.stance).is_not(None))
        .group_by(col(ResponseRow.stance))
    ).all():
        counts[str(stance)] = count
    return counts


def response_page(
    session: Session, hearing: HearingRow, wanted: ResponseFilter, page: int
) -> dict[str, Any]:
    """One page of the filtered responses, oldest first, with the filtered count."""
    where = wanted.conditions(row_id(hearing))
    matching = session.exec(select(func.count(col(ResponseRow.id))).where(*where)).one()
    rows = session.exec(
        select(ResponseRow)
        .where(*where)
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
        .offset(max(page - 1, 0) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    groups = _campaign_numbers(session, [row_id(r) for r in rows])
    return {
        "matching": int(matching),
        "page": page,
        "pages": max(1, -(-int(matching) // PAGE_SIZE)),
        "rows": [
            {
                "id": r.id,
                "tracking_number": r.tracking_number,
                "respondent": respondent_name(r),
                "private": is_private_sender(r.stakeholder_key),
                "subject": r.subject,
                "received_at": r.received_at,
                "late": bool(r.late),
                "stance_nb": Stance(r.stance).label_nb if r.stance else None,
                "campaign": groups.get(row_id(r)),
            }
            for r in rows
        ],
    }


def _campaign_numbers(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {
        response_id: number
        for response_id, number in session.exec(
            select(CampaignMemberRow.response_id, CampaignGroupRow.number)
            .join(CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id))
            .where(col(CampaignMemberRow.response_id).in_(ids))
        ).all()
    }


def _neighbour(session: Session, response: ResponseRow, later: bool) -> int | None:
    """The next (or previous) unreviewed response of the hearing, in list order."""
    key = (col(ResponseRow.received_at), col(ResponseRow.id))
    here = (response.received_at, row_id(response))
    after = or_(key[0] > here[0], and_(key[0] == here[0], key[1] > here[1]))
    before = or_(key[0] < here[0], and_(key[0] == here[0], key[1] < here[1]))
    order = (key[0], key[1]) if later else (key[0].desc(), key[1].desc())
    return session.exec(
        select(ResponseRow.id)
        .where(ResponseRow.hearing_id == response.hearing_id, is_unreviewed())
        .where(after if later else before)
        .order_by(*order)
        .limit(1)
    ).first()


def response_detail(session: Session, response: ResponseRow) -> dict[str, Any]:
    """One response with its attachments, review, suggestion, excerpts and neighbours."""
    attachments = list(
        session.exec(
            select(ResponseAttachmentRow)
            .where(ResponseAttachmentRow.response_id == response.id)
            .order_by(col(ResponseAttachmentRow.position))
        ).all()
    )
    review = session.exec(
        select(ResponseReviewRow).where(ResponseReviewRow.response_id == response.id)
    ).first()
    excerpts = session.exec(
        select(ResponseExcerptRow)
        .where(ResponseExcerptRow.response_id == response.id)
        .order_by(col(ResponseExcerptRow.id))
    ).all()
    group = session.exec(
        select(CampaignGroupRow)
        .join(CampaignMemberRow, col(CampaignMemberRow.campaign_id) == col(CampaignGroupRow.id))
        .where(CampaignMemberRow.response_id == response.id)
    ).first()
    first = (
        session.get(ResponseRow, response.supplement_of_id) if response.supplement_of_id else None
    )
    supplements = session.exec(
        select(ResponseRow)
        .where(col(ResponseRow.supplement_of_id) == response.id)
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
    ).all()
    return {
        "response": response,
        "supplement_of": first,  # reviewed and counted with that response
        "supplements": list(supplements),
        "respondent": respondent_name(response),
        "attachments": attachments,
        "review": review,
        "review_items": json.loads(review.items_json) if review else [],
        "suggestion": suggestion(response, attachments),
        "excerpts": list(excerpts),
        "campaign": group,
        "next_id": _neighbour(session, response, later=True),
        "previous_id": _neighbour(session, response, later=False),
    }


def campaign_members(session: Session, hearing: HearingRow, number: int) -> dict[str, Any] | None:
    group = session.exec(
        select(CampaignGroupRow).where(
            CampaignGroupRow.hearing_id == hearing.id, CampaignGroupRow.number == number
        )
    ).first()
    if group is None:
        return None
    members = list(
        session.exec(
            select(ResponseRow)
            .join(CampaignMemberRow, col(CampaignMemberRow.response_id) == col(ResponseRow.id))
            .where(CampaignMemberRow.campaign_id == group.id)
            .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
        ).all()
    )
    return {"group": group, "members": members}


def hearing_items(session: Session, hearing: HearingRow) -> list[tuple[str, str]]:
    """(ref, shown goal ID) of each change item, for the review and excerpt forms."""
    shown = hearings.id_displays(session, hearing)
    return [(item.ref, shown.get(item.ref, item.ref)) for item in hearings.items(session, hearing)]


def recipients_of(session: Session, hearing: HearingRow) -> list[HearingRecipientRow]:
    return hearings.recipients(session, hearing)
