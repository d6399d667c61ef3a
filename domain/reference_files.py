"""The reference files in `data/` as people write them: one pydantic model per file kind.

The models check each entry on its own (shapes, formats, allowed values); the checks
across entries and files (a prefix used twice, a floor below an existing goal, a
committee per specialty) are in `services.reference_files`, which also reads the files.
Messages name their field and value (`prefix 'Ab1' must be 2-5 capital letters (A-Z)`),
as the files' own comments describe them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain.reference import CatalogueKind, SpecialtyGroup, StakeholderGroup
from domain.yaml_lines import FileModel, custom_error, shown_value

PREFIX_RE = re.compile(r"[A-Z]{2,5}")
CODE_RE = re.compile(r"[A-Z][A-Z0-9]{1,9}")
KEY_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")
EMAIL_RE = re.compile(r"[a-z0-9._%+-]+@(?P<domain>" + DOMAIN_RE.pattern + ")")
GOAL_ID_RE = re.compile(r"(?P<prefix>[A-Z]+)-(?P<number>[0-9]+)")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PADDING = 6


def _fail(name: str, value: object, requirement: str) -> Exception:
    return custom_error("reference", f"{name} {shown_value(value)} {requirement}")


def _text(name: str, optional: bool = False) -> BeforeValidator:
    def check(value: object) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise _fail(name, value, "must be non-empty text")
        return value.strip()

    return BeforeValidator(check)


def _matching(name: str, regex: re.Pattern[str], requirement: str) -> BeforeValidator:
    def check(value: object) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise _fail(name, value, requirement)
        return value

    return BeforeValidator(check)


def _flag(name: str) -> BeforeValidator:
    def check(value: object) -> bool:
        if not isinstance(value, bool):
            raise _fail(name, value, "must be true or false")
        return value

    return BeforeValidator(check)


def _number(name: str, low: int, high: int | None = None) -> BeforeValidator:
    def check(value: object) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if not ok or (high is not None and value > high):  # type: ignore[operator]
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise _fail(name, value, f"must be a whole number {span}")
        return value  # type: ignore[return-value]

    return BeforeValidator(check)


def _optional_number(name: str, low: int, high: int) -> BeforeValidator:
    number = _number(name, low, high).func

    def check(value: object) -> int | None:
        return None if value is None else number(value)  # type: ignore[call-arg]

    return BeforeValidator(check)


def _one_of(name: str, values: list[str]) -> BeforeValidator:
    def check(value: object) -> object:
        if value not in values:
            raise _fail(name, value, f"must be one of {', '.join(values)}")
        return value

    return BeforeValidator(check)


def _iso_date(name: str) -> BeforeValidator:
    def check(value: object) -> date | None:
        if value is None:
            return None
        problem = "must be an ISO date YYYY-MM-DD, e.g. 2025-09-01"
        if not isinstance(value, str) or not _ISO_DATE_RE.fullmatch(value):
            raise _fail(name, value, problem)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _fail(name, value, problem + " (this day does not exist)") from None

    return BeforeValidator(check)


def _texts(name: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not item.strip():
                    raise _fail(f"{name} entry", item, "must be non-empty text")
            return [item.strip() for item in value]
        return value

    return BeforeValidator(check)


def _prefix(name: str = "prefix") -> BeforeValidator:
    return _matching(name, PREFIX_RE, "must be 2-5 capital letters (A-Z)")


Prefix = Annotated[str, _prefix()]


class SpecialtyEntry(FileModel):
    prefix: Prefix
    name: Annotated[str, _text("name")]
    group: Annotated[SpecialtyGroup, _one_of("group", [g.value for g in SpecialtyGroup])]
    prefix_verified: Annotated[bool, _flag("prefix_verified")]


class SpecialtiesFile(FileModel):
    specialties: Annotated[list[SpecialtyEntry], Field(min_length=1)]


class PrefixEntry(FileModel):
    prefix: Prefix
    padding: Annotated[int, _number("padding", 0, MAX_PADDING)]


_SCHEME_KINDS = [k.value for k in CatalogueKind if k is not CatalogueKind.SPECIALTY]


class CatalogueEntry(FileModel):
    code: Annotated[
        str,
        _matching(
            "code", CODE_RE, "must be 2-10 capital letters or digits, starting with a letter"
        ),
    ]
    name: Annotated[str, _text("name")]
    kind: Annotated[CatalogueKind, _one_of("kind", _SCHEME_KINDS)]
    prefixes: Annotated[list[PrefixEntry], Field(min_length=1)]


class IdSchemesFile(FileModel):
    catalogues: list[CatalogueEntry]


class FloorEntry(FileModel):
    prefix: Prefix
    highest_used: Annotated[int, _number("highest_used", 0)]
    verified: Annotated[bool, _flag("verified")]
    source: Annotated[str, _text("source")]


class FloorsFile(FileModel):
    floors: list[FloorEntry]


class GoalEntry(FileModel):
    id: Annotated[str, _matching("id", GOAL_ID_RE, "must be PREFIX-NUMBER, e.g. BLS-001 or LM-75")]
    text: Annotated[str, _text("text")]
    heading: Annotated[str | None, _text("heading", optional=True)] = None
    elaboration: Annotated[str | None, _text("elaboration", optional=True)] = None
    valid_from: Annotated[date | None, _iso_date("valid_from")] = None
    valid_to: Annotated[date | None, _iso_date("valid_to")] = None
    retired: Annotated[bool, _flag("retired")] = False
    training_part: Annotated[int | None, _optional_number("training_part", 1, 3)] = None


class CourseEntry(FileModel):
    name: Annotated[str, _text("name")]
    goals: Annotated[list[str], _texts("goals")] = Field(default_factory=list)


class CatalogueFile(FileModel):
    catalogue: Annotated[str, _text("catalogue")]
    goals: list[GoalEntry]
    courses: list[CourseEntry] | None = None


class StakeholderEntry(FileModel):
    key: Annotated[
        str,
        _matching(
            "key",
            KEY_RE,
            "must be lower-case letters, digits and single hyphens, e.g. helse-vest-rhf",
        ),
    ]
    name: Annotated[str, _text("name")]
    group: Annotated[StakeholderGroup, _one_of("group", [g.value for g in StakeholderGroup])]
    email: Annotated[
        str,
        _matching(
            "email",
            EMAIL_RE,
            "must be a lower-case e-mail address such as postmottak@helse-vest.no",
        ),
    ]
    email_verified: Annotated[bool, _flag("email_verified")]
    domains: Annotated[list[str], _texts("domains")] = Field(default_factory=list)
    specialty: Annotated[str | None, _text("specialty", optional=True)] = None


class StakeholdersFile(FileModel):
    stakeholders: list[StakeholderEntry]


def describe_reference_error(path: tuple[str | int, ...], error: Any) -> str | None:
    """Hints for `validate_file`: the reference files' wording for missing fields and lists."""
    name = path[-1] if path else ""
    if error["type"] == "missing":
        return f"field '{name}' is missing"
    if error["type"] in {"list_type", "too_short"} and isinstance(name, str):
        if error["type"] == "too_short":
            return f"{name} is empty; list at least one entry"
        return f"{name} must be a list of entries (lines starting '- ')"
    return None
