"""What each letter shows: frozen, display-ready values built from the stored record.

A context holds only what the template prints: names, IDs and texts as they are to be
read, dates as `date`. The templates in `templates/letters/` use the fields of their
context and nothing else, so the same context always gives the same letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.decisions import Outcome as Decision  # a context names the decision as decided


class LetterKind(StrEnum):
    """The letters hoering writes; each value is the template's file stem."""

    HOERINGSBREV = "hoeringsbrev"
    HOERINGSINSTANSER = "hoeringsinstanser"
    ORIENTERINGSBREV = "orienteringsbrev"
    KVITTERING = "kvittering"
    PAAMINNELSE = "paaminnelse"
    TILBAKETREKKING = "tilbaketrekking"


class ChangeKind(StrEnum):
    NEW_GOAL = "new_goal"
    AMENDED_TEXT = "amended_text"
    MOVED_GOAL = "moved_goal"
    DELETED_GOAL = "deleted_goal"
    HEADING_CHANGE = "heading_change"

    @property
    def label_nb(self) -> str:
        return _CHANGE_LABELS_NB[self]


_CHANGE_LABELS_NB = {
    ChangeKind.NEW_GOAL: "Nytt læringsmål",
    ChangeKind.AMENDED_TEXT: "Endret tekst",
    ChangeKind.MOVED_GOAL: "Flyttet læringsmål",
    ChangeKind.DELETED_GOAL: "Læringsmålet utgår",
    ChangeKind.HEADING_CHANGE: "Endret temaoverskrift",
}


@dataclass(frozen=True, kw_only=True)
class Sender:
    """The sending organisation: return address and where responses go."""

    name: str = "Helsedirektoratet"
    postal_address: str = "Postboks 220 Skøyen"
    postcode_city: str = "0213 Oslo"
    response_email: str = "postmottak@helsedir.no"


HELSEDIREKTORATET = Sender()


@dataclass(frozen=True, kw_only=True)
class Contact:
    """Who answers questions: 'seniorrådgiver Marie Thoresen (marie.thoresen@helsedir.no)'."""

    title: str
    name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class Signatory:
    """One signature line; `on_behalf` prints 'e.f.' (etter fullmakt) after the name."""

    name: str
    title: str
    on_behalf: bool = False


@dataclass(frozen=True, kw_only=True)
class SpecialtyListing:
    """Specialties listed together in the letter; `label` None lists them ungrouped."""

    label: str | None
    specialty_names: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ProposedGoal:
    """A learning-goal text proposed for codification, with its 'Utdypende tekst' and the
    specialties it is proposed in."""

    text: str
    elaboration: str = ""
    heading: str = ""
    specialty_names: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChangeItemRow:
    """One change to one specialty's goals, as a row of the letter's table.

    `goal_id_display` is the ID as printed ('BLS-154', or 'HJS-xxx' when `id_deferred`).
    `old_text`/`new_text` hold the goal text (amended, deleted, new), the heading
    (heading change) or the place (moved goal) before and after.
    `previous_goal_id` is set when the change gives the goal another ID. `reason` is why
    the ID is deferred (new goal) or why the goal goes (deleted goal). `decision` and
    `assessment` are set in the adopted change sheet: the row then shows the final ID and
    the adopted text.
    """

    specialty_name: str
    goal_id_display: str
    kind: ChangeKind
    comment: str = ""
    old_text: str | None = None
    new_text: str | None = None
    level_before: str | None = None
    level_after: str | None = None
    stricter: bool = False
    id_deferred: bool = False
    previous_goal_id: str | None = None
    reason: str = ""
    decision: Decision | None = None
    assessment: str = ""  # Helsedirektoratets vurdering, with the decision
    id_provisional: bool = False  # the ID rests on an unverified prefix or floor

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ChangeKind):
            raise TypeError(f"ChangeItemRow.kind must be a ChangeKind, got {self.kind!r}")

    @property
    def remark_nb(self) -> str:
        """The letter's column 'Kommentar fra Helsedirektoratet': why the ID is deferred or
        the goal goes, then the comment (each once)."""
        parts = [self.reason.strip()] if self.reason.strip() else []
        if self.comment.strip() and self.comment.strip() not in parts:
            parts.append(self.comment.strip())
        return " ".join(parts)

    @property
    def decision_nb(self) -> str:
        """The change sheet's column 'Vedtak' ('Vedtatt', 'Ikke vedtatt', ...)."""
        return self.decision.label_nb.capitalize() if self.decision else ""

    @property
    def goal_id_label(self) -> str:
        """The ID as the letter prints it: 'RAD-041 (foreløpig)' when provisional."""
        if self.id_provisional and self.goal_id_display:
            return f"{self.goal_id_display} (foreløpig)"
        return self.goal_id_display

    @property
    def change_nb(self) -> str:
        return describe_change_nb(self)

    @property
    def id_effect_nb(self) -> str:
        return describe_id_effect_nb(self)


def _quoted(text: str) -> str:
    return f"«{text.strip()}»"


@dataclass(frozen=True)
class _ChangeSentence:
    """How a change reads with both texts, with only the new (or, for a deletion, the
    old) one, and with neither."""

    both: str
    one: str
    neither: str
    one_is_old: bool = False

    def sentence(self, old: str | None, new: str | None) -> str:
        if old and new:
            return self.both.format(old=_quoted(old), new=_quoted(new))
        text = old if self.one_is_old else new
        return self.one.format(text=_quoted(text)) if text else self.neither


_CHANGE_SENTENCES = {
    # A new goal's text stands once in the letter (under "Læringsmålstekst som
    # forskriftsfestes") and in the change sheet's column "Tekst etter".
    ChangeKind.NEW_GOAL: _ChangeSentence(
        "Nytt læringsmål.", "Nytt læringsmål.", "Nytt læringsmål."
    ),
    ChangeKind.AMENDED_TEXT: _ChangeSentence(
        "Teksten endres fra {old} til {new}.", "Ny tekst: {text}.", "Teksten endres."
    ),
    ChangeKind.MOVED_GOAL: _ChangeSentence(
        "Læringsmålet flyttes fra {old} til {new}.",
        "Læringsmålet flyttes til {text}.",
        "Læringsmålet flyttes.",
    ),
    ChangeKind.DELETED_GOAL: _ChangeSentence(
        "Læringsmålet utgår: {old}.",
        "Læringsmålet utgår: {text}.",
        "Læringsmålet utgår.",
        one_is_old=True,
    ),
    ChangeKind.HEADING_CHANGE: _ChangeSentence(
        "Temaoverskriften endres fra {old} til {new}.",
        "Ny temaoverskrift: {text}.",
        "Temaoverskriften endres.",
    ),
}


def describe_change_nb(row: ChangeItemRow) -> str:
    """What the change does, in one bokmål sentence or two (table column 'Endring')."""
    parts = [_CHANGE_SENTENCES[row.kind].sentence(row.old_text, row.new_text)]
    if row.level_before and row.level_after and row.level_before != row.level_after:
        parts.append(
            f"Kompetansenivå endres fra {_quoted(row.level_before)} til {_quoted(row.level_after)}."
        )
    elif row.level_after and not row.level_before:
        parts.append(f"Kompetansenivå: {_quoted(row.level_after)}.")
    if row.stricter:
        parts.append("Skjerpet krav.")
    return " ".join(parts)


def describe_id_effect_nb(row: ChangeItemRow) -> str:
    """What the change does to the goal's ID (change sheet column 'Effekt på ID')."""
    goal_id = row.goal_id_label
    if row.decision is not None:
        return _decided_id_effect_nb(row)
    if row.id_deferred:
        return f"ID bestemmes ved forskriftsfesting ({goal_id})"
    if row.kind is ChangeKind.DELETED_GOAL:
        return f"ID utgår og gjenbrukes ikke: {goal_id}"
    if row.kind is ChangeKind.HEADING_CHANGE:
        return "Ingen endring i ID"
    if row.previous_goal_id and row.previous_goal_id != goal_id:
        return f"Ny ID reservert: {goal_id} (erstatter {row.previous_goal_id})"
    if row.kind is ChangeKind.NEW_GOAL:
        return f"Ny ID reservert: {goal_id}"
    return f"ID beholdes: {goal_id}"


def _decided_id_effect_nb(row: ChangeItemRow) -> str:
    """The effect on the ID once decided: the final ID, or what happens to it."""
    goal_id = row.goal_id_display
    if row.decision is Decision.DROP:
        if row.kind is ChangeKind.NEW_GOAL:
            return f"Ikke vedtatt: {goal_id} tas ikke i bruk og gjenbrukes ikke"
        return f"Ikke vedtatt: {goal_id} beholdes uendret" if goal_id else "Ingen endring"
    if row.kind is ChangeKind.DELETED_GOAL:
        return f"ID utgår og gjenbrukes ikke: {goal_id}"
    if row.kind is ChangeKind.HEADING_CHANGE:
        return "Ingen endring i ID"
    if row.kind is ChangeKind.NEW_GOAL:
        return f"Endelig ID: {goal_id}"
    return f"ID beholdes: {goal_id}"


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """One høringsinstans on the address list."""

    name: str
    address: str = ""


@dataclass(frozen=True, kw_only=True)
class RecipientGroup:
    label: str
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True, kw_only=True)
class CaseDocument:
    """What every document of a case names: its case number and the hearing's title."""

    case_number: str
    title: str


@dataclass(frozen=True, kw_only=True)
class CaseLetter(CaseDocument):
    """What every letter of a case carries: its date, the case officer, whom to contact,
    the recipient's reference and the sender."""

    letter_date: date
    case_officer: str
    contact: Contact
    their_reference: str = ""
    sender: Sender = HELSEDIREKTORATET


@dataclass(frozen=True, kw_only=True)
class RecipientListContext(CaseDocument):
    """The appendix 'Høringsinstanser' (also printed at the end of the hearing letter)."""

    letter_date: date
    recipient_groups: tuple[RecipientGroup, ...]


@dataclass(frozen=True, kw_only=True)
class ChangeSheetContext(CaseDocument):
    """The change sheet (.xlsx) sent with the hearing letter."""

    sheet_date: date
    change_items: tuple[ChangeItemRow, ...]

    @property
    def decided(self) -> bool:
        """The adopted change sheet (after codification) has a decision column."""
        return any(item.decision is not None for item in self.change_items)


@dataclass(frozen=True, kw_only=True)
class HearingLetterContext(CaseLetter):
    """The høringsbrev, in the form of case 24/750.

    `introduction`, `background`, `purpose` and `questions_intro` are Markdown written
    by staff; every other text is record data and is printed literally.
    """

    introduction: str
    specialty_listings: tuple[SpecialtyListing, ...]
    deadline: date
    background: str
    proposal_heading: str
    proposed_goals: tuple[ProposedGoal, ...]
    purpose: str
    change_items: tuple[ChangeItemRow, ...]
    short_deadline_reason: str = ""  # printed when the deadline is under three months
    questions_intro: str
    questions: tuple[str, ...]
    planned_codification: date | None
    tentative_effective_date: date | None
    signatories: tuple[Signatory, ...]
    recipient_groups: tuple[RecipientGroup, ...]

    def recipient_list(self) -> RecipientListContext:
        return RecipientListContext(
            case_number=self.case_number,
            title=self.title,
            letter_date=self.letter_date,
            recipient_groups=self.recipient_groups,
        )

    def change_sheet(self) -> ChangeSheetContext:
        return ChangeSheetContext(
            case_number=self.case_number,
            title=self.title,
            sheet_date=self.letter_date,
            change_items=self.change_items,
        )


@dataclass(frozen=True, kw_only=True)
class SpecialtyDecision:
    """The decision on one change item; `goal_id` is the final ID (None for a new goal
    that was not adopted; `proposed_id` is then the ID the hearing letter gave it, which
    is never used).

    `text` is the goal's text as adopted (for a deleted goal: the text that goes; for a
    heading change: the sentence saying so).
    """

    specialty_name: str
    decision: Decision
    goal_id: str | None
    comment: str = ""
    stricter: bool = False
    kind: ChangeKind = ChangeKind.NEW_GOAL
    text: str = ""
    elaboration: str = ""
    heading: str = ""
    proposed_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.decision, Decision):
            raise TypeError(f"SpecialtyDecision.decision must be a Decision, got {self.decision!r}")


@dataclass(frozen=True, kw_only=True)
class AdoptedGoalText:
    """One adopted goal text with every final ID it is codified under, printed once
    ('AMM-068 (Akutt- og mottaksmedisin), BLS-154 (Blodsykdommer)')."""

    goal_ids: tuple[str, ...]
    text: str
    elaboration: str = ""
    heading: str = ""


@dataclass(frozen=True, kw_only=True)
class OrientationLetterContext(CaseLetter):
    """The orienteringsbrev sent after codification. `summary` is staff Markdown;
    `adopted_goals` are the goal texts in force after the decision (new, amended, moved)."""

    codification_date: date
    effective_date: date
    summary: str
    decisions: tuple[SpecialtyDecision, ...]
    adopted_goals: tuple[AdoptedGoalText, ...] = ()
    signatories: tuple[Signatory, ...]


@dataclass(frozen=True, kw_only=True)
class ReceiptContext(CaseLetter):
    """The kvittering to a stakeholder whose response was received.

    `tracking_number` is our document number in the case, e.g. '24/750-3'.
    """

    tracking_number: str
    received_date: date
    recipient_name: str
    recipient_address: str
    hearing_withdrawn: bool = False  # the hearing was withdrawn: the receipt says so


@dataclass(frozen=True, kw_only=True)
class ReminderContext(CaseLetter):
    """The påminnelse to a høringsinstans that has not answered before the deadline."""

    circulated_date: date
    deadline: date
    recipient_name: str
    recipient_address: str


@dataclass(frozen=True, kw_only=True)
class WithdrawalLetterContext(CaseLetter):
    """The tilbaketrekking: the hearing is withdrawn, sent to every høringsinstans.

    `reason` is the reason staff gave (printed literally); `withdrawn_ids` the goal IDs
    the hearing had reserved, which will never be used.
    """

    circulated_date: date
    deadline: date
    reason: str
    withdrawn_ids: tuple[str, ...]
    forwarded: bool  # the høringsbrev asked the RHFs to pass it on
    signatories: tuple[Signatory, ...]
    recipient_groups: tuple[RecipientGroup, ...]


LetterContext = (
    HearingLetterContext
    | RecipientListContext
    | OrientationLetterContext
    | ReceiptContext
    | ReminderContext
    | WithdrawalLetterContext
)

CONTEXT_TYPES: dict[LetterKind, type] = {
    LetterKind.HOERINGSBREV: HearingLetterContext,
    LetterKind.HOERINGSINSTANSER: RecipientListContext,
    LetterKind.ORIENTERINGSBREV: OrientationLetterContext,
    LetterKind.KVITTERING: ReceiptContext,
    LetterKind.PAAMINNELSE: ReminderContext,
    LetterKind.TILBAKETREKKING: WithdrawalLetterContext,
}
