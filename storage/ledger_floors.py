"""ID floors and counters: the highest number known per prefix, and raising it.

Split from `storage.ledger` (which re-exports these): a reservation reads the counter
row alone, so whatever writes goals or floors outside the ledger raises the counter
here (`raise_floor` for a catalogue import, `sync_counters` at init).
"""

from __future__ import annotations

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from domain.errors import UserError
from storage.models import IdCounterRow, IdPrefixRow, IdReservationRow, LearningGoalRow


class LedgerError(UserError):
    """A ledger request that cannot be honoured."""


def check_prefix(session: Session, prefix: str) -> IdPrefixRow:
    row = session.get(IdPrefixRow, prefix)
    if row is None:
        raise LedgerError(f"unknown ID prefix '{prefix}'; run 'hoering specialties' for the list")
    return row


def highest_known_number(session: Session, prefix: str) -> int:
    """The highest number used anywhere for `prefix`: floor, goals, reservations, counter.

    Reads every source; for a full resynchronisation (`sync_counters`), not per
    reservation, which reads the counter row alone."""
    floor = session.exec(select(IdPrefixRow.floor).where(IdPrefixRow.prefix == prefix)).one()
    goals = session.exec(
        select(func.max(LearningGoalRow.number)).where(LearningGoalRow.prefix == prefix)
    ).one()
    reserved = session.exec(
        select(func.max(IdReservationRow.number)).where(IdReservationRow.prefix == prefix)
    ).one()
    counter = session.exec(
        select(IdCounterRow.next_number).where(IdCounterRow.prefix == prefix)
    ).one_or_none()
    return max(n or 0 for n in (floor, goals, reserved, (counter or 1) - 1))


def _raise_counter(session: Session, prefix: str, highest_used: int) -> None:
    """Make the counter's next number at least `highest_used + 1`, never lower it: one
    UPDATE that compares with the row as it is when locked, so a reservation committed
    meanwhile is never undone (a read, then a write of that value, could be)."""
    wanted = highest_used + 1
    current = col(IdCounterRow.next_number)
    raised = session.execute(
        update(IdCounterRow)
        .where(col(IdCounterRow.prefix) == prefix)
        .values(next_number=case((current < wanted, wanted), else_=current))
        .execution_options(synchronize_session="fetch")
    )
    if raised.rowcount == 0:  # type: ignore[attr-defined]
        session.add(IdCounterRow(prefix=prefix, next_number=wanted))


def sync_counters(session: Session) -> None:
    """Raise every prefix's counter above the highest number known (never lowers one)."""
    for prefix in session.exec(select(IdPrefixRow.prefix)).all():
        _raise_counter(session, prefix, highest_known_number(session, prefix))
    session.flush()


def raise_floor(
    session: Session,
    prefix: str,
    highest_used: int,
    verified: bool,
    source: str | None = None,
) -> None:
    """Record that `highest_used` is in use for `prefix` (a loaded catalogue, a floor):
    the floor and the counter's next number are raised to cover it, never lowered.

    A floor raised from a verified source becomes verified; one raised from an
    unverified source makes it unverified (the highest number then rests on it). Every
    writer of goals or floors outside the ledger calls this, so that a reservation can
    trust the counter row alone."""
    row = check_prefix(session, prefix)
    if row.floor is None or highest_used > row.floor:
        row.floor = highest_used
        row.floor_verified = verified
        row.floor_source = source or row.floor_source
    elif highest_used == row.floor and verified and not row.floor_verified:
        row.floor_verified = True
        row.floor_source = source or row.floor_source
    session.add(row)
    _raise_counter(session, prefix, highest_used)
    session.flush()
