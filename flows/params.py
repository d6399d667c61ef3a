"""Flow parameters shared by the flows, without importing Prefect."""

from __future__ import annotations

from datetime import datetime

from domain.calendar import OSLO


def moment(as_of: datetime | None) -> datetime:
    """The moment a flow acts at: `as_of` (a naive one is Oslo time), else now."""
    if as_of is None:
        return datetime.now(OSLO)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=OSLO)


def iso(as_of: datetime | None) -> str:
    """`moment(as_of)` as the ISO text the storage tasks take."""
    return moment(as_of).isoformat()
