"""The facts a høringsoppsummering is built from (read from the record by the caller), and
the stance tally it counts them in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.stance import STANCE_ORDER, Stance


@dataclass(frozen=True, kw_only=True)
class StanceTally:
    """Number of responses per stance."""

    supports: int = 0
    supports_with_comments: int = 0
    opposes: int = 0
    no_comments: int = 0

    @classmethod
    def of(cls, stances: Iterable[Stance]) -> StanceTally:
        counts = dict.fromkeys(Stance, 0)
        for stance in stances:
            counts[stance] += 1
        return cls(**{s.value: n for s, n in counts.items()})

    def count(self, stance: Stance) -> int:
        return int(getattr(self, stance.value))

    @property
    def total(self) -> int:
        return sum(self.count(s) for s in Stance)

    @property
    def rows(self) -> tuple[tuple[str, int], ...]:
        """(label, count) in the standard order: støtter, med merknader, imot, ingen."""
        return tuple((s.label_nb, self.count(s)) for s in STANCE_ORDER)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(self.count(s) for s in STANCE_ORDER)


@dataclass(frozen=True, kw_only=True)
class RecipientFacts:
    stakeholder_key: str
    name: str
    group: str


@dataclass(frozen=True, kw_only=True)
class ExcerptFacts:
    """A passage of a response tied to a change item (or to the whole hearing: None)."""

    response_id: int
    item_ref: str | None
    text: str
    source: str  # "e-post" or the attachment's file name


@dataclass(frozen=True, kw_only=True)
class ResponseFacts:
    """One reviewed (or not yet reviewed) response, as the summary needs it."""

    response_id: int
    tracking_number: str
    respondent: str  # organisation, or the person's name
    organisation: str | None
    stakeholder_key: str | None
    received_at: datetime
    late: bool
    stance: Stance | None
    items: tuple[str, ...] = ()
    note: str = ""
    campaign: int | None = None  # the campaign's number in the hearing (Kampanje 1, ...)
    # The letter's text (no greeting, no signature) of a campaign member, unmasked: it
    # only tells which wording most members sent; the wording shown is read again.
    first_lines: str = ""
