"""Word-level differences between a campaign member and its representative (difflib)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    text: str
    changed: bool


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def side_by_side(base: str, other: str) -> tuple[list[Piece], list[Piece]]:
    """Both texts in pieces, each marked changed where the other text differs."""
    left, right = _tokens(base), _tokens(other)
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    ours: list[Piece] = []
    theirs: list[Piece] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        same = tag == "equal"
        if a2 > a1:
            ours.append(Piece("".join(left[a1:a2]), not same))
        if b2 > b1:
            theirs.append(Piece("".join(right[b1:b2]), not same))
    return ours, theirs
