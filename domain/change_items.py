"""The change items of a hearing spec: a new goal, amended text, a moved or deleted goal,
a heading change. Each names the catalogue it changes and what changes.

Which catalogue: `specialty: BLS` for a specialty's goals (LIS2/LIS3, IDs BLS-NNN), or
`catalogue: FKM` (felles kompetansemål, LM-75) / `catalogue: LIS1` (utdanningens første
del, KLS/KLP/KLK) for the catalogues of `data/id_schemes.yaml`. A new goal in such a
catalogue names the ID prefix its ID is taken from with `prefix:` (LM, KLS, ...); an item
on an existing goal takes it from `goal_id`. Whether the catalogue, prefix and goal exist
is checked against the reference data (`domain.spec_catalogue`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from domain.competence import CompetenceLevel, is_stricter, level_of_text
from domain.spec_values import (
    CatalogueCode,
    GoalId,
    Prefix,
    SpecModel,
    Text,
    TrainingPart,
    foreign_id_problem,
)
from domain.yaml_lines import field_error


class _Item(SpecModel):
    specialty: Prefix | None = None
    catalogue: CatalogueCode | None = None
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

    @model_validator(mode="after")
    def _one_catalogue(self) -> _Item:
        if (self.specialty is None) == (self.catalogue is None):
            raise field_error(
                ("specialty",),
                "catalogue_choice",
                "name the catalogue the item changes once: `specialty: BLS` for a "
                "specialty's goals, or `catalogue: FKM` / `catalogue: LIS1`",
            )
        return self

    @property
    def catalogue_code(self) -> str:
        """The catalogue the item changes: the specialty's prefix, or FKM, LIS1, ..."""
        code = self.specialty or self.catalogue
        assert code is not None  # _one_catalogue
        return code


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
    # The ID prefix of a new goal in a catalogue with several (LIS1: KLS, KLP, KLK) or
    # whose prefix differs from its code (FKM: LM); a specialty's goals take its prefix.
    prefix: Prefix | None = None

    @classmethod
    def _derived_ref(cls, data: Mapping[str, Any]) -> str | None:
        for name in ("specialty", "prefix", "catalogue"):
            if isinstance(data.get(name), str):
                return str(data[name])
        return None

    @property
    def id_prefix(self) -> str:
        """The prefix the new goal's ID is reserved under (BLS, LM, KLS)."""
        return self.prefix or self.catalogue_code

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
        if self.specialty and self.prefix and self.prefix != self.specialty:
            raise field_error(
                ("prefix",),
                "prefix_of_specialty",
                f"a new goal of specialty {self.specialty} takes the prefix {self.specialty}; "
                "remove `prefix:` (it is for `catalogue:` items such as LIS1's KLS)",
                self.prefix,
            )
        problem = self.expected_id and foreign_id_problem(self.expected_id, self.id_prefix)
        if problem:
            raise field_error(("expected_id",), "id_prefix", problem, self.expected_id)
        return self


class AmendedText(_Item):
    """A changed goal text; a higher competence level afterwards makes it stricter.
    `heading` and `training_part`, when given, are the goal's new heading and part."""

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
    """A goal moved to another heading and/or training part (LIS2 -> LIS3: part 2 -> 3).
    `from_heading` and `from_training_part` must be what the catalogue says now; for a
    change of part only, `to_heading` repeats `from_heading`."""

    kind: Literal["moved_goal"]
    goal_id: GoalId
    from_heading: Text
    to_heading: Text
    from_training_part: TrainingPart | None = None
    training_part: TrainingPart | None = None


class DeletedGoal(_Item):
    """A goal taken out of the catalogue: retired from the effective date. `heading` and
    `training_part`, when given, must be what the catalogue says now."""

    kind: Literal["deleted_goal"]
    goal_id: GoalId
    reason: Text
    heading: Text | None = None
    training_part: TrainingPart | None = None


class HeadingChange(_Item):
    """A heading renamed for every goal under it (only those in `training_part`, if given)."""

    kind: Literal["heading_change"]
    old_heading: Text
    new_heading: Text
    training_part: TrainingPart | None = None

    @classmethod
    def _derived_ref(cls, data: Mapping[str, Any]) -> str | None:
        specialty = data.get("specialty") or data.get("catalogue")
        old = data.get("old_heading")
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
