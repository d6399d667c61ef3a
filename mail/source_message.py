"""What every mail source yields, and the one error a source raises."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.errors import UserError


class SourceUnavailable(UserError):
    """A mail source that cannot be opened or read: the import stops (exit code 2)."""


@dataclass(frozen=True)
class SourceMessage:
    """One message as read: `source_id` for reports, `raw` exactly as stored."""

    source_id: str
    raw: bytes
    uid: int | None = None  # IMAP only


class MailSource(Protocol):
    """What the importer needs of a source."""

    key: str  # stable identity, e.g. an absolute path or imaps://user@host:993/INBOX
    kind: str

    def open(self) -> None: ...
    def count(self) -> int | None: ...
    def messages(self) -> Iterator[SourceMessage]: ...
    def acknowledge(self, messages: Sequence[SourceMessage]) -> None: ...
    def close(self) -> None: ...
