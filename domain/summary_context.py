"""What the høringsoppsummering shows, and "you said, we did": frozen, display-ready values.

`domain.summary_stream.build_summary_context` turns plain facts read from the record (the
spec, the recipients, the reviewed responses with their excerpts, the campaign groups,
the decisions) into a `SummaryContext`; the template and the spreadsheet print its fields
and compute nothing.

Counting rules:
- every response counts once in the stance tallies, also when it belongs to a campaign;
  `units` counts a campaign as one innspill, so both readings are on the page;
- a response tagged with change items counts under each of them (and under each item's
  specialty once); a response without items is about the hearing as a whole and counts
  under "Hele høringen";
- a late response is counted and marked late.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.decision_basis import split_by_basis
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.letter_building import GROUP_LABELS_NB, SpecialtyInfo
from domain.letter_context import Decision
from domain.stance import Stance
from domain.summary_facts import ExcerptFacts, RecipientFacts, ResponseFacts, StanceTally

WHOLE_HEARING_NB = "Hele høringen"
CAMPAIGN_LABEL_NB = "Kampanje {number}"
EXCERPT_MAX_CHARS = 600
# Said on the first page of each version of the summary (docx and xlsx).
INTERNAL_EDITION_NB = "Intern versjon – inneholder personopplysninger"
PUBLIC_EDITION_NB = "Offentlig versjon – personopplysninger er skjermet"


# --- context out ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Excerpt:
    respondent: str
    tracking_number: str
    text: str
    source: str
    stance: Stance | None

    @property
    def stance_nb(self) -> str:
        return self.stance.label_nb if self.stance else "ikke vurdert"


@dataclass(frozen=True, kw_only=True)
class RespondentRow:
    tracking_number: str
    respondent: str
    organisation: str | None
    received: date
    late: bool
    stance: Stance | None
    items: tuple[str, ...]  # goal IDs or refs as shown
    specialties: tuple[str, ...]  # prefixes of the items' specialties
    note: str
    campaign: str | None  # "Kampanje 1"

    @property
    def stance_nb(self) -> str:
        return self.stance.label_nb if self.stance else "ikke vurdert"

    @property
    def items_nb(self) -> str:
        return ", ".join(self.items) if self.items else WHOLE_HEARING_NB.lower()

    def as_record(self) -> tuple[object, ...]:
        """The row as plain values (to spool it to disk); `from_record` reads it back."""
        return (
            self.tracking_number,
            self.respondent,
            self.organisation,
            self.received.toordinal(),
            self.late,
            self.stance.value if self.stance else None,
            self.items,
            self.specialties,
            self.note,
            self.campaign,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> RespondentRow:
        number, who, organisation, received, late, stance, items, specialties, note, campaign = (
            record
        )
        return cls(
            tracking_number=number,
            respondent=who,
            organisation=organisation,
            received=date.fromordinal(received),
            late=late,
            stance=Stance(stance) if stance else None,
            items=items,
            specialties=specialties,
            note=note,
            campaign=campaign,
        )


class RowView(Collection[RespondentRow]):
    """The rows of `source` that pass `keep`, read from `source` each time (no copy)."""

    def __init__(
        self, source: Collection[RespondentRow], keep: Callable[[RespondentRow], bool]
    ) -> None:
        self.source = source
        self.keep = keep

    def __iter__(self) -> Iterator[RespondentRow]:
        return (row for row in self.source if self.keep(row))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def __contains__(self, row: object) -> bool:
        return any(each == row for each in self)


@dataclass(frozen=True, kw_only=True)
class ConsultedParty:
    name: str
    answered: bool


@dataclass(frozen=True, kw_only=True)
class ConsultedGroup:
    label: str
    parties: tuple[ConsultedParty, ...]


@dataclass(frozen=True, kw_only=True)
class ItemSummary:
    """One change item: what was said about it, and what Helsedirektoratet decided."""

    ref: str
    goal_id_display: str
    specialty_prefix: str
    specialty_name: str
    tally: StanceTally
    respondents: tuple[str, ...]  # who addressed this item, in the order received
    views: tuple[Excerpt, ...]
    decision: Decision | None
    assessment: str | None

    @property
    def decision_nb(self) -> str:
        return self.decision.label_nb if self.decision else "ikke avgjort"


@dataclass(frozen=True, kw_only=True)
class SpecialtySummary:
    prefix: str
    name: str
    tally: StanceTally


@dataclass(frozen=True, kw_only=True)
class CampaignSummary:
    label: str
    size: int
    stance: Stance | None
    excerpt: str
    senders: tuple[tuple[str, int], ...]  # each sender once, with how often it sent
    tracking_numbers: tuple[str, ...]

    @property
    def stance_nb(self) -> str:
        return self.stance.label_nb if self.stance else "ikke vurdert"


@dataclass(frozen=True, kw_only=True)
class DecisionItem:
    """'You said, we did': one decided item with the excerpts it followed (`excerpts`,
    the basis of the decision) and those it went against (`not_followed`), by
    `domain.decision_basis`."""

    ref: str
    goal_id_display: str
    specialty_name: str
    decision: Decision
    assessment: str
    excerpts: tuple[Excerpt, ...]
    not_followed: tuple[Excerpt, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SummaryContext:
    """The høringsoppsummering of one hearing."""

    case_number: str
    title: str
    letter_date: date
    circulated_on: date | None
    deadline: date
    consulted: tuple[ConsultedGroup, ...]
    respondents: Collection[RespondentRow]  # a tuple, or a spool on disk (never copied)
    not_answered: tuple[str, ...]
    overall: StanceTally
    units: StanceTally  # a campaign counted as one innspill
    unreviewed: int
    whole_hearing: StanceTally
    items: tuple[ItemSummary, ...]
    specialties: tuple[SpecialtySummary, ...]
    campaigns: tuple[CampaignSummary, ...]
    decided_on: date | None
    effective_date: date | None
    decision_summary: str
    you_said_we_did: tuple[DecisionItem, ...]
    general_views: tuple[Excerpt, ...] = ()  # excerpts about the hearing as a whole
    case_officer: str = ""
    edition_nb: str = INTERNAL_EDITION_NB  # internal (names) or public (masked)

    @property
    def late(self) -> RowView:
        return RowView(self.respondents, lambda r: r.late)

    @property
    def individual_respondents(self) -> RowView:
        """Respondents outside campaigns (a campaign is listed as one group)."""
        return RowView(self.respondents, lambda r: r.campaign is None)

    @property
    def consulted_count(self) -> int:
        return sum(len(g.parties) for g in self.consulted)

    @property
    def answered_count(self) -> int:
        return sum(1 for g in self.consulted for p in g.parties if p.answered)

    @property
    def chart_rows(self) -> tuple[tuple[str, StanceTally], ...]:
        """(label, tally) per specialty, then the whole hearing: the chart's bars."""
        rows = [(s.name, s.tally) for s in self.specialties]
        rows.append((WHOLE_HEARING_NB, self.whole_hearing))
        return tuple(rows)


# --- building ------------------------------------------------------------------------------


def _clip(text: str, limit: int = EXCERPT_MAX_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return f"{cut} …"


def item_summaries(
    spec: HearingSpec,
    specialties: Mapping[str, SpecialtyInfo],
    id_displays: Mapping[str, str],
    decisions: Decisions | None,
    tallies: Mapping[str, StanceTally],
    respondents: Mapping[str, tuple[str, ...]],
    views: Mapping[str | None, tuple[Excerpt, ...]],
) -> tuple[ItemSummary, ...]:
    """Each change item with its tally, who addressed it, its excerpts and decision."""
    summaries = []
    for item in spec.items:
        decision = decisions.for_item(item.ref) if decisions else None
        summaries.append(
            ItemSummary(
                ref=item.ref,
                goal_id_display=id_displays.get(item.ref, item.ref),
                specialty_prefix=item.catalogue_code,
                specialty_name=specialties[item.catalogue_code].name,
                tally=tallies[item.ref],
                respondents=respondents[item.ref],
                views=views.get(item.ref, ()),
                decision=Decision(decision.decision.value) if decision else None,
                assessment=decision.assessment if decision else None,
            )
        )
    return tuple(summaries)


def you_said_we_did(item_summaries: Sequence[ItemSummary]) -> tuple[DecisionItem, ...]:
    said = []
    for s in item_summaries:
        if s.decision is None:
            continue
        followed, against = split_by_basis(s.decision, s.views, lambda view: view.stance)
        said.append(
            DecisionItem(
                ref=s.ref,
                goal_id_display=s.goal_id_display,
                specialty_name=s.specialty_name,
                decision=s.decision,
                assessment=s.assessment or "",
                excerpts=followed,
                not_followed=against,
            )
        )
    return tuple(said)


def consulted_groups(
    recipients: Sequence[RecipientFacts], answered: set[str]
) -> tuple[ConsultedGroup, ...]:
    groups = []
    for group, label in GROUP_LABELS_NB.items():
        parties = tuple(
            ConsultedParty(name=r.name, answered=r.stakeholder_key in answered)
            for r in recipients
            if r.group == group
        )
        if parties:
            groups.append(ConsultedGroup(label=label, parties=parties))
    known = set(GROUP_LABELS_NB)
    others = tuple(
        ConsultedParty(name=r.name, answered=r.stakeholder_key in answered)
        for r in recipients
        if r.group not in known
    )
    if others:
        groups.append(ConsultedGroup(label="Andre", parties=others))
    return tuple(groups)


def excerpt_views(
    excerpts: Sequence[ExcerptFacts], by_id: Mapping[int, ResponseFacts]
) -> dict[str | None, tuple[Excerpt, ...]]:
    """Excerpts per item ref (None: about the whole hearing), in the order received.
    Of a campaign only the first member's excerpt is shown: the group says it once."""
    found: dict[str | None, list[tuple[tuple[datetime, str], Excerpt]]] = {}
    shown_campaigns: set[tuple[str | None, int]] = set()
    for excerpt in excerpts:
        response = by_id.get(excerpt.response_id)
        if response is None:
            continue
        if response.campaign is not None:
            key = (excerpt.item_ref, response.campaign)
            if key in shown_campaigns:
                continue
            shown_campaigns.add(key)
        found.setdefault(excerpt.item_ref, []).append(
            (
                (response.received_at, response.tracking_number),
                Excerpt(
                    respondent=response.respondent,
                    tracking_number=response.tracking_number,
                    text=_clip(excerpt.text),
                    source=excerpt.source,
                    stance=response.stance,
                ),
            )
        )
    return {
        ref: tuple(e for _, e in sorted(pairs, key=lambda p: p[0])) for ref, pairs in found.items()
    }


def campaign_excerpt(common: str) -> str:
    """The passage shown for a campaign: the wording most members sent, clipped."""
    return _clip(common, 400)


__all__ = [
    "CAMPAIGN_LABEL_NB",
    "WHOLE_HEARING_NB",
    "CampaignSummary",
    "ConsultedGroup",
    "ConsultedParty",
    "DecisionItem",
    "Excerpt",
    "ExcerptFacts",
    "ItemSummary",
    "RecipientFacts",
    "RespondentRow",
    "ResponseFacts",
    "RowView",
    "SpecialtySummary",
    "StanceTally",
    "SummaryContext",
]
