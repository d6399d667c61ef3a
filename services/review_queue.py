"""What is left to review: the review queue of a hearing (a campaign is one row, with its
suggested stance) and the review history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, tuple_
from sqlmodel import Session, col, select

from domain.stance import Stance
from services import hearings
from services.review_lookup import (
    ReviewError,
    attachments_of,
    campaign_groups,
    find_response,
    hearing_responses,
    respondent_name,
    reviews_of,
    suggestion,
)
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.intake_queries import supplements_by_first
from storage.review_models import (
    CampaignGroupRow,
    CampaignMemberRow,
    ResponseReviewRow,
    ReviewEventRow,
)
from storage.review_queries import is_counted, is_unreviewed, unreviewed_response_count
from storage.rows import row_id
from storage.timeutil import from_db

DEFAULT_PAGE = 50


def review_queue(
    session: Session,
    case: str,
    *,
    include_reviewed: bool = False,
    limit: int = DEFAULT_PAGE,
    after: str | None = None,
    counts: bool = True,
) -> dict[str, Any]:
    """One page of the responses to review (oldest first) with their suggested stance; a
    campaign is one row (its representative). `after`: the tracking number or id of the
    last row of the previous page (keyset paging: every page costs the same). Touches
    only the rows shown, and their groups' members; `counts` adds the hearing's totals
    (a count over the hearing's responses)."""
    hearing = hearings.get_hearing(session, case)
    cursor = _cursor(session, hearing, after)
    page = _page(session, hearing, include_reviewed, cursor, limit)
    ids = [row_id(response) for response, _ in page]
    attachments = attachments_of(session, ids)
    reviews = reviews_of(session, ids)
    tallies = _group_tallies(session, [row_id(g) for _, g in page if g is not None])
    supplements = supplements_by_first(session, row_id(hearing), ids)
    rows = []
    for response, group in page:
        size, waiting = tallies.get(group.id or 0, (0, 0)) if group else (1, _waiting(response))
        shown = attachments.get(row_id(response), [])
        row = _queue_row(response, shown, reviews.get(row_id(response)), group, size, waiting)
        row["supplements"] = supplements.get(row_id(response), [])  # read them with it
        rows.append(row)
    result: dict[str, Any] = {"case": hearing.case_number, "state": hearing.state, "rows": rows}
    last = page[-1][0] if len(page) == limit else None
    result["next_after"] = (last.tracking_number or str(last.id)) if last else None
    if counts:
        result["responses"] = _response_count(session, hearing)
        result["unreviewed"] = unreviewed_response_count(session, row_id(hearing))
    return result


_Page = list[tuple[ResponseRow, CampaignGroupRow | None]]


def _waiting(response: ResponseRow) -> int:
    return 1 if response.stance is None else 0


def _cursor(session: Session, hearing: HearingRow, after: str | None) -> tuple | None:
    if after is None:
        return None
    response = find_response(session, after, "--after")
    if response.hearing_id != hearing.id:
        raise ReviewError(
            f"--after: response {after} is not in hearing {hearing.case_number}; give the "
            "last response of the previous page"
        )
    return (response.received_at, response.id)


def _in_order(query: Any, order: tuple[Any, Any], cursor: tuple | None, limit: int) -> Any:
    if cursor is not None:
        query = query.where(tuple_(*order) > tuple_(*cursor))
    return query.order_by(*order).limit(limit)


def standalone_page_query(
    hearing_id: int, include_reviewed: bool, cursor: tuple | None, limit: int
) -> Any:
    """(received_at, id) of a page of responses in no campaign group, read in order
    through ix_response_hearing_stance_received (unreviewed) or ix_response_hearing_received."""
    member = select(CampaignMemberRow.id).where(
        col(CampaignMemberRow.response_id) == col(ResponseRow.id)
    )
    query = select(col(ResponseRow.received_at), col(ResponseRow.id)).where(
        ResponseRow.hearing_id == hearing_id,
        col(ResponseRow.auto_submitted).is_(False),
        is_counted(),
        ~member.exists(),
    )
    if not include_reviewed:
        query = query.where(is_unreviewed())
    order = (col(ResponseRow.received_at), col(ResponseRow.id))
    return _in_order(query, order, cursor, limit)


def group_page_query(
    hearing_id: int,
    include_reviewed: bool,
    cursor: tuple | None,
    limit: int,
    upto: tuple | None = None,
) -> Any:
    """(received_at, id, group id) of a page of campaign groups, each shown as its
    representative, read in order through ix_campaign_group_hearing_received (the
    representative's received time is stored on the group), so only the groups in the
    page's range are read; unreviewed: only groups with a member to review. `upto`: the
    last key of a full page of standalone responses (no group after it can be on the
    page)."""
    order = (
        col(CampaignGroupRow.representative_received_at),
        col(CampaignGroupRow.representative_id),
    )
    query = select(*order, col(CampaignGroupRow.id)).where(
        CampaignGroupRow.hearing_id == hearing_id
    )
    if upto is not None:
        query = query.where(tuple_(*order) <= tuple_(*upto))
    if not include_reviewed:
        waiting = (
            select(CampaignMemberRow.id)
            .join(ResponseRow, col(ResponseRow.id) == col(CampaignMemberRow.response_id))
            .where(
                col(CampaignMemberRow.campaign_id) == col(CampaignGroupRow.id),
                is_unreviewed(),
            )
        )
        query = query.where(waiting.exists())
    return _in_order(query, order, cursor, limit)


def _page(
    session: Session, hearing: HearingRow, include_reviewed: bool, cursor: tuple | None, limit: int
) -> _Page:
    """The page's keys from both lists, merged in order; then only its rows are loaded."""
    args = (row_id(hearing), include_reviewed, cursor, limit)
    keys = [(at, rid, None) for at, rid in session.exec(standalone_page_query(*args)).all()]
    upto = tuple(keys[-1][:2]) if len(keys) == limit else None
    keys += list(session.exec(group_page_query(*args, upto)).all())
    keys = sorted(keys, key=lambda key: (key[0], key[1]))[:limit]
    wanted = [rid for _, rid, _ in keys]
    responses = {
        row_id(r): r
        for r in session.exec(select(ResponseRow).where(col(ResponseRow.id).in_(wanted))).all()
    }
    group_ids = [gid for _, _, gid in keys if gid is not None]
    groups = {
        row_id(g): g
        for g in session.exec(
            select(CampaignGroupRow).where(col(CampaignGroupRow.id).in_(group_ids))
        ).all()
    }
    return [(responses[rid], groups[gid] if gid else None) for _, rid, gid in keys]


def _group_tallies(session: Session, group_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Group id -> (members, members without a stance), automatic replies left out."""
    if not group_ids:
        return {}
    unreviewed = case((col(ResponseRow.stance).is_(None), 1), else_=0)
    rows = session.exec(
        select(CampaignMemberRow.campaign_id, func.count(), func.sum(unreviewed))
        .join(ResponseRow, col(ResponseRow.id) == col(CampaignMemberRow.response_id))
        .where(
            col(CampaignMemberRow.campaign_id).in_(group_ids),
            col(ResponseRow.auto_submitted).is_(False),
            is_counted(),
        )
        .group_by(col(CampaignMemberRow.campaign_id))
    ).all()
    return {gid: (int(n), int(w or 0)) for gid, n, w in rows}


def _response_count(session: Session, hearing: HearingRow) -> int:
    return int(
        session.exec(
            select(func.count(col(ResponseRow.id))).where(
                ResponseRow.hearing_id == hearing.id,
                col(ResponseRow.auto_submitted).is_(False),
                is_counted(),
            )
        ).one()
    )


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
