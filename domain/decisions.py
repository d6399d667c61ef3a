"""The decisions file (vedtak): Helsedirektoratet's decision on each change item after
the hearing, with its assessment (vurdering) and how deferred IDs are resolved.

Each entry names the item by its `ref` in the spec: for a new goal the specialty
prefix ("BLS"), for a change to an existing goal its ID ("BLS-101").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from domain.change_items import AmendedText, NewGoal
from domain.hearing_spec import HearingSpec
from domain.spec_values import (
    GOAL_ID_RE,
    CaseNumber,
    Date,
    SpecModel,
    Text,
    first_repeat,
    foreign_id_problem,
)
from domain.yaml_lines import (
    Path,
    SourceMap,
    custom_error,
    field_error,
    load_yaml_mapping,
    shown_value,
    user_error_from_validation,
)

RESOLVE_NEXT = "next"


class Outcome(StrEnum):
    """What was decided for one change item at codification."""

    ADOPT = "adopt"
    ADOPT_AMENDED = "adopt_amended"
    DROP = "drop"

    @property
    def label_nb(self) -> str:
        return _OUTCOME_LABELS_NB[self]


_OUTCOME_LABELS_NB = {
    Outcome.ADOPT: "vedtatt",
    Outcome.ADOPT_AMENDED: "vedtatt med endringer",
    Outcome.DROP: "ikke vedtatt",
}


def _resolve_id_before(value: object) -> object:
    text = value.strip() if isinstance(value, str) else value
    if text == RESOLVE_NEXT or (isinstance(text, str) and GOAL_ID_RE.match(text)):
        return text
    raise custom_error(
        "resolve_id",
        f"{shown_value(value)} is not a way to resolve a deferred ID; write `next` (take the "
        "next free number from the ID ledger) or a goal ID like HJS-079",
    )


ResolveId = Annotated[str, BeforeValidator(_resolve_id_before)]


class ItemDecision(SpecModel):
    item: Text
    decision: Outcome
    assessment: Text  # Helsedirektoratets vurdering, bokmål
    text: Text | None = None  # the adopted text, for adopt_amended
    elaboration: Text | None = None
    resolve_id: ResolveId | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> ItemDecision:
        if self.decision == Outcome.ADOPT_AMENDED and self.text is None:
            raise field_error(
                ("text",),
                "amended_without_text",
                "adopt_amended needs the adopted goal text; add `text:`",
            )
        if self.decision != Outcome.ADOPT_AMENDED and (self.text or self.elaboration):
            field = "text" if self.text else "elaboration"
            raise field_error(
                (field,),
                "text_without_amend",
                f"`{field}` is only used with `decision: adopt_amended`; remove it or change "
                "the decision",
            )
        if self.decision == Outcome.DROP and self.resolve_id is not None:
            raise field_error(
                ("resolve_id",),
                "resolve_dropped",
                "a dropped item gets no ID; remove `resolve_id`",
                self.resolve_id,
            )
        return self


class Decisions(SpecModel):
    case: CaseNumber
    decided_on: Date
    effective_date: Date | None = None
    effective_date_reason: Text | None = None
    summary: Text | None = None  # overall assessment, Markdown
    decisions: list[ItemDecision] = Field(min_length=1)

    _source_map: SourceMap = PrivateAttr(default_factory=lambda: SourceMap("<decisions>"))
    # Set from the command line (--accept-unverified-id), never from the file.
    _accept_unverified_ids: bool = PrivateAttr(default=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decisions):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _unique_items(self) -> Decisions:
        twice = first_repeat(entry.item for entry in self.decisions)
        if twice is not None:
            first, index = twice
            item = self.decisions[index].item
            raise field_error(
                ("decisions", index, "item"),
                "duplicate_decision",
                f"item '{item}' is decided twice (also decisions[{first}]); "
                "keep one decision per item",
                item,
            )
        return self

    @property
    def source_map(self) -> SourceMap:
        return self._source_map

    @property
    def accept_unverified_ids(self) -> bool:
        """Whether an explicit `resolve_id` above the verified floor may be taken."""
        return self._accept_unverified_ids

    def accepting_unverified_ids(self, accept: bool = True) -> Decisions:
        """These decisions, with explicit IDs above the verified floor accepted (or not)."""
        self._accept_unverified_ids = accept
        return self

    def for_item(self, ref: str) -> ItemDecision | None:
        return next((d for d in self.decisions if d.item == ref), None)

    def problems_against(self, spec: HearingSpec) -> list[Problem]:
        """What does not fit the hearing: wrong case, unknown or undecided items, deferred
        IDs without resolution, resolutions for items that are not deferred."""
        problems: list[Problem] = []
        if self.case != spec.case:
            problems.append(
                Problem(
                    ("case",),
                    f"decisions are for case {self.case}, the hearing is {spec.case}; "
                    "use the decisions file of this hearing",
                )
            )
        for index, entry in enumerate(self.decisions):
            item = spec.item(entry.item)
            if item is None:
                problems.append(
                    Problem(
                        ("decisions", index, "item"),
                        f"no change item '{entry.item}' in hearing {spec.case}; use one of "
                        f"{', '.join(i.ref for i in spec.items)}",
                    )
                )
                continue
            problems.extend(_item_problems(index, entry, item))
        for item in spec.items:
            if self.for_item(item.ref) is None:
                problems.append(
                    Problem(
                        ("decisions",),
                        f"no decision for item '{item.ref}'; add `- item: {item.ref}` with "
                        "decision adopt, adopt_amended or drop",
                    )
                )
        return problems

    def check_against(self, spec: HearingSpec) -> None:
        """Raise one UserError line for the first problem of `problems_against`."""
        problems = self.problems_against(spec)
        if problems:
            raise self._source_map.error(problems[0].path, problems[0].message)

    def describe(self, problem: Problem) -> str:
        """'file line N, path: message' for a problem found in this file."""
        return f"{self._source_map.locate(problem.path)}: {problem.message}"


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str


def _item_problems(index: int, entry: ItemDecision, item: Any) -> list[Problem]:
    problems: list[Problem] = []
    deferred = isinstance(item, NewGoal) and item.deferred
    adopted = entry.decision != Outcome.DROP
    if deferred and adopted and entry.resolve_id is None:
        problems.append(
            Problem(
                ("decisions", index, "resolve_id"),
                f"the ID of '{item.ref}' was deferred; say how to resolve it with "
                "`resolve_id: next` (next free number from the ledger) or an explicit ID",
            )
        )
    if entry.resolve_id is not None and not deferred:
        problems.append(
            Problem(
                ("decisions", index, "resolve_id"),
                f"item '{item.ref}' has no deferred ID; remove `resolve_id`",
            )
        )
    foreign = entry.resolve_id not in (None, RESOLVE_NEXT) and foreign_id_problem(
        entry.resolve_id, getattr(item, "id_prefix", item.catalogue_code)
    )
    if foreign:
        problems.append(Problem(("decisions", index, "resolve_id"), f"{foreign} or `next`"))
    if entry.decision == Outcome.ADOPT_AMENDED and not isinstance(item, (NewGoal, AmendedText)):
        problems.append(
            Problem(
                ("decisions", index, "decision"),
                f"item '{item.ref}' ({item.kind}) has no goal text to amend; use adopt or drop",
            )
        )
    return problems


def parse_decisions(text: str, source: str) -> Decisions:
    """Validate a decisions YAML document; `source` names it in error messages."""
    data, source_map = load_yaml_mapping(text, source)
    try:
        decisions = Decisions.model_validate(data)
    except ValidationError as exc:
        raise user_error_from_validation(exc, source_map, Decisions) from None
    decisions._source_map = source_map
    return decisions


__all__ = [
    "RESOLVE_NEXT",
    "Decisions",
    "ItemDecision",
    "Outcome",
    "Problem",
    "parse_decisions",
]
