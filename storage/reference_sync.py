"""Load reference data (validated domain values) into the database, idempotently.

Running it twice leaves the same state. Rows written by hearings (new goals, goal
versions, reservations) are never touched; reference rows are inserted or updated.
Stakeholders that disappear from the file are deactivated, not deleted, because
responses and letters refer to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from domain.competence import level_of_text
from domain.reference import ReferenceData
from storage import ledger
from storage.models import (
    CatalogueRow,
    CourseGoalRow,
    CourseRow,
    IdPrefixRow,
    LearningGoalRow,
    SpecialtyRow,
    StakeholderDomainRow,
    StakeholderRow,
)
from storage.rows import row_id

REFERENCE_SOURCE = "reference"


@dataclass
class SyncReport:
    """How many rows of each kind were inserted or changed."""

    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.inserted.values()) + sum(self.updated.values()))


def _upsert(
    session: Session, report: SyncReport, label: str, row_type: type, primary_key: str, /, **values
) -> object:
    row = session.get(row_type, primary_key)
    if row is None:
        row = row_type(**values)
        session.add(row)
        report.inserted[label] += 1
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        session.add(row)
        report.updated[label] += 1
    return row


def sync_reference_data(session: Session, data: ReferenceData) -> SyncReport:
    report = SyncReport()
    for s in data.specialties:
        _upsert(
            session,
            report,
            "specialties",
            SpecialtyRow,
            s.prefix,
            prefix=s.prefix,
            name=s.name,
            group=str(s.group),
            prefix_verified=s.prefix_verified,
        )
    session.flush()
    floors = {f.prefix: f for f in data.floors}
    for c in data.catalogues:
        _upsert(
            session,
            report,
            "catalogues",
            CatalogueRow,
            c.code,
            code=c.code,
            name=c.name,
            kind=str(c.kind),
            specialty_prefix=c.specialty,
        )
    session.flush()
    for c in data.catalogues:
        for p in c.prefixes:
            floor = floors.get(p.prefix)
            _upsert(
                session,
                report,
                "prefixes",
                IdPrefixRow,
                p.prefix,
                prefix=p.prefix,
                catalogue_code=c.code,
                padding=p.padding,
                floor=floor.highest_used if floor else None,
                floor_verified=floor.verified if floor else False,
                floor_source=floor.source if floor else None,
            )
    session.flush()
    _sync_goals(session, data, report)
    _sync_courses(session, data, report)
    _sync_stakeholders(session, data, report)
    ledger.sync_counters(session)
    return report


def _sync_goals(session: Session, data: ReferenceData, report: SyncReport) -> None:
    registry = ledger.registry(session)
    existing = {
        row.goal_id: row
        for row in session.exec(
            select(LearningGoalRow).where(LearningGoalRow.source == REFERENCE_SOURCE)
        ).all()
    }
    # A goal changed since (codified, imported) keeps its closed first version as it is.
    superseded = set(
        session.exec(select(LearningGoalRow.goal_id).where(LearningGoalRow.version > 1)).all()
    )
    for goal in data.goals:
        parsed = registry.parse(goal.goal_id)
        if str(parsed) in superseded:
            continue
        level = level_of_text(goal.text)
        values: dict[str, Any] = dict(
            goal_id=str(parsed),
            prefix=parsed.prefix,
            number=parsed.number,
            catalogue_code=goal.catalogue,
            version=1,
            text=goal.text,
            elaboration=goal.elaboration,
            heading=goal.heading,
            training_part=goal.training_part,
            level=level.name.lower() if level else None,
            status="retired" if goal.retired else "active",
            valid_from=goal.valid_from,
            valid_to=goal.valid_to,
            source=REFERENCE_SOURCE,
        )
        row = existing.get(str(parsed))
        if row is None:
            session.add(LearningGoalRow(**values))
            report.inserted["goals"] += 1
            continue
        changed = [k for k, v in values.items() if getattr(row, k) != v]
        for name in changed:
            setattr(row, name, values[name])
        if changed:
            session.add(row)
            report.updated["goals"] += 1
    session.flush()


def _sync_courses(session: Session, data: ReferenceData, report: SyncReport) -> None:
    for position, course in enumerate(data.courses):
        row = session.exec(
            select(CourseRow).where(
                CourseRow.catalogue_code == course.catalogue, CourseRow.name == course.name
            )
        ).first()
        if row is None:
            row = CourseRow(catalogue_code=course.catalogue, name=course.name, position=position)
            session.add(row)
            session.flush()
            report.inserted["courses"] += 1
        elif row.position != position:
            row.position = position
            report.updated["courses"] += 1
        wanted = {goal_id: i for i, goal_id in enumerate(course.goal_ids)}
        current = {
            link.goal_id: link
            for link in session.exec(
                select(CourseGoalRow).where(CourseGoalRow.course_id == row.id)
            ).all()
        }
        for goal_id, link in current.items():
            if goal_id not in wanted:
                session.delete(link)
                report.updated["course goals"] += 1
        for goal_id, i in wanted.items():
            found = current.get(goal_id)
            if found is None:
                session.add(CourseGoalRow(course_id=row_id(row), goal_id=goal_id, position=i))
                report.inserted["course goals"] += 1
            elif found.position != i:
                found.position = i
                report.updated["course goals"] += 1
    session.flush()


def _sync_stakeholders(session: Session, data: ReferenceData, report: SyncReport) -> None:
    keys = {s.key for s in data.stakeholders}
    # Free addresses first so that swapping two addresses does not trip the unique index.
    for row in session.exec(select(StakeholderRow)).all():
        if row.key not in keys and row.active:
            row.active = False
            report.updated["stakeholders"] += 1
    for s in data.stakeholders:
        _upsert(
            session,
            report,
            "stakeholders",
            StakeholderRow,
            s.key,
            key=s.key,
            name=s.name,
            group=str(s.group),
            email=s.email.lower(),
            email_verified=s.email_verified,
            specialty_prefix=s.specialty,
            active=True,
        )
    session.flush()
    wanted = {d.lower(): s.key for s in data.stakeholders for d in s.domains}
    for domain_row in session.exec(select(StakeholderDomainRow)).all():
        if wanted.get(domain_row.domain) != domain_row.stakeholder_key:
            session.delete(domain_row)
            report.updated["domains"] += 1
    session.flush()
    for domain, key in wanted.items():
        if session.get(StakeholderDomainRow, domain) is None:
            session.add(StakeholderDomainRow(domain=domain, stakeholder_key=key))
            report.inserted["domains"] += 1
    session.flush()
