"""SQLModel tables. Domain values are turned into rows here and back.

Schema changes go through Alembic migrations in `storage/migrations/versions`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SpecialtyRow(SQLModel, table=True):
    __tablename__ = "specialty"

    prefix: str = Field(primary_key=True, max_length=8)
    name: str
    group: str = Field(max_length=32)
    prefix_verified: bool = False


class CatalogueRow(SQLModel, table=True):
    __tablename__ = "catalogue"

    code: str = Field(primary_key=True, max_length=16)
    name: str
    kind: str = Field(max_length=16)
    specialty_prefix: str | None = Field(default=None, foreign_key="specialty.prefix")


class IdPrefixRow(SQLModel, table=True):
    """One ID prefix: its catalogue, padding and the highest number used before us."""

    __tablename__ = "id_prefix"

    prefix: str = Field(primary_key=True, max_length=8)
    catalogue_code: str = Field(foreign_key="catalogue.code", max_length=16)
    padding: int = 3
    floor: int | None = None
    floor_verified: bool = False
    floor_source: str | None = None


class IdCounterRow(SQLModel, table=True):
    """The next number a reservation gets for a prefix: one above the highest number
    ever used, reserved or known from a floor. Only ever grows."""

    __tablename__ = "id_counter"

    prefix: str = Field(primary_key=True, foreign_key="id_prefix.prefix", max_length=8)
    next_number: int = 1


class LearningGoalRow(SQLModel, table=True):
    """One version of a learning goal, valid from/to given dates.

    A change never overwrites a row: it closes the old version (valid_to) and adds a
    new one, so the catalogue can be asked what applied on any date.
    """

    __tablename__ = "learning_goal"
    __table_args__ = (
        UniqueConstraint("goal_id", "version", name="uq_learning_goal_version"),
        Index("ix_learning_goal_prefix_number", "prefix", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    goal_id: str = Field(max_length=16, index=True)
    prefix: str = Field(foreign_key="id_prefix.prefix", max_length=8)
    number: int
    catalogue_code: str = Field(foreign_key="catalogue.code", max_length=16)
    version: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    elaboration: str | None = Field(default=None, sa_column=Column(Text))
    heading: str | None = None
    training_part: int | None = None
    level: str | None = Field(default=None, max_length=16)
    status: str = Field(default="active", max_length=16)
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = Field(default="reference", max_length=64)


class CourseRow(SQLModel, table=True):
    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("catalogue_code", "name", name="uq_course_name"),)

    id: int | None = Field(default=None, primary_key=True)
    catalogue_code: str = Field(foreign_key="catalogue.code", max_length=16)
    name: str
    position: int = 0


class CourseGoalRow(SQLModel, table=True):
    __tablename__ = "course_goal"

    course_id: int = Field(foreign_key="course.id", primary_key=True)
    goal_id: str = Field(primary_key=True, max_length=16)
    position: int = 0


class StakeholderRow(SQLModel, table=True):
    __tablename__ = "stakeholder"

    key: str = Field(primary_key=True, max_length=80)
    name: str
    group: str = Field(max_length=32)
    email: str = Field(max_length=254, unique=True)
    email_verified: bool = False
    specialty_prefix: str | None = Field(default=None, foreign_key="specialty.prefix")
    active: bool = True


class StakeholderDomainRow(SQLModel, table=True):
    __tablename__ = "stakeholder_domain"

    domain: str = Field(primary_key=True, max_length=253)
    stakeholder_key: str = Field(foreign_key="stakeholder.key", max_length=80)


class IdReservationRow(SQLModel, table=True):
    """A learning-goal number held for a purpose (the key), or deferred with a reason.

    Status: reserved (holds a number), deferred (no number yet), used (the goal was
    codified), burned (released by a withdrawn hearing or a dropped item; the
    number is never handed out again).
    """

    __tablename__ = "id_reservation"
    __table_args__ = (UniqueConstraint("prefix", "number", name="uq_id_reservation_number"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    prefix: str = Field(foreign_key="id_prefix.prefix", max_length=8)
    number: int | None = None
    status: str = Field(default="reserved", max_length=16)
    reason: str | None = None
    hearing_case: str | None = Field(default=None, max_length=16, index=True)
    created_at: datetime
    resolved_at: datetime | None = None
    # An explicit ID accepted at codification above the verified floor (--accept-unverified-id).
    accepted_unverified: bool = False
