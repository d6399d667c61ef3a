"""Catalogues the example hearings need beyond the shipped reference data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

# An illustrative extract of the LIS1 catalogue (not the real goals), loaded with
# `catalogue import` before the hearing, as staff would load the real one.
LIS1_EXTRACT = [
    (
        "KLS-001",
        "Kunne vurdere og behandle akutt syke pasienter etter ABCDE-prinsippet.",
        "Akuttmedisin",
    ),
    ("KLS-002", "Kunne starte og lede hjerte-lunge-redning.", "Akuttmedisin"),
    ("KLP-001", "Kunne gjøre en psykiatrisk undersøkelse.", "Psykiatri"),
    ("KLP-002", "Kunne gjøre en selvmordsrisikovurdering.", "Psykiatri"),
    ("KLK-001", "Ha kunnskap om kommunens helse- og omsorgstjenester.", "Kommunehelsetjenesten"),
    ("KLK-002", "Kunne samarbeide med fastlege og hjemmetjeneste.", "Kommunehelsetjenesten"),
    ("KLK-003", "Ha kunnskap om fastlegeordningen.", "Kommunehelsetjenesten"),
]


def load_lis1_extract(engine, tmp_path: Path) -> None:
    """Import LIS1_EXTRACT with `catalogue import`, as staff load the real catalogue."""
    from domain.catalogue_sheet import GoalState
    from rendering.catalogue_sheet import write_catalogue_sheet
    from services.catalogue_files import import_catalogue
    from storage.db import write_session

    goals = [GoalState(i, text, None, heading, 1, "active") for i, text, heading in LIS1_EXTRACT]
    path = tmp_path / "lis1.xlsx"
    write_catalogue_sheet({"LIS1": goals}, path, date(2025, 8, 1))
    with write_session(engine) as session:
        report = import_catalogue(session, path, date(2025, 8, 1), dry_run=False)
    assert report.floors["KLS"] == {"highest": 2, "verified": True}
