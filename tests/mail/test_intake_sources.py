"""Mail sources (files, mbox, Maildir, IMAP URLs), the blob store, and the batched import.

The import tests run the real flow code (one Prefect task per batch) against the
session's Prefect test harness, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from domain.errors import UserError
from flows.intake_flows import _batches, import_responses, import_sources, intake_settings
from mail.sources import (
    EmlFileSource,
    EmlFolderSource,
    ImapSettings,
    MaildirSource,
    MboxSource,
    SourceMessage,
    SourceUnavailable,
    imap_password,
    open_source,
    parse_imap_url,
)
from services.intake_parsing import ImportPipeline, worker_count
from services.intake_report import ImportReport, ReportFollower, read_events
from storage.blobs import BlobStore
from storage.db import create_db_engine, read_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from tests.intake_helpers import (
    DOCX_TYPE,
    IMPORTED,
    circulated_hearing,
    docx_bytes,
    message,
)
from tests.sample_files import pdf_bytes

# --- file sources ------------------------------------------------------------------------


def test_an_eml_file_is_read_as_it_is(tmp_path):
    raw = message()
    (tmp_path / "svar.eml").write_bytes(raw)
    source = open_source(str(tmp_path / "svar.eml"))
    assert isinstance(source, EmlFileSource)
    assert [(m.source_id, m.raw) for m in source.messages()] == [(str(tmp_path / "svar.eml"), raw)]


def test_a_folder_gives_its_eml_files_in_name_order_including_subfolders(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.eml").write_bytes(b"Subject: two\r\n\r\n2")
    (tmp_path / "1.EML").write_bytes(b"Subject: one\r\n\r\n1")
    (tmp_path / "c.eml").write_bytes(b"Subject: three\r\n\r\n3")
    (tmp_path / "notes.txt").write_text("not a message")
    (tmp_path / ".hidden.eml").write_bytes(b"Subject: hidden\r\n\r\n")
    source = open_source(str(tmp_path))
    assert isinstance(source, EmlFolderSource)
    assert source.count() == 3
    assert [Path(m.source_id).name for m in source.messages()] == ["1.EML", "c.eml", "2.eml"]


def test_an_mbox_gives_each_message_with_its_position(tmp_path):
    raws = [message(message_id=f"<{n}@x>", body=f"Svar {n}") for n in range(3)]
    path = tmp_path / "postmottak.mbox"
    box = mailbox.mbox(path)
    for raw in raws:
        box.add(raw)
    box.close()
    source = open_source(str(path))
    assert isinstance(source, MboxSource)
    source.open()
    read = list(source.messages())
    source.close()
    assert [m.source_id for m in read] == [f"{path}#{n}" for n in range(3)]
    assert [m.raw.replace(b"\r\n", b"\n") for m in read] == [
        r.replace(b"\r\n", b"\n") for r in raws
    ]


def test_a_maildir_gives_new_and_cur_messages_in_key_order(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = [box.add(message(message_id=f"<{n}@x>", body=f"Svar {n}")) for n in range(3)]
    box.close()
    (tmp_path / "Maildir" / "new" / keys[0]).rename(tmp_path / "Maildir" / "cur" / f"{keys[0]}:2,S")
    source = open_source(str(tmp_path / "Maildir"))
    assert isinstance(source, MaildirSource)
    read = list(source.messages())
    assert [m.source_id.rsplit("#", 1)[1] for m in read] == sorted(keys)
    assert all(b"Svar" in m.raw for m in read)


def test_a_missing_source_is_one_line_saying_what_can_be_given(tmp_path):
    with pytest.raises(UserError, match="no such file or folder") as error:
        open_source(str(tmp_path / "finnes-ikke"))
    assert "\n" not in str(error.value)


# --- IMAP addresses and passwords ---------------------------------------------------------


def test_imap_urls_are_parsed_with_their_defaults():
    imaps = parse_imap_url("imaps://postmottak%40helsedir.no@imap.example.no/Innspill/2024")
    assert (imaps.user, imaps.host, imaps.port, imaps.folder) == (
        "postmottak@helsedir.no",
        "imap.example.no",
        993,
        "Innspill/2024",
    )
    plain = parse_imap_url("imap://test@127.0.0.1:10143")
    assert (plain.port, plain.folder, plain.is_loopback) == (10143, "INBOX", True)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("imaps://user:hemmelig@imap.example.no/INBOX", "holds a password"),
        ("pop3://user@mail.example.no/", "unknown scheme"),
        ("imaps://imap.example.no/INBOX", "user or host missing"),
        ("imaps://user@imap.example.no:99999/INBOX", "not a valid IMAP URL"),
    ],
)
def test_bad_imap_urls_are_refused_in_one_line(url, fragment):
    with pytest.raises(UserError, match=fragment) as error:
        parse_imap_url(url)
    assert "hemmelig" not in str(error.value)


def test_the_imap_password_comes_from_the_environment_or_a_file(tmp_path):
    assert imap_password(ImapSettings(password="fra-miljøet"), "x") == "fra-miljøet"
    secret = tmp_path / "passord"
    secret.write_text("fra-fila\n")
    assert imap_password(ImapSettings(password_file=secret), "x") == "fra-fila"
    with pytest.raises(UserError, match="HOERING_IMAP_PASSWORD"):
        imap_password(ImapSettings(), "imaps://u@h:993/INBOX")
    with pytest.raises(UserError, match="cannot read"):
        imap_password(ImapSettings(password_file=tmp_path / "mangler"), "x")


# --- the blob store ------------------------------------------------------------------------------


def test_blobs_live_under_their_sha256_and_are_written_once(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(b"innhold")
    path = store.path_for(digest)
    assert path == tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == b"innhold"
    assert store.put(b"innhold") == digest
    assert [p.name for p in path.parent.iterdir()] == [digest]  # no temporary files left
    store.sync()


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab" * 31, "G" * 64, "/" + "a" * 63])
def test_the_blob_path_comes_from_a_digest_only(tmp_path, bad):
    with pytest.raises(ValueError, match="sha256"):
        BlobStore(tmp_path).path_for(bad)


def test_an_exported_blob_never_lands_outside_the_target_folder(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(b"vedlegg")
    target = tmp_path / "ut"
    written = store.export(digest, "../../../tmp/x.docx", target)
    assert written == target / "x.docx"
    assert written.read_bytes() == b"vedlegg"
    assert not (tmp_path / "tmp").exists()


# --- batching ----------------------------------------------------------------------------------


def _failing(messages: Sequence[SourceMessage]) -> Iterator[SourceMessage]:
    yield from messages
    raise SourceUnavailable("imaps://x: connection lost")


def test_a_source_that_fails_half_way_still_hands_over_what_it_read():
    read = [SourceMessage(f"m{n}", b"x") for n in range(5)]
    batches = _batches(_failing(read), 2)
    assert [len(next(batches)) for _ in range(3)] == [2, 2, 1]
    with pytest.raises(SourceUnavailable):
        next(batches)


def test_the_report_follower_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "report.jsonl"
    report = ImportReport(path)
    follower = ReportFollower(path)
    report.write("source", source="a", total=3)
    report.write("message", outcome="matched")
    assert [e["event"] for e in follower.poll()] == ["source", "message"]
    assert (follower.total, follower.read) == (3, 1)
    with path.open("a") as stream:
        stream.write('{"event": "mess')  # half written
    assert follower.poll() == []
    with path.open("a") as stream:
        stream.write('age", "outcome": "duplicate"}\n')
    assert follower.poll() == [{"event": "message", "outcome": "duplicate"}]
    assert follower.read == 2


# --- the import, batch by batch ------------------------------------------------------------


def _maildir(folder: Path, raws: Sequence[bytes]) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for number, raw in enumerate(raws):
        key = f"{1717000000 + number}.M{number}P1.postmottak"  # sorted = delivery order
        (folder / "new" / key).write_bytes(raw)
    box.close()
    return folder


def _mailbox_of_responses() -> list[bytes]:
    answer = docx_bytes("Helse Nord RHF støtter forslaget.")
    raws = [
        message(
            sender=f"person{n}@helse-nord.no",
            message_id=f"<{n}@helse-nord.no>",
            body=f"Svar nummer {n} i sak 24/750.",
            attachments=[("svar.docx", answer, DOCX_TYPE)] if n % 3 == 0 else [],
        )
        for n in range(9)
    ]
    raws.insert(3, raws[1])  # the same message delivered twice
    raws.insert(6, b"\x00\x00 not mail")
    raws.append(message(subject="Spørsmål", body="Hvem kan svare?", message_id="<q@x>"))
    raws.append(
        message(
            message_id="<pdf@x>",
            body="Se vedlagt.",
            attachments=[("svar.pdf", pdf_bytes("Ingen merknader"), "application/pdf")],
        )
    )
    return raws  # 13 messages: 10 matched, 1 duplicate, 1 quarantined, 1 unmatched


@pytest.fixture
def import_env(hoering_env, prefect_api, engine, tmp_path) -> Path:
    """Runtime settings pointing at this test's database; the hearing 24/750."""
    circulated_hearing(engine)
    return tmp_path


def _sorted(rows) -> list:
    return sorted(rows, key=repr)


def _snapshot(url: str) -> dict[str, list]:
    """What an import leaves behind, without surrogate keys (sequences are not rolled back
    on PostgreSQL) and without the wording of reasons."""
    engine = create_db_engine(url)
    with read_session(engine) as session:
        shas = dict(session.exec(select(IntakeMessageRow.id, IntakeMessageRow.raw_sha256)).all())
        messages = _sorted(
            (m.raw_sha256, m.source, m.outcome, shas.get(m.duplicate_of_id))
            for m in session.exec(select(IntakeMessageRow)).all()
        )
        responses = {r.id: r for r in session.exec(select(ResponseRow)).all()}
        filed = _sorted(
            (
                r.tracking_number,
                shas[r.intake_message_id],
                r.from_address,
                r.stakeholder_key,
                r.late,
                r.received_at.isoformat(),
                r.body_text,
                r.receipt_outbox_id is not None,
            )
            for r in responses.values()
        )
        attachments = _sorted(
            (responses[a.response_id].tracking_number or "", a.position, a.sha256, a.text or "")
            for a in session.exec(select(ResponseAttachmentRow)).all()
        )
        quarantined = _sorted(
            (shas[q.intake_message_id], q.reason) for q in session.exec(select(QuarantineRow)).all()
        )
        receipts = _sorted(
            (o.to_address, o.subject)
            for o in session.exec(
                select(OutboxMessageRow).where(OutboxMessageRow.kind == "kvittering")
            ).all()
        )
        series = session.exec(select(HearingRow.last_document_number)).all()
    engine.dispose()
    return {
        "messages": messages,
        "responses": filed,
        "attachments": attachments,
        "quarantine": quarantined,
        "receipts": receipts,
        "series": list(series),
    }


class _Killed(BaseException):
    """The process dies here: not an error the import could handle (nor split a batch for)."""


def test_the_import_files_batch_by_batch_and_reads_lazily(import_env, db_url):
    source = MaildirSource(_maildir(import_env / "Maildir", _mailbox_of_responses()))
    pulled: list[int] = []
    original = source.messages

    def counting() -> Iterator[SourceMessage]:
        for number, item in enumerate(original(), start=1):
            pulled.append(number)
            yield item

    source.messages = counting  # type: ignore[method-assign]
    batches: list[tuple[int, int]] = []
    totals = import_sources(
        [source],
        IMPORTED,
        ImportReport(import_env / "report.jsonl"),
        batch_size=5,
        after_batch=lambda _s, counts: batches.append((sum(counts.values()), len(pulled))),
    )
    # never read further ahead than the batches the parse workers hold while one is written
    ahead = ImportPipeline.depth(worker_count(intake_settings().parse_workers))
    assert batches == [(5, min(13, 5 * (1 + ahead))), (5, min(13, 5 * (2 + ahead))), (3, 13)]
    assert totals.counts == {"matched": 10, "unmatched": 1, "duplicate": 1, "quarantined": 1}
    assert totals.read == 13
    events = list(read_events(import_env / "report.jsonl"))
    assert [e["event"] for e in events] == ["source"] + ["message"] * 13
    assert events[0]["total"] == 13
    assert [e["tracking_number"] for e in events if e.get("outcome") == "matched"][:3] == [
        "24/750-2",
        "24/750-3",
        "24/750-4",
    ]


def test_an_import_killed_half_way_and_run_again_ends_like_one_clean_run(
    import_env, db_url, db_templates, monkeypatch
):
    raws = _mailbox_of_responses()
    folder = _maildir(import_env / "Maildir", raws)

    # A clean run into a second database (SQLite), with its own data folder.
    clean_db = import_env / "clean.db"
    shutil.copyfile(db_templates["sqlite"], clean_db)
    clean_url = f"sqlite:///{clean_db}"
    with monkeypatch.context() as env:
        env.setenv("HOERING_DATABASE_URL", clean_url)
        env.setenv("HOERING_DATA_DIR", str(import_env / "clean-data"))
        circulated_hearing(create_db_engine(clean_url))
        import_sources([MaildirSource(folder)], IMPORTED, ImportReport(None), batch_size=4)

    # Killed after the second batch is committed...
    committed: list[int] = []

    def kill(_source, counts):
        committed.append(sum(counts.values()))
        if len(committed) == 2:
            raise _Killed

    with pytest.raises(_Killed):
        import_sources(
            [MaildirSource(folder)], IMPORTED, ImportReport(None), batch_size=4, after_batch=kill
        )
    # ... and again in the middle of a batch, before its commit.
    from services import receipts as intake_receipts

    real_row = intake_receipts._receipt_row
    calls = {"n": 0}

    def crash_on_second_receipt(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Killed
        return real_row(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(intake_receipts, "_receipt_row", crash_on_second_receipt)
        with pytest.raises(_Killed):
            import_sources([MaildirSource(folder)], IMPORTED, ImportReport(None), batch_size=4)
    assert calls["n"] == 2
    totals = import_sources([MaildirSource(folder)], IMPORTED, ImportReport(None), batch_size=4)

    assert totals.counts["duplicate"] >= 8  # the committed batches are recognised
    assert _snapshot(db_url) == _snapshot(clean_url)
    blobs = {p.name for p in (Path(os.environ["HOERING_DATA_DIR"]) / "blobs").rglob("*")}
    clean_blobs = {p.name for p in (import_env / "clean-data" / "blobs").rglob("*")}
    assert blobs == clean_blobs


def test_the_flow_reports_every_message_and_publishes_the_counts(import_env, db_url):
    folder = import_env / "eml"
    folder.mkdir()
    for number, raw in enumerate(_mailbox_of_responses()):
        (folder / f"{number:02d}.eml").write_bytes(raw)
    report = import_env / "report.jsonl"
    result = asyncio.run(
        import_responses([str(folder)], as_of="2024-06-03", report_path=str(report))
    )
    assert result == {
        "read": 13,
        "counts": {"matched": 10, "unmatched": 1, "duplicate": 1, "quarantined": 1},
        "report": str(report),
    }
    events = list(read_events(report))
    assert events[0]["event"] == "start" and events[-1]["event"] == "end"
    assert events[-1]["counts"] == result["counts"]
    assert sum(e["event"] == "message" for e in events) == 13

    from prefect.artifacts import Artifact

    artifact = asyncio.run(Artifact.aget("hoeringsinnspill-import"))
    table = json.loads(artifact.data)
    assert {"utfall": "Lest i alt", "antall": 13} in table
    assert {"utfall": "Karantene", "antall": 1} in table


def test_the_scheduled_flow_needs_a_configured_mailbox(import_env, monkeypatch):
    from flows.intake_flows import import_mailbox

    monkeypatch.delenv("HOERING_IMAP_URL", raising=False)
    with pytest.raises(UserError, match="HOERING_IMAP_URL is not set"):
        asyncio.run(import_mailbox())


def test_one_importer_at_a_time_on_postgresql(engine):
    """The batch takes a transaction-scoped advisory lock there (SQLite: BEGIN IMMEDIATE)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from services.intake import _ADVISORY_LOCK, _lock_importer
    from storage.db import write_session

    with write_session(engine) as session:
        _lock_importer(session)
        with engine.connect() as other:
            got = other.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK}
            ).scalar()
    assert got is False


def test_limits_and_batch_size_come_from_the_environment(monkeypatch):
    from flows.intake_flows import intake_settings

    monkeypatch.setenv("HOERING_INTAKE_MAX_MESSAGE_BYTES", "4096")
    monkeypatch.setenv("HOERING_INTAKE_MAX_ATTACHMENTS", "3")
    monkeypatch.setenv("HOERING_INTAKE_BATCH_SIZE", "50")
    settings = intake_settings()
    assert settings.batch_size == 50
    assert (settings.limits().max_total_bytes, settings.limits().max_attachments) == (4096, 3)
    monkeypatch.setenv("HOERING_INTAKE_BATCH_SIZE", "0")
    with pytest.raises(UserError, match="HOERING_INTAKE_BATCH_SIZE") as error:
        intake_settings()
    assert "\n" not in str(error.value)
