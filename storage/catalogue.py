"""Questions to the learning-goal catalogue: what applied on a given date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.reference import CatalogueKind
from domain.spec_catalogue import CatalogueFacts, GoalFacts
from storage.models import CatalogueRow, IdPrefixRow, LearningGoalRow, SpecialtyRow


@dataclass(frozen=True)
class GoalView:
    id: str
    specialty: str | None
    catalogue: str
    text: str
    elaboration: str | None
    heading: str | None
    level: str | None
    status: str
    valid_from: date | None
    valid_to: date | None
    version: int
    source: str

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "specialty": self.specialty,
            "catalogue": self.catalogue,
            "text": self.text,
            "elaboration": self.elaboration,
            "heading": self.heading,
            "level": self.level,
            "status": self.status,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "version": self.version,
            "source": self.source,
        }


def goals_on(session: Session, on: date, catalogue: str | None = None) -> list[GoalView]:
    """Every goal version in force on `on` (valid_from <= on < valid_to), by ID."""
    query = (
        select(LearningGoalRow, CatalogueRow.specialty_prefix)
        .join(CatalogueRow, col(CatalogueRow.code) == col(LearningGoalRow.catalogue_code))
        .where(
            col(LearningGoalRow.status).in_(("active", "retired")),
            or_(col(LearningGoalRow.valid_from).is_(None), col(LearningGoalRow.valid_from) <= on),
            or_(col(LearningGoalRow.valid_to).is_(None), col(LearningGoalRow.valid_to) > on),
        )
        .order_by(
            col(LearningGoalRow.prefix), col(LearningGoalRow.number), col(LearningGoalRow.version)
        )
    )
    if catalogue is not None:
        query = query.where(LearningGoalRow.catalogue_code == catalogue)
    return [_view(row, specialty) for row, specialty in session.exec(query).all()]


def _view(row: LearningGoalRow, specialty: str | None) -> GoalView:
    return GoalView(
        id=row.goal_id,
        specialty=specialty,
        catalogue=row.catalogue_code,
        text=row.text,
        elaboration=row.elaboration,
        heading=row.heading,
        level=row.level,
        status=row.status,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        version=row.version,
        source=row.source,
    )


def specialties(session: Session) -> list[SpecialtyRow]:
    return list(session.exec(select(SpecialtyRow).order_by(SpecialtyRow.name)).all())


def catalogue_codes(session: Session) -> set[str]:
    return set(session.exec(select(CatalogueRow.code)).all())


def catalogue_facts(session: Session) -> dict[str, CatalogueFacts]:
    """Every catalogue with its kind and ID prefixes, by code."""
    prefixes: dict[str, list[str]] = {}
    for row in session.exec(select(IdPrefixRow).order_by(col(IdPrefixRow.prefix))).all():
        prefixes.setdefault(row.catalogue_code, []).append(row.prefix)
    return {
        row.code: CatalogueFacts(
            row.code, CatalogueKind(row.kind), tuple(prefixes.get(row.code, ()))
        )
        for row in session.exec(select(CatalogueRow)).all()
    }


def _in_force(on: date) -> tuple[Any, ...]:
    return (
        col(LearningGoalRow.status) == "active",
        or_(col(LearningGoalRow.valid_from).is_(None), col(LearningGoalRow.valid_from) <= on),
        or_(col(LearningGoalRow.valid_to).is_(None), col(LearningGoalRow.valid_to) > on),
    )


def goal_facts_on(session: Session, goal_ids: Iterable[str], on: date) -> dict[str, GoalFacts]:
    """The active version in force on `on` of each of `goal_ids` that has one."""
    wanted = sorted(set(goal_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(LearningGoalRow).where(col(LearningGoalRow.goal_id).in_(wanted), *_in_force(on))
    ).all()
    return {
        row.goal_id: GoalFacts(
            row.goal_id, row.catalogue_code, row.text, row.heading, row.training_part
        )
        for row in rows
    }


def headings_on(session: Session, codes: Iterable[str], on: date) -> dict[str, set[str]]:
    """Catalogue code -> the headings of its goals in force on `on`."""
    found: dict[str, set[str]] = {code: set() for code in codes}
    if not found:
        return found
    rows = session.exec(
        select(LearningGoalRow.catalogue_code, LearningGoalRow.heading)
        .where(col(LearningGoalRow.catalogue_code).in_(sorted(found)), *_in_force(on))
        .distinct()
    ).all()
    for code, heading in rows:
        if heading is not None:
            found[code].add(heading)
    return found
