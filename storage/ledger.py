"""The learning-goal ID ledger.

Numbers are handed out per prefix from a counter that only ever grows: it starts at
the highest number known to be used (the floor from the 24/750 letter, the loaded
catalogue, retired goals, earlier reservations) and a number once handed out is
never handed out again, even when its hearing is withdrawn.

Every function works inside the caller's transaction, so a hearing and its reserved
IDs are written together or not at all. The counter row holds the next number; a
reservation takes it with one UPDATE ... RETURNING, which on PostgreSQL locks the row
until commit (on SQLite the write transaction itself is exclusive, BEGIN IMMEDIATE),
and inserts the reservation. Whatever raises a floor or loads goals from outside the
ledger calls `raise_floor` (or `sync_counters`), so the counter is never behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.goal_ids import IdRegistry, LearningGoalId, deferred_display
from storage.ledger_floors import (  # re-exported: the ledger's public API
    LedgerError,
    check_prefix,
    highest_known_number,
    raise_floor,
    sync_counters,
)
from storage.models import IdCounterRow, IdPrefixRow, IdReservationRow, LearningGoalRow

_RESERVATIONS = IdReservationRow.metadata.tables["id_reservation"]
__all__ = [
    "LedgerError",
    "Reservation",
    "UnverifiedIdError",
    "check_prefix",
    "defer",
    "explicit_id_problem",
    "highest_known_number",
    "list_reservations",
    "mark",
    "next_number",
    "peek_next",
    "raise_floor",
    "registry",
    "reservations_for_case",
    "reserve",
    "resolve_deferred",
    "resolve_deferred_to",
    "sync_counters",
    "verified_prefixes",
]


@dataclass(frozen=True)
class Reservation:
    key: str
    prefix: str
    goal_id: LearningGoalId | None
    status: str
    reason: str | None
    hearing_case: str | None
    created_at: datetime
    newly_created: bool
    accepted_unverified: bool = False

    @property
    def display(self) -> str:
        return str(self.goal_id) if self.goal_id else deferred_display(self.prefix)


def registry(session: Session) -> IdRegistry:
    """The known prefixes and their padding, as stored."""
    rows = session.exec(select(IdPrefixRow.prefix, IdPrefixRow.padding)).all()
    return IdRegistry.from_pairs((prefix, padding) for prefix, padding in rows)


def verified_prefixes(session: Session) -> list[str]:
    """Prefixes whose highest used number comes from a verified source."""
    return list(
        session.exec(
            select(IdPrefixRow.prefix)
            .where(IdPrefixRow.floor_verified)
            .order_by(IdPrefixRow.prefix)
        ).all()
    )


def _check_allocatable(session: Session, prefix: str) -> IdPrefixRow:
    row = session.get(IdPrefixRow, prefix)
    if row is None:
        raise LedgerError(f"unknown ID prefix '{prefix}'; run 'hoering specialties' for the list")
    if row.floor is None:
        has_goals = session.exec(
            select(func.count())
            .select_from(LearningGoalRow)
            .where(LearningGoalRow.prefix == prefix)
        ).one()
        if not has_goals:
            raise LedgerError(
                f"the highest {prefix} number in use is not known (no catalogue loaded and no "
                f"floor); add '{prefix}' with its highest_used number to data/id_floors.yaml "
                "and run 'hoering init'"
            )
    return row


def _no_counter(prefix: str) -> LedgerError:
    return LedgerError(f"no ID counter for '{prefix}'; run 'hoering init' to set it up")


def next_number(session: Session, prefix: str) -> int:
    """The number the next reservation for `prefix` gets (the counter row; no lock)."""
    number = session.exec(
        select(IdCounterRow.next_number).where(IdCounterRow.prefix == prefix)
    ).one_or_none()
    if number is None:
        raise _no_counter(prefix)
    return number


def peek_next(session: Session, prefix: str) -> LearningGoalId:
    """The ID the next reservation for `prefix` would get; reserves nothing."""
    row = _check_allocatable(session, prefix)
    return LearningGoalId(prefix, next_number(session, prefix), row.padding)


# Prepared once: text statements skip the ORM's per-call compilation (the reservation's
# hot path). UPDATE ... RETURNING and INSERT ... ON CONFLICT need SQLite >= 3.35.
_TAKE = text(
    "UPDATE id_counter SET next_number = next_number + 1 WHERE prefix = :p "
    "RETURNING next_number - 1, "
    "(SELECT padding FROM id_prefix WHERE id_prefix.prefix = id_counter.prefix), "
    "(SELECT floor FROM id_prefix WHERE id_prefix.prefix = id_counter.prefix)"
)
_GIVE_BACK = text("UPDATE id_counter SET next_number = next_number - 1 WHERE prefix = :p")
_INSERT_RESERVED = text(
    "INSERT INTO id_reservation "
    "(key, prefix, number, status, hearing_case, created_at, accepted_unverified) "
    "VALUES (:key, :prefix, :number, 'reserved', :case, :now, :unverified) "
    "ON CONFLICT (key) DO NOTHING RETURNING id"
).bindparams(
    bindparam("now", type_=_RESERVATIONS.c.created_at.type),
    bindparam("unverified", type_=_RESERVATIONS.c.accepted_unverified.type),
)
# PostgreSQL: take and insert in one statement, so the counter row's lock is held for
# one round trip and the commit. The insert is skipped for a prefix without a floor
# (checked by the caller) and for a key a concurrent reservation committed first.
_TAKE_AND_INSERT = text(
    "WITH taken AS (UPDATE id_counter SET next_number = next_number + 1 WHERE prefix = :p "
    "RETURNING next_number - 1 AS number, "
    "(SELECT padding FROM id_prefix WHERE id_prefix.prefix = id_counter.prefix) AS padding, "
    "(SELECT floor FROM id_prefix WHERE id_prefix.prefix = id_counter.prefix) AS floor), "
    "filed AS (INSERT INTO id_reservation "
    "(key, prefix, number, status, hearing_case, created_at, accepted_unverified) "
    "SELECT :key, :p, number, 'reserved', :case, :now, false FROM taken "
    "WHERE floor IS NOT NULL ON CONFLICT (key) DO NOTHING RETURNING id) "
    "SELECT number, padding, floor, (SELECT count(*) FROM filed) FROM taken"
).bindparams(bindparam("now", type_=_RESERVATIONS.c.created_at.type))


def _take(session: Session, prefix: str) -> tuple[int, int]:
    """Take the counter's next number and the prefix's padding: one UPDATE ...
    RETURNING, which locks the counter row until commit (on SQLite the write
    transaction is exclusive anyway). Refuses, taking nothing, a prefix whose highest
    used number is not known."""
    taken = session.execute(_TAKE, {"p": prefix}).first()
    if taken is not None and taken[2] is not None:
        return taken[0], taken[1]
    try:
        _check_allocatable(session, prefix)  # the right message, or goals give the floor
    except LedgerError:
        if taken is not None:
            _give_back(session, prefix)
        raise
    if taken is None:
        raise _no_counter(prefix)
    return taken[0], taken[1]


def _reserve_new(
    session: Session, prefix: str, key: str, now: datetime, case: str | None
) -> tuple[int, int] | None:
    """Take the next number for a new key and insert its reservation: (number, padding),
    or None when a concurrent reservation committed the key first (the number is given
    back while this transaction still holds the counter row)."""
    if session.get_bind().dialect.name != "postgresql":
        number, padding = _take(session, prefix)
        inserted = _insert_reserved(session, prefix, key, number, now, case)
    else:
        params = dict(p=prefix, key=key, case=case, now=now)
        row = session.execute(_TAKE_AND_INSERT, params).first()
        if row is None:
            _check_allocatable(session, prefix)
            raise _no_counter(prefix)
        number, padding, floor, inserted = row
        if floor is None:  # no floor: the goals must give it, or nothing is taken
            try:
                _check_allocatable(session, prefix)
            except LedgerError:
                _give_back(session, prefix)
                raise
            inserted = _insert_reserved(session, prefix, key, number, now, case)
    if inserted:
        return number, padding
    _give_back(session, prefix)
    return None


def _allocate_number(session: Session, prefix: str) -> int:
    return _take(session, prefix)[0]


def _give_back(session: Session, prefix: str) -> None:
    """Undo `_take` while this transaction still holds the counter row, so that no
    later reservation can have taken a number since: no gap, no reuse."""
    session.execute(_GIVE_BACK, {"p": prefix})


def _existing(session: Session, key: str, _prefix: str | None = None) -> IdReservationRow | None:
    return session.exec(select(IdReservationRow).where(IdReservationRow.key == key)).first()


def _insert_once(session: Session, row: IdReservationRow) -> tuple[IdReservationRow, bool]:
    """Insert a reservation; if a concurrent transaction took its key first, theirs."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _existing(session, row.key)
        if existing is None:
            raise
        return existing, False
    return row, True


def _insert_reserved(
    session: Session, prefix: str, key: str, number: int, now: datetime, case: str | None
) -> bool:
    """One INSERT of a reserved number; False when a concurrent reservation committed
    the same key first (ON CONFLICT on the key: nothing written, no savepoint)."""
    params = dict(key=key, prefix=prefix, number=number, case=case, now=now, unverified=False)
    return session.execute(_INSERT_RESERVED, params).first() is not None


def _to_reservation(row: IdReservationRow, padding: int, *, new: bool) -> Reservation:
    goal_id = LearningGoalId(row.prefix, row.number, padding) if row.number is not None else None
    return Reservation(
        key=row.key,
        prefix=row.prefix,
        goal_id=goal_id,
        status=row.status,
        reason=row.reason,
        hearing_case=row.hearing_case,
        created_at=row.created_at,
        newly_created=new,
        accepted_unverified=row.accepted_unverified,
    )


def _same_prefix_or_fail(row: IdReservationRow, prefix: str) -> None:
    if row.prefix != prefix:
        raise LedgerError(
            f"key '{row.key}' already holds a {row.prefix} reservation; "
            f"use another key for {prefix}"
        )


def reserve(
    session: Session,
    prefix: str,
    key: str,
    now: datetime,
    hearing_case: str | None = None,
) -> Reservation:
    """Reserve the next number for `prefix` under `key`; the same key gets the same ID.

    The key lookup (no lock), then the counter UPDATE ... RETURNING (takes the row
    lock; returns the number and the prefix's padding) and the reservation INSERT: two
    statements on SQLite, one on PostgreSQL (a data-modifying WITH). Two
    transactions racing for one key: the second finds the first's key in the INSERT
    (ON CONFLICT), gives its number back while it still holds the counter row, and
    returns the first's reservation."""
    key = _clean_key(key)
    row = _existing(session, key, prefix)
    if row is None:
        taken = _reserve_new(session, prefix, key, now, hearing_case)
        if taken is not None:
            goal_id = LearningGoalId(prefix, taken[0], taken[1])
            return Reservation(key, prefix, goal_id, "reserved", None, hearing_case, now, True)
        row = _existing(session, key)
        if row is None:  # pragma: no cover - the conflict was on the key, so it is there
            raise LedgerError(f"reservation key '{key}' vanished while reserving; try again")
    padding = _check_allocatable(session, prefix).padding
    _same_prefix_or_fail(row, prefix)
    return _to_reservation(row, padding, new=False)


def defer(
    session: Session,
    prefix: str,
    key: str,
    reason: str,
    now: datetime,
    hearing_case: str | None = None,
) -> Reservation:
    """Record that `prefix` needs an ID under `key` that is decided later (e.g. HJS-xxx)."""
    key = _clean_key(key)
    if not reason or not reason.strip():
        raise LedgerError(f"a deferred {prefix} ID needs a reason; give one with the deferral")
    padding = check_prefix(session, prefix).padding
    row = _existing(session, key)
    if row is not None:
        _same_prefix_or_fail(row, prefix)
        return _to_reservation(row, padding, new=False)
    row = IdReservationRow(
        key=key,
        prefix=prefix,
        number=None,
        status="deferred",
        reason=reason.strip(),
        hearing_case=hearing_case,
        created_at=now,
    )
    row, new = _insert_once(session, row)
    _same_prefix_or_fail(row, prefix)
    return _to_reservation(row, padding, new=new)


def resolve_deferred(session: Session, key: str, now: datetime) -> Reservation:
    """Give a deferred reservation its number: the next one at this moment."""
    row = _existing(session, key)
    if row is None:
        raise LedgerError(f"no reservation with key '{key}'")
    padding = _check_allocatable(session, row.prefix).padding
    if row.status != "deferred":
        return _to_reservation(row, padding, new=False)
    row.number = _allocate_number(session, row.prefix)
    row.status = "reserved"
    row.resolved_at = now
    session.add(row)
    session.flush()
    return _to_reservation(row, padding, new=True)


_PICK_ANOTHER = "; write `resolve_id: next` or a free ID from 'hoering ids next'"


class UnverifiedIdError(LedgerError):
    """An explicit ID that skips numbers or rests on an unverified floor, not accepted."""


def explicit_id_problem(
    session: Session, prefix: str, number: int, accept_unverified: bool
) -> tuple[str, bool]:
    """Why `prefix`-`number` cannot be given explicitly, with the fix ('' when it can),
    and whether it is unverified: an ID must not be a goal in the catalogue, held in
    the ledger, or below the next free number; one above the next free number, or on an
    unverified floor, is unverified and taken only with `accept_unverified`."""
    prefix_row = check_prefix(session, prefix)
    shown = LearningGoalId(prefix, number, prefix_row.padding)
    goal = session.exec(
        select(LearningGoalRow.status).where(
            LearningGoalRow.prefix == prefix, LearningGoalRow.number == number
        )
    ).first()
    if goal is not None:
        return f"{shown} is already a goal in the catalogue ({goal}){_PICK_ANOTHER}", False
    held = session.exec(
        select(IdReservationRow.status, IdReservationRow.key).where(
            IdReservationRow.prefix == prefix, IdReservationRow.number == number
        )
    ).first()
    if held is not None:
        return f"{shown} is already {held[0]} in the ledger (key '{held[1]}'){_PICK_ANOTHER}", False
    nxt = next_number(session, prefix)
    next_id = LearningGoalId(prefix, nxt, prefix_row.padding)
    if number < nxt:
        return (
            f"{shown} is below the next free number {next_id} (numbers below it are used)"
            f"{_PICK_ANOTHER}",
            False,
        )
    unverified = not prefix_row.floor_verified or number > nxt
    if unverified and not accept_unverified:
        why = "skips numbers after" if number > nxt else "rests on the unverified floor"
        floor_id = LearningGoalId(prefix, max(nxt - 1, 0), prefix_row.padding)
        return (
            f"{shown} {why} {floor_id}; pass --accept-unverified-id to record it as "
            "unverified, or write `resolve_id: next`",
            True,
        )
    return "", unverified


def resolve_deferred_to(
    session: Session, key: str, goal_id: str, now: datetime, accept_unverified: bool = False
) -> Reservation:
    """Give a deferred reservation a chosen number, if no one has used or held it.

    An ID above the next free number, or on an unverified floor, is taken only with
    `accept_unverified` and is recorded as such; it never becomes the verified floor
    (the counter moves past it so that it is never handed out again)."""
    row = _existing(session, key)
    if row is None:
        raise LedgerError(f"no reservation with key '{key}'")
    registry_ = registry(session)
    wanted = registry_.parse(goal_id)
    padding = registry_.paddings[row.prefix]
    if wanted.prefix != row.prefix:
        raise LedgerError(
            f"{goal_id} is not a {row.prefix} ID; resolve {key} with a {row.prefix} ID"
        )
    if row.status != "deferred":
        return _to_reservation(row, padding, new=False)
    counter = session.exec(
        select(IdCounterRow).where(IdCounterRow.prefix == row.prefix).with_for_update()
    ).first()
    if counter is None:
        raise _no_counter(row.prefix)
    problem, unverified = explicit_id_problem(session, row.prefix, wanted.number, accept_unverified)
    if problem:
        raise UnverifiedIdError(problem) if unverified else LedgerError(problem)
    row.number = wanted.number
    row.status = "reserved"
    row.resolved_at = now
    row.accepted_unverified = unverified
    if counter.next_number <= wanted.number:
        counter.next_number = wanted.number + 1
        session.add(counter)
    session.add(row)
    session.flush()
    return _to_reservation(row, padding, new=True)


def mark(session: Session, key: str, status: str, now: datetime, reason: str | None = None) -> None:
    """Set a reservation's status to 'used' or 'burned'. Numbers are never released."""
    if status not in {"used", "burned"}:
        raise ValueError(f"unknown reservation status {status}")
    row = _existing(session, key)
    if row is None:
        raise LedgerError(f"no reservation with key '{key}'")
    row.status = status
    row.resolved_at = now
    if reason:
        row.reason = reason
    session.add(row)
    session.flush()


def reservations_for_case(session: Session, hearing_case: str) -> list[Reservation]:
    rows = session.exec(
        select(IdReservationRow)
        .where(IdReservationRow.hearing_case == hearing_case)
        .order_by(col(IdReservationRow.id))
    ).all()
    paddings = registry(session).paddings
    return [_to_reservation(row, paddings[row.prefix], new=False) for row in rows]


def list_reservations(
    session: Session,
    prefix: str | None = None,
    hearing_case: str | None = None,
    limit: int = 100,
) -> list[Reservation]:
    """The newest reservations first, optionally of one prefix or hearing."""
    query = select(IdReservationRow)
    if prefix is not None:
        query = query.where(IdReservationRow.prefix == prefix)
    if hearing_case is not None:
        query = query.where(IdReservationRow.hearing_case == hearing_case)
    rows = session.exec(query.order_by(col(IdReservationRow.id).desc()).limit(limit)).all()
    paddings = registry(session).paddings
    return [_to_reservation(row, paddings[row.prefix], new=False) for row in rows]


def _clean_key(key: str) -> str:
    cleaned = key.strip()
    if not cleaned or len(cleaned) > 200:
        raise LedgerError("a reservation key must be 1-200 characters, e.g. 'hearing:24/750:BLS'")
    return cleaned
