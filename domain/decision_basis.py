"""Which input a decision followed: the one rule for what a høringsoppsummering lists as
the basis of a decision ("Innspill som lå til grunn") and what it lists as input the
decision went against ("Innspill som ikke ble fulgt").

- adopted (`adopt`, `adopt_amended`): the decision followed those who support the change,
  with or without comments; it went against those who oppose it;
- not adopted (`drop`): it followed those who oppose the change and went against those
  who support it, with or without comments;
- a response without a stance (not reviewed yet) or with no comments is neither: the
  decision can be said neither to follow it nor to go against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar

from domain.decisions import Outcome
from domain.stance import Stance

T = TypeVar("T")

_FOR_THE_CHANGE = frozenset({Stance.SUPPORTS, Stance.SUPPORTS_WITH_COMMENTS})
_AGAINST_THE_CHANGE = frozenset({Stance.OPPOSES})


class Basis(StrEnum):
    FOLLOWED = "followed"  # the decision went the way this input asked
    NOT_FOLLOWED = "not_followed"  # the decision went against it
    NEITHER = "neither"  # no stance, or no comments


def decision_basis(outcome: Outcome, stance: Stance | None) -> Basis:
    """Whether the decision `outcome` on an item followed input with `stance`."""
    if stance is None or stance not in _FOR_THE_CHANGE | _AGAINST_THE_CHANGE:
        return Basis.NEITHER
    adopted = outcome in (Outcome.ADOPT, Outcome.ADOPT_AMENDED)
    followed = (stance in _FOR_THE_CHANGE) == adopted
    return Basis.FOLLOWED if followed else Basis.NOT_FOLLOWED


def split_by_basis(
    outcome: Outcome, inputs: Iterable[T], stance_of: Callable[[T], Stance | None]
) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """(the inputs the decision followed, those it went against), each in the given
    order; inputs that are neither are in neither."""
    followed: list[T] = []
    against: list[T] = []
    for entry in inputs:
        basis = decision_basis(outcome, stance_of(entry))
        if basis is Basis.FOLLOWED:
            followed.append(entry)
        elif basis is Basis.NOT_FOLLOWED:
            against.append(entry)
    return tuple(followed), tuple(against)


__all__ = ["Basis", "decision_basis", "split_by_basis"]
