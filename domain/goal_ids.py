"""Learning-goal IDs: `BLS-154` (specialty, three digits), `LM-75` (FKM, no padding).

An ID is parsed against a registry of known prefixes, each with its padding, so a
typo never becomes a new prefix. Parsing normalises case and spaces and otherwise
refuses, saying exactly what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import total_ordering

from domain.errors import InvalidGoalId

_SHAPE = re.compile(r"^(?P<prefix>[A-Z]+)\s*-\s*(?P<number>\S+)$")
_NO_HYPHEN = re.compile(r"^(?P<prefix>[A-Z]+)\s*(?P<number>\d+)$")
DEFERRED_MARK = "xxx"


@total_ordering
@dataclass(frozen=True)
class LearningGoalId:
    prefix: str
    number: int
    padding: int = 3

    def __str__(self) -> str:
        return (
            f"{self.prefix}-{self.number:0{self.padding}d}"
            if self.padding
            else (f"{self.prefix}-{self.number}")
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LearningGoalId):
            return NotImplemented
        return (self.prefix, self.number) < (other.prefix, other.number)


def deferred_display(prefix: str) -> str:
    """How a deferred ID is written in letters: `HJS-xxx`."""
    return f"{prefix}-{DEFERRED_MARK}"


@dataclass(frozen=True)
class IdRegistry:
    """The known prefixes and their padding (0 = numbers are not zero-padded)."""

    paddings: Mapping[str, int]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, int]]) -> IdRegistry:
        return cls(dict(pairs))

    def normalise_prefix(self, raw: str) -> str:
        """Upper-case a prefix and check that it is known."""
        prefix = raw.strip().upper()
        if prefix not in self.paddings:
            raise InvalidGoalId(
                f"unknown ID prefix '{raw.strip()}': known prefixes are "
                f"{_listing(self.paddings)}; check the spelling or add the specialty "
                "to data/specialties.yaml"
            )
        return prefix

    def format(self, prefix: str, number: int) -> LearningGoalId:
        prefix = self.normalise_prefix(prefix)
        return LearningGoalId(prefix, number, self.paddings[prefix])

    def parse(self, raw: str) -> LearningGoalId:
        """Parse `raw` such as ' bls - 154 ' into BLS-154, or explain why not."""
        text = raw.strip().upper()
        if not text:
            raise InvalidGoalId("empty learning-goal ID: write it as PREFIX-NNN, e.g. BLS-154")
        match = _SHAPE.match(text)
        if match is None:
            bare = _NO_HYPHEN.match(text)
            if bare:
                hint = f"{bare['prefix']}-{bare['number']}"
                raise InvalidGoalId(
                    f"malformed learning-goal ID '{raw.strip()}': a hyphen is missing "
                    f"between prefix and number; write it as {hint}"
                )
            raise InvalidGoalId(
                f"malformed learning-goal ID '{raw.strip()}': expected PREFIX-NUMBER "
                "with a letters-only prefix, e.g. BLS-154 or LM-75"
            )
        prefix = self.normalise_prefix(match["prefix"])
        digits = match["number"]
        padding = self.paddings[prefix]
        if not digits.isdigit() or not digits.isascii():
            raise InvalidGoalId(
                f"malformed learning-goal ID '{raw.strip()}': the number '{digits}' "
                f"must be digits only, e.g. {_example(prefix, padding)}"
            )
        number = int(digits)
        if number < 1:
            raise InvalidGoalId(f"malformed learning-goal ID '{raw.strip()}': numbers start at 1")
        canonical = LearningGoalId(prefix, number, padding)
        if padding and len(digits) != padding:
            raise InvalidGoalId(
                f"malformed learning-goal ID '{raw.strip()}': {prefix} numbers have exactly "
                f"{padding} digits; write it as {canonical}"
            )
        if not padding and digits != str(number):
            raise InvalidGoalId(
                f"malformed learning-goal ID '{raw.strip()}': {prefix} numbers are not "
                f"zero-padded; write it as {canonical}"
            )
        return canonical

    def is_deferred(self, raw: str) -> bool:
        """True for a deferred placeholder such as 'HJS-xxx' with a known prefix."""
        text = raw.strip().upper()
        match = _SHAPE.match(text)
        return bool(
            match and match["number"] == DEFERRED_MARK.upper() and match["prefix"] in self.paddings
        )


def _example(prefix: str, padding: int) -> str:
    return str(LearningGoalId(prefix, 1, padding))


def _listing(paddings: Mapping[str, int], limit: int = 12) -> str:
    names = sorted(paddings)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
