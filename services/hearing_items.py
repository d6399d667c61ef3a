"""A hearing's change items and the goal IDs they hold in the ledger.

A new goal's ID is reserved (or deferred, HJS-xxx) under a key made of the case and the
item's ref (`hearing:24/750:BLS`). Revising a draft keeps the key, and so the ID, of an
item that is still there with the same prefix and the same deferral; an item that is
new gets a key of its own, and the reservation of an item the revision removed is
burned: its number is never handed out again. A case number reused after a withdrawal
finds its earlier keys taken (burned) and takes fresh ones (`...~2`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from domain.change_items import NewGoal
from domain.hearing_spec import HearingSpec
from services.hearing_records import ledger_case
from storage import ledger
from storage.hearing_models import HearingItemRow, HearingRow
from storage.rows import row_id
from storage.timeutil import to_db

OPEN_STATUSES = frozenset({"reserved", "deferred"})
REMOVED_REASON = "item removed by a revision of the draft"


@dataclass
class ItemIds:
    """What storing a spec's items did to the ledger (item ref -> ID as shown)."""

    reserved: dict[str, str] = field(default_factory=dict)  # numbered IDs the items hold
    kept: dict[str, str] = field(default_factory=dict)  # held before, still held
    new: dict[str, str] = field(default_factory=dict)  # reserved or deferred now
    burned: list[str] = field(default_factory=list)  # released by removed items

    def as_json(self) -> dict[str, object]:
        return {"kept_ids": self.kept, "new_ids": self.new, "burned_ids": self.burned}


def reservation_key(case: str, ref: str, taken: Iterable[str]) -> str:
    """`hearing:CASE:REF`, or with `~2`, `~3` ... when an earlier record took that key."""
    used = set(taken)
    base = f"hearing:{case}:{ref}"
    if base not in used:
        return base
    number = 2
    while f"{base}~{number}" in used:
        number += 1
    return f"{base}~{number}"


def id_prefix(item: NewGoal) -> str:
    """The ID prefix a new goal's number is reserved from (one place for it)."""
    return item.id_prefix


def _still_valid(
    key: str | None, item: NewGoal, held: Mapping[str, ledger.Reservation]
) -> str | None:
    """`key` if its reservation can go on serving `item` unchanged, else None."""
    reservation = held.get(key) if key else None
    if reservation is None or reservation.status not in OPEN_STATUSES:
        return None
    if reservation.prefix != id_prefix(item):
        return None
    if (reservation.status == "deferred") != item.deferred:
        return None
    return key


def add_items(
    session: Session,
    hearing: HearingRow,
    spec: HearingSpec,
    now: datetime,
    previous_keys: Mapping[str, str | None] | None = None,
) -> ItemIds:
    """Store the spec's change items; a new goal keeps the reservation its ref held
    (`previous_keys`: ref -> key, from the draft being revised) or gets a new one."""
    previous_keys = previous_keys or {}
    held = {r.key: r for r in ledger.reservations_for_case(session, ledger_case(spec.case))}
    taken = set(held)
    ids = ItemIds()
    used_keys: set[str] = set()
    for position, item in enumerate(spec.items):
        key = None
        if isinstance(item, NewGoal):
            key = _still_valid(previous_keys.get(item.ref), item, held)
            if key is not None:
                ids.kept[item.ref] = held[key].display
                goal_id = held[key].goal_id
            else:
                key = reservation_key(spec.case, item.ref, taken)
                taken.add(key)
                got = _reserve(session, spec, item, key, now)
                ids.new[item.ref] = got.display
                goal_id = got.goal_id
            used_keys.add(key)
            if goal_id is not None:
                ids.reserved[item.ref] = str(goal_id)
        session.add(
            HearingItemRow(
                hearing_id=row_id(hearing),
                position=position,
                ref=item.ref,
                kind=item.kind,
                specialty_prefix=item.catalogue_code,
                reservation_key=key,
            )
        )
    for key in previous_keys.values():
        if key and key not in used_keys and key in held and held[key].status in OPEN_STATUSES:
            ledger.mark(session, key, "burned", to_db(now), REMOVED_REASON)
            ids.burned.append(held[key].display)
    return ids


def _reserve(
    session: Session, spec: HearingSpec, item: NewGoal, key: str, now: datetime
) -> ledger.Reservation:
    prefix = id_prefix(item)
    if item.deferred:
        return ledger.defer(session, prefix, key, item.defer_reason or "", to_db(now), spec.case)
    return ledger.reserve(session, prefix, key, to_db(now), spec.case)
