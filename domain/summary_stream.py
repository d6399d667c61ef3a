"""The høringsoppsummering counted in one pass: `SummaryAccumulator` takes the responses
one at a time, in the order received, and keeps only the figures (tallies per stance,
item, specialty and campaign, who answered, the wording each campaign sent most), never
the responses themselves. `finish` gives the `SummaryContext`; its rows come from the
caller (a tuple, or a spool on disk for a hearing of a million responses).

`build_summary_context` is this accumulator over a list: one
implementation of the counting rules (stated in `domain.summary_context`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.calendar import oslo_date
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.letter_building import SpecialtyInfo
from domain.stance import Stance
from domain.summary_context import (
    CAMPAIGN_LABEL_NB,
    INTERNAL_EDITION_NB,
    CampaignSummary,
    RespondentRow,
    SpecialtySummary,
    SummaryContext,
    campaign_excerpt,
    consulted_groups,
    excerpt_views,
    item_summaries,
    you_said_we_did,
)
from domain.summary_facts import ExcerptFacts, RecipientFacts, ResponseFacts, StanceTally


def _tally(counts: Mapping[Stance, int]) -> StanceTally:
    return StanceTally(**{s.value: n for s, n in counts.items()})


def _count(counts: dict[Stance, int], stance: Stance) -> None:
    counts[stance] = counts.get(stance, 0) + 1


@dataclass
class _Campaign:
    size: int = 0
    stances: set[Stance | None] = field(default_factory=set)
    senders: dict[str, str] = field(default_factory=dict)  # folded name -> first spelling
    times: dict[str, int] = field(default_factory=dict)  # folded name -> count of that spelling
    tracking_numbers: list[str] = field(default_factory=list)
    wordings: dict[bytes, list[int]] = field(default_factory=dict)  # digest -> [count, id]

    def add(self, response: ResponseFacts) -> None:
        self.size += 1
        self.stances.add(response.stance)
        # As the template's `unique` filter did: names folded, the first spelling counted.
        folded = response.respondent.lower()
        if self.senders.setdefault(folded, response.respondent) == response.respondent:
            self.times[folded] = self.times.get(folded, 0) + 1
        self.tracking_numbers.append(response.tracking_number)
        digest = hashlib.blake2b(response.first_lines.encode("utf-8"), digest_size=16).digest()
        wording = self.wordings.setdefault(digest, [0, response.response_id])
        wording[0] += 1

    def most_sent(self) -> int:
        """The response id carrying the wording most members sent (the first on a tie)."""
        return max(self.wordings.values(), key=lambda w: w[0])[1]


class SummaryAccumulator:
    """Feed `add` every response of the hearing, oldest first (received, tracking number)."""

    def __init__(
        self,
        spec: HearingSpec,
        id_displays: Mapping[str, str],
        excerpt_response_ids: Container[int] = (),
    ) -> None:
        self.spec = spec
        self.id_displays = id_displays
        self.item_specialty = {item.ref: item.catalogue_code for item in spec.items}
        self.excerpt_response_ids = excerpt_response_ids
        self.count = 0
        self.overall: dict[Stance, int] = {}
        self.units: dict[Stance, int] = {}
        self.whole: dict[Stance, int] = {}
        self.per_item: dict[str, dict[Stance, int]] = {i.ref: {} for i in spec.items}
        self.item_respondents: dict[str, dict[str, None]] = {i.ref: {} for i in spec.items}
        self.per_specialty: dict[str, dict[Stance, int]] = {
            i.catalogue_code: {} for i in spec.items
        }
        self.answered: set[str] = set()
        self.campaigns: dict[int, _Campaign] = {}
        self.counted_campaigns: set[int] = set()  # campaigns already in `units`
        self.excerpt_facts: dict[int, ResponseFacts] = {}

    def add(self, response: ResponseFacts) -> RespondentRow:
        """Count `response`; returns its row of the summary's list of responses."""
        self.count += 1
        if response.stakeholder_key:
            self.answered.add(response.stakeholder_key)
        if response.response_id in self.excerpt_response_ids:
            self.excerpt_facts[response.response_id] = response
        for ref in response.items:
            self.item_respondents[ref].setdefault(response.respondent)
        if response.campaign is not None:
            self.campaigns.setdefault(response.campaign, _Campaign()).add(response)
        stance = response.stance
        if stance is not None:
            _count(self.overall, stance)
            if response.campaign is None or response.campaign not in self.counted_campaigns:
                _count(self.units, stance)  # a campaign once, by its first reviewed member
                if response.campaign is not None:
                    self.counted_campaigns.add(response.campaign)
            if not response.items:
                _count(self.whole, stance)
            for ref in dict.fromkeys(response.items):
                _count(self.per_item[ref], stance)
            for prefix in dict.fromkeys(self.item_specialty[i] for i in response.items):
                _count(self.per_specialty[prefix], stance)
        return self.row(response)

    def row(self, r: ResponseFacts) -> RespondentRow:
        return RespondentRow(
            tracking_number=r.tracking_number,
            respondent=r.respondent,
            organisation=r.organisation,
            received=oslo_date(r.received_at),
            late=r.late,
            stance=r.stance,
            items=tuple(self.id_displays.get(ref, ref) for ref in r.items),
            specialties=tuple(dict.fromkeys(self.item_specialty[i] for i in r.items)),
            note=r.note,
            campaign=CAMPAIGN_LABEL_NB.format(number=r.campaign) if r.campaign else None,
        )

    def campaign_summaries(self, wording: Callable[[int], str]) -> tuple[CampaignSummary, ...]:
        """The campaigns by number; `wording(response_id)`: that response's first lines."""
        return tuple(
            CampaignSummary(
                label=CAMPAIGN_LABEL_NB.format(number=number),
                size=c.size,
                stance=next(iter(c.stances)) if len(c.stances) == 1 else None,
                excerpt=campaign_excerpt(wording(c.most_sent())),
                senders=tuple((name, c.times[folded]) for folded, name in c.senders.items()),
                tracking_numbers=tuple(c.tracking_numbers),
            )
            for number, c in sorted(self.campaigns.items())
        )

    def finish(
        self,
        *,
        respondents: Collection[RespondentRow],
        specialties: Mapping[str, SpecialtyInfo],
        recipients: Sequence[RecipientFacts],
        excerpts: Sequence[ExcerptFacts],
        decisions: Decisions | None,
        circulated_on: date | None,
        effective_date: date | None,
        as_of: datetime,
        wording: Callable[[int], str],
        edition_nb: str = INTERNAL_EDITION_NB,
    ) -> SummaryContext:
        """The summary; `respondents`: the rows `add` returned, in order."""
        spec = self.spec
        consulted = consulted_groups(recipients, self.answered)
        views = excerpt_views(excerpts, self.excerpt_facts)
        items = item_summaries(
            spec,
            specialties,
            self.id_displays,
            decisions,
            {ref: _tally(c) for ref, c in self.per_item.items()},
            {ref: tuple(names) for ref, names in self.item_respondents.items()},
            views,
        )
        return SummaryContext(
            case_number=spec.case,
            title=spec.title,
            letter_date=oslo_date(as_of),
            circulated_on=circulated_on,
            deadline=spec.deadline,
            consulted=consulted,
            respondents=respondents,
            not_answered=tuple(p.name for g in consulted for p in g.parties if not p.answered),
            overall=_tally(self.overall),
            units=_tally(self.units),
            unreviewed=self.count - sum(self.overall.values()),
            whole_hearing=_tally(self.whole),
            items=items,
            specialties=tuple(
                SpecialtySummary(prefix=prefix, name=specialties[prefix].name, tally=_tally(c))
                for prefix, c in self.per_specialty.items()
            ),
            campaigns=self.campaign_summaries(wording),
            decided_on=decisions.decided_on if decisions else None,
            effective_date=effective_date,
            decision_summary=(decisions.summary or "") if decisions else "",
            you_said_we_did=you_said_we_did(items),
            general_views=views.get(None, ()),
            case_officer=spec.case_officer.name,
            edition_nb=edition_nb,
        )


def build_summary_context(
    *,
    spec: HearingSpec,
    specialties: Mapping[str, SpecialtyInfo],
    id_displays: Mapping[str, str],
    recipients: Sequence[RecipientFacts],
    responses: Sequence[ResponseFacts],
    excerpts: Sequence[ExcerptFacts],
    decisions: Decisions | None,
    circulated_on: date | None,
    effective_date: date | None,
    as_of: datetime,
    edition_nb: str = INTERNAL_EDITION_NB,
) -> SummaryContext:
    """The summary of `spec`'s hearing from the reviewed responses, at `as_of` (the
    one-pass `domain.summary_stream.SummaryAccumulator` over the list)."""
    ordered = sorted(responses, key=lambda r: (r.received_at, r.tracking_number))
    accumulator = SummaryAccumulator(
        spec, id_displays, excerpt_response_ids={e.response_id for e in excerpts}
    )
    rows = tuple(accumulator.add(r) for r in ordered)
    first_lines = {r.response_id: r.first_lines for r in ordered}
    return accumulator.finish(
        respondents=rows,
        specialties=specialties,
        recipients=recipients,
        excerpts=excerpts,
        decisions=decisions,
        circulated_on=circulated_on,
        effective_date=effective_date,
        as_of=as_of,
        wording=first_lines.__getitem__,
        edition_nb=edition_nb,
    )


__all__ = ["SummaryAccumulator", "build_summary_context"]
