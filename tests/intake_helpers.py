"""Building responses (real e-mails, .docx and .pdf attachments) and filing them in tests."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime

from docx import Document
from sqlalchemy import Engine, func, update
from sqlmodel import select

from domain.calendar import OSLO
from services.intake import MessageOutcome, RawRef, file_batch
from storage.blobs import BlobStore
from storage.db import write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from tests.hearing_helpers import create, spec_text
from tests.sample_files import message as message  # the tests import it from here

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IMPORTED = datetime(2024, 6, 3, 9, 0, tzinfo=OSLO)  # after the 24/750 deadline (31 May)


def docx_bytes(*paragraphs: str) -> bytes:
    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def circulated_hearing(engine: Engine, case: str = "24/750", last_document: int = 1) -> int:
    """The 24/750 spec (or a copy under `case`) created and marked circulated.

    Circulating for real renders the letters (1-2 s); the intake only needs the state
    and the document series, so the state is set directly.
    """
    content = spec_text()
    if case != "24/750":  # a copy: another case, and the IDs the ledger gives next
        content = content.replace('case: "24/750"', f'case: "{case}"', 1)
        content = re.sub(r"^\s*expected_id:.*\n", "", content, flags=re.MULTILINE)
    create(engine, content)
    with write_session(engine) as session:
        session.execute(
            update(HearingRow)
            .where(HearingRow.case_number == case)
            .values(state="circulated", last_document_number=last_document)
        )
        return session.exec(select(HearingRow.id).where(HearingRow.case_number == case)).one()


def file_messages(
    engine: Engine,
    store: BlobStore,
    raws: Sequence[bytes | tuple[str, bytes]],
    now: datetime = IMPORTED,
    **options,
) -> list[MessageOutcome]:
    """Store the raw bytes and file them as one batch, as the import flow does."""
    refs = []
    for number, item in enumerate(raws, start=1):
        source, raw = item if isinstance(item, tuple) else (f"test#{number}", item)
        refs.append(RawRef(source, store.put(raw), len(raw)))
    with write_session(engine) as session:
        return file_batch(session, store, refs, now, **options)


def row_counts(engine: Engine) -> dict[str, int]:
    tables = {
        "intake_message": IntakeMessageRow,
        "response": ResponseRow,
        "response_attachment": ResponseAttachmentRow,
        "quarantine": QuarantineRow,
        "outbox_message": OutboxMessageRow,
    }
    with write_session(engine) as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in tables.items()
        }
