"""Value types of the files staff write (hearing spec, decisions): case numbers, goal IDs,
prefixes, dates in the forms people write them, and the shared checks on them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator

from domain.calendar import MONTHS_NB
from domain.yaml_lines import FileModel, custom_error, shown_value

CASE_NUMBER_RE = re.compile(r"^\d{2}/\d+$")
PREFIX_RE = re.compile(r"^[A-Z]{2,5}$")
CATALOGUE_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
GOAL_ID_RE = re.compile(r"^[A-Z]{2,5}-\d{1,4}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NB_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date_value(value: object) -> date:
    """A date from YAML: ISO '2024-05-31' (canonical) or Norwegian '31.5.24' / '31.5.2024'."""
    if isinstance(value, datetime):
        raise ValueError("has a time of day")
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if _ISO_DATE_RE.match(text):
            return date.fromisoformat(text)
        match = _NB_DATE_RE.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year + 2000 if year < 100 else year, month, day)
    except ValueError as exc:
        raise ValueError(str(exc)) from exc
    raise ValueError("is not in a known date format")


def _date_before(value: object) -> date:
    try:
        return parse_date_value(value)
    except ValueError:
        raise custom_error(
            "date",
            f"{shown_value(value)} is not a valid date; write it as YYYY-MM-DD "
            "(e.g. 2024-05-31) or D.M.YYYY (e.g. 31.5.2024)",
        ) from None


def parse_month_value(value: object) -> date:
    """A month as the first day of it: '2024-09', '9.2024', 'september 2024', or a date
    in that month (so that a dumped spec validates again)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.replace(day=1)
    text = str(value).strip().lower()
    if _ISO_DATE_RE.match(text):
        return date.fromisoformat(text).replace(day=1)
    if match := re.match(r"^(\d{4})-(\d{1,2})$", text):
        year, month = int(match[1]), int(match[2])
    elif match := re.match(r"^(\d{1,2})\.(\d{4})$", text):
        month, year = int(match[1]), int(match[2])
    elif (match := re.match(r"^([a-zæøå]+) (\d{4})$", text)) and match[1] in MONTHS_NB:
        month, year = MONTHS_NB.index(match[1]) + 1, int(match[2])
    else:
        raise ValueError("is not a month")
    return date(year, month, 1)


def _month_before(value: object) -> date:
    try:
        return parse_month_value(value)
    except ValueError:
        raise custom_error(
            "month",
            f'{shown_value(value)} is not a month; write it as YYYY-MM in quotes, e.g. "2024-09"',
        ) from None


def _text_before(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _non_empty(value: str) -> str:
    if not value:
        raise custom_error("empty", "must not be empty; write the text or remove the field")
    return value


def _pattern(regex: re.Pattern[str], what: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise custom_error(
                "format", f"{shown_value(value)} is not {what}; write it like {example}"
            )
        return value

    return AfterValidator(check)


Text = Annotated[str, BeforeValidator(_text_before), AfterValidator(_non_empty)]
Date = Annotated[date, BeforeValidator(_date_before)]
Month = Annotated[date, BeforeValidator(_month_before)]
CaseNumber = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(CASE_NUMBER_RE, "a case number (YY/NNNN)", '"24/750" (in quotes)'),
]
Prefix = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(PREFIX_RE, "a specialty prefix (2-5 capital letters)", "BLS"),
]
CatalogueCode = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(CATALOGUE_CODE_RE, "a catalogue code (capital letters and digits)", "FKM or LIS1"),
]
GoalId = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(GOAL_ID_RE, "a learning-goal ID (PREFIX-NNN)", "BLS-154"),
]
Key = Annotated[
    str,
    BeforeValidator(_text_before),
    _pattern(KEY_RE, "a key (lower case letters, digits and '-')", "helse-vest"),
]
Email = Annotated[
    str, BeforeValidator(_text_before), _pattern(EMAIL_RE, "an e-mail address", "navn@helsedir.no")
]
TrainingPart = Literal[1, 2, 3]


def foreign_id_problem(goal_id: str, specialty: str) -> str | None:
    """Why `goal_id` cannot be an ID of `specialty`'s goal, or None when it can."""
    if goal_id.split("-")[0] == specialty:
        return None
    return (
        f"'{goal_id}' does not belong to specialty {specialty}; use an ID that starts "
        f"with {specialty}-"
    )


def first_repeat(values: Iterable[Any]) -> tuple[int, int] | None:
    """(index of the first occurrence, index of the repeat) of the first repeated value."""
    seen: dict[Any, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            return seen[value], index
        seen[value] = index
    return None


class SpecModel(FileModel):
    """Base of the spec models: immutable, unknown fields refused."""
