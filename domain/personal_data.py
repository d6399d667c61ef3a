"""Structured personal identifiers in a private person's text, and their placeholders.

Found wherever they occur (header lines, body, quotes, forwards, attachment text, file
names) and replaced by a placeholder that says what was there:

- fødselsnummer and D-nummer: eleven digits (`01018012345`, `010180 12345`) whose date
  part is a date (D-nummer: day + 40) and whose two check digits hold (mod 11), so a case
  number, a date or a goal ID is never taken for one;
- phone numbers: the `phonenumbers` library (Google's libphonenumber metadata) with
  Norway as the default region, valid numbers only (`912 34 567`, `+47 41234567`,
  `98 76 54 32`, `+4799887766`, `004791122334`, `22 33 44 55`);
- e-mail addresses, except an organisation's functional ones (`postmottak@...`) and
  Helsedirektoratet's own;
- street addresses with a postcode (`Storgata 1, 0155 Oslo`, also over a line break);
- birth dates after "født", "fødd", "f." or "fødselsdato" (`født 12.03.1987`).
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

PHONE_MASK = "[telefonnummer skjermet]"
NATIONAL_ID_MASK = "[fødselsnummer skjermet]"
EMAIL_MASK = "[e-postadresse skjermet]"
ADDRESS_MASK = "[adresse skjermet]"
BIRTH_DATE_MASK = "[fødselsdato skjermet]"
NAME_MASK = "[navn skjermet]"


PLACEHOLDERS = (PHONE_MASK, NATIONAL_ID_MASK, EMAIL_MASK, ADDRESS_MASK, BIRTH_DATE_MASK, NAME_MASK)

_ELEVEN_DIGITS = re.compile(r"(?<![\d/-])(\d{6})[ \t]?(\d{5})(?![\d/])")
_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
FUNCTIONAL_LOCAL_PARTS = frozenset(
    {"post", "postmottak", "firmapost", "info", "kontakt", "sekretariat", "noreply", "no-reply"}
    | {"hoering", "horing", "høring", "regutpost", "postkasse", "ekspedisjon", "mottak"}
)
OWN_DOMAINS = frozenset({"helsedir.no"})

_STREET_SUFFIX = (
    r"(?:gate|gata|gaten|gt\.?|veien|vegen|vei|veg|vn\.?|allé|alle|plass|plassen|stien|sti|"
    r"stig|bakken|bakke|lia|tunet|tun|ringen|brygge|bryggen|kaia|kaien|kroken|svingen|haugen|"
    r"jordet|løkka|toppen|åsen|sletta|moen|dalen|vollen|berget|stranda|torget|terrasse|"
    r"terrassen|hagen|kollen|lunden|parken|grenda|myra|neset|vika|skogen|smuget|gården|"
    r"marka|høgda|høyda|engen|enga|lina|linna|tråkket|hauen|vegen|kleiva|brekka)"
)
STREET_ADDRESS = re.compile(
    r"(?<!\w)(?:[A-ZÆØÅ][\w'.-]*[ \t]+){0,3}(?:[A-ZÆØÅ][\w'-]*)?(?i:"
    + _STREET_SUFFIX
    + r")[ \t]+\d{1,4}(?:[ \t]?[A-Za-z](?!\w))?"
    r"(?:[ \t]*,[ \t]*|[ \t]*\n[ \t>]*|[ \t]+)"
    r"(?:N-|NO-)?\d{4}[ \t]+[A-ZÆØÅ][\w-]*(?:[ \t]+[A-ZÆØÅ][\w-]*)?"
)
_MONTHS = (
    r"(?:januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|des)\.?"
)
BIRTH_DATE = re.compile(
    r"(?i)(?<!\w)(født|fødd|f\.|fødselsdato|fødselsdag|fødselsår|f\.dato)"
    r"(:?[ \t]+(?:den[ \t]+|i[ \t]+)?|:)"
    r"(\d{1,2}\.[ \t]?\d{1,2}\.[ \t]?(?:\d{4}|\d{2})|\d{1,2}\.?[ \t]+"
    + _MONTHS
    + r"[ \t]+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}[-/]\d{2,4}|(?:19|20)\d{2})(?!\d)"
)


def _check_digits(digits: str) -> bool:
    numbers = [int(c) for c in digits]
    k1 = (11 - sum(w * n for w, n in zip(_WEIGHTS_1, numbers[:9], strict=True)) % 11) % 11
    if k1 == 10 or k1 != numbers[9]:
        return False
    k2 = (11 - sum(w * n for w, n in zip(_WEIGHTS_2, numbers[:10], strict=True)) % 11) % 11
    return k2 != 10 and k2 == numbers[10]


def is_national_id(digits: str) -> bool:
    """Whether eleven digits are a fødselsnummer or D-nummer: a date (day + 40 for a
    D-nummer, month + 40 or + 80 for H-numbers and synthetic test numbers) and both
    check digits right."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    day, month = int(digits[:2]), int(digits[2:4])
    day = day - 40 if day > 40 else day
    month = month - 80 if month > 80 else month - 40 if month > 40 else month
    return 1 <= day <= 31 and 1 <= month <= 12 and _check_digits(digits)


def mask_national_ids(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = match.group(1) + match.group(2)
        return NATIONAL_ID_MASK if is_national_id(digits) else match.group(0)

    return _ELEVEN_DIGITS.sub(replace, text)


_PHONE_DIGITS = r"(?:\+|00)?(?:47[ \t-]?)?\d(?:[ \t-]?\d){7}(?!\d)"
CUED_PHONE = re.compile(
    r"(?i)((?<!\w)(?:tlf\.?|telefon(?:nummer)?|telefonnr\.?|mob(?:il)?\.?|mobilnummer|"
    r"ring(?:je)?(?:\s+\S+){0,3}?\s+på|nås\s+på|nåast\s+på|tel\.?)[ \t:]*)"
    rf"({_PHONE_DIGITS})"
)
COUNTRY_CODE_PHONE = re.compile(r"(?<![\w+])(?:\+|00)47[ \t-]?\d(?:[ \t-]?\d){7}(?!\d)")


_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _is_dotted_date(raw: str) -> bool:
    """'31.05.2024': a date as Norwegian letters write it, which the library would
    otherwise take for the valid number 31 05 20 24."""
    found = _DOTTED_DATE.fullmatch(raw.strip())
    if found is None:
        return False
    day, month, year = (int(part) for part in found.groups())
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def mask_phone_numbers(text: str) -> str:
    """Phone numbers masked: valid numbers (Norwegian by default, any with a country
    code), and also numbers the library does not know as allocated when they carry +47
    or follow a cue ("tlf.", "mobil", "ring meg på")."""
    text = COUNTRY_CODE_PHONE.sub(PHONE_MASK, text)
    text = CUED_PHONE.sub(lambda m: m.group(1) + PHONE_MASK, text)
    matcher = phonenumbers.PhoneNumberMatcher(text, "NO", leniency=phonenumbers.Leniency.VALID)
    spans = []
    for match in matcher:
        if _is_dotted_date(match.raw_string):
            continue
        start = match.start
        if match.raw_string.startswith("(") and ")" not in match.raw_string:
            start += 1  # "(912 34 567)": the bracket is the sentence's, not the number's
        spans.append((start, match.end))
    for start, end in reversed(spans):
        text = text[:start] + PHONE_MASK + text[end:]
    return text


def is_functional_address(address: str) -> bool:
    """An organisation's shared mailbox or Helsedirektoratet's own address."""
    local, _, domain = address.lower().rpartition("@")
    own = any(domain == d or domain.endswith("." + d) for d in OWN_DOMAINS)
    return own or local in FUNCTIONAL_LOCAL_PARTS


def mask_email_addresses(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        address = match.group(0).rstrip(".")
        tail = match.group(0)[len(address) :]
        return match.group(0) if is_functional_address(address) else EMAIL_MASK + tail

    return EMAIL.sub(replace, text)


def mask_street_addresses(text: str) -> str:
    return STREET_ADDRESS.sub(ADDRESS_MASK, text)


def mask_birth_dates(text: str) -> str:
    return BIRTH_DATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{BIRTH_DATE_MASK}", text)


def mask_identifiers(text: str) -> str:
    """Every structured identifier in `text` replaced by its placeholder. E-mail
    addresses go first (their digits are no phone number), then national IDs (eleven
    digits), birth dates and addresses, and phone numbers last."""
    text = mask_email_addresses(text)
    text = mask_national_ids(text)
    text = mask_birth_dates(text)
    text = mask_street_addresses(text)
    return mask_phone_numbers(text)


__all__ = [
    "ADDRESS_MASK",
    "BIRTH_DATE_MASK",
    "EMAIL",
    "EMAIL_MASK",
    "NAME_MASK",
    "NATIONAL_ID_MASK",
    "PHONE_MASK",
    "PLACEHOLDERS",
    "is_functional_address",
    "is_national_id",
    "mask_identifiers",
]
