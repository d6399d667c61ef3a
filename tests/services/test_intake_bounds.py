"""Hostile input to the import: zip bombs, slow and greedy attachments, a message that
breaks the filing code, and a long import beside other commands."""

from __future__ import annotations

import io
import resource
import threading
import time
import zipfile

import pytest
from sqlalchemy import text
from sqlmodel import select

from domain.attachment_text import ExtractedText, extract_text
from domain.email_intake import MailLimits
from services import intake_writing
from services.attachment_reading import AttachmentReader
from services.intake import RawRef, file_stored
from storage.blobs import BlobStore
from storage.db import write_session
from storage.intake_models import IntakeMessageRow, QuarantineRow, ResponseAttachmentRow
from tests.cli_helpers import run_hoering_process
from tests.intake_helpers import DOCX_TYPE, IMPORTED, circulated_hearing, docx_bytes, message

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PARAGRAPH = (
    "<w:p><w:r><w:t>Helse Vest støtter forslaget om nye læringsmål i sak 24/750, "
    "med noen merknader til kompetansemålene.</w:t></w:r></w:p>"
).encode()
_MB = 1024 * 1024


def heavy_docx(xml_mb: int) -> bytes:
    """A valid .docx whose document.xml unpacks to about `xml_mb` MB, written in chunks
    so that the test never holds the XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Override PartName="/word/document.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
            "/></Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            "openxmlformats.org/officeDocument/2006/relationships/officeDocument"
            '" Target="word/document.xml"/></Relationships>',
        )
        chunk = _PARAGRAPH * (_MB // len(_PARAGRAPH) + 1)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            for _ in range(xml_mb):
                part.write(chunk)
            part.write(b"</w:body></w:document>")
    return buffer.getvalue()


def _store_refs(store: BlobStore, raws: list[tuple[str, bytes]]) -> list[RawRef]:
    return [RawRef(source, store.put(raw), len(raw)) for source, raw in raws]


def _attachments(engine) -> list[ResponseAttachmentRow]:
    with write_session(engine) as session:
        rows = session.exec(select(ResponseAttachmentRow)).all()
        session.expunge_all()
        return list(rows)


def test_a_docx_that_unpacks_to_190_mb_is_flagged_in_seconds_and_its_message_filed(
    engine, tmp_path
):
    circulated_hearing(engine)
    bomb = heavy_docx(190)
    raw = message(attachments=[("Høringssvar.docx", bomb, DOCX_TYPE)])
    assert len(raw) < 1.5 * _MB  # a small e-mail
    store = BlobStore(tmp_path / "blobs")
    refs = _store_refs(store, [("bomb.eml", raw)])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with AttachmentReader(timeout_s=20, memory_mb=512) as reader:
        outcomes = file_stored(engine, store, refs, IMPORTED, MailLimits(), reader.read)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert [o.outcome for o in outcomes] == ["matched"]
    assert outcomes[0].tracking_number == "24/750-2"
    [attachment] = _attachments(engine)
    assert attachment.text is None
    assert attachment.unreadable_reason == (
        "too heavy to read: word/document.xml unpacks to 190 MB (limit 32 MB)"
    )
    assert store.get(attachment.sha256) == bomb  # the attachment is kept
    assert elapsed < 10, elapsed
    assert grown_mb < 100, grown_mb
    print(f"\n190 MB-XML docx: {len(raw) / _MB:.2f} MB e-mail, {elapsed:.2f} s, +{grown_mb:.0f} MB")


@pytest.fixture(scope="module")
def docx_20mb() -> bytes:
    return heavy_docx(20)  # under the part cap: it is parsed, slowly and greedily


def test_an_attachment_over_the_time_budget_is_flagged_and_the_reader_recovers(docx_20mb):
    with AttachmentReader(timeout_s=0.5, memory_mb=2048) as reader:
        warm = reader.read("svar.docx", DOCX_TYPE, docx_bytes("Første svar."))
        started = time.monotonic()
        slow = reader.read("svar.docx", DOCX_TYPE, docx_20mb)
        elapsed = time.monotonic() - started
        after = reader.read("svar.docx", DOCX_TYPE, docx_bytes("Vi støtter forslaget."))
    assert slow == ExtractedText(None, "too heavy to read: took over 0.5 s")
    assert elapsed < 3, elapsed
    assert after == ExtractedText("Vi støtter forslaget.")  # the new worker's start is free
    assert warm == ExtractedText("Første svar.")


def test_an_attachment_over_the_memory_budget_is_flagged(docx_20mb):
    with AttachmentReader(timeout_s=60, memory_mb=64) as reader:
        greedy = reader.read("svar.docx", DOCX_TYPE, docx_20mb)
        after = reader.read("svar.docx", DOCX_TYPE, docx_bytes("Ingen merknader."))
    assert greedy.text is None
    assert greedy.unreadable_reason is not None
    assert greedy.unreadable_reason.startswith("too heavy to read: "), greedy
    assert after == ExtractedText("Ingen merknader.")


def test_a_message_that_breaks_the_filing_twice_is_quarantined_and_the_rest_filed(
    engine, tmp_path, monkeypatch
):
    circulated_hearing(engine)
    original = intake_writing.BatchWriter._response_values
    calls: list[str] = []

    def breaks_on_poison(self, plan, tracking_number):
        assert plan.parsed is not None
        calls.append(plan.parsed.subject)
        if "GIFT" in plan.parsed.subject:
            raise ValueError("a bug that this message triggers")
        return original(self, plan, tracking_number)

    monkeypatch.setattr(intake_writing.BatchWriter, "_response_values", breaks_on_poison)
    raws = [
        (
            f"{number:02d}.eml",
            message(
                sender=f"svar{number}@helse-vest.no",
                message_id=f"<svar-{number}@helse-vest.no>",
                subject=f"{'GIFT ' if number == 5 else ''}Høringssvar {number}, sak 24/750",
                body=f"Svar nummer {number}.",
            ),
        )
        for number in range(1, 9)
    ]
    store = BlobStore(tmp_path / "blobs")
    outcomes = file_stored(
        engine, store, _store_refs(store, raws), IMPORTED, MailLimits(), extract_text
    )
    by_source = {o.source: o for o in outcomes}
    assert by_source["05.eml"].outcome == "quarantined"
    assert by_source["05.eml"].reason == (
        "could not be filed (failed twice: ValueError: a bug that this message triggers)"
    )
    others = [o for o in outcomes if o.source != "05.eml"]
    assert [o.outcome for o in others] == ["matched"] * 7
    assert sorted(o.tracking_number or "" for o in others) == sorted(
        f"24/750-{n}" for n in range(2, 9)
    )
    with write_session(engine) as session:
        assert len(session.exec(select(IntakeMessageRow)).all()) == 8
        [held] = session.exec(select(QuarantineRow)).all()
        assert "failed twice" in held.reason
    # Run again (the next scheduled import): nothing new, the poison is not retried.
    again = file_stored(
        engine, store, _store_refs(store, raws), IMPORTED, MailLimits(), extract_text
    )
    assert {o.outcome for o in again} == {"duplicate"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ids_reserve_succeeds_while_a_long_import_reads_attachments(engine, hoering_env, tmp_path):
    circulated_hearing(engine)
    reading, release = threading.Event(), threading.Event()

    def slow_read(filename: str, content_type: str, payload: bytes) -> ExtractedText:
        reading.set()
        release.wait(60)
        return extract_text(filename, content_type, payload)

    raws = [
        (
            f"{n}.eml",
            message(
                message_id=f"<{n}@x>",
                body=f"Svar {n}",
                attachments=[("svar.docx", docx_bytes(f"Svar {n}."), DOCX_TYPE)],
            ),
        )
        for n in range(3)
    ]
    store = BlobStore(tmp_path / "blobs")
    refs = _store_refs(store, raws)
    results: list = []
    importer = threading.Thread(
        target=lambda: results.append(
            file_stored(engine, store, refs, IMPORTED, MailLimits(), slow_read)
        )
    )
    importer.start()
    try:
        assert reading.wait(30)
        env = {**hoering_env, "HOERING_SQLITE_BUSY_TIMEOUT_S": "2"}
        reserved = run_hoering_process("ids", "reserve", "BLS", "--key", "under-import", env=env)
    finally:
        release.set()
        importer.join(60)
    assert reserved.code == 0, reserved.stderr
    assert "reserved for key 'under-import'" in reserved.stdout
    assert [o.outcome for o in results[0]] == ["matched"] * 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_command_that_cannot_get_the_database_says_so_in_one_line(engine, hoering_env):
    env = {**hoering_env, "HOERING_SQLITE_BUSY_TIMEOUT_S": "1"}
    with write_session(engine) as session:  # another command's write transaction, held
        session.execute(text("SELECT 1"))  # SQLite's BEGIN IMMEDIATE happens here
        started = time.monotonic()
        result = run_hoering_process("ids", "reserve", "BLS", "--key", "waits", env=env)
        waited = time.monotonic() - started
    assert result.code == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "is busy" in lines[0] and "run this again" in lines[0]
    assert "Traceback" not in result.stderr and "INSERT" not in result.stderr
    assert waited >= 1
