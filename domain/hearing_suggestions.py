"""Suggesting a hearing for a response that quotes no case number but names the
hearing's subject ("Innspill til høring – kliniske studier" for 24/750 "Kompetanse om
kliniske studier i spesialistutdanningen for leger: …").

Words are compared in a normal form: lower case, split on anything but letters, and cut
to a rough Norwegian stem (kliniske → klinisk, studier/studiene → studi). Function words
and the words every hearing and response on learning goals uses (høring, innspill,
læringsmål, spesialistutdanning, lege, kompetanse, forslag …) are not significant, so
a generic subject such as "Høringssvar" or "Innspill til læringsmål" suggests nothing.

A hearing is suggested when
- the subject's significant words include at least two of the title's, and at least
  half of the subject's significant words are the title's; or
- the subject has no significant word but the body names two consecutive significant
  words of the title ("kliniske studier") within its first 2,000 characters.
The score is the share of the subject's significant words found in the title (1.0 for
a full match); a body match scores 0.5.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

_WORD = re.compile(r"[^\W\d_]+")
_SUFFIXES = ("heten", "heter", "ende", "ene", "ane", "het", "er", "en", "et", "e", "a")
_MIN_STEM = 4
BODY_CHARS = 2000
BODY_SCORE = 0.5

_FUNCTION_WORDS = (
    "og i for til av på pa med om en et ei ett den det de dei som fra ved hos under etter "
    "mot eller ikke vi oss dere er var har kan skal vil ang angående vedr vedrørende "
    "re sv vs fw fwd aw antw svar the to of in and on about regarding "
    "sak saksnr ref nr vår deres mht"
)
_GENERIC_WORDS = (
    "høring høringen høringer høringssvar høringsinnspill høringsuttalelse høringsbrev "
    "høringsnotat innspill uttalelse merknad merknader kommentar kommentarer forslag "
    "endring endringer endringsforslag innføring ny nye nytt enkelte utvalgte "
    "læringsmål læringsmålene kompetansemål kompetanse spesialistutdanning "
    "spesialistutdanningen spesialitet spesialiteter legespesialitet legespesialiteter "
    "lege leger legers helsedirektoratet hdir kvittering vedlegg tilbakemelding"
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def stem(word: str) -> str:
    """A rough Norwegian stem: the longest listed ending cut, keeping four letters."""
    word = _fold(word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


_STOP = frozenset(stem(w) for w in f"{_FUNCTION_WORDS} {_GENERIC_WORDS}".split())


def significant_words(text: str) -> tuple[str, ...]:
    """The stems of `text`'s significant words, in order (repeats kept)."""
    stems = (stem(word) for word in _WORD.findall(_fold(text)))
    return tuple(s for s in stems if len(s) > 2 and s not in _STOP)


@dataclass(frozen=True)
class HearingTitle:
    case: str
    title: str


@dataclass(frozen=True)
class Suggestion:
    case: str
    title: str
    score: float
    matched: tuple[str, ...]  # the title's stems the message names

    def as_json(self) -> dict[str, object]:
        return {
            "case": self.case,
            "title": self.title,
            "score": round(self.score, 2),
            "matched": list(self.matched),
        }


def _pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(words))


def _score(
    subject: tuple[str, ...], body: tuple[str, ...], title: tuple[str, ...]
) -> tuple[float, tuple[str, ...]] | None:
    in_title = set(title)
    if subject:
        distinct = list(dict.fromkeys(subject))
        matched = tuple(w for w in distinct if w in in_title)
        if len(matched) >= 2 and len(matched) * 2 >= len(distinct):
            return len(matched) / len(distinct), matched
        return None
    shared = _pairs(body) & _pairs(title)
    if not shared:
        return None
    matched = tuple(dict.fromkeys(w for w in title if any(w in pair for pair in shared)))
    return BODY_SCORE, matched


def suggest_hearings(
    subject: str | None, body: str | None, hearings: Iterable[HearingTitle]
) -> list[Suggestion]:
    """The hearings a message names by subject, best first (see the module docstring)."""
    subject_words = significant_words(subject or "")
    body_words = significant_words((body or "")[:BODY_CHARS])
    found = []
    for hearing in hearings:
        scored = _score(subject_words, body_words, significant_words(hearing.title))
        if scored is not None:
            score, matched = scored
            found.append(Suggestion(hearing.case, hearing.title, score, matched))
    return sorted(found, key=lambda s: (-s.score, -len(s.matched), s.case))


__all__ = [
    "HearingTitle",
    "Suggestion",
    "significant_words",
    "stem",
    "suggest_hearings",
]
