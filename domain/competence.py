"""Competence levels of learning goals, read from the vocabulary the goals are written in.

Helsedirektoratet writes every learning goal with fixed phrases for three levels
(kunnskap / ferdigheter):

- lowest: "ha kjennskap til", "kjenne til"
- middle: "ha kunnskap om", "under supervisjon kunne"
- highest: "ha god kunnskap om", "beherske", "selvstendig kunne"

A goal whose level goes up is "stricter": Kompetanseportalen does not carry earlier
approvals over to it, so the hearing letter must say so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

SIMILARITY_THRESHOLD = 0.85


class CompetenceLevel(IntEnum):
    LOWEST = 1
    MIDDLE = 2
    HIGHEST = 3

    @property
    def label_nb(self) -> str:
        """The level as named in Helsedirektoratet's vocabulary table."""
        return _LABELS_NB[self]


_LABELS_NB = {
    CompetenceLevel.LOWEST: "laveste kompetansenivå",
    CompetenceLevel.MIDDLE: "mellomste kompetansenivå",
    CompetenceLevel.HIGHEST: "høyeste kompetansenivå",
}

LEVEL_PHRASES: Mapping[str, CompetenceLevel] = {
    "ha kjennskap til": CompetenceLevel.LOWEST,
    "kjenne til": CompetenceLevel.LOWEST,
    "ha kunnskap om": CompetenceLevel.MIDDLE,
    "under supervisjon kunne": CompetenceLevel.MIDDLE,
    "ha god kunnskap om": CompetenceLevel.HIGHEST,
    "beherske": CompetenceLevel.HIGHEST,
    "selvstendig kunne": CompetenceLevel.HIGHEST,
}

# Longest phrases first, so "ha god kunnskap om" wins over "kunnskap om" style overlaps.
_PHRASE_RE = re.compile(
    r"(?<![\wæøå])("
    + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(LEVEL_PHRASES, key=len)[::-1])
    + r")(?![\wæøå])",
    re.IGNORECASE,
)

# Abbreviations that end in a full stop but do not end a sentence.
_ABBREVIATIONS = frozenset(
    {"f.eks.", "bl.a.", "jf.", "jfr.", "ca.", "dvs.", "evt.", "mht.", "osv.", "m.m.", "e.f.", "nr."}
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[\"«(]?[A-ZÆØÅ0-9])")
_FOOTNOTE_RE = re.compile(r"(?<=[a-zæøå])\d+(?=[.!?]?$)")


def split_sentences(text: str) -> list[str]:
    """The sentences of a goal text, whitespace normalised.

    A sentence ends at '.', '!' or '?' followed by whitespace and a capital letter
    or digit, unless the full stop belongs to a common abbreviation ("f.eks.").
    """
    flat = " ".join(text.split())
    if not flat:
        return []
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(flat):
        candidate = flat[start : match.start()]
        last_word = candidate.rsplit(" ", 1)[-1].lower()
        if last_word in _ABBREVIATIONS:
            continue
        sentences.append(candidate)
        start = match.end()
    sentences.append(flat[start:])
    return [s for s in sentences if s]


def level_of_sentence(sentence: str) -> CompetenceLevel | None:
    """The highest competence level named in one sentence, or None if it names none."""
    levels = [LEVEL_PHRASES[_normalise_phrase(m.group(1))] for m in _PHRASE_RE.finditer(sentence)]
    return max(levels) if levels else None


def level_of_text(text: str) -> CompetenceLevel | None:
    """The highest level among the sentences of a goal text, or None."""
    levels = [lvl for s in split_sentences(text) if (lvl := level_of_sentence(s)) is not None]
    return max(levels) if levels else None


@dataclass(frozen=True)
class SentenceMatch:
    """A sentence of a new text that says the same as a sentence of an existing goal."""

    goal_id: str
    sentence_index: int
    new_sentence: str
    existing_sentence: str
    level_before: CompetenceLevel | None
    level_after: CompetenceLevel | None
    similarity: float

    @property
    def level_changed(self) -> bool:
        return self.level_before != self.level_after

    @property
    def stricter(self) -> bool:
        """True if the new sentence asks for a higher level than the existing one."""
        return (
            self.level_before is not None
            and self.level_after is not None
            and self.level_after > self.level_before
        )


def find_corresponding_sentences(
    new_text: str,
    existing: Mapping[str, str],
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[SentenceMatch]:
    """Sentences of `new_text` that match a sentence of an existing goal once the level
    phrases are stripped (difflib ratio >= `threshold`); the best match per sentence."""
    existing_sentences = [
        (goal_id, sentence, _body(sentence))
        for goal_id, text in existing.items()
        for sentence in split_sentences(text)
    ]
    matches: list[SentenceMatch] = []
    for index, sentence in enumerate(split_sentences(new_text)):
        body = _body(sentence)
        best: SentenceMatch | None = None
        for goal_id, old_sentence, old_body in existing_sentences:
            ratio = difflib.SequenceMatcher(None, body, old_body, autojunk=False).ratio()
            if ratio >= threshold and (best is None or ratio > best.similarity):
                best = SentenceMatch(
                    goal_id=goal_id,
                    sentence_index=index,
                    new_sentence=sentence,
                    existing_sentence=old_sentence,
                    level_before=level_of_sentence(old_sentence),
                    level_after=level_of_sentence(sentence),
                    similarity=ratio,
                )
        if best is not None:
            matches.append(best)
    return matches


def find_level_changes(
    new_text: str,
    existing: Mapping[str, str],
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[SentenceMatch]:
    """Corresponding sentences (see `find_corresponding_sentences`) whose level differs.

    For 24/750: the new goal's first sentence corresponds to FKM LM-75 but raises the
    level from "ha kjennskap til" (lowest) to "ha kunnskap om" (middle).
    """
    return [
        m for m in find_corresponding_sentences(new_text, existing, threshold) if m.level_changed
    ]


def is_stricter(old_text: str, new_text: str) -> bool:
    """True if `new_text` asks for more than `old_text`: a higher overall level, or a
    sentence that says the same thing at a higher level."""
    before, after = level_of_text(old_text), level_of_text(new_text)
    if before is not None and after is not None and after > before:
        return True
    return any(m.stricter for m in find_level_changes(new_text, {"old": old_text}))


def _normalise_phrase(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _body(sentence: str) -> str:
    """A sentence without its level phrases, footnote marks and final punctuation."""
    stripped = _FOOTNOTE_RE.sub("", sentence.strip())
    stripped = _PHRASE_RE.sub(" ", stripped)
    words = stripped.lower().split()
    while words and words[0] in {"og", "eller"}:
        words.pop(0)
    return " ".join(words).rstrip(".!?;: ")
