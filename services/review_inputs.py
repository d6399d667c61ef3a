"""A review as a person asks for it, before it is checked: typed on the command line or
read from one row of a review file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExcerptInput:
    item: str | None
    quote: str
    attachment: str | None = None
    where: str = "excerpt"


@dataclass
class ReviewInput:
    """One review to record, as typed (CLI) or read (one row of a review file)."""

    where: str  # for error messages: "--stance" or "reviews.yaml line 7"
    source: str  # for the history: "cli" or "file reviews.yaml line 7"
    response: str | None = None  # tracking number or id
    sender: str | None = None  # or the sender's address, when it is unique in the hearing
    stance: str | None = None
    items: tuple[str, ...] = ()
    note: str | None = None
    accept_suggestion: bool = False
    campaign: bool = False
    excerpts: list[ExcerptInput] = field(default_factory=list)
    items_where: str | None = None  # where item errors point, when not `where`
