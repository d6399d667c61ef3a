"""Reference data that is not verified, as it touches one hearing: pure rules.

`data/specialties.yaml` marks a prefix `prefix_verified: false` when no source showed
it, `data/id_floors.yaml` a floor `verified: false` when the highest number in use is a
guess, `data/stakeholders.yaml` an address `email_verified: false` when it is a
placeholder. A hearing that relies on such data says so: one warning line per kind
(`unverified_warnings`), and the høringsbrev marks an ID that rests on an unverified
prefix or floor as provisional (`provisional_refs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFERRED_SUFFIX = "-xxx"
SHOWN_NAMES = 3


@dataclass(frozen=True)
class ItemId:
    """One change item's ID as shown (BLS-154, HJS-xxx while deferred, '' for a heading
    change); `new` when the number comes from the ledger (a new goal)."""

    ref: str
    shown: str
    prefix: str
    new: bool


@dataclass(frozen=True)
class RecipientAddress:
    name: str
    verified: bool


@dataclass(frozen=True)
class UnverifiedData:
    """Prefixes not verified, and the unverified floors (prefix -> highest_used)."""

    prefixes: frozenset[str] = frozenset()
    floors: Mapping[str, int | None] = field(default_factory=dict)


def _rests_on_floor(item: ItemId, data: UnverifiedData) -> bool:
    return item.new and item.prefix in data.floors


def provisional_refs(ids: Sequence[ItemId], data: UnverifiedData) -> frozenset[str]:
    """Items whose printed ID is provisional: a number from an unverified floor, or any
    ID with an unverified prefix (a deferred 'HJS-xxx' is not a number yet)."""
    return frozenset(
        item.ref
        for item in ids
        if item.shown
        and not item.shown.endswith(DEFERRED_SUFFIX)
        and (item.prefix in data.prefixes or _rests_on_floor(item, data))
    )


def _names(values: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def unverified_warnings(
    ids: Sequence[ItemId], recipients: Sequence[RecipientAddress], data: UnverifiedData
) -> list[str]:
    """One line for each kind of unverified data the hearing relies on."""
    warnings = []
    prefixes = sorted({item.prefix for item in ids if item.prefix in data.prefixes})
    if prefixes:
        warnings.append(
            f"unverified ID prefix {_names(prefixes)} (prefix_verified: false); confirm "
            "it against Kompetanseportalen and set prefix_verified: true in "
            "data/specialties.yaml"
        )
    on_floor = [item for item in ids if _rests_on_floor(item, data)]
    if on_floor:
        floors = _names([f"{i.prefix} {data.floors[i.prefix]}" for i in on_floor])
        warnings.append(
            f"{_names([i.shown for i in on_floor])} "
            f"{'rests' if len(on_floor) == 1 else 'rest'} on an unverified ID floor "
            f"(highest_used {floors}, verified: false): the numbers may already be in use; "
            "confirm the highest number in use and set verified: true in data/id_floors.yaml"
        )
    unverified = [r.name for r in recipients if not r.verified]
    if unverified:
        shown = _names(unverified[:SHOWN_NAMES])
        more = len(unverified) - SHOWN_NAMES
        listed = f"{shown} and {more} more" if more > 0 else shown
        warnings.append(
            f"{len(unverified)} of {len(recipients)} recipient addresses are unverified "
            f"placeholders: {listed}; confirm them in data/stakeholders.yaml "
            "(email_verified: true)"
        )
    return warnings
