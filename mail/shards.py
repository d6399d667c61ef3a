"""Splitting a mail source into shards that several importers read side by side.

A shard is a range of the source's message keys, [lower, upper) with None for an open
end: Maildir keys (arrival order), paths inside a folder of .eml files, mbox message
indexes (file order, so a shard is one byte range of the mbox) or the UIDs of an IMAP
folder (`mail.imap.uid_key`: zero-padded, so they sort as numbers). The ranges are cut at
the source's keys as listed when the import is planned, so the shards are about equal;
and since together they cover every possible key, a message delivered after planning
lands in exactly one shard too (on IMAP: the last, whose range is open, `UID lower:*`).
A single .eml file is one shard.

An IMAP shard is read over its own connection (`UID SEARCH UID first:last`) and
acknowledged (moved or flagged) per batch as in an import without shards; messages an
interrupted run filed but did not acknowledge are acknowledged by the next run of the
shard they belong to. The folder's UIDVALIDITY is recorded with the plan
(`planned_uidvalidity`); a shard run refuses a folder whose UIDVALIDITY changed since
(`mail.imap.UidValidityChanged`), since its UIDs no longer name the same messages, and
the import must be planned again (filed messages are recognised and skipped).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from domain.errors import UserError
from mail.file_sources import key_within
from mail.imap import ImapSource, uid_key
from mail.source_message import MailSource, SourceMessage

Range = tuple[str | None, str | None]


class _Shardable(MailSource, Protocol):
    def shard_keys(self) -> list[str]: ...
    def messages_between(self, lower: str | None, upper: str | None) -> Iterator[SourceMessage]: ...


def _shardable(source: MailSource) -> _Shardable | None:
    if hasattr(source, "shard_keys") and hasattr(source, "messages_between"):
        return source  # type: ignore[return-value]
    return None


def plan_ranges(source: MailSource, count: int) -> list[Range]:
    """At most `count` key ranges of about equal size covering every key of the source."""
    shardable = _shardable(source)
    if shardable is None:
        return [(None, None)]
    source.open()
    try:
        keys = sorted(shardable.shard_keys())
    finally:
        source.close()
    bounds = sorted({keys[len(keys) * part // count] for part in range(1, count)} if keys else [])
    bounds = [bound for bound in bounds if bound != (keys[0] if keys else None)]
    lowers: list[str | None] = [None, *bounds]
    uppers: list[str | None] = [*bounds, None]
    return list(zip(lowers, uppers, strict=True))


def planned_uidvalidity(source: MailSource) -> int | None:
    """The UIDVALIDITY to record with a plan made by `plan_ranges` (IMAP only)."""
    return source.uidvalidity if isinstance(source, ImapSource) else None


class ShardSource:
    """The messages of `source` whose key is in [lower, upper); of an IMAP folder only
    while its UIDVALIDITY is still `uidvalidity` (the one recorded with the plan)."""

    def __init__(
        self,
        source: MailSource,
        lower: str | None,
        upper: str | None,
        uidvalidity: int | None = None,
    ) -> None:
        shardable = _shardable(source)
        if shardable is None and (lower, upper) != (None, None):
            raise UserError(f"mail source '{source.key}' cannot be split into shards")
        if isinstance(source, ImapSource):
            source.expected_uidvalidity = uidvalidity
        self.source = source
        self.lower, self.upper = lower, upper
        self.key = source.key
        self.kind = source.kind

    @property
    def uidvalidity(self) -> int | None:
        """The folder's UIDVALIDITY once open (IMAP only)."""
        return self.source.uidvalidity if isinstance(self.source, ImapSource) else None

    def skip(self, uids: set[int]) -> set[int]:
        """Of the UIDs filed earlier but not acknowledged, acknowledge those in this
        shard's range (the others are their own shard's); returns them (IMAP only)."""
        if not isinstance(self.source, ImapSource):
            return set()
        mine = {uid for uid in uids if key_within(uid_key(uid), self.lower, self.upper)}
        return self.source.skip(mine)

    def open(self) -> None:
        self.source.open()

    def count(self) -> int | None:
        shardable = _shardable(self.source)
        if shardable is None:
            return self.source.count()
        return sum(1 for key in shardable.shard_keys() if key_within(key, self.lower, self.upper))

    def messages(self) -> Iterator[SourceMessage]:
        shardable = _shardable(self.source)
        if shardable is None:
            return self.source.messages()
        return shardable.messages_between(self.lower, self.upper)

    def acknowledge(self, messages: Sequence[SourceMessage]) -> None:
        self.source.acknowledge(messages)

    def close(self) -> None:
        self.source.close()
