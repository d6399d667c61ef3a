"""What the review looks up: a hearing's responses, their attachments, current reviews,
suggested stances, change items, campaign groups, and one response by its reference.

`HearingIndex` loads all of it once for a batch of reviews of one hearing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from sqlmodel import Session, col, select

from domain.errors import UserError
from domain.review_file import ReviewInput
from domain.stance import StanceSuggestion, suggest_stance
from services import hearings
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.review_models import CampaignGroupRow, CampaignMemberRow, ResponseReviewRow
from storage.review_queries import is_counted
from storage.rows import row_id

BODY = "body"
_CHUNK = 500
TRACKING = re.compile(r"^\s*(\d{2}\s*/\s*\d+\s*-\s*\d+)\s*$")


class ReviewError(UserError):
    pass


# --- reading responses ---------------------------------------------------------------------


def hearing_responses(session: Session, hearing: HearingRow) -> list[ResponseRow]:
    """The responses filed under the hearing, oldest first; automatic replies and
    supplements (counted with the response they add to) left out."""
    return list(
        session.exec(
            select(ResponseRow)
            .where(
                ResponseRow.hearing_id == hearing.id,
                col(ResponseRow.auto_submitted).is_(False),
                is_counted(),
            )
            .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
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
            .where(col(ResponseAttachmentRow.response_id).in_(chunk))
            .order_by(col(ResponseAttachmentRow.response_id), col(ResponseAttachmentRow.position))
        ).all():
            found.setdefault(row.response_id, []).append(row)
    return found


def reviews_of(session: Session, ids: Sequence[int]) -> dict[int, ResponseReviewRow]:
    found: dict[int, ResponseReviewRow] = {}
    for chunk in _chunks(list(ids)):
        for row in session.exec(
            select(ResponseReviewRow).where(col(ResponseReviewRow.response_id).in_(chunk))
        ).all():
            found[row.response_id] = row
    return found


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
    """A response by tracking number ('24/750-7') or database id ('17'); a supplement is
    refused, naming the response it is reviewed with."""
    text = ref.strip()
    tracking = TRACKING.match(text)
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
    if response.supplement_of_id is not None:
        first = session.get(ResponseRow, response.supplement_of_id)
        named = (first.tracking_number if first else None) or f"#{response.supplement_of_id}"
        raise ReviewError(
            f"{where}: {ref} is a supplement of {named} and is reviewed and quoted with it; "
            f"use {named} (see 'hoering responses show {named}')"
        )
    return response


# --- campaign groups ------------------------------------------------------------------------


def campaign_membership(session: Session, hearing: HearingRow) -> dict[int, CampaignGroupRow]:
    """Response id -> its campaign group, for the hearing."""
    rows = session.exec(
        select(CampaignMemberRow.response_id, CampaignGroupRow)
        .join(CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id))
        .where(CampaignGroupRow.hearing_id == hearing.id)
    ).all()
    return {response_id: group for response_id, group in rows}


def campaign_groups(session: Session, hearing: HearingRow) -> list[CampaignGroupRow]:
    return list(
        session.exec(
            select(CampaignGroupRow)
            .where(CampaignGroupRow.hearing_id == hearing.id)
            .order_by(col(CampaignGroupRow.number))
        ).all()
    )


# --- a hearing's index ----------------------------------------------------------------------


class HearingIndex:
    """Everything a batch of reviews of one hearing looks up, loaded once."""

    def __init__(
        self, session: Session, hearing: HearingRow, only: Sequence[ResponseRow] | None = None
    ) -> None:
        """`only`: index just these responses (one response and its campaign group's
        members), so reviewing one response does not load a hearing of 50,000."""
        self.session = session
        self.hearing = hearing
        self.responses = list(only) if only is not None else hearing_responses(session, hearing)
        self.by_id = {row_id(r): r for r in self.responses}
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
            tracking = TRACKING.match(text)
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


def open_response(session: Session, ref: str) -> tuple[ResponseRow, HearingRow, HearingIndex]:
    """A response named on the command line, its hearing, and an index of the response
    with the other members of its campaign group (all a review of it looks up)."""
    response = find_response(session, ref)
    hearing = session.get(HearingRow, response.hearing_id)
    assert hearing is not None
    return response, hearing, HearingIndex(session, hearing, _with_group(session, response))


def _with_group(session: Session, response: ResponseRow) -> list[ResponseRow]:
    """The response and the other members of its campaign group, oldest first."""
    group_of = (
        select(CampaignMemberRow.campaign_id)
        .where(CampaignMemberRow.response_id == response.id)
        .scalar_subquery()
    )
    members = session.exec(
        select(ResponseRow)
        .join(CampaignMemberRow, col(CampaignMemberRow.response_id) == col(ResponseRow.id))
        .where(
            col(CampaignMemberRow.campaign_id) == group_of,
            col(ResponseRow.auto_submitted).is_(False),
        )
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
    ).all()
    return list(members) if members else [response]
