"""The outbox sender: the e-mail it builds, claim -> send -> mark, retries, recovery."""

from __future__ import annotations

import fcntl
import sys
import types
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import select

from domain.calendar import OSLO
from domain.errors import UserError
from domain.letter_context import Contact, ReminderContext
from domain.lifecycle import Action
from mail.outgoing import OutgoingMessage, build_email, subject_with_reference
from mail.transports import (
    DeliveryError,
    DeliveryJournal,
    DeliveryRecord,
    FolderTransport,
    TransportUnavailable,
    eml_file_name,
)
from rendering import pdf as outbox_sender  # the LibreOffice conversion the sender uses
from rendering.letters import render_docx
from rendering.pdf import ensure_pdfs, pdf_beside, soffice_binary
from services.outbox import (
    SendPolicy,
    attachment_paths,
    retry_delay,
    send_pending,
    sender_lock,
)
from services.outbox_listing import list_outbox
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.outbox_queue import queue_message
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.conftest import service_missing
from tests.hearing_helpers import CIRCULATED, act, create

SENDER = Address(display_name="Helsedirektoratet", addr_spec="postmottak@helsedir.no")
SEND_DAY = datetime(2024, 3, 22, 12, 0, tzinfo=OSLO)


# --- helpers shared with the other outbox tests ----------------------------------------------


class FakeIntake:
    """Stands in for services.intake in tests: who has answered, per test."""

    def __init__(self) -> None:
        self.answered: set[str] = set()
        self.calls = 0

    def answered_stakeholder_keys(self, session, hearing_id: int) -> set[str]:
        self.calls += 1
        return set(self.answered)

    def unreviewed_response_count(self, session, hearing_id: int) -> int:
        return 0


@pytest.fixture
def intake(monkeypatch) -> FakeIntake:
    return install_fake_intake(monkeypatch)


def install_fake_intake(monkeypatch) -> FakeIntake:
    """Replace the intake's answers with a FakeIntake (installing a module if the real
    services.intake is not there)."""
    fake = FakeIntake()
    try:
        import services.intake as module
    except ModuleNotFoundError:
        import storage

        module = types.ModuleType("services.intake")
        monkeypatch.setitem(sys.modules, "services.intake", module)
        monkeypatch.setattr(storage, "intake", module, raising=False)
    monkeypatch.setattr(
        module, "answered_stakeholder_keys", fake.answered_stakeholder_keys, raising=False
    )
    monkeypatch.setattr(
        module, "unreviewed_response_count", fake.unreviewed_response_count, raising=False
    )
    return fake


def circulate_24_750(engine, letters_dir: Path) -> None:
    """24/750 created and circulated on 22 March 2024 through the lifecycle API."""
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, letters_dir)


def folder_transport(data_dir: Path) -> FolderTransport:
    return FolderTransport(
        data_dir / "outbox-sent", DeliveryJournal(data_dir / "outbox" / "journal-folder.jsonl")
    )


def outbox_rows(engine, kind: str | None = None) -> list[OutboxMessageRow]:
    with read_session(engine) as session:
        statement = select(OutboxMessageRow).order_by(OutboxMessageRow.id)
        if kind is not None:
            statement = statement.where(OutboxMessageRow.kind == kind)
        rows = list(session.exec(statement).all())
        session.expunge_all()
    return rows


class ScriptedTransport:
    """A transport whose answers are scripted per recipient: 'ok', '421', '550', 'down'."""

    name = "scripted"

    def __init__(self, script: dict[str, list[str]] | None = None) -> None:
        self.script = script or {}
        self.delivered_ids: list[str] = []
        self.tries: list[str] = []
        self.journal: dict[str, DeliveryRecord] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def delivered(self, message_id: str) -> DeliveryRecord | None:
        return self.journal.get(message_id)

    def deliver(
        self, message: EmailMessage, *, envelope_from: str, recipient: str, now: datetime
    ) -> DeliveryRecord:
        self.tries.append(recipient)
        plan = self.script.get(recipient, [])
        answer = plan.pop(0) if plan else "ok"
        if answer == "down":
            raise TransportUnavailable("cannot connect to mail.example:25: refused")
        if answer in {"421", "550"}:
            raise DeliveryError(f"{answer} scripted refusal", permanent=answer == "550")
        record = DeliveryRecord(str(message["Message-ID"]), now, self.name, "250 ok")
        self.journal[record.message_id] = record
        self.delivered_ids.append(record.message_id)
        return record


def _queue(engine, tmp_path: Path, key: str, *, to: str = "a@example.no", **extra) -> None:
    attachment = tmp_path / f"{key}.docx"
    attachment.write_bytes(b"PK fake docx " + key.encode())
    with write_session(engine) as session:
        queue_message(
            session,
            kind=extra.pop("kind", "kvittering"),
            dedupe_key=key,
            to_address=to,
            to_name=extra.pop("to_name", "Helse Vest RHF"),
            subject=extra.pop("subject", "Kvittering for høringsinnspill"),
            body_text="Vi har mottatt innspillet.",
            now=extra.pop("now", SEND_DAY),
            attachments=[attachment],
            **extra,
        )


def _send(engine, transport, data_dir: Path, now: datetime = SEND_DAY, **kwargs):
    return send_pending(engine, transport, now=now, data_dir=data_dir, sender=SENDER, **kwargs)


# --- building the e-mail -----------------------------------------------------------------


def _message(tmp_path: Path, **changes) -> OutgoingMessage:
    docx = tmp_path / "hoeringsbrev-24-750-1.docx"
    docx.write_bytes(b"PK docx bytes")
    values = {
        "row_id": 1,
        "message_id": "<abc123@hoering.helsedir.no>",
        "kind": "hoeringsbrev",
        "case_number": "24/750",
        "to_address": "post@helse-vest.no",
        "to_name": "Helse Vest RHF",
        "organisation": "Helse Vest RHF",
        "subject": "Høring: kliniske studier",
        "body_text": "Helsedirektoratet sender med dette på høring.",
        "attachments": (docx,),
        "queued_at": datetime(2024, 3, 22, 9, 0, tzinfo=OSLO),
        "attempts": 0,
    }
    values.update(changes)
    return OutgoingMessage(**values)


def test_email_headers_body_and_attachments(tmp_path):
    message = _message(tmp_path)
    (tmp_path / "hoeringsbrev-24-750-1.pdf").write_bytes(b"%PDF-1.7 fake")
    email = build_email(
        message,
        sender=SENDER,
        attachments=[message.attachments[0], tmp_path / "hoeringsbrev-24-750-1.pdf"],
    )
    parsed = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert parsed["From"] == "Helsedirektoratet <postmottak@helsedir.no>"
    assert parsed["To"] == "Helse Vest RHF <post@helse-vest.no>"
    assert parsed["Subject"] == "Høring: kliniske studier (Vår ref. 24/750)"
    assert parsed["Message-ID"] == "<abc123@hoering.helsedir.no>"
    assert parsed["Date"].datetime == datetime(2024, 3, 22, 9, 0, tzinfo=OSLO)
    assert parsed.get_body(("plain",)).get_content().startswith("Helsedirektoratet sender")
    files = {part.get_filename(): part for part in parsed.iter_attachments()}
    assert set(files) == {"hoeringsbrev-24-750-1.docx", "hoeringsbrev-24-750-1.pdf"}
    assert files["hoeringsbrev-24-750-1.docx"].get_content_type() == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert files["hoeringsbrev-24-750-1.docx"].get_content() == b"PK docx bytes"
    assert files["hoeringsbrev-24-750-1.pdf"].get_content_type() == "application/pdf"


def test_the_same_row_builds_the_same_bytes(tmp_path):
    message = _message(tmp_path)
    first = build_email(message, sender=SENDER, attachments=message.attachments).as_bytes()
    second = build_email(message, sender=SENDER, attachments=message.attachments).as_bytes()
    assert first == second


def test_bad_recipient_address_is_a_permanent_failure(tmp_path):
    with pytest.raises(DeliveryError) as caught:
        build_email(_message(tmp_path, to_address="not an address"), sender=SENDER, attachments=[])
    assert caught.value.permanent


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Høring: X (vår ref. 24/750)", "Høring: X (vår ref. 24/750)"),
        ("Påminnelse – Vår ref. 24/750", "Påminnelse – Vår ref. 24/750"),
        ("Kvittering for innspill", "Kvittering for innspill (Vår ref. 24/750)"),
        ("", "Vår ref. 24/750"),
        ("Sak 2024/750: svar", "Sak 2024/750: svar"),
    ],
)
def test_subject_names_the_case_once(subject, expected):
    assert subject_with_reference(subject, "24/750") == expected


def test_retry_delay_doubles_and_is_capped():
    policy = SendPolicy(first_retry=timedelta(minutes=5), max_retry=timedelta(minutes=30))
    assert [retry_delay(n, policy) for n in (1, 2, 3, 4, 5)] == [
        timedelta(minutes=m) for m in (5, 10, 20, 30, 30)
    ]


# --- sending through the folder transport --------------------------------------------------


def test_circulation_letters_go_out_once_through_the_folder(engine, tmp_path):
    circulate_24_750(engine, tmp_path / "letters")
    data_dir = tmp_path / "var"
    report = _send(engine, folder_transport(data_dir), data_dir)
    rows = outbox_rows(engine)
    assert report.counts()["sent"] == len(rows) == 29
    files = sorted((data_dir / "outbox-sent").glob("*.eml"))
    assert sorted(f.name for f in files) == sorted(eml_file_name(r.message_id) for r in rows)
    assert all(r.status == "sent" and r.sent_at == SEND_DAY and r.attempts == 1 for r in rows)
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert "24/750" in parsed["Subject"]
    assert {p.get_filename() for p in parsed.iter_attachments()} == {
        "hoeringsbrev-24-750-1.docx",
        "endringsoversikt-24-750.xlsx",
    }

    again = _send(engine, folder_transport(data_dir), data_dir, SEND_DAY + timedelta(hours=1))
    assert again.results == []
    assert len(list((data_dir / "outbox-sent").glob("*.eml"))) == 29


def test_row_claimed_before_a_crash_is_not_sent_again_when_delivered(engine, tmp_path):
    data_dir = tmp_path / "var"
    _queue(engine, tmp_path, "k1")
    _queue(engine, tmp_path, "k2", to="b@example.no")
    rows = outbox_rows(engine)
    transport = folder_transport(data_dir)
    # The crashed run: both claimed, the first delivered, nothing marked.
    with transport:
        first = build_email(
            OutgoingMessage(
                row_id=rows[0].id,
                message_id=rows[0].message_id,
                kind="kvittering",
                case_number=None,
                to_address=rows[0].to_address,
                to_name=rows[0].to_name,
                organisation=None,
                subject=rows[0].subject,
                body_text=rows[0].body_text,
                attachments=(),
                queued_at=rows[0].queued_at,
                attempts=0,
            ),
            sender=SENDER,
            attachments=[],
        )
        transport.deliver(first, envelope_from="x@y.no", recipient="a@example.no", now=SEND_DAY)
    delivered_file = transport.path_for(rows[0].message_id)
    original = delivered_file.read_bytes()
    with write_session(engine) as session:
        for row in session.exec(select(OutboxMessageRow)).all():
            row.status = "sending"
            session.add(row)

    later = SEND_DAY + timedelta(days=1)
    report = _send(engine, folder_transport(data_dir), data_dir, later)
    outcomes = {r.to_address: r.outcome for r in report.results}
    assert outcomes == {"a@example.no": "already_delivered", "b@example.no": "sent"}
    assert delivered_file.read_bytes() == original  # not written again
    after = {r.to_address: r for r in outbox_rows(engine)}
    assert after["a@example.no"].status == "sent"
    assert after["a@example.no"].sent_at == SEND_DAY  # the delivering run's as-of time
    assert after["b@example.no"].sent_at == later
    assert after["b@example.no"].attempts == 2  # the interrupted attempt counts


def test_pending_row_whose_message_is_already_delivered_is_only_marked(engine, tmp_path):
    """A database restored from a backup says pending; the transport knows better."""
    _queue(engine, tmp_path, "k1")
    (row,) = outbox_rows(engine)
    transport = ScriptedTransport()
    transport.journal[row.message_id] = DeliveryRecord(row.message_id, SEND_DAY, "scripted", "")
    report = _send(engine, transport, tmp_path / "var", SEND_DAY + timedelta(days=2))
    assert [r.outcome for r in report.results] == ["already_delivered"]
    assert transport.tries == []
    assert outbox_rows(engine)[0].sent_at == SEND_DAY


# --- retries, back-off, failure ----------------------------------------------------------------


def test_temporary_failures_back_off_then_fail_with_the_reason(engine, tmp_path):
    _queue(engine, tmp_path, "k1")
    transport = ScriptedTransport({"a@example.no": ["421"] * 10})
    policy = SendPolicy(max_attempts=3, first_retry=timedelta(minutes=5))
    data_dir = tmp_path / "var"

    first = _send(engine, transport, data_dir, policy=policy)
    (row,) = outbox_rows(engine)
    assert first.counts()["retry"] == 1
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == SEND_DAY + timedelta(minutes=5)
    assert "421 scripted refusal" in row.last_error

    early = _send(engine, transport, data_dir, SEND_DAY + timedelta(minutes=4), policy=policy)
    assert early.results == [] and len(transport.tries) == 1  # not due yet

    second = SEND_DAY + timedelta(minutes=5)
    _send(engine, transport, data_dir, second, policy=policy)
    (row,) = outbox_rows(engine)
    assert row.next_attempt_at == second + timedelta(minutes=10)

    last = _send(engine, transport, data_dir, second + timedelta(minutes=10), policy=policy)
    (row,) = outbox_rows(engine)
    assert last.counts()["failed"] == 1
    assert (row.status, row.attempts, row.sent_at) == ("failed", 3, None)
    assert row.last_error == "421 scripted refusal (gave up after 3)"
    assert len(transport.tries) == 3
    assert _send(engine, transport, data_dir, SEND_DAY + timedelta(days=9)).results == []


def test_temporary_failure_then_success_sends_once(engine, tmp_path):
    _queue(engine, tmp_path, "k1")
    transport = ScriptedTransport({"a@example.no": ["421"]})
    _send(engine, transport, tmp_path / "var")
    _send(engine, transport, tmp_path / "var", SEND_DAY + timedelta(hours=1))
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert transport.delivered_ids == [row.message_id]


def test_permanent_failure_fails_at_once(engine, tmp_path):
    _queue(engine, tmp_path, "k1")
    _queue(engine, tmp_path, "k2", to="b@example.no")
    transport = ScriptedTransport({"a@example.no": ["550"]})
    report = _send(engine, transport, tmp_path / "var")
    assert report.counts() | {} == {
        "sent": 1,
        "already_delivered": 0,
        "retry": 0,
        "failed": 1,
        "cancelled": 0,
        "released": 0,
    }
    failed = outbox_rows(engine)[0]
    assert (failed.status, failed.last_error, failed.attempts) == (
        "failed",
        "550 scripted refusal",
        1,
    )


def test_missing_attachment_fails_the_message(engine, tmp_path):
    _queue(engine, tmp_path, "k1")
    (tmp_path / "k1.docx").unlink()
    report = _send(engine, ScriptedTransport(), tmp_path / "var")
    (row,) = outbox_rows(engine)
    assert row.status == "failed"
    assert "k1.docx does not exist" in row.last_error
    assert report.counts()["failed"] == 1


def test_unavailable_transport_stops_the_run_and_releases_the_rest(engine, tmp_path):
    for n in range(3):
        _queue(engine, tmp_path, f"k{n}", to=f"r{n}@example.no")
    transport = ScriptedTransport({"r0@example.no": ["down"]})
    report = _send(engine, transport, tmp_path / "var")
    assert report.stopped == "cannot connect to mail.example:25: refused"
    assert report.counts()["released"] == 3
    assert {(r.status, r.attempts) for r in outbox_rows(engine)} == {("pending", 0)}
    retry = _send(engine, transport, tmp_path / "var")
    assert retry.counts()["sent"] == 3


def test_limit_and_case_filter(engine, tmp_path):
    circulate_24_750(engine, tmp_path / "letters")
    _queue(engine, tmp_path, "other")  # no hearing
    transport = ScriptedTransport()
    report = _send(engine, transport, tmp_path / "var", case="24/750", limit=5)
    assert report.counts()["sent"] == 5
    assert all(r.case_number == "24/750" for r in report.results)
    rest = _send(engine, transport, tmp_path / "var", case="2024/750")
    assert rest.counts()["sent"] == 24
    assert {r.dedupe_key for r in outbox_rows(engine) if r.status == "pending"} == {"other"}
    with pytest.raises(UserError, match="no hearing has case number 24/999"):
        _send(engine, transport, tmp_path / "var", case="24/999")


def test_reminders_are_cancelled_when_the_hearing_left_circulated(engine, tmp_path):
    circulate_24_750(engine, tmp_path / "letters")
    with read_session(engine) as session:
        hearing_id = session.exec(select(HearingRow.id)).one()
    _queue(engine, tmp_path, "paaminnelse:a", kind="paaminnelse", hearing_id=hearing_id)
    _queue(
        engine, tmp_path, "paaminnelse:b", kind="paaminnelse", hearing_id=hearing_id, to="b@x.no"
    )
    transport = ScriptedTransport()
    after_deadline = datetime(2024, 6, 1, 7, 0, tzinfo=OSLO)
    report = _send(engine, transport, tmp_path / "var", after_deadline, limit=100)
    reminders = outbox_rows(engine, "paaminnelse")
    assert {r.status for r in reminders} == {"cancelled"}
    assert all("deadline 2024-05-31 has passed" in r.last_error for r in reminders)
    assert report.counts()["cancelled"] == 2
    assert not any(t in {"a@example.no", "b@x.no"} for t in transport.tries)
    assert report.counts()["sent"] == 29  # the hearing letters still go


def test_sender_lock_refuses_a_second_sender(tmp_path):
    lock_path = tmp_path / "outbox" / "sender.lock"
    with sender_lock(tmp_path):
        assert lock_path.exists()
        with pytest.raises(UserError, match="another outbox sender"), sender_lock(tmp_path, 0):
            pass
    with lock_path.open("a") as handle:  # released afterwards
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_journal_ignores_a_torn_last_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = DeliveryJournal(path)
    journal.record(DeliveryRecord("<a@x>", SEND_DAY, "smtp", "250 ok"))
    with path.open("a") as handle:
        handle.write('{"message_id": "<b@x>", "sent_')
    reread = DeliveryJournal(path)
    assert reread.lookup("<a@x>").sent_at == SEND_DAY
    assert reread.lookup("<b@x>") is None


# --- listing ----------------------------------------------------------------------------------


def test_list_outbox(engine, tmp_path):
    circulate_24_750(engine, tmp_path / "letters")
    _send(engine, ScriptedTransport({"post@helse-vest.no": ["550"]}), tmp_path / "var", limit=4)
    with read_session(engine) as session:
        listing = list_outbox(session, "24/750")
    assert len(listing) == 29
    first = listing[0]
    assert set(first) >= {
        "kind",
        "case",
        "to",
        "organisation",
        "queued_at",
        "sent_at",
        "status",
        "message_id",
    }
    assert {item["kind"] for item in listing} == {"høringsbrev"}
    assert {item["case"] for item in listing} == {"24/750"}
    assert first["queued_at"] == "2024-03-22T10:00:00+01:00"
    statuses = [item["status"] for item in listing]
    assert statuses.count("pending") == 25
    assert statuses.count("sent") + statuses.count("failed") == 4


def test_cli_lists_the_outbox(engine, tmp_path, hoering_env):
    circulate_24_750(engine, tmp_path / "letters")
    _send(engine, ScriptedTransport(), tmp_path / "var", limit=2)
    result = run_hoering("outbox", "--case", "24/750", "--json", env=hoering_env)
    assert result.code == 0, result.stderr
    listing = result.json()
    assert len(listing) == 29
    assert [item["status"] for item in listing].count("sent") == 2
    assert all(item["kind"] == "høringsbrev" for item in listing)
    table = run_hoering("outbox", env={**hoering_env, "COLUMNS": "250"})
    assert table.code == 0 and "29 messages" in table.stdout
    assert "høringsbrev" in table.stdout
    assert_one_line_error(
        run_hoering("outbox", "--case", "24/9999", env=hoering_env), "--case", "24/9999"
    )


def test_pdf_is_made_beside_each_docx_with_libreoffice(tmp_path):
    if soffice_binary() is None:
        service_missing("LibreOffice (soffice) is not installed")
    letters = [tmp_path / "a.docx", tmp_path / "b.docx"]
    for index, path in enumerate(letters):
        render_docx("paaminnelse", _reminder_context(f"Mottaker {index}"), path)
    ensure_pdfs(letters)
    for path in letters:
        assert pdf_beside(path).read_bytes().startswith(b"%PDF")
    message = _message(tmp_path, attachments=(letters[0],))
    assert [p.name for p in attachment_paths(message, with_pdf=True)] == ["a.docx", "a.pdf"]
    assert [p.name for p in attachment_paths(message, with_pdf=False)] == ["a.docx"]


def test_no_libreoffice_means_no_pdf_and_no_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox_sender.shutil, "which", lambda name: None)
    docx = tmp_path / "a.docx"
    render_docx("paaminnelse", _reminder_context("Mottaker"), docx)
    ensure_pdfs([docx])
    assert not pdf_beside(docx).exists()


def _reminder_context(name: str) -> ReminderContext:
    return ReminderContext(
        case_number="24/750",
        letter_date=date(2024, 5, 16),
        title="Kliniske studier",
        circulated_date=date(2024, 3, 22),
        deadline=date(2024, 5, 31),
        recipient_name=name,
        recipient_address="post@example.no",
        case_officer="Marie Thoresen",
        contact=Contact(title="seniorrådgiver", name="Marie Thoresen", email="m@helsedir.no"),
    )
