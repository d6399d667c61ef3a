"""Case numbers (saksnummer) as Helsedirektoratet writes them: `YY/N`, e.g. 24/750.

People quote them in many ways: "24/750", "sak 24/750", "saksnr. 24/750",
"Saksnummer: 24/750", "Deres ref.: 24/750-1" (the `-1` is a document number within
the case and is dropped), "Vår ref 24/750", and archive systems write "2024/750".
The canonical form is two-digit year, slash, sequence number without leading zeros.

Rule for finding them in free text, so that dates, school years and ratios are not
taken for case numbers:

- After a case prefix (sak, saksnr., saksnummer, ref., referanse, Deres ref.,
  Vår ref., arkivsak ...): `YY/N` or `YYYY/N` with N of 1-6 digits is accepted.
- Without a prefix ("bare") only `YY/N` with N of 2-6 digits, standing alone (not
  glued to digits, letters, '/', '.', ',' or '-' on the left, nor to a digit,
  letter or '/' on the right, nor followed by '%'), and none of these:
  - N of at most two digits and ≤ 12: a date ("31/05", "24/12");
  - N of two digits equal to YY + 1: a school or budget year ("23/24");
  - N of two digits with YY + N = 100: a split ("80/20", "50/50");
  - N a year 1900-2099 and YY ≤ 12: a month ("05/2024").
- Prefixed matches come first (in order of appearance), then bare ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.errors import UserError

_NUMBER = r"(?P<year>(?:19|20)\d{2}|\d{2})/(?P<seq>\d{1,6})(?:-\d{1,4})?(?![\w/])"
_PREFIX = (
    r"(?<!\w)(?:saksnummer|saksnr|sak\s*nr|saksreferanse|arkivsaksnr|arkivsak|sak"
    r"|(?:deres|vår|var|your|our)\s*ref(?:eranse|erence)?|referanse|reference|ref)"
    r"\.?(?:\s*nr\.?)?\s*[:.]?\s*"
)
_PREFIXED = re.compile(_PREFIX + _NUMBER, re.IGNORECASE)
_BARE = re.compile(r"(?<![\w/.,-])(?P<year>\d{2})/(?P<seq>\d{2,6})(?:-\d{1,4})?(?![\w/]|\s?%)")
_CANONICAL_INPUT = re.compile(r"(?P<year>\d{2}|\d{4})/(?P<seq>\d{1,6})(?:-\d{1,4})?")


def _canonical(year: str, seq: str) -> str | None:
    """`YY/N` from matched digits, or None when the numbers cannot be a case number."""
    if len(year) == 4 and not year.startswith(("19", "20")):
        return None
    number = int(seq)
    return f"{year[-2:]}/{number}" if number > 0 else None


def _looks_like_something_else(year: str, seq: str) -> bool:
    """A bare `NN/N` that is more likely a date, school year, split or month."""
    yy, number = int(year), int(seq)
    if len(seq) <= 2 and number <= 12:
        return True
    if len(seq) == 2 and (number == (yy + 1) % 100 or yy + number == 100):
        return True
    return len(seq) == 4 and 1900 <= number <= 2099 and yy <= 12


def find_case_numbers(text: str) -> list[str]:
    """Every case number in `text`, canonical and without repeats, prefixed ones first."""
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    for match in _PREFIXED.finditer(text):
        taken.append(match.span("year"))
        case = _canonical(match["year"], match["seq"])
        if case is not None:
            found.append(case)
    for match in _BARE.finditer(text):
        if match.span("year") in taken or _looks_like_something_else(match["year"], match["seq"]):
            continue
        case = _canonical(match["year"], match["seq"])
        if case is not None:
            found.append(case)
    return list(dict.fromkeys(found))


def normalise_case_number(text: str, where: str = "case number") -> str:
    """The canonical `YY/N` form of a case number a person typed.

    Accepts "24/750", "24/750-1" (document number dropped), "2024/750" and leading
    zeros ("24/0750"); anything else raises a UserError saying how to write it.
    """
    value = text.strip()
    hint = "write it as YY/NNN, e.g. 24/750"
    if not value:
        raise UserError(f"{where}: the case number is empty; {hint}")
    match = _CANONICAL_INPUT.fullmatch(value)
    if match is None:
        dashed = re.fullmatch(r"(\d{2}|\d{4})\s*-\s*(\d{1,6})", value)
        if dashed:
            raise UserError(
                f"{where}: '{value}' has a hyphen where the slash belongs; "
                f"write it as {dashed[1][-2:]}/{int(dashed[2])}"
            )
        found = find_case_numbers(value)
        if found:
            raise UserError(f"{where}: '{value}' has more than the number; write only {found[0]}")
        raise UserError(f"{where}: '{value}' is not a case number; {hint}")
    case = _canonical(match["year"], match["seq"])
    if case is None:
        raise UserError(
            f"{where}: '{value}' is not a case number (the year must be YY or 19YY/20YY "
            f"and the sequence number at least 1); {hint}"
        )
    return case


def match_case_number(
    subject: str | None, body: str | None, known_cases: Iterable[str]
) -> str | None:
    """The first known case quoted in the subject, else in the body, else None."""
    known = {normalise_case_number(case, "known case") for case in known_cases}
    for text in (subject, body):
        for case in find_case_numbers(text or ""):
            if case in known:
                return case
    return None
