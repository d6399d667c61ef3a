"""A hearing spec checked against the reference data in the database: the one check that
creating a hearing (`services.hearings`) and the CLI's check before Prefect
(`flows.checks.check_spec`) both call.

Names (specialties, stakeholders, groups) are checked by `HearingSpec.validate_references`;
catalogues, ID prefixes and the goals the items name by `domain.spec_catalogue`.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from domain.change_items import HeadingChange, NewGoal
from domain.hearing_spec import HearingSpec
from domain.reference import CatalogueKind, StakeholderGroup
from domain.spec_catalogue import check_spec_catalogues
from storage import catalogue
from storage.models import SpecialtyRow, StakeholderRow


def check_spec_references(session: Session, spec: HearingSpec, on: date) -> None:
    """Raise one UserError line (spec file:line, field, the goal) for the first name in
    `spec` that the reference data or the catalogue in force on `on` does not have."""
    prefixes = set(session.exec(select(SpecialtyRow.prefix)).all())
    keys = set(session.exec(select(StakeholderRow.key).where(StakeholderRow.active)).all())
    spec.validate_references(prefixes, keys, {g.value for g in StakeholderGroup})
    named = [
        goal_id
        for item in spec.items
        if not isinstance(item, (NewGoal, HeadingChange))
        and (goal_id := getattr(item, "goal_id", None))
    ]
    heading_codes = [i.catalogue_code for i in spec.items if isinstance(i, HeadingChange)]
    check_spec_catalogues(
        spec,
        catalogue.catalogue_facts(session),
        catalogue.goal_facts_on(session, named, on),
        catalogue.headings_on(session, heading_codes, on),
        on,
    )


def common_catalogues(session: Session) -> set[str]:
    """Codes of the catalogues common to every specialty (kind common: FKM)."""
    return {
        code
        for code, facts in catalogue.catalogue_facts(session).items()
        if facts.kind == CatalogueKind.COMMON
    }
