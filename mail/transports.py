"""Mail transports: SMTP for real use, a folder of .eml files as the embedded default.

Every transport answers two questions for the outbox sender: "deliver this message"
and "was the message with this Message-ID delivered already?". The second answer is
what keeps a crash between delivery and marking the row sent from sending it twice:

- folder: the file `<data dir>/outbox-sent/<Message-ID>.eml` is written atomically
  (temporary file, fsync, rename), so it exists exactly when the message was delivered.
- SMTP: after the server has accepted the message (250 after DATA), the Message-ID
  is appended to a delivery journal (`<data dir>/outbox/journal-smtp.jsonl`, fsynced)
  before anything else happens. The journal, not the database, is what the sender
  consults, so a database that is slow, locked or down after the delivery costs
  nothing.

What this guarantees (SMTP): one copy per Message-ID, except when the process dies
in the microseconds between the server's 250 and the journal's fsync, or when the
connection breaks after the server stored the message but before its reply reached
us. SMTP cannot tell those cases apart from a failed delivery, so the message is
sent again, with the same Message-ID and the same bytes (Date and MIME boundary are
fixed by the row): the second copy cannot be told apart from the first, and mail
systems that deduplicate by Message-ID drop it. The folder transport has no such
window.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Protocol

from config.settings import MailSettings
from domain.errors import UserError
from fileio.atomic import write_atomically

SENT_FOLDER = "outbox-sent"
JOURNAL_FOLDER = "outbox"


# --- outcomes ---------------------------------------------------------------------------


class DeliveryError(Exception):
    """A message was not delivered. `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class TransportUnavailable(DeliveryError):
    """The transport cannot take any message now (no connection, login refused)."""


@dataclass(frozen=True)
class DeliveryRecord:
    """Proof of delivery: when (the run's as-of time) and the transport's answer."""

    message_id: str
    sent_at: datetime | None
    transport: str
    detail: str


# --- the delivery journal ---------------------------------------------------------------


class DeliveryJournal:
    """An append-only JSON-lines file of delivered Message-IDs, fsynced per entry.

    A torn last line (the process died while writing it) is ignored: that message
    counts as not delivered and is sent again with the same Message-ID.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, DeliveryRecord] | None = None

    def _load(self) -> dict[str, DeliveryRecord]:
        if self._entries is None:
            entries: dict[str, DeliveryRecord] = {}
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                lines = []
            for line in lines:
                try:
                    data = json.loads(line)
                    record = DeliveryRecord(
                        message_id=data["message_id"],
                        sent_at=datetime.fromisoformat(data["sent_at"]),
                        transport=data["transport"],
                        detail=data.get("detail", ""),
                    )
                except (ValueError, KeyError, TypeError):
                    continue
                entries.setdefault(record.message_id, record)
            self._entries = entries
        return self._entries

    def lookup(self, message_id: str) -> DeliveryRecord | None:
        return self._load().get(message_id)

    def record(self, record: DeliveryRecord) -> None:
        entries = self._load()
        line = json.dumps(
            {
                "message_id": record.message_id,
                "sent_at": record.sent_at.isoformat() if record.sent_at else None,
                "transport": record.transport,
                "detail": record.detail,
            },
            ensure_ascii=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        entries.setdefault(record.message_id, record)


# --- transports --------------------------------------------------------------------------


class Transport(Protocol):
    """What the outbox sender needs from a way of delivering mail."""

    name: str

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def delivered(self, message_id: str) -> DeliveryRecord | None:
        """The proof of an earlier delivery of this Message-ID, or None."""

    def deliver(
        self, message: EmailMessage, *, envelope_from: str, recipient: str, now: datetime
    ) -> DeliveryRecord:
        """Deliver, record the delivery, return the record; or raise DeliveryError."""


_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@+-]")


def eml_file_name(message_id: str) -> str:
    """'<abc@hoering.helsedir.no>' -> 'abc@hoering.helsedir.no.eml' (safe on any disk)."""
    return _UNSAFE_FILE_CHARS.sub("_", message_id.strip().strip("<>")) + ".eml"


class FolderTransport:
    """Writes each message as one .eml file: the default, needing no mail server."""

    name = "folder"

    def __init__(self, folder: Path, journal: DeliveryJournal) -> None:
        self.folder = folder
        self.journal = journal

    def __enter__(self) -> FolderTransport:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create the outbox folder {self.folder}: {exc.strerror}; set "
                "HOERING_DATA_DIR to a writable folder"
            ) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def path_for(self, message_id: str) -> Path:
        return self.folder / eml_file_name(message_id)

    def delivered(self, message_id: str) -> DeliveryRecord | None:
        path = self.path_for(message_id)
        if not path.exists():
            return None
        return self.journal.lookup(message_id) or DeliveryRecord(
            message_id=message_id, sent_at=None, transport=self.name, detail=str(path)
        )

    def deliver(
        self, message: EmailMessage, *, envelope_from: str, recipient: str, now: datetime
    ) -> DeliveryRecord:
        message_id = str(message["Message-ID"])
        path = self.path_for(message_id)
        try:
            write_atomically(path, message.as_bytes(policy=SMTP_POLICY))
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc.strerror}") from None
        record = DeliveryRecord(
            message_id=message_id, sent_at=now, transport=self.name, detail=str(path)
        )
        self.journal.record(record)
        return record


class SmtpTransport:
    """Delivers over one SMTP connection (STARTTLS, SMTPS or plain), reconnecting after
    an error; the delivery journal is written right after the server accepts."""

    name = "smtp"

    def __init__(self, settings: MailSettings, journal: DeliveryJournal) -> None:
        if not settings.smtp_host:
            raise UserError(
                "HOERING_MAIL_TRANSPORT is smtp but HOERING_SMTP_HOST is not set; set the "
                "mail server's host name, or use HOERING_MAIL_TRANSPORT=folder"
            )
        self.settings = settings
        self.journal = journal
        self._connection: smtplib.SMTP | None = None
        self.connections_opened = 0

    @property
    def server(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.resolved_smtp_port}"

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.quit()
            with contextlib.suppress(OSError):
                connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        host, port = settings.smtp_host or "", settings.resolved_smtp_port
        timeout = settings.smtp_timeout_s
        connection: smtplib.SMTP | None = None
        try:
            if settings.smtp_security == "ssl":
                connection = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=self._tls_context()
                )
            else:
                connection = smtplib.SMTP(host, port, timeout=timeout)
            connection.ehlo()
            if settings.smtp_security == "starttls":
                connection.starttls(context=self._tls_context())
                connection.ehlo()
            if settings.smtp_user:
                connection.login(settings.smtp_user, settings.smtp_password_value() or "")
        except smtplib.SMTPAuthenticationError as exc:
            self._discard(connection)
            raise TransportUnavailable(
                f"{self.server}: login as {settings.smtp_user} refused: {_reply_text(exc)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            self._discard(connection)
            raise TransportUnavailable(f"{self.server}: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            self._discard(connection)
            raise TransportUnavailable(f"{self.server}: {_reply_text(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._discard(connection)
            raise TransportUnavailable(
                f"cannot connect to {self.server}: {_error_text(exc)}"
            ) from None
        self.connections_opened += 1
        return connection

    @staticmethod
    def _discard(connection: smtplib.SMTP | None) -> None:
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    def delivered(self, message_id: str) -> DeliveryRecord | None:
        return self.journal.lookup(message_id)

    def deliver(
        self, message: EmailMessage, *, envelope_from: str, recipient: str, now: datetime
    ) -> DeliveryRecord:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        data = message.as_bytes(policy=SMTP_POLICY)
        try:
            reply = _send_one(connection, envelope_from, recipient, data)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421 or exc.smtp_code < 400:
                self.close()
            else:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    connection.rset()
            raise DeliveryError(
                f"{self.server}: {_reply_text(exc)}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Connection lost or timed out mid-transaction: the server may or may not
            # have stored the message; retrying resends the same Message-ID.
            self.close()
            raise DeliveryError(f"{self.server}: {_error_text(exc)}") from None
        record = DeliveryRecord(
            message_id=str(message["Message-ID"]),
            sent_at=now,
            transport=self.name,
            detail=f"{self.server}: {reply}",
        )
        self.journal.record(record)
        return record


def _send_one(connection: smtplib.SMTP, envelope_from: str, recipient: str, data: bytes) -> str:
    """One SMTP transaction (as smtplib.sendmail, keeping the server's final reply)."""
    connection.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(data)}"] if connection.has_extn("size") else []
    code, reply = connection.mail(envelope_from, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
    code, reply = connection.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPResponseException(code, reply)
    code, reply = connection.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return f"{code} {_decode(reply)}"


def _decode(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _reply_text(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    text = str(exc).strip()
    return text or type(exc).__name__


def open_transport(settings: MailSettings) -> Transport:
    """The configured transport (HOERING_MAIL_TRANSPORT), with its journal in the data dir."""
    journal_dir = settings.data_dir / JOURNAL_FOLDER
    if settings.mail_transport == "smtp":
        return SmtpTransport(settings, DeliveryJournal(journal_dir / "journal-smtp.jsonl"))
    return FolderTransport(
        settings.data_dir / SENT_FOLDER, DeliveryJournal(journal_dir / "journal-folder.jsonl")
    )
