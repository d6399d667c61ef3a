"""What the høringsoppsummering shows, and "you said, we did": frozen, display-ready values.

`build_summary_context` turns plain facts read from the record (the spec, the recipients,
the reviewed responses with their excerpts, the campaign groups, the decisions) into a
`SummaryContext`; the template and the spreadsheet print its fields and compute nothing.

Counting rules:
- every response counts once in the stance tallies, also when it belongs to a campaign;
  `units` counts a campaign as one innspill, so both readings are on the page;
- a response tagged with change items counts under each of them (and under each item's
  specialty once); a response without items is about the hearing as a whole and counts
  under "Hele høringen";
- a late response is counted and marked late.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import oslo_date
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
    respondents: tuple[str, ...]
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
    respondents: tuple[RespondentRow, ...]
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
    def late(self) -> tuple[RespondentRow, ...]:
        return tuple(r for r in self.respondents if r.late)

    @property
    def individual_respondents(self) -> tuple[RespondentRow, ...]:
        """Respondents outside campaigns (a campaign is listed as one group)."""
        return tuple(r for r in self.respondents if r.campaign is None)

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
    """The summary of `spec`'s hearing from the reviewed responses, at `as_of`."""
    ordered = sorted(responses, key=lambda r: (r.received_at, r.tracking_number))
    item_specialty = {item.ref: item.catalogue_code for item in spec.items}
    numbers = sorted({r.campaign for r in responses if r.campaign is not None})
    campaign_labels = {n: CAMPAIGN_LABEL_NB.format(number=n) for n in numbers}
    by_id = {r.response_id: r for r in ordered}

    rows = _respondent_rows(ordered, id_displays, item_specialty, campaign_labels)
    reviewed = [r for r in ordered if r.stance is not None]
    overall = StanceTally.of(r.stance for r in reviewed if r.stance)
    units = _units(reviewed)

    answered_keys = {r.stakeholder_key for r in ordered if r.stakeholder_key}
    consulted = _consulted(recipients, answered_keys)
    not_answered = tuple(p.name for g in consulted for p in g.parties if not p.answered)

    views = _views(excerpts, by_id)
    item_summaries = _item_summaries(spec, specialties, id_displays, decisions, ordered, views)
    specialty_summaries = _specialty_summaries(spec, specialties, reviewed)
    whole = StanceTally.of(r.stance for r in reviewed if r.stance and not r.items)
    campaigns = _campaigns(ordered, campaign_labels)
    you_said = _you_said(item_summaries)
    return SummaryContext(
        case_number=spec.case,
        title=spec.title,
        letter_date=oslo_date(as_of),
        circulated_on=circulated_on,
        deadline=spec.deadline,
        consulted=consulted,
        respondents=rows,
        not_answered=not_answered,
        overall=overall,
        units=units,
        unreviewed=len(ordered) - len(reviewed),
        whole_hearing=whole,
        items=tuple(item_summaries),
        specialties=specialty_summaries,
        campaigns=campaigns,
        decided_on=decisions.decided_on if decisions else None,
        effective_date=effective_date,
        decision_summary=(decisions.summary or "") if decisions else "",
        you_said_we_did=you_said,
        general_views=views.get(None, ()),
        case_officer=spec.case_officer.name,
        edition_nb=edition_nb,
    )


def _respondent_rows(
    ordered: Sequence[ResponseFacts],
    id_displays: Mapping[str, str],
    item_specialty: Mapping[str, str],
    campaign_labels: Mapping[int, str],
) -> tuple[RespondentRow, ...]:
    return tuple(
        RespondentRow(
            tracking_number=r.tracking_number,
            respondent=r.respondent,
            organisation=r.organisation,
            received=oslo_date(r.received_at),
            late=r.late,
            stance=r.stance,
            items=tuple(id_displays.get(ref, ref) for ref in r.items),
            specialties=tuple(dict.fromkeys(item_specialty[i] for i in r.items)),
            note=r.note,
            campaign=campaign_labels.get(r.campaign) if r.campaign is not None else None,
        )
        for r in ordered
    )


def _item_summaries(
    spec: HearingSpec,
    specialties: Mapping[str, SpecialtyInfo],
    id_displays: Mapping[str, str],
    decisions: Decisions | None,
    ordered: Sequence[ResponseFacts],
    views: Mapping[str | None, tuple[Excerpt, ...]],
) -> list[ItemSummary]:
    reviewed = [r for r in ordered if r.stance is not None]
    item_summaries = []
    for item in spec.items:
        decision = decisions.for_item(item.ref) if decisions else None
        item_summaries.append(
            ItemSummary(
                ref=item.ref,
                goal_id_display=id_displays.get(item.ref, item.ref),
                specialty_prefix=item.catalogue_code,
                specialty_name=specialties[item.catalogue_code].name,
                tally=StanceTally.of(
                    r.stance for r in reviewed if r.stance and item.ref in r.items
                ),
                respondents=tuple(
                    dict.fromkeys(r.respondent for r in ordered if item.ref in r.items)
                ),
                views=views.get(item.ref, ()),
                decision=Decision(decision.decision.value) if decision else None,
                assessment=decision.assessment if decision else None,
            )
        )
    return item_summaries


def _specialty_summaries(
    spec: HearingSpec, specialties: Mapping[str, SpecialtyInfo], reviewed: Sequence[ResponseFacts]
) -> tuple[SpecialtySummary, ...]:
    item_specialty = {item.ref: item.catalogue_code for item in spec.items}
    return tuple(
        SpecialtySummary(
            prefix=prefix,
            name=specialties[prefix].name,
            tally=StanceTally.of(
                r.stance
                for r in reviewed
                if r.stance and any(item_specialty[i] == prefix for i in r.items)
            ),
        )
        for prefix in dict.fromkeys(item.catalogue_code for item in spec.items)
    )


def _you_said(item_summaries: Sequence[ItemSummary]) -> tuple[DecisionItem, ...]:
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


def _units(reviewed: Sequence[ResponseFacts]) -> StanceTally:
    """Stances with each campaign counted once (by the stance of its first member)."""
    seen: set[int] = set()
    stances: list[Stance] = []
    for response in reviewed:
        if response.campaign is not None:
            if response.campaign in seen:
                continue
            seen.add(response.campaign)
        assert response.stance is not None
        stances.append(response.stance)
    return StanceTally.of(stances)


def _consulted(
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


def _views(
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


def _campaigns(
    ordered: Sequence[ResponseFacts], labels: Mapping[int, str]
) -> tuple[CampaignSummary, ...]:
    summaries = []
    for number, label in labels.items():
        members = [r for r in ordered if r.campaign == number]
        stances = {m.stance for m in members}
        # The wording most members sent, not one member's personal edit.
        common = Counter(m.first_lines for m in members).most_common(1)[0][0]
        summaries.append(
            CampaignSummary(
                label=label,
                size=len(members),
                stance=stances.pop() if len(stances) == 1 else None,
                excerpt=_clip(common, 400),
                respondents=tuple(m.respondent for m in members),
                tracking_numbers=tuple(m.tracking_number for m in members),
            )
        )
    return tuple(summaries)


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
    "SpecialtySummary",
    "StanceTally",
    "SummaryContext",
    "build_summary_context",
]
