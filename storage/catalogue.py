"""Questions to the learning-goal catalogue: what applied on a given date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.competence import level_of_text
from domain.reference import CatalogueKind
from domain.spec_catalogue import CatalogueFacts, GoalFacts
from storage.models import (
    CatalogueRow,
    IdPrefixRow,
    IdReservationRow,
    LearningGoalRow,
    SpecialtyRow,
)


@dataclass(frozen=True)
class GoalView:
    id: str
    specialty: str | None
    catalogue: str
    text: str
    elaboration: str | None
    heading: str | None
    training_part: int | None
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
            "training_part": self.training_part,
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
        training_part=row.training_part,
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


# --- changing the catalogue (codification, catalogue import) ------------------------------


def latest_versions(session: Session, code: str) -> list[LearningGoalRow]:
    """The latest version of every goal of catalogue `code` (retired ones included), by ID."""
    rows = session.exec(
        select(LearningGoalRow)
        .where(LearningGoalRow.catalogue_code == code)
        .order_by(col(LearningGoalRow.prefix), col(LearningGoalRow.number))
    ).all()
    latest: dict[str, LearningGoalRow] = {}
    for row in rows:
        if row.goal_id not in latest or row.version > latest[row.goal_id].version:
            latest[row.goal_id] = row
    return list(latest.values())


def add_version(
    session: Session, current: LearningGoalRow, valid_from: date, source: str, **changes: Any
) -> LearningGoalRow:
    """Close `current` at `valid_from` and add the goal's next version with `changes`
    (history is never overwritten); the level follows the text."""
    current.valid_to = valid_from
    session.add(current)
    values = current.model_dump(exclude={"id"})
    values.update(changes, version=current.version + 1, valid_from=valid_from, valid_to=None)
    values["source"] = source
    level = level_of_text(values["text"])
    values["level"] = level.name.lower() if level else None
    row = LearningGoalRow(**values)
    session.add(row)
    return row


def prefix_paddings(session: Session) -> dict[str, int]:
    return dict(session.exec(select(IdPrefixRow.prefix, IdPrefixRow.padding)).all())


def reservation_holder(session: Session, goal_id: str) -> str | None:
    """'hearing 24/750' (or the key) when `goal_id`'s number is reserved or used in the
    ledger, else None."""
    prefix, _, digits = goal_id.partition("-")
    row = session.exec(
        select(IdReservationRow).where(
            IdReservationRow.prefix == prefix,
            IdReservationRow.number == int(digits),
            col(IdReservationRow.status).in_(("reserved", "used")),
        )
    ).first()
    if row is None:
        return None
    return f"hearing {row.hearing_case}" if row.hearing_case else f"key {row.key}"
