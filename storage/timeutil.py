"""Times in the database: aware datetimes, stored and returned in UTC.

SQLModel's UTCDateTime column type refuses naive datetimes, stores UTC (with the
offset on PostgreSQL, without on SQLite) and returns aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> datetime:
    """An aware moment in UTC, for storage; a naive one is a programming error."""
    if moment.tzinfo is None:
        raise ValueError("store aware datetimes only")
    return moment.astimezone(UTC)


def from_db(stored: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (also for values that lost their offset)."""
    if stored is None:
        return None
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)
