"""Recording a review: check what a person asked for (`resolve_review`), then write it
(`write_reviews`): the response's current review (`response_review`, mirrored in
`response.stance/reviewed_at/reviewed_by`), a `review_event` for the history, and any
excerpts. A campaign reviewed as one gives its stance to every member.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.review_file import ReviewInput
from domain.stance import Stance, StanceSuggestion, parse_stance, stance_choices_nb
from services.excerpts import FoundExcerpt, find_excerpt, write_excerpts
from services.review_lookup import (
    HearingIndex,
    ReviewError,
    open_response,
    resolve_items,
    reviews_of,
    suggestion,
)
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseRow
from storage.review_models import CampaignGroupRow, ResponseReviewRow, ReviewEventRow
from storage.rows import row_id
from storage.timeutil import to_db


@dataclass
class ResolvedReview:
    input: ReviewInput
    responses: list[ResponseRow]
    campaign: CampaignGroupRow | None
    stance: Stance
    items: tuple[str, ...]
    suggested: StanceSuggestion | None
    accepted: bool
    excerpts: list[FoundExcerpt]

    @property
    def items_json(self) -> str:
        return json.dumps(list(self.items), ensure_ascii=False)

    @property
    def note(self) -> str | None:
        return (self.input.note or "").strip() or None

    @property
    def suggested_stance(self) -> str | None:
        return self.suggested.stance.value if self.suggested else None

    @property
    def suggested_phrase(self) -> str | None:
        return self.suggested.phrase if self.suggested else None


def resolve_review(index: HearingIndex, entry: ReviewInput) -> ResolvedReview:
    response = index.response(entry)
    campaign = None
    responses = [response]
    if entry.campaign:
        campaign = index.membership.get(response.id or 0)
        if campaign is None:
            raise ReviewError(
                f"{entry.where}: response {response.tracking_number} is not in a campaign group; "
                f"group them with 'hoering review campaigns {index.hearing.case_number}' or "
                "review it alone"
            )
        representative = index.by_id.get(campaign.representative_id, response)
        responses = index.members(campaign)
        suggested = suggestion(representative, index.attachments.get(representative.id or 0, []))
    else:
        suggested = suggestion(response, index.attachments.get(response.id or 0, []))
    stance = _choose_stance(entry, suggested, response)
    items = resolve_items(index.aliases, entry.items, entry.items_where or entry.where)
    excerpts = [find_excerpt(index, response, e) for e in entry.excerpts]
    return ResolvedReview(
        input=entry,
        responses=responses,
        campaign=campaign,
        stance=stance,
        items=items,
        suggested=suggested,
        accepted=entry.accept_suggestion,
        excerpts=excerpts,
    )


def _choose_stance(
    entry: ReviewInput, suggested: StanceSuggestion | None, response: ResponseRow
) -> Stance:
    typed = None
    if entry.stance is not None and entry.stance.strip():
        typed = parse_stance(entry.stance)
        if typed is None:
            raise ReviewError(
                f"{entry.where}: '{entry.stance}' is not a stance; use one of {stance_choices_nb()}"
            )
    if not entry.accept_suggestion:
        if typed is None:
            raise ReviewError(
                f"{entry.where}: no stance for response {response.tracking_number}; give one of "
                f"{stance_choices_nb()}, or accept the suggested stance explicitly"
            )
        return typed
    if suggested is None:
        raise ReviewError(
            f"{entry.where}: there is no suggested stance for response "
            f"{response.tracking_number} (no stance phrase found); give the stance yourself"
        )
    if typed is not None and typed is not suggested.stance:
        raise ReviewError(
            f"{entry.where}: the stance '{typed.label_nb}' is not the suggested "
            f"'{suggested.stance.label_nb}'; drop the accept-suggestion flag or the stance"
        )
    return suggested.stance


def write_reviews(
    session: Session,
    hearing: HearingRow,
    resolved: Sequence[ResolvedReview],
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Write the resolved reviews: current reviews, response mirror, history, excerpts."""
    at = to_db(now)
    ids = [r.id for entry in resolved for r in entry.responses if r.id is not None]
    current = reviews_of(session, ids)
    results = []
    for entry in resolved:
        for response in entry.responses:
            _write_current(session, hearing, current, entry, response, actor, at)
        if entry.campaign is not None:
            group = entry.campaign
            group.stance, group.items_json = entry.stance.value, entry.items_json
            group.note, group.reviewed_at, group.reviewed_by = entry.note, at, actor
            session.add(group)
        session.add(_event(hearing, entry, actor, at))
        added = write_excerpts(session, hearing, entry.excerpts, actor, at)
        results.append(_result(entry, added))
    session.flush()
    return results


def _write_current(
    session: Session,
    hearing: HearingRow,
    current: dict[int, ResponseReviewRow],
    entry: ResolvedReview,
    response: ResponseRow,
    actor: str,
    at: datetime,
) -> None:
    """The response's current review, and its mirror on the response row."""
    assert response.id is not None
    row = current.get(response.id)
    if row is None:
        row = ResponseReviewRow(
            response_id=response.id,
            hearing_id=row_id(hearing),
            stance=entry.stance.value,
            reviewed_at=at,
            reviewed_by=actor,
        )
        current[response.id] = row
    row.stance = entry.stance.value
    row.items_json = entry.items_json
    row.note = entry.note
    row.suggested_stance = entry.suggested_stance
    row.suggested_phrase = entry.suggested_phrase
    row.accepted_as_suggested = entry.accepted
    row.campaign_id = entry.campaign.id if entry.campaign else None
    row.reviewed_at, row.reviewed_by = at, actor
    session.add(row)
    response.stance, response.reviewed_at, response.reviewed_by = entry.stance.value, at, actor
    session.add(response)


def _event(hearing: HearingRow, entry: ResolvedReview, actor: str, at: datetime) -> ReviewEventRow:
    first = entry.responses[0] if entry.campaign is None else None
    return ReviewEventRow(
        hearing_id=row_id(hearing),
        response_id=first.id if first else None,
        campaign_id=entry.campaign.id if entry.campaign else None,
        members=len(entry.responses),
        stance=entry.stance.value,
        items_json=entry.items_json,
        note=entry.note,
        suggested_stance=entry.suggested_stance,
        accepted_as_suggested=entry.accepted,
        source=entry.input.source,
        actor=actor,
        at=at,
    )


def _result(entry: ResolvedReview, excerpts_added: int) -> dict[str, Any]:
    return {
        "responses": [r.tracking_number for r in entry.responses],
        "campaign": entry.campaign.number if entry.campaign else None,
        "stance": entry.stance.value,
        "stance_nb": entry.stance.label_nb,
        "items": list(entry.items),
        "note": entry.note,
        "suggested_stance": entry.suggested_stance,
        "suggested_phrase": entry.suggested_phrase,
        "accepted_as_suggested": entry.accepted,
        "excerpts_added": excerpts_added,
    }


def record_review(
    session: Session,
    response_ref: str,
    *,
    stance: str | None,
    items: Sequence[str] = (),
    note: str | None = None,
    accept_suggestion: bool = False,
    campaign: bool = False,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Record one review from the command line; with `campaign` for the response's group."""
    response, hearing, index = open_response(session, response_ref)
    entry = ReviewInput(
        where="--stance" if stance is not None else "--accept-suggestion",
        items_where="--item",
        source="cli",
        response=str(response.id),
        stance=stance,
        items=tuple(items),
        note=note,
        accept_suggestion=accept_suggestion,
        campaign=campaign,
    )
    resolved = resolve_review(index, entry)
    result = write_reviews(session, hearing, [resolved], actor, now)[0]
    result["case"] = hearing.case_number
    return result
