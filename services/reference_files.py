"""Read and validate the reference data in `data/` into `domain.reference.ReferenceData`.

Each file is read by the shared YAML loader (`domain.yaml_lines`: line numbers, no
anchors or aliases) and validated by its model in `domain.reference_files`; the checks
across entries and files are here. Every problem becomes one `UserError` line naming the
file (as given), the line, the field and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NoReturn, TypeVar

from pydantic import BaseModel

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
    Stakeholder,
    StakeholderGroup,
)
from domain.reference_files import (
    DOMAIN_RE,
    GOAL_ID_RE,
    CatalogueFile,
    FloorsFile,
    IdSchemesFile,
    SpecialtiesFile,
    StakeholderEntry,
    StakeholdersFile,
    describe_reference_error,
)
from domain.yaml_lines import Path as FieldPath
from domain.yaml_lines import SourceMap, load_yaml_mapping, shown_value, validate_file

SPECIALTIES_FILE = "specialties.yaml"
ID_SCHEMES_FILE = "id_schemes.yaml"
ID_FLOORS_FILE = "id_floors.yaml"
STAKEHOLDERS_FILE = "stakeholders.yaml"
CATALOGUES_DIR = "catalogues"
SPECIALTY_PADDING = 3

_FIX = "fix the file and run 'hoering init' again"

M = TypeVar("M", bound=BaseModel)


def load_reference_data(data_dir: Path) -> ReferenceData:
    """Load every reference file under `data_dir`, or raise one `UserError` line."""
    if not data_dir.is_dir():
        raise UserError(
            f"{data_dir}: reference data folder not found; point HOERING_REFERENCE_DIR at the "
            "folder holding specialties.yaml or restore data/ from the repository"
        )
    specialties, specialty_lines = _load_specialties(
        _read(data_dir / SPECIALTIES_FILE, SpecialtiesFile)
    )
    catalogues = _load_catalogues(_read(data_dir / ID_SCHEMES_FILE, IdSchemesFile), specialties)
    floors, floor_lines = _load_floors(_read(data_dir / ID_FLOORS_FILE, FloorsFile), catalogues)
    goals, courses = _load_catalogue_files(data_dir / CATALOGUES_DIR, catalogues)
    _check_floors_cover_goals(data_dir / ID_FLOORS_FILE, floors, floor_lines, goals)
    stakeholders = _load_stakeholders(
        _read(data_dir / STAKEHOLDERS_FILE, StakeholdersFile), specialties, specialty_lines
    )
    return ReferenceData(
        specialties=tuple(specialties),
        catalogues=tuple(catalogues),
        floors=tuple(floors),
        goals=tuple(g for g, _ in goals),
        courses=tuple(courses),
        stakeholders=tuple(stakeholders),
    )


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File(Generic[M]):
    """One validated reference file: its path as given, its model and its lines."""

    path: Path
    model: M
    lines: SourceMap

    def line(self, *at: str | int) -> int:
        return self.lines.line_of(at) or 1

    def fail(self, at: FieldPath, message: str) -> NoReturn:
        raise self.lines.error(at, message)


def _read(path: Path, model: type[M]) -> _File[M]:
    """Read `path` and validate it as `model`, or raise one UserError line."""
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
    data, lines = load_yaml_mapping(text, str(path), show_path=False, fix=_FIX)
    return _File(path, validate_file(model, data, lines, describe_reference_error), lines)


# --- specialties ------------------------------------------------------------------------


def _load_specialties(f: _File[SpecialtiesFile]) -> tuple[list[Specialty], dict[str, int]]:
    specialties: list[Specialty] = []
    lines: dict[str, int] = {}
    names: dict[str, int] = {}
    for index, entry in enumerate(f.model.specialties):
        at = ("specialties", index)
        if entry.prefix in lines:
            f.fail(
                (*at, "prefix"),
                f"prefix '{entry.prefix}' is already used at line {lines[entry.prefix]}; "
                "every specialty needs its own prefix",
            )
        if entry.name.casefold() in names:
            f.fail(
                (*at, "name"),
                f"name '{entry.name}' is already used at line {names[entry.name.casefold()]}",
            )
        lines[entry.prefix] = names[entry.name.casefold()] = f.line(*at)
        specialties.append(Specialty(entry.prefix, entry.name, entry.group, entry.prefix_verified))
    return specialties, lines


# --- catalogues and ID schemes ------------------------------------------------------------


def _load_catalogues(f: _File[IdSchemesFile], specialties: list[Specialty]) -> list[Catalogue]:
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
    codes = dict(taken)
    for index, entry in enumerate(f.model.catalogues):
        at = ("catalogues", index)
        if entry.code in codes:
            f.fail((*at, "code"), f"code '{entry.code}' is already used by {codes[entry.code]}")
        codes[entry.code] = f"the catalogue at line {f.line(*at, 'code')}"
        prefixes = []
        for number, item in enumerate(entry.prefixes):
            where = (*at, "prefixes", number, "prefix")
            if item.prefix in taken:
                f.fail(
                    where,
                    f"prefix '{item.prefix}' is already used by {taken[item.prefix]}; every "
                    "catalogue needs its own prefixes",
                )
            taken[item.prefix] = f"catalogue {entry.code} (line {f.line(*where)})"
            prefixes.append(IdPrefix(item.prefix, entry.code, item.padding))
        catalogues.append(Catalogue(entry.code, entry.name, entry.kind, tuple(prefixes)))
    return catalogues


# --- floors -----------------------------------------------------------------------------


def _load_floors(
    f: _File[FloorsFile], catalogues: list[Catalogue]
) -> tuple[list[IdFloor], dict[str, int]]:
    known = {p.prefix for c in catalogues for p in c.prefixes}
    floors: list[IdFloor] = []
    lines: dict[str, int] = {}
    for index, entry in enumerate(f.model.floors):
        at = ("floors", index)
        if entry.prefix not in known:
            f.fail(
                (*at, "prefix"),
                f"prefix '{entry.prefix}' is not a known ID prefix; add it to "
                f"{SPECIALTIES_FILE} or {ID_SCHEMES_FILE} first",
            )
        if entry.prefix in lines:
            f.fail(
                (*at, "prefix"),
                f"prefix '{entry.prefix}' already has a floor at line {lines[entry.prefix]}; "
                "keep one",
            )
        lines[entry.prefix] = f.line(*at)
        floors.append(IdFloor(entry.prefix, entry.highest_used, entry.verified, entry.source))
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


@dataclass(frozen=True)
class _Owners:
    """Which catalogue each ID prefix belongs to, and how its numbers are written."""

    owner: dict[str, str]
    registry: IdRegistry


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
    owners = _Owners(
        {p.prefix: c.code for c in catalogues for p in c.prefixes},
        IdRegistry.from_pairs((p.prefix, p.padding) for c in catalogues for p in c.prefixes),
    )
    goals: list[tuple[CatalogueGoal, str]] = []
    courses: list[Course] = []
    for path in sorted(folder.glob("*.yaml")):
        f = _read(path, CatalogueFile)
        code = f.model.catalogue
        if code not in by_code:
            f.fail(
                ("catalogue",),
                f"catalogue {shown_value(code)} is not a known catalogue code; use a specialty "
                f"prefix or a code from {ID_SCHEMES_FILE}",
            )
        if path.stem != code:
            f.fail(
                ("catalogue",),
                f"catalogue '{code}' must be in a file named {code}.yaml (rename the file or "
                "correct the code)",
            )
        file_goals = _load_goals(f, code, owners)
        goals.extend((g, f"{path} line {line}") for g, line in file_goals.values())
        courses.extend(_load_courses(f, code, file_goals))
    return goals, courses


def _load_goals(
    f: _File[CatalogueFile], code: str, owners: _Owners
) -> dict[str, tuple[CatalogueGoal, int]]:
    goals: dict[str, tuple[CatalogueGoal, int]] = {}
    for index, entry in enumerate(f.model.goals):
        at = ("goals", index)
        _check_goal_id(f, (*at, "id"), entry.id, code, owners)
        if entry.id in goals:
            f.fail(
                (*at, "id"),
                f"id '{entry.id}' is already used at line {goals[entry.id][1]}; every goal "
                "appears once",
            )
        if entry.valid_from and entry.valid_to and entry.valid_to < entry.valid_from:
            f.fail(
                (*at, "valid_to"),
                f"valid_to {entry.valid_to} is before valid_from {entry.valid_from}",
            )
        goal = CatalogueGoal(
            goal_id=entry.id,
            catalogue=code,
            text=entry.text,
            heading=entry.heading,
            elaboration=entry.elaboration,
            valid_from=entry.valid_from,
            valid_to=entry.valid_to,
            retired=entry.retired,
            training_part=entry.training_part,
        )
        goals[entry.id] = (goal, f.line(*at, "id"))
    return goals


def _check_goal_id(
    f: _File[CatalogueFile], at: FieldPath, raw: str, code: str, owners: _Owners
) -> None:
    match = GOAL_ID_RE.fullmatch(raw)
    assert match is not None  # the model checked the form
    prefix, digits = match["prefix"], match["number"]
    if prefix not in owners.owner:
        f.fail(
            at,
            f"id '{raw}' has unknown prefix '{prefix}'; use a prefix from "
            f"{SPECIALTIES_FILE} or {ID_SCHEMES_FILE}",
        )
    if owners.owner[prefix] != code:
        f.fail(
            at,
            f"id '{raw}' belongs to catalogue {owners.owner[prefix]}, not {code}; "
            f"move it to {CATALOGUES_DIR}/{owners.owner[prefix]}.yaml",
        )
    canonical = str(owners.registry.format(prefix, int(digits)))
    if int(digits) < 1 or canonical != raw:
        f.fail(
            at,
            f"id '{raw}' is not written as {prefix} IDs are; write it as "
            f"{canonical if int(digits) >= 1 else f'{prefix}-1 or higher'}",
        )


def _load_courses(
    f: _File[CatalogueFile], code: str, goals: dict[str, tuple[CatalogueGoal, int]]
) -> list[Course]:
    courses: list[Course] = []
    names: dict[str, int] = {}
    for index, entry in enumerate(f.model.courses or []):
        at = ("courses", index)
        if entry.name in names:
            f.fail(
                (*at, "name"),
                f"course name '{entry.name}' is already used at line {names[entry.name]}",
            )
        names[entry.name] = f.line(*at, "name")
        ids: list[str] = []
        for number, goal_id in enumerate(entry.goals):
            where = (*at, "goals", number)
            if goal_id not in goals:
                f.fail(
                    where,
                    f"goals: '{goal_id}' is not a goal of catalogue {code}; add it under "
                    "goals or fix the id",
                )
            if goal_id in ids:
                f.fail(where, f"goals: '{goal_id}' is listed twice in course '{entry.name}'")
            ids.append(goal_id)
        courses.append(Course(code, entry.name, tuple(ids)))
    return courses


# --- stakeholders -----------------------------------------------------------------------


@dataclass
class _Seen:
    """What the stakeholders so far use, by the line that uses it."""

    keys: dict[str, int]
    emails: dict[str, int]
    domains: dict[str, int]
    committees: dict[str, int]


def _load_stakeholders(
    f: _File[StakeholdersFile], specialties: list[Specialty], specialty_lines: dict[str, int]
) -> list[Stakeholder]:
    seen = _Seen({}, {}, {}, {})
    result: list[Stakeholder] = []
    for index, entry in enumerate(f.model.stakeholders):
        at = ("stakeholders", index)
        if entry.key in seen.keys:
            f.fail(
                (*at, "key"), f"key '{entry.key}' is already used at line {seen.keys[entry.key]}"
            )
        seen.keys[entry.key] = f.line(*at, "key")
        if entry.email in seen.emails:
            f.fail(
                (*at, "email"),
                f"email '{entry.email}' is already used at line {seen.emails[entry.email]}; "
                "every stakeholder needs its own address",
            )
        seen.emails[entry.email] = f.line(*at, "email")
        _check_domains(f, at, entry.domains, seen.domains)
        _check_specialty(f, at, entry, specialty_lines, seen.committees)
        result.append(
            Stakeholder(
                key=entry.key,
                name=entry.name,
                group=entry.group,
                email=entry.email,
                email_verified=entry.email_verified,
                domains=tuple(entry.domains),
                specialty=entry.specialty,
            )
        )
    for s in specialties:
        if s.prefix not in seen.committees:
            f.fail(
                ("stakeholders",),
                f"no spesialitetskomite for specialty {s.prefix} ({SPECIALTIES_FILE} line "
                f"{specialty_lines[s.prefix]}); add one with group: spesialitetskomite and "
                f"specialty: {s.prefix}",
            )
    return result


def _check_domains(
    f: _File[StakeholdersFile], at: FieldPath, domains: list[str], seen: dict[str, int]
) -> None:
    """Mail domains: well-formed, listed once, none a subdomain of another listed one."""
    for number, domain in enumerate(domains):
        where = (*at, "domains", number)
        if not DOMAIN_RE.fullmatch(domain):
            f.fail(
                where,
                f"domains: {shown_value(domain)} must be a lower-case mail domain such as "
                "ntnu.no (no @, no spaces)",
            )
        if domain in seen:
            f.fail(
                where,
                f"domains: '{domain}' is already listed at line {seen[domain]}; a domain may "
                "belong to one stakeholder only",
            )
        for other, other_line in seen.items():
            if domain.endswith("." + other):
                f.fail(
                    where,
                    f"domains: '{domain}' is a subdomain of '{other}' (line {other_line}); "
                    f"list only '{other}', subdomains are matched by it",
                )
            if other.endswith("." + domain):
                f.fail(
                    where,
                    f"domains: '{domain}' contains '{other}' (line {other_line}); list only "
                    f"the registrable domain '{domain}' and drop '{other}'",
                )
        seen[domain] = f.line(*where)


def _check_specialty(
    f: _File[StakeholdersFile],
    at: FieldPath,
    entry: StakeholderEntry,
    specialty_lines: dict[str, int],
    committees: dict[str, int],
) -> None:
    is_committee = entry.group is StakeholderGroup.SPESIALITETSKOMITE
    if entry.specialty is None:
        if is_committee:
            f.fail(
                at,
                "field 'specialty' is missing; a spesialitetskomite names its specialty "
                "prefix, e.g. specialty: BLS",
            )
        return
    where = (*at, "specialty")
    if entry.specialty not in specialty_lines:
        f.fail(where, f"specialty '{entry.specialty}' is not a prefix in {SPECIALTIES_FILE}")
    if is_committee:
        if entry.specialty in committees:
            f.fail(
                where,
                f"specialty '{entry.specialty}' already has a spesialitetskomite at line "
                f"{committees[entry.specialty]}; keep one",
            )
        committees[entry.specialty] = f.line(*where)
