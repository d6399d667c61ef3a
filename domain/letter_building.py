"""Letter contexts built from a hearing's record (spec, IDs, recipients, decisions).

Pure: the caller reads the record; the same record gives the same context, and so the
same letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from domain.change_items import (
    AmendedText,
    ChangeItem,
    DeletedGoal,
    HeadingChange,
    MovedGoal,
    NewGoal,
)
from domain.competence import is_stricter, level_of_text
from domain.deadlines import RECOMMENDED_DEADLINE_MONTHS
from domain.decisions import Decisions, ItemDecision, Outcome
from domain.effective_date import add_months
from domain.hearing_spec import HearingSpec
from domain.letter_context import (
    AdoptedGoalText,
    ChangeItemRow,
    ChangeKind,
    ChangeSheetContext,
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
from domain.spec_catalogue import same_text

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
    goal_texts: Mapping[str, str] | None = None,
    provisional_refs: frozenset[str] = frozenset(),
) -> tuple[ChangeItemRow, ...]:
    """One table row per change item, in the spec's order. `goal_texts` (goal ID -> its
    text in the catalogue) gives a deleted goal its text; the items in `provisional_refs`
    have an ID that rests on unverified data (`id_provisional`)."""
    texts = goal_texts or {}
    return tuple(
        replace(
            _change_item_row(item, specialties[item.catalogue_code].name, id_displays, texts),
            id_provisional=item.ref in provisional_refs,
        )
        for item in spec.items
    )


def _change_item_row(
    item: ChangeItem, name: str, id_displays: Mapping[str, str], goal_texts: Mapping[str, str]
) -> ChangeItemRow:
    comment = item.comment or ""
    match item:
        case NewGoal():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=id_displays[item.ref],
                kind=ChangeKind.NEW_GOAL,
                comment=comment,
                new_text=item.text,
                level_after=_level_word(item.text),
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
            old_place, new_place = _places(item)
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=item.goal_id,
                kind=ChangeKind.MOVED_GOAL,
                comment=comment,
                old_text=old_place,
                new_text=new_place,
            )
        case DeletedGoal():
            return ChangeItemRow(
                specialty_name=name,
                goal_id_display=item.goal_id,
                kind=ChangeKind.DELETED_GOAL,
                comment=comment,
                old_text=goal_texts.get(item.goal_id),
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


def _places(item: MovedGoal) -> tuple[str | None, str]:
    """Where a moved goal stands before and after: its heading, and its training part
    when the move changes it ('del 2' alone when only the part changes)."""
    if item.training_part is None:
        return item.from_heading, item.to_heading
    old_part = f"del {item.from_training_part}" if item.from_training_part else None
    if same_text(item.from_heading, item.to_heading):
        return old_part, f"del {item.training_part}"
    old = f"{item.from_heading}, {old_part}" if old_part else item.from_heading
    return old, f"{item.to_heading}, del {item.training_part}"


def _proposed_goals(
    spec: HearingSpec, specialties: Mapping[str, SpecialtyInfo]
) -> tuple[ProposedGoal, ...]:
    """Each new goal text once, with the specialties that get it."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for goal in spec.new_goals:
        names = seen.setdefault((goal.text, goal.elaboration or "", goal.heading), [])
        names.append(specialties[goal.catalogue_code].name)
    return tuple(
        ProposedGoal(text=t, elaboration=e, heading=h, specialty_names=tuple(names))
        for (t, e, h), names in seen.items()
    )


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
    goal_texts: Mapping[str, str] | None = None,
    provisional_refs: frozenset[str] = frozenset(),
) -> HearingLetterContext:
    """The høringsbrev (with its recipient list) for a hearing about to be circulated.
    `goal_texts` (goal ID -> text in the catalogue) gives deleted goals their text; the
    IDs of `provisional_refs` are printed as provisional."""
    new_only = all(isinstance(item, NewGoal) for item in spec.items)
    return HearingLetterContext(
        case_number=spec.case,
        letter_date=letter_date,
        title=spec.title,
        case_officer=spec.case_officer.name,
        introduction=spec.introduction,
        specialty_listings=specialty_listings(spec, specialties),
        deadline=spec.deadline,
        short_deadline_reason=short_deadline_reason(spec, letter_date),
        background=spec.background,
        proposal_heading="Forslag til nye læringsmål" if new_only else "Forslag til endringer",
        proposed_goals=_proposed_goals(spec, specialties),
        purpose=spec.purpose,
        change_items=change_item_rows(spec, specialties, id_displays, goal_texts, provisional_refs),
        questions_intro=QUESTIONS_INTRO_NB,
        questions=tuple(spec.questions),
        planned_codification=spec.planned_codification,
        tentative_effective_date=spec.effective_date,
        contact=_contact(spec),
        signatories=_signatories(spec),
        recipient_groups=recipient_groups(recipients),
    )


def short_deadline_reason(spec: HearingSpec, letter_date: date) -> str:
    """The spec's reason for a deadline under three months, when it is under three
    months from the letter's date (utredningsinstruksen 3-3); else nothing to print."""
    reason = (spec.short_deadline_reason or "").strip()
    if reason and spec.deadline < add_months(letter_date, RECOMMENDED_DEADLINE_MONTHS):
        return reason
    return ""


def adopted_text(item: ChangeItem, decision: ItemDecision) -> tuple[str, str]:
    """(text, elaboration) of a goal as adopted: the decision's text for adopt_amended,
    else the proposed one; ('', '') for an item that changes no goal text."""
    amended = decision.decision == Outcome.ADOPT_AMENDED
    if isinstance(item, NewGoal):
        text = decision.text if amended and decision.text else item.text
        return text, (decision.elaboration if amended else None) or item.elaboration or ""
    if isinstance(item, AmendedText):
        return (decision.text if amended and decision.text else item.new_text), ""
    return "", ""


def _specialty_decision(
    item: ChangeItem,
    decision: ItemDecision,
    name: str,
    final_id: str | None,
    proposed_id: str,
    goal_texts: Mapping[str, str],
) -> SpecialtyDecision:
    dropped = decision.decision == Outcome.DROP
    text, elaboration = adopted_text(item, decision)
    heading = getattr(item, "heading", None) or ""
    match item:
        case MovedGoal():
            text, heading = goal_texts.get(item.goal_id, ""), item.to_heading
        case DeletedGoal():
            text = goal_texts.get(item.goal_id, "")
        case HeadingChange():
            text = f"Temaoverskriften «{item.old_heading}» endres til «{item.new_heading}»."
    return SpecialtyDecision(
        specialty_name=name,
        decision=Decision(decision.decision.value),
        goal_id=None if dropped and isinstance(item, NewGoal) else final_id,
        comment=decision.assessment,
        stricter=isinstance(item, AmendedText) and not dropped and is_stricter(item.old_text, text),
        kind=ChangeKind(item.kind),
        text=text,
        elaboration=elaboration,
        heading=heading,
        proposed_id=proposed_id if dropped and _numbered(item) else "",
    )


def _numbered(item: ChangeItem) -> bool:
    """A new goal whose ID the hearing letter gave (not deferred as HJS-xxx)."""
    return isinstance(item, NewGoal) and not item.deferred


def adopted_goal_texts(rows: Sequence[SpecialtyDecision]) -> tuple[AdoptedGoalText, ...]:
    """Every goal text in force after the decision, once, with the IDs it has."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        if row.decision == Decision.DROP or not row.text or not row.goal_id:
            continue
        if row.kind not in (ChangeKind.NEW_GOAL, ChangeKind.AMENDED_TEXT, ChangeKind.MOVED_GOAL):
            continue
        key = (row.text, row.elaboration, row.heading)
        grouped.setdefault(key, []).append(f"{row.goal_id} ({row.specialty_name})")
    return tuple(
        AdoptedGoalText(goal_ids=tuple(ids), text=t, elaboration=e, heading=h)
        for (t, e, h), ids in grouped.items()
    )


def orientation_letter_context(
    spec: HearingSpec,
    decisions: Decisions,
    specialties: Mapping[str, SpecialtyInfo],
    final_ids: Mapping[str, str | None],
    codified_on: date,
    effective_date: date,
    goal_texts: Mapping[str, str] | None = None,
    proposed_ids: Mapping[str, str] | None = None,
) -> OrientationLetterContext:
    """The orienteringsbrev: what was decided per change item with the final IDs and the
    adopted texts, what was not adopted and why, the effective date. `goal_texts` (goal
    ID -> text before the decision) and `proposed_ids` (item ref -> ID as the høringsbrev
    showed it) fill in moved and deleted goals and the items not adopted."""
    texts, proposed = goal_texts or {}, proposed_ids or {}
    rows = []
    for item in spec.items:
        decision = decisions.for_item(item.ref)
        assert decision is not None  # codify refuses undecided items
        shown = getattr(item, "goal_id", None) or proposed.get(item.ref) or ""
        name = specialties[item.catalogue_code].name
        rows.append(
            _specialty_decision(item, decision, name, final_ids.get(item.ref), shown, texts)
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
        adopted_goals=adopted_goal_texts(rows),
        contact=_contact(spec),
        signatories=_signatories(spec),
    )


def adopted_change_sheet(
    spec: HearingSpec,
    decisions: Decisions,
    specialties: Mapping[str, SpecialtyInfo],
    final_ids: Mapping[str, str | None],
    proposed_ids: Mapping[str, str],
    sheet_date: date,
    goal_texts: Mapping[str, str] | None = None,
) -> ChangeSheetContext:
    """The change sheet after codification: each row with its decision, the final ID
    and the adopted text (what the hearing proposed, where the item was not adopted)."""
    rows = []
    for item, row in zip(
        spec.items, change_item_rows(spec, specialties, proposed_ids, goal_texts), strict=True
    ):
        decision = decisions.for_item(item.ref)
        assert decision is not None  # codify refuses undecided items
        outcome = Decision(decision.decision.value)
        changes: dict[str, object] = {"decision": outcome, "assessment": decision.assessment}
        if outcome != Decision.DROP:
            text, _ = adopted_text(item, decision)
            final = final_ids.get(item.ref)
            changes.update(id_deferred=False, goal_id_display=final or row.goal_id_display)
            if text:
                changes.update(new_text=text, level_after=_level_word(text))
            if isinstance(item, AmendedText):
                changes.update(stricter=is_stricter(item.old_text, text))
        rows.append(replace(row, **changes))  # type: ignore[arg-type]
    return ChangeSheetContext(
        case_number=spec.case,
        title=spec.title,
        sheet_date=sheet_date,
        change_items=tuple(rows),
    )
