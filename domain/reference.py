"""Reference data as domain values: specialties, ID schemes, catalogues, stakeholders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class SpecialtyGroup(StrEnum):
    INDREMEDISINSK = "indremedisinsk"
    KIRURGISK = "kirurgisk"
    ANNEN = "annen"


@dataclass(frozen=True)
class Specialty:
    prefix: str
    name: str
    group: SpecialtyGroup
    prefix_verified: bool


class CatalogueKind(StrEnum):
    SPECIALTY = "specialty"  # LIS3 goals of one specialty, PREFIX-NNN
    COMMON = "common"  # felles kompetansemål (FKM), LM-NN
    LIS1 = "lis1"  # utdanningens første del, KLS/KLP/KLK-NNN


@dataclass(frozen=True)
class IdPrefix:
    """One ID prefix and how its numbers are written.

    `padding` is the number of digits numbers are zero-padded to (3 for BLS-001),
    0 for schemes without padding (LM-75).
    """

    prefix: str
    catalogue: str
    padding: int


@dataclass(frozen=True)
class Catalogue:
    code: str
    name: str
    kind: CatalogueKind
    prefixes: tuple[IdPrefix, ...]
    specialty: str | None = None


@dataclass(frozen=True)
class IdFloor:
    """The highest number known to be used for a prefix before hoering took over."""

    prefix: str
    highest_used: int
    verified: bool
    source: str


@dataclass(frozen=True)
class CatalogueGoal:
    goal_id: str
    catalogue: str
    text: str
    heading: str | None = None
    elaboration: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    retired: bool = False
    training_part: int | None = None  # 1 (LIS1), 2 or 3; None: not recorded


@dataclass(frozen=True)
class Course:
    """A nationally recommended learning activity (course) and the goals it covers."""

    catalogue: str
    name: str
    goal_ids: tuple[str, ...]


class StakeholderGroup(StrEnum):
    RHF = "rhf"
    REGUT = "regut"
    LEGEFORENINGEN = "legeforeningen"
    SPESIALITETSKOMITE = "spesialitetskomite"
    FAKULTET = "fakultet"
    HELSEFORETAK = "helseforetak"
    PRIVAT = "privat"
    KOMPETANSETJENESTE = "kompetansetjeneste"


@dataclass(frozen=True)
class Stakeholder:
    key: str
    name: str
    group: StakeholderGroup
    email: str
    email_verified: bool
    domains: tuple[str, ...] = ()
    specialty: str | None = None


@dataclass(frozen=True)
class ReferenceData:
    specialties: tuple[Specialty, ...]
    catalogues: tuple[Catalogue, ...]
    floors: tuple[IdFloor, ...]
    goals: tuple[CatalogueGoal, ...]
    courses: tuple[Course, ...]
    stakeholders: tuple[Stakeholder, ...] = field(default=())
