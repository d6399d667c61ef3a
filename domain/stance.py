"""Stances of hearing responses, and a stance suggested from the text.

The four stances of a høringsoppsummering: støtter, støtter med merknader, går imot,
ingen merknader. `suggest_stance` reads Norwegian (bokmål and some nynorsk) phrases and
returns the stance with the phrase that triggered it; it is only a suggestion, a person
confirms it (or records that it was accepted as suggested).

How the suggestion is made:
- phrases of support ("støtter forslaget", "slutter oss til", "ingen innvendinger"),
  opposition ("går imot", "fraråder", "kan ikke støtte"), no view ("ingen merknader",
  "har ingen kommentarer") and qualification ("med følgende merknader", "støtter ...,
  men", "imidlertid") are found, outside quoted reply lines ("> ...");
- a negation in the same clause flips support and opposition: "støtter ikke" and
  "kan ikke støtte" oppose, "vil ikke gå imot" supports; "ikke bare" and "ikke minst"
  are not negations;
- opposition before any support decides "går imot"; support followed later by opposition
  or by a qualification is "støtter med merknader"; support alone "støtter"; "ingen
  merknader" only when nothing else was said (with a qualification it has comments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Stance(StrEnum):
    SUPPORTS = "supports"
    SUPPORTS_WITH_COMMENTS = "supports_with_comments"
    OPPOSES = "opposes"
    NO_COMMENTS = "no_comments"

    @property
    def label_nb(self) -> str:
        return STANCE_LABELS_NB[self]


STANCE_LABELS_NB: dict[Stance, str] = {
    Stance.SUPPORTS: "støtter",
    Stance.SUPPORTS_WITH_COMMENTS: "støtter med merknader",
    Stance.OPPOSES: "går imot",
    Stance.NO_COMMENTS: "ingen merknader",
}

# The order stances are listed in (tables, charts).
STANCE_ORDER: tuple[Stance, ...] = (
    Stance.SUPPORTS,
    Stance.SUPPORTS_WITH_COMMENTS,
    Stance.OPPOSES,
    Stance.NO_COMMENTS,
)


_FOLDED: dict[str, str | int | None] = {"æ": "ae", "ø": "o", "å": "a"}


def _key(text: str) -> str:
    """Lower case, æøå folded to ASCII, separators removed: 'Går imot' -> 'garimot'."""
    folded = text.strip().lower().translate(str.maketrans(_FOLDED))
    return re.sub(r"[\s_\-]+", "", folded)


_STANCE_NAMES: dict[str, Stance] = {}
for _stance in Stance:
    _STANCE_NAMES[_key(_stance.value)] = _stance
    _STANCE_NAMES[_key(_stance.label_nb)] = _stance
_STANCE_NAMES.update(
    {
        _key("støttar"): Stance.SUPPORTS,
        _key("støttar med merknader"): Stance.SUPPORTS_WITH_COMMENTS,
        _key("støtter med kommentarer"): Stance.SUPPORTS_WITH_COMMENTS,
        _key("imot"): Stance.OPPOSES,
        _key("går mot"): Stance.OPPOSES,
        _key("ingen kommentarer"): Stance.NO_COMMENTS,
    }
)


def parse_stance(text: str) -> Stance | None:
    """A stance from what a person typed: the Norwegian label ('støtter med merknader',
    'gar-imot', 'Ingen merknader') or the stored value ('supports_with_comments')."""
    return _STANCE_NAMES.get(_key(text))


def stance_choices_nb() -> str:
    """The stances as a person may type them, for error messages."""
    return ", ".join(f"'{s.label_nb}'" for s in STANCE_ORDER)


@dataclass(frozen=True)
class StanceSuggestion:
    """A suggested stance; `phrase` is the text that triggered it, at `position`."""

    stance: Stance
    phrase: str
    position: int


# --- phrase rules ------------------------------------------------------------------------

_SUPPORT, _OPPOSE, _NONE, _QUALIFY, _HEDGE = "support", "oppose", "none", "qualify", "hedge"

_OBJECT = (
    r"(?:\s+(?:derfor|også|dermed|herved|helhjertet|fullt\s+ut|"
    r"dette|det|forslaget|forslagene|framlegget|læringsmålet|læringsmåla|læringsmålene|"
    r"intensjonen|intensjonane|formålet|føremålet|hensikten|tanken|"
    r"innføringen|innføringa|endringen|endringa|endringene|endringane|høringsforslaget))*"
)
_REMARKS = (
    r"(?:merknader|merknadar|merknad|kommentarer|kommentarar|kommentar|innspill|"
    r"bemerkninger|bemerkningar|synspunkter|synspunkt)"
)

# (kind, pattern, negatable). A negatable phrase flips between support and opposition
# when negated; phrases that carry their own negation are not negatable.
_RULES: tuple[tuple[str, str, bool], ...] = (
    # support
    (_SUPPORT, r"støtt(?:er|ar|es|ast)(?!\w)" + _OBJECT, True),
    (_SUPPORT, r"(?:kan|kunne|vil|ville|skal|må|å)\s+(?:\w+\s+){0,3}?støtte", True),
    (_SUPPORT, r"(?:gir|gjev)\s+(?:\w+\s+){0,2}?støtte\s+til", True),
    (_SUPPORT, r"slutt(?:er|ar)\s+(?:oss|seg)\s+til", True),
    (_SUPPORT, r"still(?:er|ar)\s+(?:oss|seg)\s+bak", True),
    (_SUPPORT, r"er\s+(?:\w+\s+)?(?:positive?|positiv)\s+til", True),
    (_SUPPORT, r"er\s+(?:\w+\s+)?enige?\s+i", True),
    (_SUPPORT, r"ingen\s+(?:\w+\s+)?(?:innvendinger|innvendingar|motforestillinger)", False),
    (_SUPPORT, r"ikk(?:e|je)\s+(?:noen|nokon|nokre)\s+(?:innvendinger|innvendingar)", False),
    # opposition
    (_OPPOSE, r"g(?:år|å|jekk|ikk)\s+(?:\w+\s+){0,2}?i\s?mot", True),
    (_OPPOSE, r"er\s+(?:derfor\s+|sterkt\s+|klart\s+|prinsipielt\s+)?i?mot(?!\w)", True),
    (_OPPOSE, r"fr(?:a|å)r(?:åder|år|ådde|eid)", True),
    (_OPPOSE, r"motset(?:ter)?\s+(?:oss|seg)", True),
    (_OPPOSE, r"er\s+(?:\w+\s+)?negative?\s+til", True),
    (_OPPOSE, r"uenige?(?!\w)", True),
    (_OPPOSE, r"avvis(?:er|ar)\s+(?:forslaget|framlegget|læringsmålet)", True),
    (_OPPOSE, r"kan\s+ikk(?:e|je)\s+(?:anbefale|tilrå)", False),
    # no view
    (
        _NONE,
        r"(?:ingen|ikk(?:e|je)\s+(?:noen|nokon|nokre)?)\s*"
        r"(?:ytterligere\s+|ytterlegare\s+|andre\s+|vesentlige\s+|vesentlege\s+|særskilte\s+|"
        r"spesielle\s+|videre\s+|vidare\s+|flere\s+|fleire\s+|konkrete\s+)?" + _REMARKS,
        False,
    ),
    (_NONE, r"uten\s+merknader|utan\s+merknader", False),
    (_NONE, r"tar\s+(?:\w+\s+)?til\s+orientering", False),
    # qualification
    (
        _QUALIFY,
        r"(?:med|har|gir|gi|gje|gjev|kommer\s+med|kjem\s+med)\s+(?:følgende|følgjande|noen|nokre|"
        r"enkelte|et\s+par|eit\s+par|noen\s+få|nokre\s+få|flere|fleire|visse)\s+" + _REMARKS,
        False,
    ),
    (_QUALIFY, r"følg(?:ende|jande)\s+" + _REMARKS, False),
    (_QUALIFY, r"med\s+(?:visse\s+|enkelte\s+|noen\s+|nokre\s+)?(?:forbehold|atterhald)", False),
    # hedges: qualify support or "ingen merknader", say nothing alone
    (_HEDGE, r"i\s+(?:all\s+)?(?:hovedsak|hovudsak)", False),
    (_HEDGE, r"imidlertid|likevel|derimot|dog", False),
    (_HEDGE, r"(?:vil|ønsker\s+å|ønskjer\s+å)\s+(?:\w+\s+)?(?:påpeke|bemerke|peke\s+på)", False),
    (
        _HEDGE,
        r"er\s+(?:\w+\s+)?(?:skeptiske?|kritiske?|bekymret|bekymra)\s+(?:til|for|over)",
        False,
    ),
)

_COMPILED = tuple(
    (kind, re.compile(r"(?<!\w)" + pattern + r"(?!\w)", re.IGNORECASE), negatable)
    for kind, pattern, negatable in _RULES
)
# "støtter ..., men" / "ingen merknader ..., men": support or no view qualified in the
# same sentence.
_BUT = re.compile(r"(?<!\w)men(?!\w)", re.IGNORECASE)
_NEGATOR = re.compile(r"^(?:ikke|ikkje|ingen|aldri)$", re.IGNORECASE)
_NOT_A_NEGATION = re.compile(r"^(?:bare|berre|minst|berre)$", re.IGNORECASE)
_CLAUSE_STOP_WORDS = frozenset({"og", "men", "at", "som", "enn", "fordi", "da", "når"})
_WORD = re.compile(r"\w+|[,.;:!?\n]")
_SENTENCE_END = re.compile(r"[.!?;\n]")
_WINDOW_BEFORE = 5
_WINDOW_AFTER = 2
_LONG_PHRASE = 50  # "støtter intensjonen om ... , men" is shown as "støtter … men"


@dataclass(frozen=True)
class _Hit:
    kind: str
    start: int
    end: int
    phrase: str


def _blank_quoted_lines(text: str) -> str:
    """Quoted reply lines ('> ...') replaced by spaces, so positions stay the same."""
    return re.sub(r"(?m)^[ \t]*>.*$", lambda m: " " * len(m.group(0)), text)


def _tokens_before(text: str, start: int) -> list[re.Match[str]]:
    """The words of the clause before `start`, nearest last."""
    words: list[re.Match[str]] = []
    for token in _WORD.finditer(text, max(0, start - 200), start):
        if not token.group(0)[0].isalnum() or token.group(0).lower() in _CLAUSE_STOP_WORDS:
            words = []
        else:
            words.append(token)
    return words[-_WINDOW_BEFORE:]


def _negation(text: str, start: int, end: int) -> re.Match[str] | None:
    """The negating word before, inside or just after the phrase at start:end, if any."""
    inside = [t for t in _WORD.finditer(text, start, end) if _NEGATOR.match(t.group(0))]
    if inside:
        return inside[0]
    before = [t for t in _tokens_before(text, start) if _NEGATOR.match(t.group(0))]
    if before:
        return before[-1]
    after = list(_WORD.finditer(text, end, min(len(text), end + 60)))[: _WINDOW_AFTER + 1]
    for index, token in enumerate(after[:_WINDOW_AFTER]):
        word = token.group(0)
        if not word[0].isalnum():
            break
        if _NEGATOR.match(word):
            following = after[index + 1].group(0) if index + 1 < len(after) else ""
            return None if _NOT_A_NEGATION.match(following) else token
    return None


def _hits(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for kind, pattern, negatable in _COMPILED:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            found_kind = kind
            if negatable:
                negator = _negation(text, start, end)
                if negator is not None:
                    found_kind = _OPPOSE if kind == _SUPPORT else _SUPPORT
                    start, end = min(start, negator.start()), max(end, negator.end())
            hits.append(_Hit(found_kind, start, end, " ".join(text[start:end].split())))
    hits.sort(key=lambda h: (h.start, -h.end))
    return _drop_overlaps(hits)


def _drop_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Keep the first (longest) hit where hits overlap."""
    kept: list[_Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def _qualified_in_sentence(text: str, hit: _Hit) -> _Hit | None:
    """'støtter forslaget, men ...': the phrase up to 'men' when it is in the same sentence."""
    end = _SENTENCE_END.search(text, hit.end)
    stop = end.start() if end else len(text)
    but = _BUT.search(text, hit.end, stop)
    if but is None:
        return None
    phrase = " ".join(text[hit.start : but.end()].split())
    if len(phrase) > _LONG_PHRASE:
        phrase = f"{hit.phrase} … {but.group(0)}"
    return _Hit(_QUALIFY, hit.start, but.end(), phrase)


def suggest_stance(text: str) -> StanceSuggestion | None:
    """The stance the text suggests, with the phrase that triggered it; None when the
    text says nothing recognisable."""
    visible = _blank_quoted_lines(text)
    hits = _hits(visible)
    first = {kind: next((h for h in hits if h.kind == kind), None) for kind in _KINDS}
    support, oppose, none, qualify, _hedge = (first[k] for k in _KINDS)
    anchor = support or none
    if anchor is not None and qualify is None:
        qualify = _qualified_in_sentence(visible, anchor) or _after(hits, _HEDGE, anchor)

    def suggestion(stance: Stance, hit: _Hit) -> StanceSuggestion:
        return StanceSuggestion(stance, hit.phrase, hit.start)

    if oppose is not None and (support is None or oppose.start < support.start):
        return suggestion(Stance.OPPOSES, oppose)
    if support is not None:
        if oppose is not None:
            return suggestion(Stance.SUPPORTS_WITH_COMMENTS, oppose)
        if qualify is not None:
            return suggestion(Stance.SUPPORTS_WITH_COMMENTS, qualify)
        return suggestion(Stance.SUPPORTS, support)
    if qualify is not None:
        return suggestion(Stance.SUPPORTS_WITH_COMMENTS, qualify)
    if none is not None:
        return suggestion(Stance.NO_COMMENTS, none)
    return None


def _after(hits: list[_Hit], kind: str, anchor: _Hit) -> _Hit | None:
    return next((h for h in hits if h.kind == kind and h.start >= anchor.end), None)


_KINDS = (_SUPPORT, _OPPOSE, _NONE, _QUALIFY, _HEDGE)

__all__ = [
    "STANCE_LABELS_NB",
    "STANCE_ORDER",
    "Stance",
    "StanceSuggestion",
    "parse_stance",
    "stance_choices_nb",
    "suggest_stance",
]
