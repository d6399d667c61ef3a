"""Every letter hoering writes converts to PDF with LibreOffice (as staff and recipients
open them), and the PDF still carries the case number and the letter's content.

The 24/750 lifecycle runs once at storage level (create .. codify) on a SQLite copy of
the test template: the letters are the same bytes on either database. The letters
the lifecycle does not write (kvittering, påminnelse, the recipient list on its own)
are rendered from small contexts built from the stored hearing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from domain.letter_building import RecipientInfo, recipient_groups
from domain.letter_context import Contact, ReceiptContext, RecipientListContext, ReminderContext
from domain.lifecycle import Action
from rendering.letters import render_docx
from services import hearings
from storage.db import create_db_engine, read_session
from tests.conftest import service_missing
from tests.hearing_helpers import (
    AFTER_DEADLINE,
    CIRCULATED,
    CODIFIED,
    DECISIONS_PATH,
    REVIEWED,
    act,
    create,
)

CASE = "24/750"
CONVERT_TIMEOUT_S = 300
LETTER_IDS = [
    "AMM-068",
    "BLS-154",
    "GER-064",
    "HJS-xxx",
    "MED-106",
    "LUN-061",
    "NYR-067",
    "KIR-174",
    "NKI-037",
    "URO-090",
    "PED-165",
    "NEV-068",
    "ONC-069",
]


@dataclass(frozen=True)
class Converted:
    docx: dict[str, Path]  # letter kind -> .docx
    pdf: dict[str, Path]  # letter kind -> .pdf
    letters_dir: Path
    soffice_output: str


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        service_missing("LibreOffice (soffice) is not installed; run .ci/libreoffice.sh")
    return found


def _run_lifecycle(engine: Engine, letters_dir: Path) -> dict[str, Path]:
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, letters_dir)
    act(engine, Action.CLOSE, AFTER_DEADLINE, letters_dir)
    act(engine, Action.REVIEW_DONE, REVIEWED, letters_dir)
    act(engine, Action.CODIFY, CODIFIED, letters_dir, decisions_text=DECISIONS_PATH.read_text())
    with read_session(engine) as session:
        rows = hearings.letters(session, hearings.get_hearing(session, CASE))
        return {row.kind: Path(row.path) for row in rows if row.path.endswith(".docx")}


def _render_small_letters(engine: Engine, folder: Path) -> dict[str, Path]:
    """Kvittering, påminnelse and the recipient list, from the stored hearing."""
    with read_session(engine) as session:
        hearing = hearings.get_hearing(session, CASE)
        spec = hearings.load_spec(hearing)
        recipients = hearings.recipients(session, hearing)
        title, deadline, circulated_on = hearing.title, hearing.deadline, hearing.circulated_on
    first = recipients[0]
    contact = Contact(title=spec.contact.title, name=spec.contact.name, email=spec.contact.email)
    contexts = {
        "kvittering": ReceiptContext(
            case_number=CASE,
            tracking_number=f"{CASE}-3",
            letter_date=date(2024, 4, 3),
            title=title,
            received_date=date(2024, 4, 2),
            recipient_name=first.name,
            recipient_address=first.email,
            case_officer=spec.case_officer.name,
            contact=contact,
        ),
        "paaminnelse": ReminderContext(
            case_number=CASE,
            letter_date=date(2024, 5, 17),
            title=title,
            circulated_date=circulated_on,
            deadline=deadline,
            recipient_name=first.name,
            recipient_address=first.email,
            case_officer=spec.case_officer.name,
            contact=contact,
        ),
        "hoeringsinstanser": RecipientListContext(
            case_number=CASE,
            title=title,
            letter_date=circulated_on,
            recipient_groups=recipient_groups(
                [RecipientInfo(name=r.name, email=r.email, group=r.group) for r in recipients]
            ),
        ),
    }
    paths = {}
    for kind, context in contexts.items():
        paths[kind] = folder / f"{kind}-{CASE.replace('/', '-')}.docx"
        render_docx(kind, context, paths[kind])
    return paths


@pytest.fixture(scope="module")
def converted(db_templates, tmp_path_factory) -> Iterator[Converted]:
    """The lifecycle's letters plus the small ones, converted to PDF in one soffice run."""
    soffice = _soffice()
    folder = tmp_path_factory.mktemp("letters-pdf")
    database = folder / "hoering.db"
    shutil.copyfile(db_templates["sqlite"], database)
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        letters_dir = folder / "letters"
        docx = _run_lifecycle(engine, letters_dir)
        docx.update(_render_small_letters(engine, folder / "small"))
    finally:
        engine.dispose()
    outdir = folder / "pdf"
    profile = folder / "lo-profile"  # private profile: parallel runs do not clash
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *map(str, docx.values()),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"soffice exited {result.returncode}: {result.stderr}"
    pdf = {kind: outdir / f"{path.stem}.pdf" for kind, path in docx.items()}
    yield Converted(docx, pdf, letters_dir, result.stdout + result.stderr)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_the_lifecycle_writes_both_letters_and_nothing_unrecorded(converted):
    assert {"hoeringsbrev", "orienteringsbrev"} <= set(converted.docx)
    on_disk = set(converted.letters_dir.rglob("*.docx"))
    assert on_disk == {p for p in converted.docx.values() if converted.letters_dir in p.parents}


@pytest.mark.parametrize(
    "kind", ["hoeringsbrev", "orienteringsbrev", "kvittering", "paaminnelse", "hoeringsinstanser"]
)
def test_letter_converts_to_a_pdf_with_the_case_number(converted, kind):
    pdf = converted.pdf[kind]
    assert pdf.is_file(), f"no PDF for {converted.docx[kind].name}:\n{converted.soffice_output}"
    assert pdf.stat().st_size > 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert CASE in _pdf_text(pdf)


def test_hearing_letter_pdf_keeps_the_id_table_deadline_and_appendix(converted):
    text = _pdf_text(converted.pdf["hoeringsbrev"])
    for goal_id in LETTER_IDS:
        assert goal_id in text
    assert "31. mai 2024" in text
    assert "Dokumentet er godkjent elektronisk" in " ".join(text.split())
    assert len(PdfReader(converted.pdf["hoeringsbrev"]).pages) >= 2  # the appendix


def test_orientation_letter_pdf_shows_the_resolved_ids_and_effective_date(converted):
    text = _pdf_text(converted.pdf["orienteringsbrev"])
    assert "HJS-101" in text and "HJS-xxx" not in text
    assert "BLS-154" in text
    assert "1. september 2025" in text
