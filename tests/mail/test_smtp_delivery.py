"""Delivery to a real SMTP server on loopback (aiosmtpd, run by the tests).

What arrived is read back from the server: envelope, headers, attachments, and that
nothing arrived twice, also when the server drops the connection, refuses with 421,
or the sending process is killed between delivery and marking.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from domain.errors import UserError
from domain.lifecycle import Action
from mail.transports import MailSettings, SmtpTransport, open_transport
from storage.blobs import BlobStore
from tests.cli_helpers import assert_one_line_error, run_crashing_hoering, run_hoering
from tests.hearing_helpers import AFTER_DEADLINE, CODIFIED, DECISIONS_PATH, REVIEWED, act
from tests.installation_helpers import free_port
from tests.services.test_outbox_sender import (
    SEND_DAY,
    _queue,
    _send,
    circulate_24_750,
    outbox_rows,
)
from tests.services.test_reminders import file_response

USER, PASSWORD = "hoering", "s3cret-pw"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    authenticated_as: str | None

    @property
    def message(self):
        return message_from_bytes(self.content, policy=policy.default)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class Recorder:
    """An aiosmtpd handler that keeps what it accepts; `faults` are played on the next
    DATA commands in order: 'drop' (close the connection, store nothing), '421', '550'."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.faults: list[str] = []
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None:
                self.refused += 1
        if fault == "drop":
            server.transport.close()
            return "421 4.3.0 connection dropped"  # never reaches the client
        if fault == "421":
            return "421 4.3.2 Service not available, closing transmission channel"
        if fault == "550":
            return "550 5.1.1 Mailbox unavailable"
        login = session.auth_data.decode() if session.authenticated else None
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content, login)
            )
        return "250 2.0.0 Ok: queued"

    def copies(self) -> Counter:
        return Counter(r.message_id for r in self.received)


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class Server:
    def __init__(self, recorder: Recorder, controller: Controller) -> None:
        self.recorder, self.controller = recorder, controller

    @property
    def port(self) -> int:
        return self.controller.port


def _start(recorder: Recorder, **kwargs) -> Controller:
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = _start(recorder)
    yield Server(recorder, controller)
    controller.stop()


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, usable as its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hoering test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _settings(tmp_path: Path, port: int, **changes) -> MailSettings:
    values = {
        "data_dir": tmp_path / "var",
        "mail_transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_timeout_s": 10.0,
        "mail_pdf": False,
    }
    values.update(changes)
    return MailSettings(**values)


def _smtp_send(engine, tmp_path: Path, server: Server, now=SEND_DAY, **changes):
    settings = _settings(tmp_path, server.port, **changes)
    return _send(engine, open_transport(settings), settings.data_dir, now)


# --- the hearing's letters over SMTP ---------------------------------------------------------


def test_hearing_and_decision_letters_arrive_once_each(engine, tmp_path, smtp_server):
    letters = tmp_path / "letters"
    circulate_24_750(engine, letters)
    report = _smtp_send(engine, tmp_path, smtp_server)
    assert report.counts()["sent"] == 29
    rows = {r.message_id: r for r in outbox_rows(engine)}
    received = smtp_server.recorder.received
    assert set(smtp_server.recorder.copies().values()) == {1}
    assert set(smtp_server.recorder.copies()) == set(rows)
    for item in received:
        row = rows[item.message_id]
        message = item.message
        assert item.mail_from == "postmottak@helsedir.no"
        assert item.rcpt_tos == (row.to_address,)
        assert message["To"].addresses[0].addr_spec == row.to_address
        assert message["To"].addresses[0].display_name == row.to_name
        assert "24/750" in message["Subject"]
        assert message["Date"].datetime == row.queued_at
        files = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
        assert (
            files["hoeringsbrev-24-750-1.docx"]
            == (letters / "24-750" / "hoeringsbrev-24-750-1.docx").read_bytes()
        )
        assert set(files) == {"hoeringsbrev-24-750-1.docx", "endringsoversikt-24-750.xlsx"}
    assert {r.status for r in rows.values()} == {"sent"}
    journal = (tmp_path / "var" / "outbox" / "journal-smtp.jsonl").read_text().splitlines()
    assert len(journal) == 29
    assert {json.loads(line)["message_id"] for line in journal} == set(rows)
    assert all("250 2.0.0 Ok: queued" in json.loads(line)["detail"] for line in journal)

    assert _smtp_send(engine, tmp_path, smtp_server, SEND_DAY + timedelta(days=1)).results == []
    assert len(smtp_server.recorder.received) == 29

    act(engine, Action.CLOSE, AFTER_DEADLINE, letters)
    act(engine, Action.REVIEW_DONE, REVIEWED, letters)
    act(engine, Action.CODIFY, CODIFIED, letters, decisions_text=DECISIONS_PATH.read_text())
    decided = _smtp_send(engine, tmp_path, smtp_server, CODIFIED)
    assert decided.counts()["sent"] == 29
    orientations = [r for r in smtp_server.recorder.received if r.message_id not in rows]
    assert len(orientations) == 29
    assert sorted(r.rcpt_tos[0] for r in orientations) == sorted(
        r.to_address for r in rows.values()
    )
    assert all("Orientering om vedtak" in r.message["Subject"] for r in orientations)
    assert set(smtp_server.recorder.copies().values()) == {1}


def test_filed_response_gets_one_receipt(engine, tmp_path, smtp_server):
    circulate_24_750(engine, tmp_path / "letters")
    _smtp_send(engine, tmp_path, smtp_server)
    store = BlobStore(tmp_path / "var" / "blobs", durable=False)
    filed = SEND_DAY + timedelta(days=10)
    assert file_response(engine, store, "ase.odegard@helse-vest.no", filed) == "matched"
    again = file_response(engine, store, "ase.odegard@helse-vest.no", filed)  # read twice
    assert again == "duplicate"
    report = _smtp_send(engine, tmp_path, smtp_server, filed)
    assert report.counts()["sent"] == 1
    (receipt,) = [r for r in smtp_server.recorder.received if r.rcpt_tos[0].startswith("ase.")]
    message = receipt.message
    assert receipt.rcpt_tos == ("ase.odegard@helse-vest.no",)
    assert "24/750" in message["Subject"] and "Kvittering" in message["Subject"]
    assert message["Date"].datetime == filed
    assert set(smtp_server.recorder.copies().values()) == {1}
    assert len(smtp_server.recorder.received) == 30


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop", "421"])
def test_fault_on_first_try_is_retried_and_arrives_once(engine, tmp_path, smtp_server, fault):
    for n in range(3):
        _queue(engine, tmp_path, f"k{n}", to=f"r{n}@example.no")
    smtp_server.recorder.faults = [fault]
    first = _smtp_send(engine, tmp_path, smtp_server)
    assert first.counts()["retry"] == 1 and first.counts()["sent"] == 2
    (retry,) = [r for r in outbox_rows(engine) if r.status == "pending"]
    assert retry.to_address == "r0@example.no"
    assert retry.next_attempt_at == SEND_DAY + timedelta(minutes=5)
    if fault == "421":
        assert "421 4.3.2 Service not available" in retry.last_error
    else:
        assert "127.0.0.1" in retry.last_error

    second = _smtp_send(engine, tmp_path, smtp_server, SEND_DAY + timedelta(minutes=5))
    assert second.counts()["sent"] == 1
    copies = smtp_server.recorder.copies()
    assert len(copies) == 3 and set(copies.values()) == {1}
    assert smtp_server.recorder.refused == 1
    assert {r.status for r in outbox_rows(engine)} == {"sent"}


def test_permanent_refusal_fails_with_the_server_reason(engine, tmp_path, smtp_server):
    _queue(engine, tmp_path, "k0")
    smtp_server.recorder.faults = ["550"]
    report = _smtp_send(engine, tmp_path, smtp_server)
    (row,) = outbox_rows(engine)
    assert report.counts()["failed"] == 1
    assert row.status == "failed"
    assert row.last_error == f"127.0.0.1:{smtp_server.port}: 550 5.1.1 Mailbox unavailable"
    assert smtp_server.recorder.received == []


def test_unreachable_server_releases_everything(engine, tmp_path):
    _queue(engine, tmp_path, "k0")
    settings = _settings(tmp_path, free_port())
    report = _send(engine, open_transport(settings), settings.data_dir)
    assert report.stopped.startswith("cannot connect to 127.0.0.1:")
    (row,) = outbox_rows(engine)
    assert (row.status, row.attempts) == ("pending", 0)


# --- TLS and login ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return _make_certificate(tmp_path_factory.mktemp("tls"))


def test_starttls_with_login_from_a_password_file(engine, tmp_path, certificate):
    cert, key = certificate
    recorder = Recorder()
    controller = _start(
        recorder,
        tls_context=_server_context(cert, key),
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    try:
        _queue(engine, tmp_path, "k0")
        password_file = tmp_path / "smtp-password"
        password_file.write_text(PASSWORD + "\n")
        report = _smtp_send(
            engine,
            tmp_path,
            Server(recorder, controller),
            smtp_security="starttls",
            smtp_user=USER,
            smtp_password_file=password_file,
            smtp_ca_file=cert,
        )
        assert report.counts()["sent"] == 1
        (item,) = recorder.received
        assert item.authenticated_as == USER

        _queue(engine, tmp_path, "k1", to="b@example.no")
        refused = _smtp_send(
            engine,
            tmp_path,
            Server(recorder, controller),
            smtp_security="starttls",
            smtp_user=USER,
            smtp_password="wrong",
            smtp_ca_file=cert,
        )
        assert refused.stopped.startswith(f"127.0.0.1:{controller.port}: login as hoering refused")
        assert "535" in refused.stopped
        assert [(r.status, r.attempts) for r in outbox_rows(engine)][1] == ("pending", 0)
    finally:
        controller.stop()


def test_starttls_refuses_an_untrusted_certificate(engine, tmp_path, certificate):
    cert, key = certificate
    recorder = Recorder()
    controller = _start(recorder, tls_context=_server_context(cert, key), require_starttls=True)
    try:
        _queue(engine, tmp_path, "k0")
        report = _smtp_send(
            engine, tmp_path, Server(recorder, controller), smtp_security="starttls"
        )
        assert "CERTIFICATE_VERIFY_FAILED" in report.stopped
        assert recorder.received == []
    finally:
        controller.stop()


def test_smtps(engine, tmp_path, certificate):
    cert, key = certificate
    recorder = Recorder()
    controller = _start(recorder, ssl_context=_server_context(cert, key))
    try:
        _queue(engine, tmp_path, "k0")
        report = _smtp_send(
            engine, tmp_path, Server(recorder, controller), smtp_security="ssl", smtp_ca_file=cert
        )
        assert report.counts()["sent"] == 1
        assert len(recorder.received) == 1
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("command", "variable", "value", "fragment"),
    [
        ("outbox", "HOERING_SMTP_SECURITY", "tls", "HOERING_SMTP_SECURITY: Input should be"),
        ("outbox", "HOERING_SMTP_HOST", "", "HOERING_SMTP_HOST is not set"),
        ("reminders", "HOERING_OUTBOX_MAX_ATTEMPTS", "0", "HOERING_OUTBOX_MAX_ATTEMPTS:"),
        ("reminders", "HOERING_REMINDER_DAYS", "14,tre", "HOERING_REMINDER_DAYS: 'tre'"),
    ],
)
def test_bad_mail_settings_are_one_line_errors(tmp_path, command, variable, value, fragment):
    env = {
        "HOERING_DATA_DIR": str(tmp_path / "var"),
        "HOERING_MAIL_TRANSPORT": "smtp",
        "HOERING_SMTP_HOST": "mail.test",
        variable: value,
    }
    result = run_hoering(command, "send", env=env)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "var" / "prefect").exists()  # failed before Prefect started


def test_smtp_needs_a_host(tmp_path):
    with pytest.raises(UserError, match="HOERING_SMTP_HOST is not set"):
        SmtpTransport(MailSettings(data_dir=tmp_path, mail_transport="smtp"), None)


# --- killed between delivery and marking -----------------------------------------------------


@pytest.mark.parametrize("stage", ["journaled", "accepted"])
def test_killed_between_delivery_and_marking(engine, tmp_path, flow_env, smtp_server, stage):
    """The CLI's sender process dies right after the server accepted the first message.

    'journaled': it died after writing the journal (the usual window, before the
    database was marked): the re-run finds the Message-ID and sends it no more.
    'accepted': it died before the journal write (the window no local record can
    close): the re-run sends the first message again, the same bytes with the same
    Message-ID, so the recipient's system sees one message.
    """
    for n in range(3):
        _queue(engine, tmp_path, f"k{n}", to=f"r{n}@example.no")
    env = {
        **flow_env,
        "HOERING_MAIL_TRANSPORT": "smtp",
        "HOERING_SMTP_HOST": "127.0.0.1",
        "HOERING_SMTP_PORT": str(smtp_server.port),
        "HOERING_SMTP_SECURITY": "none",
        "HOERING_MAIL_PDF": "false",
    }
    crashed = run_crashing_hoering(
        stage, "outbox", "send", "--as-of", "2024-03-22", "--json", env=env
    )
    assert crashed.code == 70, (crashed.stdout, crashed.stderr)
    assert len(smtp_server.recorder.received) == 1
    assert {r.status for r in outbox_rows(engine)} == {"sending"}

    rerun = run_hoering("outbox", "send", "--as-of", "2024-03-23", "--json", env=env)
    assert rerun.code == 0, rerun.stderr
    report = rerun.json()
    rows = outbox_rows(engine)
    assert {r.status for r in rows} == {"sent"}
    copies = smtp_server.recorder.copies()
    assert set(copies) == {r.message_id for r in rows}
    first = rows[0]
    outcomes = {m["to"]: m["outcome"] for m in report["messages"]}
    if stage == "journaled":
        assert set(copies.values()) == {1}
        assert outcomes == {
            "r0@example.no": "already_delivered",
            "r1@example.no": "sent",
            "r2@example.no": "sent",
        }
        assert first.sent_at == SEND_DAY  # when it really went: the crashed run's as-of
        assert [r.attempts for r in rows] == [1, 2, 2]  # interrupted attempts count
    else:
        assert copies[first.message_id] == 2
        assert [copies[r.message_id] for r in rows[1:]] == [1, 1]
        twins = [
            r.content for r in smtp_server.recorder.received if r.message_id == first.message_id
        ]
        assert twins[0] == twins[1]  # indistinguishable: same Message-ID, same bytes
        assert outcomes["r0@example.no"] == "sent"
        assert [r.attempts for r in rows] == [2, 2, 2]
