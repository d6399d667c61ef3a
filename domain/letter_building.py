"""Letter contexts built from a hearing's record (spec, IDs, recipients, decisions).

Pure: the caller reads the record; the same record gives the same context, and so the
same letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.change_items import (
    AmendedText,
    ChangeItem,
    DeletedGoal,
    HeadingChange,
    MovedGoal,
    NewGoal,
)
from domain.competence import level_of_text
from domain.decisions import Decisions, Outcome
from domain.hearing_spec import HearingSpec
from domain.letter_context import (
    ChangeItemRow,
    ChangeKind,
    Contact,
    Decision,
    HearingLetterContext,
    OrientationLetterContext,
    ProposedGoal,
    Recipient,
    RecipientGroup,
    Signatory,
    SpecialtyDecision,
    SpecialtyListing,
)
from domain.reference import SpecialtyGroup, StakeholderGroup

GROUP_LABELS_NB: Mapping[str, str] = {
    StakeholderGroup.RHF: "Regionale helseforetak",
    StakeholderGroup.REGUT: "Regionale utdanningssentre for leger i spesialisering",
    StakeholderGroup.LEGEFORENINGEN: "Den norske legeforening",
    StakeholderGroup.SPESIALITETSKOMITE: "Legeforeningens spesialitetskomiteer",
    StakeholderGroup.FAKULTET: "Medisinske fakulteter",
    StakeholderGroup.HELSEFORETAK: "Helseforetak og sykehus",
    StakeholderGroup.PRIVAT: "Private utdanningsvirksomheter",
    StakeholderGroup.KOMPETANSETJENESTE: "Nasjonale kompetansetjenester",
}

SPECIALTY_GROUP_LABELS_NB: Mapping[str, str | None] = {
    SpecialtyGroup.INDREMEDISINSK: "Indremedisinske spesialiteter",
    SpecialtyGroup.KIRURGISK: "Kirurgiske spesialiteter",
    SpecialtyGroup.ANNEN: None,
}

LEVEL_WORDS_NB = {1: "laveste", 2: "mellomste", 3: "høyeste"}

QUESTIONS_INTRO_NB = (
    "Helsedirektoratet ønsker gjennom denne høringen en tilbakemelding fra hele fagmiljøet "
    "på om endringene synes faglig riktige og hensiktsmessige."
)


@dataclass(frozen=True)
class SpecialtyInfo:
    name: str
    group: str


@dataclass(frozen=True)
class RecipientInfo:
    name: str
    email: str
    group: str


def _level_word(text: str | None) -> str | None:
    level = level_of_text(text) if text else None
    return f"{LEVEL_WORDS_NB[int(level)]} nivå" if level else None


def change_item_rows(
    spec: HearingSpec,
    specialties: Mapping[str, SpecialtyInfo],
    id_displays: Mapping[str, str],
) -> tuple[ChangeItemRow, ...]:
    """One table row per change item, in the spec's order."""
    return tuple(
        _change_item_row(item, specialties[item.catalogue_code].name, id_displays)
        for item in spec.items
    )


def _change_item_row(item: ChangeItem, name: str, id_displays: Mapping[str, str]) -> ChangeItemRow:
    comment = item.comment or ""
    match item:
        case NewGoal():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=id_displays[item.ref],
                kind=ChangeKind.NEW_GOAL,
                comment=comment,
                id_deferred=item.deferred,
                reason=item.defer_reason or "",
            )
        case AmendedText():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=item.goal_id,
                kind=ChangeKind.AMENDED_TEXT,
                comment=comment,
                old_text=item.old_text,
                new_text=item.new_text,
                level_before=_level_word(item.old_text),
                level_after=_level_word(item.new_text),
                stricter=item.stricter,
            )
        case MovedGoal():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=item.goal_id,
                kind=ChangeKind.MOVED_GOAL,
                comment=comment,
                old_text=item.from_heading,
                new_text=item.to_heading,
            )
        case DeletedGoal():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=item.goal_id,
                kind=ChangeKind.DELETED_GOAL,
                comment=comment,
                reason=item.reason,
            )
        case HeadingChange():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display="",
                kind=ChangeKind.HEADING_CHANGE,
                comment=comment,
                old_text=item.old_heading,
                new_text=item.new_heading,
            )
    raise AssertionError(f"unknown change item {item!r}")


def specialty_listings(
    spec: HearingSpec, specialties: Mapping[str, SpecialtyInfo]
) -> tuple[SpecialtyListing, ...]:
    """The affected specialties grouped as in the 24/750 letter (internal, surgical, other)."""
    listings = []
    for group, label in SPECIALTY_GROUP_LABELS_NB.items():
        names = tuple(
            specialties[p].name for p in spec.affected_specialties if specialties[p].group == group
        )
        if names:
            listings.append(SpecialtyListing(label=label, specialty_names=names))
    return tuple(listings)


def recipient_groups(recipients: Sequence[RecipientInfo]) -> tuple[RecipientGroup, ...]:
    groups = []
    for group, label in GROUP_LABELS_NB.items():
        members = tuple(
            Recipient(name=r.name, address=r.email) for r in recipients if r.group == group
        )
        if members:
            groups.append(RecipientGroup(label=label, recipients=members))
    return tuple(groups)


def _proposed_goals(spec: HearingSpec) -> tuple[ProposedGoal, ...]:
    seen: dict[tuple[str, str, str], None] = {}
    for goal in spec.new_goals:
        seen.setdefault((goal.text, goal.elaboration or "", goal.heading), None)
    return tuple(ProposedGoal(text=t, elaboration=e, heading=h) for t, e, h in seen)


def _contact(spec: HearingSpec) -> Contact:
    return Contact(title=spec.contact.title, name=spec.contact.name, email=spec.contact.email)


def _signatories(spec: HearingSpec) -> tuple[Signatory, ...]:
    return tuple(
        Signatory(name=s.name, title=s.title, on_behalf=s.on_behalf) for s in spec.signatories
    )


def hearing_letter_context(
    spec: HearingSpec,
    specialties: Mapping[str, SpecialtyInfo],
    id_displays: Mapping[str, str],
    recipients: Sequence[RecipientInfo],
    letter_date: date,
) -> HearingLetterContext:
    """The høringsbrev (with its recipient list) for a hearing about to be circulated."""
    new_only = all(isinstance(item, NewGoal) for item in spec.items)
    return HearingLetterContext(
        case_number=spec.case,
        letter_date=letter_date,
        title=spec.title,
        case_officer=spec.case_officer.name,
        introduction=spec.introduction,
        specialty_listings=specialty_listings(spec, specialties),
        deadline=spec.deadline,
        background=spec.background,
        proposal_heading="Forslag til nye læringsmål" if new_only else "Forslag til endringer",
        proposed_goals=_proposed_goals(spec),
        purpose=spec.purpose,
        change_items=change_item_rows(spec, specialties, id_displays),
        questions_intro=QUESTIONS_INTRO_NB,
        questions=tuple(spec.questions),
        planned_codification=spec.planned_codification,
        tentative_effective_date=spec.effective_date,
        contact=_contact(spec),
        signatories=_signatories(spec),
        recipient_groups=recipient_groups(recipients),
    )


def orientation_letter_context(
    spec: HearingSpec,
    decisions: Decisions,
    specialties: Mapping[str, SpecialtyInfo],
    final_ids: Mapping[str, str | None],
    codified_on: date,
    effective_date: date,
) -> OrientationLetterContext:
    """The orienteringsbrev: what was decided per specialty, final IDs, effective date."""
    rows = []
    for item in spec.items:
        decision = decisions.for_item(item.ref)
        assert decision is not None  # codify refuses undecided items
        rows.append(
            SpecialtyDecision(
                specialty_name=specialties[item.catalogue_code].name,
                decision=Decision(decision.decision.value),
                goal_id=final_ids.get(item.ref) if decision.decision != Outcome.DROP else None,
                comment=decision.assessment,
                stricter=isinstance(item, AmendedText) and item.stricter,
            )
        )
    return OrientationLetterContext(
        case_number=spec.case,
        letter_date=codified_on,
        title=spec.title,
        case_officer=spec.case_officer.name,
        codification_date=codified_on,
        effective_date=effective_date,
        summary=decisions.summary or "",
        decisions=tuple(rows),
        contact=_contact(spec),
        signatories=_signatories(spec),
    )
