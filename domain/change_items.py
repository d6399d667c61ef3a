"""The change items of a hearing spec: a new goal, amended text, a moved or deleted goal,
a heading change. Each names its specialty and what changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from domain.competence import CompetenceLevel, is_stricter, level_of_text
from domain.spec_values import (
    GoalId,
    Prefix,
    SpecModel,
    Text,
    TrainingPart,
    foreign_id_problem,
)
from domain.yaml_lines import field_error


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
