"""Flow parameters shared by the flows, without importing Prefect."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

from domain.calendar import OSLO

# When a step happens: a day (noon in Oslo, as the CLI's --as-of YYYY-MM-DD) or a moment
# (a naive one is Oslo time); None is now. `date` first, so "2024-06-03" stays a day.
AsOf: TypeAlias = date | datetime | None


def moment(as_of: AsOf) -> datetime:
    """The moment a flow acts at."""
    if as_of is None:
        return datetime.now(OSLO)
    if isinstance(as_of, datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=OSLO)
    return datetime(as_of.year, as_of.month, as_of.day, 12, 0, tzinfo=OSLO)


def iso(as_of: AsOf) -> str:
    """`moment(as_of)` as the ISO text the storage tasks take."""
    return moment(as_of).isoformat()
