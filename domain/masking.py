"""Masking one person's name (and e-mail address) in all its written forms.

`PrivateMask` is built from a name and address (the sender's, or a name
`domain.name_finding` found in the response) and masks them wherever they appear: header
lines, body, signature, attachment text, file names. `domain.response_masking` combines
the masks of everyone a private person's response names with the structured identifiers
(`domain.personal_data`); organisations are never masked, the caller decides who is a
private person.

What is found (case-insensitive, æøå included, any whitespace or line break between
name parts, hyphenated names with or without the hyphen):
- the address, also inside `mailto:`, and its local part alone when it is distinctive
  (at least five characters and not a plain word, e.g. `kari.nordmann`, not `anonym`);
- the full name and its variants: first and last name in either order, "Etternavn,
  Fornavn", without middle names, with initials for the given names ("K. Nordmann",
  "K.A. Nordmann", "Kari A. Nordmann");
- the last name alone, when written with a capital letter (a surname such as Berg or Lie
  is also a common word, and those are left alone in lower case);
- the first name alone, when written with a capital letter, only in the signature block
  (after the closing formula), the greeting ("Hilsen Kari") or alone on a line ("> Kari"),
  because first names such as Per, Dag or Mai are common words elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from domain.name_finding import CLOSING as _CLOSING
from domain.personal_data import EMAIL_MASK, NAME_MASK

_GREETING_LINE = re.compile(r"(?im)^[ \t>]*(?:hei|hallo|kjære|god\s+dag|heisann)\b[^\n]*$")
_MIN_LOCAL_PART = 5
_MIN_NAME_PART = 2
_TITLES = frozenset({"dr", "prof", "professor", "lege", "overlege", "lis", "cand", "med"})


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _name_parts(name: str) -> list[str]:
    """'Kari Anne Nordmann' -> ['Kari', 'Anne', 'Nordmann']; 'Nordmann, Kari' is turned
    around first; quotes and titles in parentheses are dropped."""
    name = _nfc(name).strip().strip("\"'")
    name = re.sub(r"\([^)]*\)", " ", name)
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        name = f"{first} {last}"
    return [
        part
        for part in re.split(r"\s+", name)
        if len(part.strip(".")) >= _MIN_NAME_PART and part.strip(".").lower() not in _TITLES
    ]


def name_from_address(address: str) -> str | None:
    """'kari.nordmann@gmail.com' -> 'Kari Nordmann' (two or three alphabetic parts)."""
    local = address.split("@", 1)[0]
    parts = [p for p in re.split(r"[._]+", local) if p]
    if 2 <= len(parts) <= 3 and all(p.isalpha() and len(p) >= _MIN_NAME_PART for p in parts):
        return " ".join(p.capitalize() for p in parts)
    return None


def _flexible(part: str) -> str:
    """A name part as a pattern: hyphens may be written as spaces and the reverse."""
    pieces = [re.escape(p) for p in re.split(r"[-\s]+", part) if p]
    return r"[-\s]+".join(pieces)


def _initials(parts: list[str]) -> str:
    """'Kari Anne' -> pattern for 'K. A.', 'K.A.', 'K A', 'KA'."""
    letters = [re.escape(p[0]) for part in parts for p in re.split(r"-", part) if p]
    return r"\.?\s*".join(letters) + r"\.?"


def name_patterns(name: str) -> list[str]:
    """The regular expressions (without flags) for the variants of a full name."""
    parts = _name_parts(name)
    if len(parts) < 2:
        return [_flexible(parts[0])] if parts else []
    given, last = parts[:-1], parts[-1]
    first = given[0]
    space = r"\s+"
    full = space.join(_flexible(p) for p in parts)
    variants = [
        full,
        rf"{_flexible(last)}\s*,\s*{space.join(_flexible(p) for p in given)}",
        rf"{_flexible(last)}\s*,\s*{_flexible(first)}",
        rf"{_flexible(last)}{space}{space.join(_flexible(p) for p in given)}",
        rf"{_flexible(first)}{space}{_flexible(last)}",
        rf"{_initials(given)}\s*{_flexible(last)}",
        rf"{_initials([first])}\s*{_flexible(last)}",
        rf"{_flexible(last)}\s*,\s*{_initials(given)}",
        rf"{_flexible(last)}\s*,\s*{_initials([first])}",
    ]
    if len(given) > 1:
        variants.append(rf"{_flexible(first)}\s+{_initials(given[1:])}\s*{_flexible(last)}")
    # Longest first, so "Kari Anne Nordmann" is masked whole, not as "Kari" + "Anne ...".
    return sorted(dict.fromkeys(variants), key=len, reverse=True)


@dataclass(frozen=True)
class PrivateMask:
    """Masks one private person: `mask(text)` returns the text with name and address
    replaced by `[navn skjermet]` and `[e-postadresse skjermet]`."""

    name: str | None
    address: str | None
    name_mask: str = NAME_MASK
    address_mask: str = EMAIL_MASK
    _full: re.Pattern[str] | None = field(init=False, repr=False, default=None)
    _address: re.Pattern[str] | None = field(init=False, repr=False, default=None)
    _last: re.Pattern[str] | None = field(init=False, repr=False, default=None)
    _first: re.Pattern[str] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        def compiled(patterns: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str] | None:
            if not patterns:
                return None
            return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", flags)

        address_patterns: list[str] = []
        if self.address and "@" in self.address:
            address = _nfc(self.address.strip().strip("<>"))
            address_patterns.append(re.escape(address))
            local = address.split("@", 1)[0]
            if len(local) >= _MIN_LOCAL_PART and not local.isalpha():
                # "kari.overaas" alone is the person; "anonym" alone is a word.
                address_patterns.append(re.escape(local) + r"(?![\w.]*@)")
        parts = _name_parts(self.name) if self.name else []
        object.__setattr__(self, "_address", compiled(address_patterns))
        object.__setattr__(self, "_full", compiled(name_patterns(self.name or "")))
        if len(parts) >= 2:
            # Case-sensitive: capitalised ("Nordmann") or all capitals ("NORDMANN").
            last = parts[-1]
            object.__setattr__(
                self, "_last", compiled([_flexible(last), _flexible(last.upper())], 0)
            )
            first = parts[0]
            object.__setattr__(
                self, "_first", compiled([_flexible(first), _flexible(first.upper())], 0)
            )

    @classmethod
    def for_sender(cls, name: str | None, address: str | None) -> PrivateMask:
        """The mask of a sender; without a display name, the name is read from an
        address such as kari.nordmann@... when it has that form."""
        if not (name and name.strip()) and address:
            name = name_from_address(address.strip().strip("<>"))
        return cls(name=name, address=address)

    @property
    def is_empty(self) -> bool:
        return self._address is None and self._full is None

    def mask(self, text: str) -> str:
        """`text` (NFC-normalised) with the person's address and name masked."""
        return mask_people(_nfc(text), [self])

    def mask_step(self, text: str, step: int) -> str:
        """One of the `STEPS` masking steps: 0 the address, 1 the full name in its
        variants, 2 the surname alone, 3 the first name where signed."""
        if step == 0 and self._address is not None:
            return self._address.sub(self.address_mask, text)
        if step == 1 and self._full is not None:
            return self._full.sub(self.name_mask, text)
        if step == 2 and self._last is not None:
            return self._last.sub(self.name_mask, text)
        if step == 3 and self._first is not None:
            return self._mask_first_name_where_signed(text)
        return text

    def _mask_first_name_where_signed(self, text: str) -> str:
        assert self._first is not None
        text = mask_where_signed(text, self._first, self.name_mask)
        # A line holding the first name alone ("> Petter" under a quoted message).
        alone = re.compile(rf"(?m)^([ \t>]*){self._first.pattern}([ \t.,!]*)$")
        return alone.sub(rf"\g<1>{self.name_mask}\g<2>", text)


STEPS = range(4)


def mask_people(text: str, people: list[PrivateMask]) -> str:
    """`text` with several people masked step by step (every full name before any surname
    alone), the longest names first: "Sindre Håkon Sandnes" is masked whole before the
    sender's "Sandnes" alone could cut it apart."""
    ordered = sorted(people, key=lambda p: -len(p.name or ""))
    for step in STEPS:
        for person in ordered:
            text = person.mask_step(text, step)
    return text


def mask_where_signed(text: str, pattern: re.Pattern[str], replacement: str) -> str:
    """`pattern` replaced only in greeting lines and from the closing formula on: a first
    name alone (Per, Dag, Mai) is a common word elsewhere."""
    spans: list[tuple[int, int]] = [m.span() for m in _GREETING_LINE.finditer(text)]
    closing = _CLOSING.search(text)
    if closing is not None:
        spans.append((closing.start(), len(text)))
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            start = position
        pieces.append(text[position:start])
        pieces.append(pattern.sub(replacement, text[start:end]))
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


__all__ = [
    "EMAIL_MASK",
    "NAME_MASK",
    "PrivateMask",
    "mask_people",
    "mask_where_signed",
    "name_from_address",
    "name_patterns",
]
