"""Splitting a mail source into shards that several importers read side by side.

A shard is a range of the source's message keys, [lower, upper) with None for an open
end: Maildir keys (arrival order), paths inside a folder of .eml files, or mbox message
indexes (file order, so a shard is one byte range of the mbox). The ranges are cut at
the source's keys as listed when the import is planned, so the shards are about equal;
and since together they cover every possible key, a message delivered after planning
lands in exactly one shard too. A single .eml file is one shard.

IMAP (designed, not built): a shard would be a UID range of the folder (`UID SEARCH
UID lower:upper`, both from the UIDs listed when planning, the last one open: `lower:*`),
read over its own connection and acknowledged (moved or flagged) per batch as now; the
folder's UIDVALIDITY is recorded with the plan, and a shard whose folder changed
UIDVALIDITY is planned again, since its UIDs no longer name the same messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from domain.errors import UserError
from mail.file_sources import key_within
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
        if source.kind == "imap":
            raise UserError(
                f"mail source '{source.key}': an IMAP folder cannot be split into shards yet; "
                "import it without --shards"
            )
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


class ShardSource:
    """The messages of `source` whose key is in [lower, upper)."""

    def __init__(self, source: MailSource, lower: str | None, upper: str | None) -> None:
        shardable = _shardable(source)
        if shardable is None and (lower, upper) != (None, None):
            raise UserError(f"mail source '{source.key}' cannot be split into shards")
        self.source = source
        self.lower, self.upper = lower, upper
        self.key = source.key
        self.kind = source.kind

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
