"""Read and validate the reference data in `data/` into `domain.reference.ReferenceData`.

Every problem in a file becomes one `UserError` line naming the file (as given), the line,
the field and the fix. Line numbers come from a YAML loader that records, for every
mapping and sequence, where it and each of its keys/items start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from domain.errors import UserError
from domain.goal_ids import IdRegistry
from domain.reference import (
    Catalogue,
    CatalogueGoal,
    CatalogueKind,
    Course,
    IdFloor,
    IdPrefix,
    ReferenceData,
    Specialty,
    SpecialtyGroup,
    Stakeholder,
    StakeholderGroup,
)
from domain.yaml_lines import (
    AliasRefused,
    SafeLineLoader,
    one_line,
    shown_value,
    unknown_name_message,
)

SPECIALTIES_FILE = "specialties.yaml"
ID_SCHEMES_FILE = "id_schemes.yaml"
ID_FLOORS_FILE = "id_floors.yaml"
STAKEHOLDERS_FILE = "stakeholders.yaml"
CATALOGUES_DIR = "catalogues"
SPECIALTY_PADDING = 3

_FIX = "fix the file and run 'hoering init' again"
_PREFIX = re.compile(r"[A-Z]{2,5}")
_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@(?P<domain>" + _DOMAIN.pattern + ")")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GOAL_ID = re.compile(r"(?P<prefix>[A-Z]+)-(?P<number>[0-9]+)")
_MAX_PADDING = 6

T = TypeVar("T")


def default_data_dir() -> Path:
    """The repository's `data/` folder."""
    return Path(__file__).resolve().parents[1] / "data"


def load_reference_data(data_dir: Path) -> ReferenceData:
    """Load every reference file under `data_dir`, or raise one `UserError` line."""
    if not data_dir.is_dir():
        raise UserError(
            f"{data_dir}: reference data folder not found; point HOERING_REFERENCE_DIR at the "
            "folder holding specialties.yaml or restore data/ from the repository"
        )
    specialties, specialty_lines = _load_specialties(
        _read(data_dir / SPECIALTIES_FILE, "specialties")
    )
    catalogues = _load_catalogues(_read(data_dir / ID_SCHEMES_FILE, "catalogues"), specialties)
    floors, floor_lines = _load_floors(_read(data_dir / ID_FLOORS_FILE, "floors"), catalogues)
    goals, courses = _load_catalogue_files(data_dir / CATALOGUES_DIR, catalogues)
    _check_floors_cover_goals(data_dir / ID_FLOORS_FILE, floors, floor_lines, goals)
    stakeholders = _load_stakeholders(
        _read(data_dir / STAKEHOLDERS_FILE, "stakeholders"), specialties, specialty_lines
    )
    return ReferenceData(
        specialties=tuple(specialties),
        catalogues=tuple(catalogues),
        floors=tuple(floors),
        goals=tuple(g for g, _ in goals),
        courses=tuple(courses),
        stakeholders=tuple(stakeholders),
    )


# --- YAML with line numbers -------------------------------------------------------------


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int
    item_lines: list[int]


class _Problem(Exception):
    """A structural problem found while constructing (before the file name is known)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _LineLoader(SafeLineLoader):
    """The shared loader (no anchors or aliases, dates as text) keeping line numbers."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise _Problem(line, f"key {shown_value(key)} must be a field name (text)")
        if key in result:
            raise _Problem(line, f"field '{key}' appears twice in the same entry; keep one")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


@dataclass(frozen=True)
class _File:
    """One parsed reference file: its path as given and its top-level mapping."""

    path: Path
    root: _Map

    def fail(self, line: int, message: str) -> NoReturn:
        raise UserError(f"{self.path} line {line}: {message}; {_FIX}")


def _read(path: Path, top: str) -> _File:
    """Parse `path`, whose top level must be a mapping starting with the field `top`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: file not found; restore it (see data/README.md) and run 'hoering init' again"
        ) from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise UserError(
            f"{path}: cannot read the file ({exc.strerror}); check that it is a readable file"
        ) from None
    try:
        root = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except (_Problem, AliasRefused) as exc:
        raise UserError(f"{path} line {exc.line}: {exc}; {_FIX}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = one_line(exc.problem or exc.context or "syntax error")
        raise UserError(f"{path}{where}: not valid YAML ({problem}); {_FIX}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({one_line(str(exc))}); {_FIX}") from None
    if not isinstance(root, _Map):
        raise UserError(
            f"{path} line 1: the file is empty or not a mapping of fields; it must start "
            f"with '{top}:' (see data/README.md); {_FIX}"
        )
    return _File(path, root)


# --- field readers --------------------------------------------------------------------


def _line(entry: _Map, name: str) -> int:
    return entry.key_lines.get(name, entry.line)


def _check_fields(f: _File, entry: _Map, required: set[str], optional: set[str]) -> None:
    for name in entry:
        if name not in required | optional:
            f.fail(_line(entry, name), unknown_name_message(name, sorted(required | optional)))
    for name in sorted(required):
        if name not in entry:
            f.fail(entry.line, f"field '{name}' is missing")


def _text(f: _File, entry: _Map, name: str) -> str:
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        f.fail(_line(entry, name), f"{name} {shown_value(value)} must be non-empty text")
    return value.strip()


def _optional_text(f: _File, entry: _Map, name: str) -> str | None:
    return _text(f, entry, name) if entry.get(name) is not None else None


def _flag(f: _File, entry: _Map, name: str, default: bool | None = None) -> bool:
    value = entry.get(name, default)
    if not isinstance(value, bool):
        f.fail(_line(entry, name), f"{name} {shown_value(value)} must be true or false")
    return value


def _number(f: _File, entry: _Map, name: str, low: int, high: int | None = None) -> int:
    value = entry[name]
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"{low} or more"
        f.fail(_line(entry, name), f"{name} {shown_value(value)} must be a whole number {span}")
    return value


def _optional_date(f: _File, entry: _Map, name: str) -> date | None:
    value = entry.get(name)
    if value is None:
        return None
    problem = f"{name} {shown_value(value)} must be an ISO date YYYY-MM-DD, e.g. 2025-09-01"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        f.fail(_line(entry, name), problem)
    try:
        return date.fromisoformat(value)
    except ValueError:
        f.fail(_line(entry, name), problem + " (this day does not exist)")


def _choice(f: _File, entry: _Map, name: str, enum: Callable[[str], T], values: list[str]) -> T:
    value = entry[name]
    if value not in values:
        shown = shown_value(value)
        f.fail(_line(entry, name), f"{name} {shown} must be one of {', '.join(values)}")
    return enum(value)


def _entries(f: _File, parent: _Map, name: str, optional: bool = False) -> Iterator[_Map]:
    """The mappings of the list `parent[name]`."""
    if name not in parent:
        if optional:
            return
        f.fail(parent.line, f"field '{name}' is missing")
    items = parent[name]
    if items is None and optional:
        return
    if not isinstance(items, _Seq):
        f.fail(_line(parent, name), f"{name} must be a list of entries (lines starting '- ')")
    for item, line in zip(items, items.item_lines, strict=True):
        if not isinstance(item, _Map):
            shown = shown_value(item)
            f.fail(line, f"each entry of {name} must be a mapping of fields, not {shown}")
        yield item


def _texts(f: _File, entry: _Map, name: str) -> list[tuple[str, int]]:
    """A list of texts with the line of each."""
    items = entry.get(name)
    if items is None:
        return []
    if not isinstance(items, _Seq):
        f.fail(_line(entry, name), f"{name} must be a list, e.g. [a, b]")
    result = []
    for item, line in zip(items, items.item_lines, strict=True):
        if not isinstance(item, str) or not item.strip():
            f.fail(line, f"{name} entry {shown_value(item)} must be non-empty text")
        result.append((item.strip(), line))
    return result


def _prefix(f: _File, entry: _Map, name: str = "prefix") -> str:
    value = entry[name]
    if not isinstance(value, str) or not _PREFIX.fullmatch(value):
        f.fail(_line(entry, name), f"{name} {shown_value(value)} must be 2-5 capital letters (A-Z)")
    return value


# --- specialties ------------------------------------------------------------------------


def _load_specialties(f: _File) -> tuple[list[Specialty], dict[str, int]]:
    _check_fields(f, f.root, {"specialties"}, set())
    specialties: list[Specialty] = []
    lines: dict[str, int] = {}
    names: dict[str, int] = {}
    for entry in _entries(f, f.root, "specialties"):
        _check_fields(f, entry, {"prefix", "name", "group", "prefix_verified"}, set())
        prefix = _prefix(f, entry)
        if prefix in lines:
            f.fail(
                _line(entry, "prefix"),
                f"prefix '{prefix}' is already used at line {lines[prefix]}; "
                "every specialty needs its own prefix",
            )
        name = _text(f, entry, "name")
        if name.casefold() in names:
            f.fail(
                _line(entry, "name"),
                f"name '{name}' is already used at line {names[name.casefold()]}",
            )
        group = _choice(f, entry, "group", SpecialtyGroup, [g.value for g in SpecialtyGroup])
        verified = _flag(f, entry, "prefix_verified")
        lines[prefix] = entry.line
        names[name.casefold()] = entry.line
        specialties.append(Specialty(prefix, name, group, verified))
    if not specialties:
        f.fail(f.root.line, "specialties is empty; list every specialty")
    return specialties, lines


# --- catalogues and ID schemes ------------------------------------------------------------


def _load_catalogues(f: _File, specialties: list[Specialty]) -> list[Catalogue]:
    """The implicit specialty catalogues followed by the schemes of id_schemes.yaml."""
    catalogues = [
        Catalogue(
            code=s.prefix,
            name=s.name,
            kind=CatalogueKind.SPECIALTY,
            prefixes=(IdPrefix(s.prefix, s.prefix, SPECIALTY_PADDING),),
            specialty=s.prefix,
        )
        for s in specialties
    ]
    taken = {s.prefix: f"specialty {s.name} in {SPECIALTIES_FILE}" for s in specialties}
    codes = {s.prefix: f"specialty {s.name} in {SPECIALTIES_FILE}" for s in specialties}
    kinds = [k.value for k in CatalogueKind if k is not CatalogueKind.SPECIALTY]
    _check_fields(f, f.root, {"catalogues"}, set())
    for entry in _entries(f, f.root, "catalogues"):
        _check_fields(f, entry, {"code", "name", "kind", "prefixes"}, set())
        code = entry["code"]
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            f.fail(
                _line(entry, "code"),
                f"code {shown_value(code)} must be 2-10 capital letters or "
                "digits, starting with a letter",
            )
        if code in codes:
            f.fail(_line(entry, "code"), f"code '{code}' is already used by {codes[code]}")
        codes[code] = f"the catalogue at line {_line(entry, 'code')}"
        name = _text(f, entry, "name")
        kind = _choice(f, entry, "kind", CatalogueKind, kinds)
        prefixes = []
        for item in _entries(f, entry, "prefixes"):
            _check_fields(f, item, {"prefix", "padding"}, set())
            prefix = _prefix(f, item)
            if prefix in taken:
                f.fail(
                    _line(item, "prefix"),
                    f"prefix '{prefix}' is already used by "
                    f"{taken[prefix]}; every catalogue needs its own prefixes",
                )
            taken[prefix] = f"catalogue {code} (line {_line(item, 'prefix')})"
            padding = _number(f, item, "padding", 0, _MAX_PADDING)
            prefixes.append(IdPrefix(prefix, code, padding))
        if not prefixes:
            f.fail(_line(entry, "prefixes"), "prefixes is empty; list at least one prefix")
        catalogues.append(Catalogue(code, name, kind, tuple(prefixes)))
    return catalogues


# --- floors -----------------------------------------------------------------------------


def _load_floors(f: _File, catalogues: list[Catalogue]) -> tuple[list[IdFloor], dict[str, int]]:
    known = {p.prefix for c in catalogues for p in c.prefixes}
    _check_fields(f, f.root, {"floors"}, set())
    floors: list[IdFloor] = []
    lines: dict[str, int] = {}
    for entry in _entries(f, f.root, "floors"):
        _check_fields(f, entry, {"prefix", "highest_used", "verified", "source"}, set())
        prefix = _prefix(f, entry)
        if prefix not in known:
            f.fail(
                _line(entry, "prefix"),
                f"prefix '{prefix}' is not a known ID prefix; add it "
                f"to {SPECIALTIES_FILE} or {ID_SCHEMES_FILE} first",
            )
        if prefix in lines:
            f.fail(
                _line(entry, "prefix"),
                f"prefix '{prefix}' already has a floor at line {lines[prefix]}; keep one",
            )
        highest = _number(f, entry, "highest_used", 0)
        verified = _flag(f, entry, "verified")
        source = _text(f, entry, "source")
        lines[prefix] = entry.line
        floors.append(IdFloor(prefix, highest, verified, source))
    return floors, lines


def _check_floors_cover_goals(
    path: Path,
    floors: list[IdFloor],
    floor_lines: dict[str, int],
    goals: list[tuple[CatalogueGoal, str]],
) -> None:
    """A floor below a goal that already exists would let the ledger hand out that ID again."""
    floor_of = {fl.prefix: fl for fl in floors}
    for goal, where in goals:
        prefix, _, digits = goal.goal_id.partition("-")
        floor = floor_of.get(prefix)
        if floor is not None and int(digits) > floor.highest_used:
            raise UserError(
                f"{path} line {floor_lines[prefix]}: highest_used {floor.highest_used} for "
                f"{prefix} is below {goal.goal_id} ({where}); raise it to at least "
                f"{int(digits)} and run 'hoering init' again"
            )


# --- catalogue files --------------------------------------------------------------------


_GOAL_FIELDS = {"heading", "elaboration", "valid_from", "valid_to", "retired"}


def _load_catalogue_files(
    folder: Path, catalogues: list[Catalogue]
) -> tuple[list[tuple[CatalogueGoal, str]], list[Course]]:
    """Goals (with where each was found) and courses of every `catalogues/<code>.yaml`."""
    if not folder.is_dir():
        raise UserError(
            f"{folder}: folder not found; restore it (see data/README.md) and run "
            "'hoering init' again"
        )
    by_code = {c.code: c for c in catalogues}
    owner = {p.prefix: c.code for c in catalogues for p in c.prefixes}
    registry = IdRegistry.from_pairs((p.prefix, p.padding) for c in catalogues for p in c.prefixes)
    goals: list[tuple[CatalogueGoal, str]] = []
    courses: list[Course] = []
    for path in sorted(folder.glob("*.yaml")):
        f = _read(path, "catalogue")
        _check_fields(f, f.root, {"catalogue", "goals"}, {"courses"})
        code = f.root["catalogue"]
        if not isinstance(code, str) or code not in by_code:
            f.fail(
                _line(f.root, "catalogue"),
                f"catalogue {shown_value(code)} is not a known "
                f"catalogue code; use a specialty prefix or a code from {ID_SCHEMES_FILE}",
            )
        if path.stem != code:
            f.fail(
                _line(f.root, "catalogue"),
                f"catalogue '{code}' must be in a file named "
                f"{code}.yaml (rename the file or correct the code)",
            )
        file_goals = _load_goals(f, code, owner, registry)
        goals.extend((g, f"{path} line {line}") for g, line in file_goals.values())
        courses.extend(_load_courses(f, code, file_goals))
    return goals, courses


def _load_goals(
    f: _File, code: str, owner: dict[str, str], registry: IdRegistry
) -> dict[str, tuple[CatalogueGoal, int]]:
    goals: dict[str, tuple[CatalogueGoal, int]] = {}
    for entry in _entries(f, f.root, "goals"):
        _check_fields(f, entry, {"id", "text"}, _GOAL_FIELDS)
        goal_id = _goal_id(f, entry, code, owner, registry)
        if goal_id in goals:
            f.fail(
                _line(entry, "id"),
                f"id '{goal_id}' is already used at line "
                f"{goals[goal_id][1]}; every goal appears once",
            )
        valid_from = _optional_date(f, entry, "valid_from")
        valid_to = _optional_date(f, entry, "valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            f.fail(
                _line(entry, "valid_to"), f"valid_to {valid_to} is before valid_from {valid_from}"
            )
        goal = CatalogueGoal(
            goal_id=goal_id,
            catalogue=code,
            text=_text(f, entry, "text"),
            heading=_optional_text(f, entry, "heading"),
            elaboration=_optional_text(f, entry, "elaboration"),
            valid_from=valid_from,
            valid_to=valid_to,
            retired=_flag(f, entry, "retired", default=False),
        )
        goals[goal_id] = (goal, _line(entry, "id"))
    return goals


def _goal_id(f: _File, entry: _Map, code: str, owner: dict[str, str], registry: IdRegistry) -> str:
    raw = entry["id"]
    line = _line(entry, "id")
    match = _GOAL_ID.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        f.fail(line, f"id {shown_value(raw)} must be PREFIX-NUMBER, e.g. {code}-001 or LM-75")
    prefix, digits = match["prefix"], match["number"]
    if prefix not in owner:
        f.fail(
            line,
            f"id '{raw}' has unknown prefix '{prefix}'; use a prefix from "
            f"{SPECIALTIES_FILE} or {ID_SCHEMES_FILE}",
        )
    if owner[prefix] != code:
        f.fail(
            line,
            f"id '{raw}' belongs to catalogue {owner[prefix]}, not {code}; "
            f"move it to {CATALOGUES_DIR}/{owner[prefix]}.yaml",
        )
    canonical = str(registry.format(prefix, int(digits)))
    if int(digits) < 1 or canonical != raw:
        f.fail(
            line,
            f"id '{raw}' is not written as {prefix} IDs are; write it as "
            f"{canonical if int(digits) >= 1 else f'{prefix}-1 or higher'}",
        )
    return raw


def _load_courses(f: _File, code: str, goals: dict[str, tuple[CatalogueGoal, int]]) -> list[Course]:
    courses: list[Course] = []
    names: dict[str, int] = {}
    for entry in _entries(f, f.root, "courses", optional=True):
        _check_fields(f, entry, {"name", "goals"}, set())
        name = _text(f, entry, "name")
        if name in names:
            f.fail(
                _line(entry, "name"), f"course name '{name}' is already used at line {names[name]}"
            )
        names[name] = _line(entry, "name")
        ids: list[str] = []
        for goal_id, line in _texts(f, entry, "goals"):
            if goal_id not in goals:
                f.fail(
                    line,
                    f"goals: '{goal_id}' is not a goal of catalogue {code}; add it "
                    "under goals or fix the id",
                )
            if goal_id in ids:
                f.fail(line, f"goals: '{goal_id}' is listed twice in course '{name}'")
            ids.append(goal_id)
        courses.append(Course(code, name, tuple(ids)))
    return courses


# --- stakeholders -----------------------------------------------------------------------


_STAKEHOLDER_FIELDS = {"key", "name", "group", "email", "email_verified"}


def _load_stakeholders(
    f: _File, specialties: list[Specialty], specialty_lines: dict[str, int]
) -> list[Stakeholder]:
    _check_fields(f, f.root, {"stakeholders"}, set())
    groups = [g.value for g in StakeholderGroup]
    keys: dict[str, int] = {}
    emails: dict[str, int] = {}
    domains: dict[str, int] = {}
    committees: dict[str, int] = {}
    result: list[Stakeholder] = []
    for entry in _entries(f, f.root, "stakeholders"):
        _check_fields(f, entry, _STAKEHOLDER_FIELDS, {"domains", "specialty"})
        key = entry["key"]
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            f.fail(
                _line(entry, "key"),
                f"key {shown_value(key)} must be lower-case letters, digits "
                "and single hyphens, e.g. helse-vest-rhf",
            )
        if key in keys:
            f.fail(_line(entry, "key"), f"key '{key}' is already used at line {keys[key]}")
        keys[key] = _line(entry, "key")
        name = _text(f, entry, "name")
        group = _choice(f, entry, "group", StakeholderGroup, groups)
        email = _email(f, entry, emails)
        own_domains = _domains(f, entry, domains)
        specialty = _stakeholder_specialty(f, entry, group, specialty_lines, committees)
        result.append(
            Stakeholder(
                key=key,
                name=name,
                group=group,
                email=email,
                email_verified=_flag(f, entry, "email_verified"),
                domains=own_domains,
                specialty=specialty,
            )
        )
    for s in specialties:
        if s.prefix not in committees:
            f.fail(
                f.root.key_lines["stakeholders"],
                f"no spesialitetskomite for specialty "
                f"{s.prefix} ({SPECIALTIES_FILE} line {specialty_lines[s.prefix]}); add one "
                f"with group: spesialitetskomite and specialty: {s.prefix}",
            )
    return result


def _email(f: _File, entry: _Map, seen: dict[str, int]) -> str:
    value = entry["email"]
    line = _line(entry, "email")
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        f.fail(
            line,
            f"email {shown_value(value)} must be a lower-case e-mail address such as "
            "postmottak@helse-vest.no",
        )
    if value in seen:
        f.fail(
            line,
            f"email '{value}' is already used at line {seen[value]}; every "
            "stakeholder needs its own address",
        )
    seen[value] = line
    return value


def _domains(f: _File, entry: _Map, seen: dict[str, int]) -> tuple[str, ...]:
    """Mail domains: well-formed, listed once, none a subdomain of another listed one."""
    result = []
    for domain, line in _texts(f, entry, "domains"):
        if not _DOMAIN.fullmatch(domain):
            f.fail(
                line,
                f"domains: {shown_value(domain)} must be a lower-case mail domain such as "
                "ntnu.no (no @, no spaces)",
            )
        if domain in seen:
            f.fail(
                line,
                f"domains: '{domain}' is already listed at line {seen[domain]}; a "
                "domain may belong to one stakeholder only",
            )
        for other, other_line in seen.items():
            if domain.endswith("." + other):
                f.fail(
                    line,
                    f"domains: '{domain}' is a subdomain of '{other}' (line "
                    f"{other_line}); list only '{other}', subdomains are matched by it",
                )
            if other.endswith("." + domain):
                f.fail(
                    line,
                    f"domains: '{domain}' contains '{other}' (line {other_line}); "
                    f"list only the registrable domain '{domain}' and drop '{other}'",
                )
        seen[domain] = line
        result.append(domain)
    return tuple(result)


def _stakeholder_specialty(
    f: _File,
    entry: _Map,
    group: StakeholderGroup,
    specialty_lines: dict[str, int],
    committees: dict[str, int],
) -> str | None:
    value = entry.get("specialty")
    is_committee = group is StakeholderGroup.SPESIALITETSKOMITE
    if value is None:
        if is_committee:
            f.fail(
                entry.line,
                "field 'specialty' is missing; a spesialitetskomite names its "
                "specialty prefix, e.g. specialty: BLS",
            )
        return None
    line = _line(entry, "specialty")
    if not isinstance(value, str) or value not in specialty_lines:
        f.fail(line, f"specialty {shown_value(value)} is not a prefix in {SPECIALTIES_FILE}")
    if is_committee:
        if value in committees:
            f.fail(
                line,
                f"specialty '{value}' already has a spesialitetskomite at line "
                f"{committees[value]}; keep one",
            )
        committees[value] = line
    return value
