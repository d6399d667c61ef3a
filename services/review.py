"""The review of a hearing's responses: stances, items, notes, excerpts, campaigns.

A review is recorded by a person (`record_review`, the CLI) or from a review file
(`apply_review_file`, YAML or CSV, one row a response); either way the stance is one a
person chose, or the suggested stance with the flag that it was accepted as suggested.
Each review updates the response's current review (`response_review`, mirrored in
`response.stance/reviewed_at/reviewed_by`) and adds a `review_event` (the history).

Campaigns (`group_campaigns`) are near-identical responses found with MinHash/LSH
(`domain.campaigns`); a campaign is reviewed as one (`campaign=True`), its stance then
counts for every member, also for members that join the group when it is regrouped.

The review of a hearing is complete when every response that is not an automatic reply
has a stance (`unreviewed_response_count`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from domain.campaigns import DEFAULT_THRESHOLD, group_near_duplicates
from domain.errors import UserError
from domain.review_file import ExcerptInput, ReviewInput, parse_review_file
from domain.stance import Stance, StanceSuggestion, parse_stance, stance_choices_nb, suggest_stance
from services import hearings
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.review_models import (
    CampaignGroupRow,
    CampaignMemberRow,
    ResponseExcerptRow,
    ResponseReviewRow,
    ReviewEventRow,
)
from storage.timeutil import from_db, to_db

BODY = "body"
_CHUNK = 500
_TRACKING = re.compile(r"^\s*(\d{2}\s*/\s*\d+\s*-\s*\d+)\s*$")


class ReviewError(UserError):
    pass


# --- reading responses ---------------------------------------------------------------------


def hearing_responses(session: Session, hearing: HearingRow) -> list[ResponseRow]:
    """The responses filed under the hearing, automatic replies left out, oldest first."""
    return list(
        session.exec(
            select(ResponseRow)
            .where(ResponseRow.hearing_id == hearing.id, ResponseRow.auto_submitted.is_(False))
            .order_by(ResponseRow.received_at, ResponseRow.id)
        ).all()
    )


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def attachments_of(session: Session, ids: Sequence[int]) -> dict[int, list[ResponseAttachmentRow]]:
    found: dict[int, list[ResponseAttachmentRow]] = {}
    for chunk in _chunks(list(ids)):
        for row in session.exec(
            select(ResponseAttachmentRow)
            .where(ResponseAttachmentRow.response_id.in_(chunk))
            .order_by(ResponseAttachmentRow.response_id, ResponseAttachmentRow.position)
        ).all():
            found.setdefault(row.response_id, []).append(row)
    return found


def reviews_of(session: Session, ids: Sequence[int]) -> dict[int, ResponseReviewRow]:
    found: dict[int, ResponseReviewRow] = {}
    for chunk in _chunks(list(ids)):
        for row in session.exec(
            select(ResponseReviewRow).where(ResponseReviewRow.response_id.in_(chunk))
        ).all():
            found[row.response_id] = row
    return found


def full_text(response: ResponseRow, attachments: Sequence[ResponseAttachmentRow]) -> str:
    """The body followed by the text of each readable attachment."""
    parts = [response.body_text or ""]
    parts.extend(a.text for a in attachments if a.text)
    return "\n\n".join(p for p in parts if p)


def suggestion(
    response: ResponseRow, attachments: Sequence[ResponseAttachmentRow]
) -> StanceSuggestion | None:
    """The stance the response's text suggests: the body first, then the attachments."""
    found = suggest_stance(response.body_text or "")
    if found is not None:
        return found
    for attachment in attachments:
        if attachment.text:
            found = suggest_stance(attachment.text)
            if found is not None:
                return found
    return None


def respondent_name(response: ResponseRow) -> str:
    """Who answered: the organisation, else the sender's name, else the address."""
    return response.organisation or response.from_name or response.from_address or "ukjent avsender"


# --- items ---------------------------------------------------------------------------------


def item_aliases(session: Session, hearing: HearingRow) -> dict[str, str]:
    """What a reviewer may type for a change item (its ref or its goal ID as shown, any
    case) -> the item's ref."""
    aliases: dict[str, str] = {}
    for ref, shown in hearings.id_displays(session, hearing).items():
        aliases[ref.upper()] = ref
        aliases[shown.upper()] = ref
    return aliases


def resolve_items(aliases: Mapping[str, str], given: Iterable[str], where: str) -> tuple[str, ...]:
    refs: list[str] = []
    for value in given:
        for part in re.split(r"[,;\s]+", value.strip()):
            if not part:
                continue
            ref = aliases.get(part.upper())
            if ref is None:
                choices = ", ".join(sorted(set(aliases.values())))
                raise ReviewError(
                    f"{where}: '{part}' is not a change item of this hearing; use one of {choices}"
                )
            if ref not in refs:
                refs.append(ref)
    return tuple(refs)


# --- finding a response ------------------------------------------------------------------------


def find_response(session: Session, ref: str, where: str = "RESPONSE") -> ResponseRow:
    """A response by tracking number ('24/750-7') or database id ('17')."""
    text = ref.strip()
    tracking = _TRACKING.match(text)
    response: ResponseRow | None = None
    if tracking:
        number = re.sub(r"\s+", "", tracking.group(1))
        response = session.exec(
            select(ResponseRow).where(ResponseRow.tracking_number == number)
        ).first()
    elif text.isdigit():
        response = session.get(ResponseRow, int(text))
    else:
        raise ReviewError(
            f"{where}: '{ref}' is neither a tracking number (24/750-7) nor a response id; "
            "see 'hoering review CASE' for both"
        )
    if response is None:
        raise ReviewError(
            f"{where}: no response '{ref}'; see 'hoering review CASE' for the responses to review"
        )
    if response.hearing_id is None:
        raise ReviewError(
            f"{where}: response {ref} is not filed under a hearing; assign it first with "
            "'hoering responses assign'"
        )
    return response


# --- recording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _FoundExcerpt:
    """A quoted passage found in a response: `source` is "body" or an attachment's sha256,
    `start`/`end` offsets in that text."""

    response: ResponseRow
    item: str | None
    source: str
    start: int
    end: int
    quote: str


@dataclass
class _Resolved:
    input: ReviewInput
    responses: list[ResponseRow]
    campaign: CampaignGroupRow | None
    stance: Stance
    items: tuple[str, ...]
    suggested: StanceSuggestion | None
    accepted: bool
    excerpts: list[_FoundExcerpt]


class _HearingIndex:
    """Everything a batch of reviews of one hearing looks up, loaded once."""

    def __init__(self, session: Session, hearing: HearingRow) -> None:
        self.session = session
        self.hearing = hearing
        self.responses = hearing_responses(session, hearing)
        self.by_id = {r.id: r for r in self.responses}
        self.by_tracking = {r.tracking_number: r for r in self.responses if r.tracking_number}
        self.by_sender: dict[str, list[ResponseRow]] = {}
        for response in self.responses:
            if response.from_address:
                self.by_sender.setdefault(response.from_address.lower(), []).append(response)
        self.aliases = item_aliases(session, hearing)
        self._attachments: dict[int, list[ResponseAttachmentRow]] | None = None
        self._membership: dict[int, CampaignGroupRow] | None = None
        self._members: dict[int, list[ResponseRow]] | None = None

    @property
    def attachments(self) -> dict[int, list[ResponseAttachmentRow]]:
        if self._attachments is None:
            self._attachments = attachments_of(self.session, list(self.by_id))
        return self._attachments

    @property
    def membership(self) -> dict[int, CampaignGroupRow]:
        if self._membership is None:
            self._membership = campaign_membership(self.session, self.hearing)
        return self._membership

    def members(self, group: CampaignGroupRow) -> list[ResponseRow]:
        if self._members is None:
            self._members = {}
            for response in self.responses:
                found = self.membership.get(response.id or 0)
                if found is not None:
                    self._members.setdefault(found.id or 0, []).append(response)
        return self._members.get(group.id or 0, [])

    def response(self, entry: ReviewInput) -> ResponseRow:
        if entry.response:
            text = entry.response.strip()
            found: ResponseRow | None = None
            tracking = _TRACKING.match(text)
            if tracking:
                found = self.by_tracking.get(re.sub(r"\s+", "", tracking.group(1)))
            elif text.isdigit():
                found = self.by_id.get(int(text))
            if found is None:
                raise ReviewError(
                    f"{entry.where}: no response '{entry.response}' in hearing "
                    f"{self.hearing.case_number}; use a tracking number or id from "
                    f"'hoering review {self.hearing.case_number}'"
                )
            return found
        if entry.sender:
            matches = self.by_sender.get(entry.sender.strip().lower(), [])
            if len(matches) == 1:
                return matches[0]
            if not matches:
                raise ReviewError(
                    f"{entry.where}: no response from '{entry.sender}' in hearing "
                    f"{self.hearing.case_number}; check the address or use the tracking number"
                )
            numbers = ", ".join(r.tracking_number or str(r.id) for r in matches)
            raise ReviewError(
                f"{entry.where}: '{entry.sender}' sent {len(matches)} responses ({numbers}); "
                "name one by its tracking number with `response:`"
            )
        raise ReviewError(
            f"{entry.where}: no response named; give `response:` (tracking number or id) "
            "or `from:` (the sender's address)"
        )


def _locate(quote: str, text: str) -> tuple[int, int] | None:
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    match = pattern.search(text)
    return match.span() if match else None


def _excerpt(index: _HearingIndex, response: ResponseRow, excerpt: ExcerptInput) -> _FoundExcerpt:
    item = None
    if excerpt.item:
        item = resolve_items(index.aliases, [excerpt.item], excerpt.where)[0]
    attachments = index.attachments.get(response.id or 0, [])
    candidates: list[tuple[str, str]] = []
    if excerpt.attachment is None:
        candidates.append((BODY, response.body_text or ""))
    for attachment in attachments:
        names = {attachment.filename or "", attachment.safe_name}
        if excerpt.attachment is None or excerpt.attachment in names:
            candidates.append((attachment.sha256, attachment.text or ""))
    if excerpt.attachment is not None and not candidates:
        shown = ", ".join(a.filename or a.safe_name for a in attachments) or "none"
        raise ReviewError(
            f"{excerpt.where}: response {response.tracking_number} has no attachment "
            f"'{excerpt.attachment}' (attachments: {shown}); check the file name"
        )
    for source, text in candidates:
        span = _locate(excerpt.quote, text)
        if span is not None:
            return _FoundExcerpt(response, item, source, span[0], span[1], text[span[0] : span[1]])
    shown = " ".join(excerpt.quote.split())[:60]
    raise ReviewError(
        f"{excerpt.where}: the quote '{shown}' is not in response {response.tracking_number} "
        "(its text or attachments); copy the passage exactly as written"
    )


def _resolve(index: _HearingIndex, entry: ReviewInput) -> _Resolved:
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
    excerpts = [_excerpt(index, response, e) for e in entry.excerpts]
    return _Resolved(
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


def _write(
    session: Session, hearing: HearingRow, resolved: Sequence[_Resolved], actor: str, now: datetime
) -> list[dict[str, Any]]:
    """Write the resolved reviews: current reviews, response mirror, history, excerpts."""
    at = to_db(now)
    ids = [r.id for entry in resolved for r in entry.responses if r.id is not None]
    current = reviews_of(session, ids)
    results = []
    for entry in resolved:
        items_json = json.dumps(list(entry.items), ensure_ascii=False)
        suggested = entry.suggested.stance.value if entry.suggested else None
        phrase = entry.suggested.phrase if entry.suggested else None
        note = (entry.input.note or "").strip() or None
        for response in entry.responses:
            assert response.id is not None
            row = current.get(response.id)
            if row is None:
                row = ResponseReviewRow(
                    response_id=response.id,
                    hearing_id=hearing.id,
                    stance=entry.stance.value,
                    reviewed_at=at,
                    reviewed_by=actor,
                )
                current[response.id] = row
            row.stance = entry.stance.value
            row.items_json = items_json
            row.note = note
            row.suggested_stance = suggested
            row.suggested_phrase = phrase
            row.accepted_as_suggested = entry.accepted
            row.campaign_id = entry.campaign.id if entry.campaign else None
            row.reviewed_at, row.reviewed_by = at, actor
            session.add(row)
            response.stance, response.reviewed_at, response.reviewed_by = (
                entry.stance.value,
                at,
                actor,
            )
            session.add(response)
        if entry.campaign is not None:
            group = entry.campaign
            group.stance, group.items_json, group.note = entry.stance.value, items_json, note
            group.reviewed_at, group.reviewed_by = at, actor
            session.add(group)
        first = entry.responses[0] if entry.campaign is None else None
        session.add(
            ReviewEventRow(
                hearing_id=hearing.id,
                response_id=first.id if first else None,
                campaign_id=entry.campaign.id if entry.campaign else None,
                members=len(entry.responses),
                stance=entry.stance.value,
                items_json=items_json,
                note=note,
                suggested_stance=suggested,
                accepted_as_suggested=entry.accepted,
                source=entry.input.source,
                actor=actor,
                at=at,
            )
        )
        added = _write_excerpts(session, hearing, entry.excerpts, actor, at)
        results.append(
            {
                "responses": [r.tracking_number for r in entry.responses],
                "campaign": entry.campaign.number if entry.campaign else None,
                "stance": entry.stance.value,
                "stance_nb": entry.stance.label_nb,
                "items": list(entry.items),
                "note": note,
                "suggested_stance": suggested,
                "suggested_phrase": phrase,
                "accepted_as_suggested": entry.accepted,
                "excerpts_added": added,
            }
        )
    session.flush()
    return results


def _write_excerpts(
    session: Session,
    hearing: HearingRow,
    excerpts: Sequence[_FoundExcerpt],
    actor: str,
    at: datetime,
) -> int:
    """Store the excerpts not stored yet (same response, item, source and span)."""
    added = 0
    for found in excerpts:
        same_item = (
            ResponseExcerptRow.item_ref.is_(None)
            if found.item is None
            else ResponseExcerptRow.item_ref == found.item
        )
        exists = session.exec(
            select(ResponseExcerptRow.id).where(
                ResponseExcerptRow.response_id == found.response.id,
                ResponseExcerptRow.source == found.source,
                ResponseExcerptRow.start == found.start,
                ResponseExcerptRow.end == found.end,
                same_item,
            )
        ).first()
        if exists is not None:
            continue
        session.add(
            ResponseExcerptRow(
                hearing_id=hearing.id,
                response_id=found.response.id,
                item_ref=found.item,
                source=found.source,
                start=found.start,
                end=found.end,
                quote=found.quote,
                created_at=at,
                created_by=actor,
            )
        )
        added += 1
    return added


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
    response = find_response(session, response_ref)
    hearing = session.get(HearingRow, response.hearing_id)
    assert hearing is not None
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
    index = _HearingIndex(session, hearing)
    resolved = _resolve(index, entry)
    result = _write(session, hearing, [resolved], actor, now)[0]
    result["case"] = hearing.case_number
    return result


def add_excerpt(
    session: Session,
    response_ref: str,
    *,
    quote: str,
    item: str | None,
    attachment: str | None = None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Tie a passage of a response to a change item (None: the hearing as a whole)."""
    response = find_response(session, response_ref)
    hearing = session.get(HearingRow, response.hearing_id)
    assert hearing is not None
    index = _HearingIndex(session, hearing)
    found = _excerpt(index, response, ExcerptInput(item, quote, attachment, "--quote"))
    added = _write_excerpts(session, hearing, [found], actor, to_db(now))
    session.flush()
    return {
        "response": response.tracking_number,
        "item": found.item,
        "source": found.source,
        "start": found.start,
        "end": found.end,
        "quote": found.quote,
        "added": bool(added),
    }


# --- review files ----------------------------------------------------------------------------


def apply_review_file(
    session: Session, case: str, text: str, source: str, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Apply every row of a review file, or none: the first bad row raises one line."""
    hearing = hearings.get_hearing(session, case)
    named_case, entries = parse_review_file(text, source)
    if named_case is not None and named_case != hearing.case_number:
        raise ReviewError(
            f"{source}: the file reviews case {named_case}, not {hearing.case_number}; use the "
            "review file of this hearing"
        )
    index = _HearingIndex(session, hearing)
    resolved = [_resolve(index, entry) for entry in entries]
    seen: dict[int, str] = {}
    for entry in resolved:
        for response in entry.responses:
            assert response.id is not None
            if response.id in seen and entry.campaign is None:
                raise ReviewError(
                    f"{entry.input.where}: response {response.tracking_number} is reviewed "
                    f"twice (also {seen[response.id]}); keep one row per response"
                )
            seen.setdefault(response.id, entry.input.where)
    results = _write(session, hearing, resolved, actor, now)
    return {
        "case": hearing.case_number,
        "rows": len(results),
        "responses_reviewed": sum(len(r["responses"]) for r in results),
        "excerpts_added": sum(r["excerpts_added"] for r in results),
        "unreviewed": unreviewed_response_count(session, hearing.id),
        "reviews": results,
    }


# --- campaigns -------------------------------------------------------------------------------


def campaign_membership(session: Session, hearing: HearingRow) -> dict[int, CampaignGroupRow]:
    """Response id -> its campaign group, for the hearing."""
    rows = session.exec(
        select(CampaignMemberRow.response_id, CampaignGroupRow)
        .join(CampaignGroupRow, CampaignGroupRow.id == CampaignMemberRow.campaign_id)
        .where(CampaignGroupRow.hearing_id == hearing.id)
    ).all()
    return {response_id: group for response_id, group in rows}


def campaign_groups(session: Session, hearing: HearingRow) -> list[CampaignGroupRow]:
    return list(
        session.exec(
            select(CampaignGroupRow)
            .where(CampaignGroupRow.hearing_id == hearing.id)
            .order_by(CampaignGroupRow.number)
        ).all()
    )


def group_campaigns(
    session: Session,
    case: str,
    *,
    actor: str,
    now: datetime,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Find the campaigns of the hearing again and store them; safe to repeat.

    A group keeps its number (and review) when it still holds most of the same
    responses; a reviewed group's stance is given to members that have no review.
    """
    hearing = hearings.get_hearing(session, case)
    responses = hearing_responses(session, hearing)
    found = group_near_duplicates(
        [(r.id, r.body_text or "") for r in responses], threshold=threshold
    )
    old = campaign_groups(session, hearing)
    old_members: dict[int, set[int]] = {g.id: set() for g in old if g.id is not None}
    for response_id, group in campaign_membership(session, hearing).items():
        old_members[group.id].add(response_id)
    if old:
        session.execute(
            delete(CampaignMemberRow).where(CampaignMemberRow.campaign_id.in_([g.id for g in old]))
        )
    reused: dict[int, CampaignGroupRow] = {}
    by_id = {g.id: g for g in old}
    next_number = max((g.number for g in old), default=0) + 1
    kept: list[tuple[CampaignGroupRow, list[int]]] = []
    for members in (list(g.members) for g in found):
        overlap = sorted(
            (
                (len(old_members[gid] & set(members)), gid)
                for gid in old_members
                if gid not in reused
            ),
            reverse=True,
        )
        if overlap and overlap[0][0] * 2 > len(members):
            group = by_id[overlap[0][1]]
            reused[group.id] = group
        else:
            group = CampaignGroupRow(
                hearing_id=hearing.id,
                number=next_number,
                size=0,
                representative_id=members[0],
                threshold=threshold,
                grouped_at=to_db(now),
            )
            next_number += 1
        group.size = len(members)
        group.representative_id = members[0]
        group.threshold = threshold
        group.grouped_at = to_db(now)
        session.add(group)
        kept.append((group, members))
    session.flush()
    dropped = [g for g in old if g.id not in reused]
    if dropped:
        ids = [g.id for g in dropped]
        session.execute(
            update(ResponseReviewRow)
            .where(ResponseReviewRow.campaign_id.in_(ids))
            .values(campaign_id=None)
        )
        session.execute(
            update(ReviewEventRow)
            .where(ReviewEventRow.campaign_id.in_(ids))
            .values(campaign_id=None)
        )
        for group in dropped:
            session.delete(group)
    session.add_all(
        CampaignMemberRow(campaign_id=group.id, response_id=rid)
        for group, members in kept
        for rid in members
    )
    session.flush()
    _extend_group_reviews(session, hearing, kept, actor, now)
    by_response = {r.id: r for r in responses}
    return [_campaign_json(group, [by_response[m] for m in members]) for group, members in kept]


def _extend_group_reviews(
    session: Session,
    hearing: HearingRow,
    kept: Sequence[tuple[CampaignGroupRow, list[int]]],
    actor: str,
    now: datetime,
) -> None:
    """Members of a reviewed group without a review of their own get the group's."""
    for group, members in kept:
        if group.stance is None:
            continue
        reviewed = reviews_of(session, members)
        missing = [m for m in members if m not in reviewed]
        if not missing:
            continue
        rows = [session.get(ResponseRow, m) for m in missing]
        entry = _Resolved(
            input=ReviewInput(
                where="", source=f"campaign {group.number} (regrouped)", note=group.note
            ),
            responses=[r for r in rows if r is not None],
            campaign=group,
            stance=Stance(group.stance),
            items=tuple(json.loads(group.items_json)),
            suggested=None,
            accepted=False,
            excerpts=[],
        )
        reviewer = group.reviewed_by or actor
        _write(session, hearing, [entry], reviewer, now)


def _campaign_json(group: CampaignGroupRow, members: Sequence[ResponseRow]) -> dict[str, Any]:
    first = members[0] if members else None
    return {
        "campaign": group.number,
        "size": group.size,
        "stance": group.stance,
        "stance_nb": Stance(group.stance).label_nb if group.stance else None,
        "reviewed_by": group.reviewed_by,
        "representative": first.tracking_number if first else None,
        "first_lines": " ".join((first.body_text if first else "").split())[:160],
        "members": [m.tracking_number for m in members],
    }


def list_campaigns(session: Session, case: str) -> list[dict[str, Any]]:
    """The stored campaign groups of the hearing (as `group_campaigns` left them)."""
    hearing = hearings.get_hearing(session, case)
    by_id = {r.id: r for r in hearing_responses(session, hearing)}
    members: dict[int, list[ResponseRow]] = {}
    for response_id, group in campaign_membership(session, hearing).items():
        if response_id in by_id:
            members.setdefault(group.id, []).append(by_id[response_id])
    result = []
    for group in campaign_groups(session, hearing):
        rows = sorted(members.get(group.id, []), key=lambda r: (r.received_at, r.id))
        result.append(_campaign_json(group, rows))
    return result


# --- what is left to review --------------------------------------------------------------------


def unreviewed_response_count(session: Session, hearing_id: int) -> int:
    """Responses of the hearing without a stance; automatic replies do not count, and a
    campaign reviewed as one has given each member its stance."""
    return int(
        session.exec(
            select(func.count(ResponseRow.id)).where(
                ResponseRow.hearing_id == hearing_id,
                ResponseRow.auto_submitted.is_(False),
                ResponseRow.stance.is_(None),
            )
        ).one()
    )


def review_queue(session: Session, case: str, *, include_reviewed: bool = False) -> dict[str, Any]:
    """The responses to review with their suggested stance; a campaign is one row."""
    hearing = hearings.get_hearing(session, case)
    index = _HearingIndex(session, hearing)
    reviews = reviews_of(session, list(index.by_id))
    rows: list[dict[str, Any]] = []
    shown_groups: set[int] = set()
    for response in index.responses:
        group = index.membership.get(response.id or 0)
        if group is not None:
            if group.id in shown_groups:
                continue
            shown_groups.add(group.id)
            members = index.members(group)
            done = all(m.stance is not None for m in members)
            if done and not include_reviewed:
                continue
            representative = index.by_id.get(group.representative_id, response)
            rows.append(
                _queue_row(
                    representative,
                    index.attachments.get(representative.id or 0, []),
                    reviews.get(representative.id or 0),
                    group,
                    len(members),
                    sum(1 for m in members if m.stance is None),
                )
            )
            continue
        if response.stance is not None and not include_reviewed:
            continue
        rows.append(
            _queue_row(
                response,
                index.attachments.get(response.id or 0, []),
                reviews.get(response.id or 0),
                None,
                1,
                0 if response.stance else 1,
            )
        )
    return {
        "case": hearing.case_number,
        "state": hearing.state,
        "responses": len(index.responses),
        "unreviewed": unreviewed_response_count(session, hearing.id),
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
            .order_by(ReviewEventRow.id)
        ).all()
    ]
