"""The learning-goal ID ledger.

Numbers are handed out per prefix from a counter that only ever grows: it starts at
the highest number known to be used (the floor from the 24/750 letter, the loaded
catalogue, retired goals, earlier reservations) and a number once handed out is
never handed out again, even when its hearing is withdrawn.

Every function works inside the caller's transaction, so a hearing and its reserved
IDs are written together or not at all. On PostgreSQL the counter row is locked by
the UPDATE; on SQLite the write transaction itself is exclusive (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.errors import UserError
from domain.goal_ids import IdRegistry, LearningGoalId, deferred_display
from storage.models import IdCounterRow, IdPrefixRow, IdReservationRow, LearningGoalRow


class LedgerError(UserError):
    """A ledger request that cannot be honoured."""


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


def highest_known_number(session: Session, prefix: str) -> int:
    """The highest number used anywhere for `prefix`: floor, goals, reservations."""
    floor = session.exec(select(IdPrefixRow.floor).where(IdPrefixRow.prefix == prefix)).one()
    goals = session.exec(
        select(func.max(LearningGoalRow.number)).where(LearningGoalRow.prefix == prefix)
    ).one()
    reserved = session.exec(
        select(func.max(IdReservationRow.number)).where(IdReservationRow.prefix == prefix)
    ).one()
    counter = session.exec(
        select(IdCounterRow.last_number).where(IdCounterRow.prefix == prefix)
    ).one_or_none()
    return max(n or 0 for n in (floor, goals, reserved, counter))


def sync_counters(session: Session) -> None:
    """Raise every prefix's counter to the highest number known (never lowers one)."""
    for prefix in session.exec(select(IdPrefixRow.prefix)).all():
        highest = highest_known_number(session, prefix)
        row = session.get(IdCounterRow, prefix)
        if row is None:
            session.add(IdCounterRow(prefix=prefix, last_number=highest))
        elif row.last_number < highest:
            row.last_number = highest
    session.flush()


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


def peek_next(session: Session, prefix: str) -> LearningGoalId:
    """The ID the next reservation for `prefix` would get; reserves nothing."""
    row = _check_allocatable(session, prefix)
    return LearningGoalId(prefix, highest_known_number(session, prefix) + 1, row.padding)


def _allocate_number(session: Session, prefix: str) -> int:
    """The next number after the highest known one; holds the counter row until commit."""
    counter = session.exec(
        select(IdCounterRow).where(IdCounterRow.prefix == prefix).with_for_update()
    ).first()
    if counter is None:
        raise LedgerError(f"no ID counter for '{prefix}'; run 'hoering init' to set it up")
    number = highest_known_number(session, prefix) + 1
    session.execute(
        update(IdCounterRow).where(col(IdCounterRow.prefix) == prefix).values(last_number=number)
    )
    return number


def _number_in_use(session: Session, prefix: str, number: int) -> bool:
    for table in (LearningGoalRow, IdReservationRow):
        used = session.exec(
            select(func.count())
            .select_from(table)
            .where(table.prefix == prefix, table.number == number)
        ).one()
        if used:
            return True
    return False


def _existing(session: Session, key: str, _prefix: str | None = None) -> IdReservationRow | None:
    return session.exec(select(IdReservationRow).where(IdReservationRow.key == key)).first()


def _existing_after_counter_lock(
    session: Session, key: str, prefix: str
) -> IdReservationRow | None:
    """The key, looked up again once this transaction holds the prefix's counter row:
    a reservation that held it first has committed by then, and its key is seen."""
    session.exec(select(IdCounterRow).where(IdCounterRow.prefix == prefix).with_for_update())
    return _existing(session, key)


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
    """Reserve the next number for `prefix` under `key`; the same key gets the same ID."""
    key = _clean_key(key)
    padding = _check_allocatable(session, prefix).padding
    for look in (_existing, _existing_after_counter_lock):
        row = look(session, key, prefix)
        if row is not None:
            _same_prefix_or_fail(row, prefix)
            return _to_reservation(row, padding, new=False)
    number = _allocate_number(session, prefix)
    row = IdReservationRow(
        key=key,
        prefix=prefix,
        number=number,
        status="reserved",
        hearing_case=hearing_case,
        created_at=now,
    )
    row, new = _insert_once(session, row)
    _same_prefix_or_fail(row, prefix)
    return _to_reservation(row, padding, new=new)


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
    padding = _check_prefix(session, prefix).padding
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


def resolve_deferred_to(session: Session, key: str, goal_id: str, now: datetime) -> Reservation:
    """Give a deferred reservation a chosen number, if no one has used or held it."""
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
    prefix_row = session.get(IdPrefixRow, row.prefix)
    floor = (prefix_row.floor if prefix_row else None) or 0
    if _number_in_use(session, row.prefix, wanted.number) or wanted.number <= floor:
        raise LedgerError(
            f"{wanted} is already used or below the highest number in use ({floor}); "
            "use 'resolve_id: next' or a free ID from 'hoering ids next'"
        )
    row.number = wanted.number
    row.status = "reserved"
    row.resolved_at = now
    if counter is not None and counter.last_number < wanted.number:
        counter.last_number = wanted.number
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


def _check_prefix(session: Session, prefix: str) -> IdPrefixRow:
    row = session.get(IdPrefixRow, prefix)
    if row is None:
        raise LedgerError(f"unknown ID prefix '{prefix}'; run 'hoering specialties' for the list")
    return row


def _clean_key(key: str) -> str:
    cleaned = key.strip()
    if not cleaned or len(cleaned) > 200:
        raise LedgerError("a reservation key must be 1-200 characters, e.g. 'hearing:24/750:BLS'")
    return cleaned
