"""Questions to the learning-goal catalogue: what applied on a given date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import CatalogueRow, LearningGoalRow, SpecialtyRow


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
