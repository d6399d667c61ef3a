"""The hearing spec: the YAML file staff write to describe one hearing.

`parse_hearing_spec(text, source)` validates the file and returns a `HearingSpec`,
or raises one `UserError` line naming the file, the YAML line and the field path.
Reference data (specialties, stakeholders) lives elsewhere, so those names are
checked afterwards with `HearingSpec.validate_references`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from domain.change_items import (
    CHANGE_KINDS,
    AmendedText,
    ChangeItem,
    DeletedGoal,
    HeadingChange,
    MovedGoal,
    NewGoal,
)
from domain.reference import Stakeholder, StakeholderGroup
from domain.spec_values import (
    CaseNumber,
    Date,
    Email,
    Key,
    Month,
    SpecModel,
    Text,
    first_repeat,
    foreign_id_problem,
    parse_date_value,
    parse_month_value,
)
from domain.yaml_lines import (
    Path,
    SourceMap,
    field_error,
    load_yaml_mapping,
    user_error_from_validation,
)

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
        """Prefixes of the specialties whose own catalogues the items touch, in
        first-mention order (FKM and LIS1 items name no specialty)."""
        return tuple(dict.fromkeys(item.specialty for item in self.items if item.specialty))

    @property
    def affected_catalogues(self) -> tuple[str, ...]:
        """Codes of every catalogue the items touch (BLS, FKM, LIS1), first-mention order."""
        return tuple(dict.fromkeys(item.catalogue_code for item in self.items))

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
            if item.specialty is not None and item.specialty not in known_prefixes:
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
                    f"{item.id_prefix} in the reference data",
                )

    def resolve_recipients(
        self, stakeholders: Iterable[Stakeholder], common_catalogues: Iterable[str] = ()
    ) -> tuple[Stakeholder, ...]:
        """The stakeholders this hearing goes to, each once, in reference-data order.

        With `committees_for_affected_specialties`, the committees of the specialties the
        items name; an item in a common catalogue (`common_catalogues`, kind common: FKM)
        affects every specialty, so every committee. A LIS1 item names no specialty and
        adds no committee: list LIS1's recipients under `groups:`/`stakeholders:`."""
        groups = set(self.recipients.groups)
        keys = set(self.recipients.stakeholders)
        affected = set(self.affected_specialties)
        every = bool(set(common_catalogues) & set(self.affected_catalogues))
        chosen: dict[str, Stakeholder] = {}
        for stakeholder in stakeholders:
            committee = (
                self.recipients.committees_for_affected_specialties
                and stakeholder.group == StakeholderGroup.SPESIALITETSKOMITE
                and (every or stakeholder.specialty in affected)
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
