"""Small facts about stored rows that every query needs."""

from __future__ import annotations

from typing import Protocol


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _HasId) -> int:
    """The primary key of a row that is in the database (added rows get it at flush)."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet; flush the session first")
    return row.id
