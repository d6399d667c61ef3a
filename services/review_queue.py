"""What is left to review: the review queue of a hearing (a campaign is one row, with its
suggested stance) and the review history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from domain.stance import Stance
from services import hearings
from services.review_lookup import (
    HearingIndex,
    campaign_groups,
    hearing_responses,
    respondent_name,
    reviews_of,
    suggestion,
)
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.intake_queries import supplements_by_first
from storage.review_models import CampaignGroupRow, ResponseReviewRow, ReviewEventRow
from storage.review_queries import unreviewed_response_count
from storage.rows import row_id
from storage.timeutil import from_db


def review_queue(session: Session, case: str, *, include_reviewed: bool = False) -> dict[str, Any]:
    """The responses to review with their suggested stance; a campaign is one row."""
    hearing = hearings.get_hearing(session, case)
    index = HearingIndex(session, hearing)
    reviews = reviews_of(session, list(index.by_id))
    supplements = supplements_by_first(session, row_id(hearing))
    rows: list[dict[str, Any]] = []
    shown_groups: set[int] = set()
    for response in index.responses:
        group = index.membership.get(response.id or 0)
        if group is not None:
            if group.id in shown_groups:
                continue
            shown_groups.add(row_id(group))
        members = index.members(group) if group is not None else [response]
        shown = index.by_id.get(group.representative_id, response) if group else response
        waiting = sum(1 for m in members if m.stance is None)
        if waiting == 0 and not include_reviewed:
            continue
        attachments = index.attachments.get(shown.id or 0, [])
        review = reviews.get(shown.id or 0)
        row = _queue_row(shown, attachments, review, group, len(members), waiting)
        row["supplements"] = supplements.get(shown.id or 0, [])  # read them with it
        rows.append(row)
    return {
        "case": hearing.case_number,
        "state": hearing.state,
        "responses": len(index.responses),
        "unreviewed": unreviewed_response_count(session, row_id(hearing)),
        "rows": rows,
    }


def _queue_row(
    response: ResponseRow,
    attachments: Sequence[ResponseAttachmentRow],
    review: ResponseReviewRow | None,
    group: CampaignGroupRow | None,
    size: int,
    unreviewed: int,
) -> dict[str, Any]:
    suggested = suggestion(response, attachments)
    return {
        "response_id": response.id,
        "tracking_number": response.tracking_number,
        "respondent": respondent_name(response),
        "organisation": response.organisation,
        "received_at": from_db(response.received_at),
        "late": bool(response.late),
        "campaign": group.number if group else None,
        "campaign_size": size if group else None,
        "unreviewed": unreviewed,
        "suggested_stance": suggested.stance.value if suggested else None,
        "suggested_stance_nb": suggested.stance.label_nb if suggested else None,
        "suggested_phrase": suggested.phrase if suggested else None,
        "stance": response.stance,
        "stance_nb": Stance(response.stance).label_nb if response.stance else None,
        "items": json.loads(review.items_json) if review else [],
        "note": review.note if review else None,
        "attachments": [a.filename or a.safe_name for a in attachments],
    }


def review_history(session: Session, case: str) -> list[dict[str, Any]]:
    hearing = hearings.get_hearing(session, case)
    tracking = {r.id: r.tracking_number for r in hearing_responses(session, hearing)}
    numbers = {g.id: g.number for g in campaign_groups(session, hearing)}
    return [
        {
            "at": from_db(e.at),
            "actor": e.actor,
            "response": tracking.get(e.response_id) if e.response_id else None,
            "campaign": numbers.get(e.campaign_id) if e.campaign_id else None,
            "members": e.members,
            "stance": e.stance,
            "items": json.loads(e.items_json),
            "note": e.note,
            "suggested_stance": e.suggested_stance,
            "accepted_as_suggested": e.accepted_as_suggested,
            "source": e.source,
        }
        for e in session.exec(
            select(ReviewEventRow)
            .where(ReviewEventRow.hearing_id == hearing.id)
            .order_by(col(ReviewEventRow.id))
        ).all()
    ]
