"""`hoering init`: schema upgrade and reference-data refresh."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from services import runtime
from services.reference_files import load_reference_data
from storage import ledger
from storage.db import describe_url, upgrade_schema, write_session
from storage.models import (
    CourseRow,
    IdReservationRow,
    LearningGoalRow,
    SpecialtyRow,
    StakeholderRow,
)
from storage.reference_sync import sync_reference_data


def run_init() -> dict:
    """Upgrade the schema and load the reference data; returns a summary."""
    config = runtime.settings()
    data = load_reference_data(config.resolved_reference_dir)  # validate before writing
    db = runtime.engine(config, require_schema=False)
    upgrade_schema(db)
    with write_session(db) as session:
        report = sync_reference_data(session, data)
        totals = {
            "specialties": session.exec(select(func.count()).select_from(SpecialtyRow)).one(),
            "goals": session.exec(select(func.count()).select_from(LearningGoalRow)).one(),
            "courses": session.exec(select(func.count()).select_from(CourseRow)).one(),
            "stakeholders": session.exec(
                select(func.count()).select_from(StakeholderRow).where(StakeholderRow.active)
            ).one(),
            "reservations": session.exec(select(func.count()).select_from(IdReservationRow)).one(),
        }
        next_ids = {p: str(ledger.peek_next(session, p)) for p in ledger.verified_prefixes(session)}
    return {
        "database": describe_url(config.resolved_database_url),
        "reference_dir": str(config.resolved_reference_dir),
        "changed": report.changed,
        "counts": {
            name: {
                "total": total,
                "inserted": report.inserted.get(name, 0),
                "updated": report.updated.get(name, 0),
            }
            for name, total in totals.items()
        },
        "next_ids": next_ids,
    }
