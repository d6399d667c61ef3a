"""The hearing spec: the YAML file staff write to describe one hearing.

`parse_hearing_spec(text, source)` validates the file and returns a `HearingSpec`,
or raises one `UserError` line naming the file, the YAML line and the field path.
Reference data (specialties, stakeholders) lives elsewhere, so those names are
checked afterwards with `HearingSpec.validate_references`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from domain.calendar import MONTHS_NB
from domain.competence import CompetenceLevel, is_stricter, level_of_text
from domain.reference import Stakeholder, StakeholderGroup
from domain.yaml_lines import (
    FileModel,
    Path,
    SourceMap,
    custom_error,
    field_error,
    load_yaml_mapping,
    shown_value,
    user_error_from_validation,
)

# --- value types ---------------------------------------------------------------------------

CASE_NUMBER_RE = re.compile(r"^\d{2}/\d+$")
PREFIX_RE = re.compile(r"^[A-Z]{2,5}$")
GOAL_ID_RE = re.compile(r"^[A-Z]{2,5}-\d{1,4}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NB_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date_value(value: object) -> date:
    """A date from YAML: ISO '2024-05-31' (canonical) or Norwegian '31.5.24' / '31.5.2024'."""
    if isinstance(value, datetime):
        raise ValueError("has a time of day")
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if _ISO_DATE_RE.match(text):
            return date.fromisoformat(text)
        match = _NB_DATE_RE.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year + 2000 if year < 100 else year, month, day)
    except ValueError as exc:
        raise ValueError(str(exc)) from exc
    raise ValueError("is not in a known date format")


def _date_before(value: object) -> date:
    try:
        return parse_date_value(value)
    except ValueError:
        raise custom_error(
            "date",
            f"{shown_value(value)} is not a valid date; write it as YYYY-MM-DD "
            "(e.g. 2024-05-31) or D.M.YYYY (e.g. 31.5.2024)",
        ) from None


def parse_month_value(value: object) -> date:
    """A month as the first day of it: '2024-09', '9.2024', 'september 2024', or a date
    in that month (so that a dumped spec validates again)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.replace(day=1)
    text = str(value).strip().lower()
    if _ISO_DATE_RE.match(text):
        return date.fromisoformat(text).replace(day=1)
    if match := re.match(r"^(\d{4})-(\d{1,2})$", text):
        year, month = int(match[1]), int(match[2])
    elif match := re.match(r"^(\d{1,2})\.(\d{4})$", text):
        month, year = int(match[1]), int(match[2])
    elif (match := re.match(r"^([a-zæøå]+) (\d{4})$", text)) and match[1] in MONTHS_NB:
        month, year = MONTHS_NB.index(match[1]) + 1, int(match[2])
    else:
        raise ValueError("is not a month")
    return date(year, month, 1)


def _month_before(value: object) -> date:
    try:
        return parse_month_value(value)
    except ValueError:
        raise custom_error(
            "month",
            f'{shown_value(value)} is not a month; write it as YYYY-MM in quotes, e.g. "2024-09"',
        ) from None


def _text_before(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _non_empty(value: str) -> str:
    if not value:
        raise custom_error("empty", "must not be empty; write the text or remove the field")
    return value


def _pattern(regex: re.Pattern[str], what: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise custom_error(
                "format", f"{shown_value(value)} is not {what}; write it like {example}"
            )
        return value

    return AfterValidator(check)


Text = Annotated[str, BeforeValidator(_text_before), AfterValidator(_non_empty)]
Date = Annotated[date, BeforeValidator(_date_before)]
Month = Annotated[date, BeforeValidator(_month_before)]
CaseNumber = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(CASE_NUMBER_RE, "a case number (YY/NNNN)", '"24/750" (in quotes)'),
]
Prefix = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(PREFIX_RE, "a specialty prefix (2-5 capital letters)", "BLS"),
]
GoalId = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(GOAL_ID_RE, "a learning-goal ID (PREFIX-NNN)", "BLS-154"),
]
Key = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(KEY_RE, "a key (lower case letters, digits and '-')", "helse-vest"),
]
Email = Annotated[
    str, BeforeValidator(_text_before), _pattern(EMAIL_RE, "an e-mail address", "navn@helsedir.no")
]
TrainingPart = Literal[1, 2, 3]


def foreign_id_problem(goal_id: str, specialty: str) -> str | None:
    """Why `goal_id` cannot be an ID of `specialty`'s goal, or None when it can."""
    if goal_id.split("-")[0] == specialty:
        return None
    return (
        f"'{goal_id}' does not belong to specialty {specialty}; use an ID that starts "
        f"with {specialty}-"
    )


def first_repeat(values: Iterable[Any]) -> tuple[int, int] | None:
    """(index of the first occurrence, index of the repeat) of the first repeated value."""
    seen: dict[Any, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            return seen[value], index
        seen[value] = index
    return None


class SpecModel(FileModel):
    """Base of the spec models: immutable, unknown fields refused."""


# --- people and recipients -----------------------------------------------------------------


class ContactPerson(SpecModel):
    """Who answers questions about the hearing (named in the letter)."""

    name: Text
    title: Text
    email: Email


class CaseOfficer(SpecModel):
    """Saksbehandler: shown in the letter head."""

    name: Text
    title: Text | None = None
    email: Email | None = None


class Signatory(SpecModel):
    name: Text
    title: Text
    on_behalf: bool = False  # "e.f." (etter fullmakt)


class Recipients(SpecModel):
    """Høringsinstanser: groups of stakeholders, single stakeholders, and the
    spesialitetskomiteer of the specialties the hearing touches."""

    groups: list[Key] = Field(default_factory=list)
    stakeholders: list[Key] = Field(default_factory=list)
    committees_for_affected_specialties: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> Recipients:
        if not (self.groups or self.stakeholders or self.committees_for_affected_specialties):
            raise field_error(
                (),
                "no_recipients",
                "no recipients; list `groups:`, `stakeholders:` or set "
                "`committees_for_affected_specialties: true`",
            )
        return self


class SharedGoal(SpecModel):
    """A goal text used by every new_goal item that has no text of its own (24/750)."""

    text: Text
    elaboration: Text | None = None


# --- change items ----------------------------------------------------------------------------


class _Item(SpecModel):
    specialty: Prefix
    comment: Text | None = None
    # Names the item in the decisions file; derived when not given (see `item_ref`).
    ref: Text

    @model_validator(mode="before")
    @classmethod
    def _default_ref(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "ref" not in data:
            ref = cls._derived_ref(data)
            if ref is not None:
                data = {**data, "ref": ref}
        return data

    @classmethod
    def _derived_ref(cls, data: Mapping[str, Any]) -> str | None:
        return data.get("goal_id") if isinstance(data.get("goal_id"), str) else None


class NewGoal(_Item):
    """A new learning goal; its ID is reserved from the ledger when the hearing is created,
    or deferred (like HJS-xxx in 24/750) with a reason."""

    kind: Literal["new_goal"]
    heading: Text
    training_part: TrainingPart
    text: Text
    elaboration: Text | None = None  # "utdypende tekst"
    expected_id: GoalId | None = None
    defer_reason: Text | None = None

    @classmethod
    def _derived_ref(cls, data: Mapping[str, Any]) -> str | None:
        return data.get("specialty") if isinstance(data.get("specialty"), str) else None

    @property
    def deferred(self) -> bool:
        return self.defer_reason is not None

    @model_validator(mode="after")
    def _check_id_hints(self) -> NewGoal:
        if self.expected_id and self.defer_reason:
            raise field_error(
                ("expected_id",),
                "id_and_defer",
                "an item cannot both expect an ID and defer it; remove `expected_id` or "
                "`defer_reason`",
                self.expected_id,
            )
        problem = self.expected_id and foreign_id_problem(self.expected_id, self.specialty)
        if problem:
            raise field_error(("expected_id",), "id_prefix", problem, self.expected_id)
        return self


class AmendedText(_Item):
    """A changed goal text; a higher competence level afterwards makes it stricter."""

    kind: Literal["amended_text"]
    goal_id: GoalId
    heading: Text | None = None
    training_part: TrainingPart | None = None
    old_text: Text
    new_text: Text

    # Plain properties, not computed fields: a dumped spec must validate again unchanged.
    @property
    def level_before(self) -> CompetenceLevel | None:
        return level_of_text(self.old_text)

    @property
    def level_after(self) -> CompetenceLevel | None:
        return level_of_text(self.new_text)

    @property
    def stricter(self) -> bool:
        """Kompetanseportalen does not carry earlier approvals over to a stricter goal."""
        return is_stricter(self.old_text, self.new_text)


class MovedGoal(_Item):
    kind: Literal["moved_goal"]
    goal_id: GoalId
    from_heading: Text
    to_heading: Text
    training_part: TrainingPart | None = None


class DeletedGoal(_Item):
    kind: Literal["deleted_goal"]
    goal_id: GoalId
    reason: Text
    heading: Text | None = None
    training_part: TrainingPart | None = None


class HeadingChange(_Item):
    kind: Literal["heading_change"]
    old_heading: Text
    new_heading: Text
    training_part: TrainingPart | None = None

    @classmethod
    def _derived_ref(cls, data: Mapping[str, Any]) -> str | None:
        specialty, old = data.get("specialty"), data.get("old_heading")
        if isinstance(specialty, str) and isinstance(old, str):
            return f"{specialty}: {old.strip()}"
        return None


ChangeItem = Annotated[
    NewGoal | AmendedText | MovedGoal | DeletedGoal | HeadingChange,
    Field(discriminator="kind"),
]
CHANGE_KINDS: tuple[str, ...] = (
    "new_goal",
    "amended_text",
    "moved_goal",
    "deleted_goal",
    "heading_change",
)


# --- the spec ---------------------------------------------------------------------------------


class HearingSpec(SpecModel):
    """One hearing as staff describe it. Dates are `date`s; `planned_codification` is the
    first day of the planned month."""

    case: CaseNumber
    title: Text
    introduction: Text
    background: Text
    purpose: Text
    questions: list[Text] = Field(default_factory=list)
    deadline: Date
    planned_codification: Month
    effective_date: Date | None = None
    short_deadline_reason: Text | None = None
    # Days before the deadline a reminder goes out; None: the setting (default 14 and 3).
    reminder_days: list[Annotated[int, Field(ge=1, le=365)]] | None = None
    contact: ContactPerson
    case_officer: CaseOfficer
    signatories: list[Signatory] = Field(min_length=1)
    recipients: Recipients
    shared_goal: SharedGoal | None = None
    items: list[ChangeItem] = Field(min_length=1)

    _source_map: SourceMap = PrivateAttr(default_factory=lambda: SourceMap("<spec>"))

    def __eq__(self, other: object) -> bool:
        # Where a spec came from (file name, lines) is not part of its value.
        if not isinstance(other, HearingSpec):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _fill_shared_goal(cls, data: Any) -> Any:
        """A new_goal item without `text` takes text and elaboration from `shared_goal`."""
        if not isinstance(data, Mapping):
            return data
        shared, items = data.get("shared_goal"), data.get("items")
        if isinstance(shared, SharedGoal):
            shared = shared.model_dump()
        if not isinstance(shared, Mapping) or not isinstance(items, list):
            return data
        filled = []
        for item in items:
            if isinstance(item, Mapping) and item.get("kind") == "new_goal" and "text" not in item:
                item = {**item, "text": shared.get("text")}
                if "elaboration" not in item and shared.get("elaboration") is not None:
                    item["elaboration"] = shared.get("elaboration")
            filled.append(item)
        return {**data, "items": filled}

    @model_validator(mode="after")
    def _check_consistency(self) -> HearingSpec:
        twice = first_repeat(item.ref for item in self.items)
        if twice is not None:
            first, index = twice
            raise field_error(
                ("items", index),
                "duplicate_ref",
                f"items[{first}] and items[{index}] are both named '{self.items[index].ref}'; "
                "give one of them a unique `ref:` (used in the decisions file)",
            )
        if self.planned_codification < self.deadline.replace(day=1):
            raise field_error(
                ("planned_codification",),
                "codification_before_deadline",
                f"codification {self.planned_codification:%Y-%m} is planned before the "
                f"deadline {self.deadline.isoformat()}; plan it for the deadline month or later",
            )
        if self.effective_date is not None and self.effective_date <= self.deadline:
            raise field_error(
                ("effective_date",),
                "effective_before_deadline",
                f"effective date {self.effective_date.isoformat()} is not after the deadline "
                f"{self.deadline.isoformat()}; give a later date or remove it (default: about "
                "one year after codification)",
            )
        return self

    # --- views ---

    @property
    def source_map(self) -> SourceMap:
        return self._source_map

    @property
    def affected_specialties(self) -> tuple[str, ...]:
        """Prefixes of the specialties the items touch, in first-mention order."""
        return tuple(dict.fromkeys(item.specialty for item in self.items))

    @property
    def new_goals(self) -> tuple[NewGoal, ...]:
        return tuple(item for item in self.items if isinstance(item, NewGoal))

    def item(self, ref: str) -> ChangeItem | None:
        """The item named `ref` (see `_Item.ref`), or None."""
        return next((i for i in self.items if i.ref == ref), None)

    def locate(self, path: Path) -> str:
        """'file line N, field.path' for messages about this spec."""
        return self._source_map.locate(path)

    # --- checks that need data held elsewhere ---

    def validate_references(
        self,
        known_prefixes: set[str],
        known_stakeholders: set[str],
        known_groups: set[str],
    ) -> None:
        """Raise one UserError line for the first name that is not in the reference data."""
        for index, item in enumerate(self.items):
            if item.specialty not in known_prefixes:
                raise self._source_map.error(
                    ("items", index, "specialty"),
                    f"unknown specialty {item.specialty!r}; use a known prefix "
                    f"({_some(known_prefixes)}) or add the specialty to the reference data",
                )
        for index, group in enumerate(self.recipients.groups):
            if group not in known_groups:
                raise self._source_map.error(
                    ("recipients", "groups", index),
                    f"unknown group {group!r}; use one of {', '.join(sorted(known_groups))}",
                )
        for index, key in enumerate(self.recipients.stakeholders):
            if key not in known_stakeholders:
                raise self._source_map.error(
                    ("recipients", "stakeholders", index),
                    f"unknown stakeholder {key!r}; use a key from the stakeholder list "
                    f"({_some(known_stakeholders)}) or add it there",
                )

    def check_reserved_ids(self, reserved: Mapping[str, str]) -> None:
        """Refuse, at creation, an ID from the ledger that differs from the item's
        `expected_id` (`reserved` maps item ref -> goal ID)."""
        for index, item in enumerate(self.items):
            if not isinstance(item, NewGoal) or item.expected_id is None:
                continue
            got = reserved.get(item.ref)
            if got is not None and got != item.expected_id:
                raise self._source_map.error(
                    ("items", index, "expected_id"),
                    f"the ID ledger gives {got}, not {item.expected_id}; remove `expected_id` "
                    "to take the ledger's ID, or fix the ledger's floor for "
                    f"{item.specialty} in the reference data",
                )

    def resolve_recipients(self, stakeholders: Iterable[Stakeholder]) -> tuple[Stakeholder, ...]:
        """The stakeholders this hearing goes to, each once, in reference-data order."""
        groups = set(self.recipients.groups)
        keys = set(self.recipients.stakeholders)
        affected = set(self.affected_specialties)
        chosen: dict[str, Stakeholder] = {}
        for stakeholder in stakeholders:
            committee = (
                self.recipients.committees_for_affected_specialties
                and stakeholder.group == StakeholderGroup.SPESIALITETSKOMITE
                and stakeholder.specialty in affected
            )
            if stakeholder.group.value in groups or stakeholder.key in keys or committee:
                chosen.setdefault(stakeholder.key, stakeholder)
        return tuple(chosen.values())


def _some(names: set[str], limit: int = 12) -> str:
    shown = sorted(names)[:limit]
    return ", ".join(shown) + (", ..." if len(names) > limit else "")


def parse_hearing_spec(text: str, source: str) -> HearingSpec:
    """Validate a hearing spec YAML document; `source` names it in error messages."""
    data, source_map = load_yaml_mapping(text, source)
    try:
        spec = HearingSpec.model_validate(data)
    except ValidationError as exc:
        raise user_error_from_validation(exc, source_map, HearingSpec, _spec_hint) from None
    spec._source_map = source_map
    return spec


def _spec_hint(path: Path, error: Any) -> str | None:
    if error["type"] == "extra_forbidden" and len(path) == 3 and path[::2] == ("items", "id"):
        return (
            "unknown field 'id': new goals get their ID from the ID ledger; write "
            "`expected_id: BLS-154` to check the one it gives, or `defer_reason:` to defer"
        )
    if error["type"] == "missing" and len(path) == 3 and path[0] == "items" and path[2] == "text":
        return (
            "the new goal has no text; write `text:` on the item, or once under "
            "`shared_goal: text:` for all items"
        )
    return None


__all__ = [
    "CHANGE_KINDS",
    "AmendedText",
    "CaseOfficer",
    "ChangeItem",
    "ContactPerson",
    "DeletedGoal",
    "HeadingChange",
    "HearingSpec",
    "MovedGoal",
    "NewGoal",
    "Recipients",
    "SharedGoal",
    "Signatory",
    "first_repeat",
    "foreign_id_problem",
    "parse_date_value",
    "parse_hearing_spec",
    "parse_month_value",
]
