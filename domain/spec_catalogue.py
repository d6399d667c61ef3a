"""A hearing spec's items checked against the learning-goal catalogues (pure).

Every item names a catalogue that exists (`specialty:` a specialty's own, `catalogue:` one
of `data/id_schemes.yaml`); a new goal's ID prefix belongs to it; an amend, move or
delete item names a goal of that catalogue in force on the hearing's date, with the
catalogue's current text (`old_text`), heading (`from_heading`, a deleted goal's
`heading`) and training part; a heading change names a heading in use. The first
problem is one `UserError` line naming the spec file, line and field, and the goal.
The facts come from the database (`services.spec_checks`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.change_items import AmendedText, DeletedGoal, HeadingChange, MovedGoal, NewGoal
from domain.hearing_spec import HearingSpec
from domain.reference import CatalogueKind

_SHOWN = 240  # enough for a goal text, which the user copies


@dataclass(frozen=True)
class CatalogueFacts:
    code: str
    kind: CatalogueKind
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class GoalFacts:
    """One goal's version in force on the hearing's date."""

    goal_id: str
    catalogue: str
    text: str
    heading: str | None
    training_part: int | None


def same_text(a: str | None, b: str | None) -> bool:
    """Equal but for runs of white space and the ends (YAML folding, spreadsheet cells)."""
    return _squeeze(a) == _squeeze(b)


def _squeeze(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _shown(text: str | None) -> str:
    flat = _squeeze(text)
    return repr(flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…")


def check_spec_catalogues(
    spec: HearingSpec,
    catalogues: Mapping[str, CatalogueFacts],
    goals: Mapping[str, GoalFacts],
    headings: Mapping[str, set[str]],
    on: date,
) -> None:
    """Raise the first catalogue problem of `spec`'s items. `goals`: the goals the items
    name that are in force on `on`; `headings`: catalogue code -> headings in force."""
    for index, item in enumerate(spec.items):
        _check_catalogue(spec, index, catalogues)
        if isinstance(item, NewGoal):
            _check_prefix(spec, index, item, catalogues[item.catalogue_code])
        elif isinstance(item, HeadingChange):
            if item.old_heading not in headings.get(item.catalogue_code, set()):
                raise spec.source_map.error(
                    ("items", index, "old_heading"),
                    f"no goal of {item.catalogue_code} has the heading {item.old_heading!r} on "
                    f"{on.isoformat()}; write a heading from 'hoering goals list --specialty "
                    f"{item.catalogue_code}'",
                )
        else:
            _check_goal(spec, index, item, goals.get(item.goal_id), on, catalogues)


def _check_catalogue(spec: HearingSpec, index: int, catalogues: Mapping[str, CatalogueFacts]):
    item = spec.items[index]
    if item.specialty is not None:
        return  # validate_references checked the specialty; its catalogue has its code
    code = item.catalogue_code
    known = catalogues.get(code)
    others = sorted(c.code for c in catalogues.values() if c.kind != CatalogueKind.SPECIALTY)
    if known is None:
        raise spec.source_map.error(
            ("items", index, "catalogue"),
            f"unknown catalogue {code!r}; use one of {', '.join(others)}, or `specialty: "
            "PREFIX` for a specialty's goals",
        )
    if known.kind == CatalogueKind.SPECIALTY:
        raise spec.source_map.error(
            ("items", index, "catalogue"),
            f"{code} is a specialty's catalogue; write `specialty: {code}` instead of "
            f"`catalogue: {code}`",
        )


def _check_prefix(spec: HearingSpec, index: int, item: NewGoal, facts: CatalogueFacts) -> None:
    if item.id_prefix in facts.prefixes:
        return
    field = "prefix" if item.prefix is not None else "catalogue"
    raise spec.source_map.error(
        ("items", index, field),
        f"a new goal in {facts.code} needs the ID prefix it is numbered under; write "
        f"`prefix:` with one of {', '.join(facts.prefixes)}"
        + (f" (not {item.prefix})" if item.prefix else ""),
    )


def _check_goal(
    spec: HearingSpec,
    index: int,
    item: AmendedText | MovedGoal | DeletedGoal,
    goal: GoalFacts | None,
    on: date,
    catalogues: Mapping[str, CatalogueFacts],
) -> None:
    at = ("items", index)
    code = item.catalogue_code
    where = f"on {on.isoformat()}"
    if goal is None:
        raise spec.source_map.error(
            (*at, "goal_id"),
            f"no learning goal {item.goal_id} in the catalogue {where}; check the ID with "
            f"'hoering goals list --specialty {code}'",
        )
    if goal.catalogue != code:
        owner = catalogues.get(goal.catalogue)
        fix = "specialty" if owner and owner.kind == CatalogueKind.SPECIALTY else "catalogue"
        raise spec.source_map.error(
            (*at, "specialty" if item.specialty is not None else "catalogue"),
            f"{item.goal_id} is a goal of {goal.catalogue}, not {code}; write `{fix}: "
            f"{goal.catalogue}` or fix `goal_id`",
        )
    expected: list[tuple[str, object, object]] = []
    if isinstance(item, AmendedText):
        expected.append(("old_text", item.old_text, goal.text))
    if isinstance(item, MovedGoal):
        expected.append(("from_heading", item.from_heading, goal.heading))
        expected.append(("from_training_part", item.from_training_part, goal.training_part))
    if isinstance(item, DeletedGoal):
        expected.append(("heading", item.heading, goal.heading))
        expected.append(("training_part", item.training_part, goal.training_part))
    for field, given, actual in expected:
        if given is None or given == actual:
            continue
        if isinstance(given, str) and same_text(given, None if actual is None else str(actual)):
            continue
        shown = _shown(str(actual)) if isinstance(actual, str) else repr(actual)
        raise spec.source_map.error(
            (*at, field),
            f"{item.goal_id}'s {_FIELD_WORDS[field]} {where} is {shown}, not "
            f"{_shown(given) if isinstance(given, str) else repr(given)}; write the "
            f"catalogue's (see 'hoering goals list --specialty {code}')",
        )


_FIELD_WORDS = {
    "old_text": "text",
    "from_heading": "heading",
    "heading": "heading",
    "from_training_part": "training part",
    "training_part": "training part",
}
