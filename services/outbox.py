"""Delivering the outbox: claim -> send -> mark, each message once.

A run holds the sender lock (`<data dir>/outbox/sender.lock`), so one sender works
on a data dir at a time, and every row it finds in status `sending` was left by a run
that stopped between claiming and marking. Such a row is first checked against the
transport ("was this Message-ID delivered?", see `mail.transports`): delivered
means it is marked sent without sending; otherwise the interrupted attempt counts
and it is sent again. Every row, not only interrupted ones, is checked before it is
sent, so a database restored from a backup does not resend either.

Rows are claimed in batches (status `sending`), delivered one by one over one
connection, and the batch's outcomes are written in one transaction. A failed
delivery counts an attempt: a temporary one (4xx, connection lost) is retried after
an exponential back-off (`next_attempt_at`), a permanent one (5xx, missing
attachment, bad address) and the last allowed attempt end as `failed` with the
reason. All senders of one database must share the data dir (the journal and the
lock live there).

Times are the run's as-of time: `sent_at` is the moment the run stands for, and the
message's Date header is the row's `queued_at`, so a resend is byte for byte the
same message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mimetypes
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import OutboxSettings
from domain.calendar import OSLO, oslo_date
from domain.case_numbers import find_case_numbers, normalise_case_number
from domain.errors import UserError
from domain.reminder_policy import reminder_expired
from mail.transports import DeliveryError, Transport, TransportUnavailable
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED)
REMINDER_KIND = "paaminnelse"
LOCK_WAIT_S = 300.0
PDF_TIMEOUT_S = 180.0

KIND_LABELS_NB = {
    "hoeringsbrev": "høringsbrev",
    "kvittering": "kvittering",
    "paaminnelse": "påminnelse",
    "orienteringsbrev": "orienteringsbrev",
}


def kind_label(kind: str) -> str:
    """The kind as staff read it: 'paaminnelse' -> 'påminnelse'."""
    return KIND_LABELS_NB.get(kind, kind)


# --- policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendPolicy:
    """Bounded retries with exponential back-off: 5, 10, 20, 40 minutes, then failed."""

    max_attempts: int = 5
    first_retry: timedelta = timedelta(minutes=5)
    max_retry: timedelta = timedelta(hours=12)
    batch_size: int = 50

    @classmethod
    def from_settings(cls, settings: OutboxSettings) -> SendPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            first_retry=timedelta(minutes=settings.retry_minutes),
            batch_size=settings.batch_size,
        )


def retry_delay(attempts: int, policy: SendPolicy) -> timedelta:
    """The wait after the `attempts`-th failed attempt: first_retry * 2^(attempts-1), capped."""
    return min(policy.first_retry * (2 ** max(attempts - 1, 0)), policy.max_retry)


# --- building the e-mail ------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMessage:
    """A claimed outbox row, detached from its session (tasks and transports get these)."""

    row_id: int
    message_id: str
    kind: str
    case_number: str | None
    to_address: str
    to_name: str
    organisation: str | None
    subject: str
    body_text: str
    attachments: tuple[Path, ...]
    queued_at: datetime
    attempts: int


def subject_with_reference(subject: str, case_number: str | None) -> str:
    """The subject, with 'Vår ref. 24/750' added unless it names the case already, so a
    reply's subject ('Sv: ...') leads the intake to the case."""
    subject = " ".join(subject.split())
    if case_number is None or case_number in find_case_numbers(subject):
        return subject
    return f"{subject} (Vår ref. {case_number})" if subject else f"Vår ref. {case_number}"


def default_body_nb(case_number: str | None) -> str:
    reference = f" i sak {case_number}" if case_number else ""
    return (
        f"Vedlagt følger brev fra Helsedirektoratet{reference}.\n\n"
        "Vennlig hilsen\nHelsedirektoratet\n"
    )


def build_email(
    message: OutgoingMessage, *, sender: Address, attachments: Sequence[Path]
) -> EmailMessage:
    """The e-mail for an outbox row. Deterministic: the same row gives the same bytes."""
    try:
        recipient = Address(display_name=message.to_name, addr_spec=message.to_address)
    except (ValueError, IndexError) as exc:
        raise DeliveryError(
            f"invalid recipient address {message.to_address!r}: {exc}", permanent=True
        ) from None
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = subject_with_reference(message.subject, message.case_number)
    email["Date"] = format_datetime(message.queued_at.astimezone(OSLO))
    email["Message-ID"] = message.message_id
    email["Content-Language"] = "nb"
    body = message.body_text.strip() or default_body_nb(message.case_number)
    email.set_content(body.rstrip("\n") + "\n", charset="utf-8", cte="quoted-printable")
    for path in attachments:
        ctype, _encoding = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(
                f"attachment {path} cannot be read ({exc.strerror})", permanent=True
            ) from None
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    if email.is_multipart():
        digest = hashlib.sha256(message.message_id.encode()).hexdigest()[:24]
        email.set_boundary(f"=_hoering_{digest}")
    return email


# --- attachments and PDFs -----------------------------------------------------------------

DOCX_SUFFIX = ".docx"


def pdf_beside(docx: Path) -> Path:
    return docx.with_suffix(".pdf")


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def ensure_pdfs(docx_files: Sequence[Path], timeout_s: float = PDF_TIMEOUT_S) -> None:
    """Convert the .docx files that have no PDF beside them, one LibreOffice run per
    folder. Optional: without LibreOffice, or when it fails, nothing happens."""
    binary = soffice_binary()
    missing = [p for p in dict.fromkeys(docx_files) if p.exists() and not pdf_beside(p).exists()]
    if binary is None or not missing:
        return
    by_folder: dict[Path, list[Path]] = {}
    for path in missing:
        by_folder.setdefault(path.parent, []).append(path)
    for folder, files in by_folder.items():
        with tempfile.TemporaryDirectory(prefix="hoering-soffice-") as profile:
            command = [
                binary,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *(str(p) for p in files),
            ]
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)


def attachment_paths(message: OutgoingMessage, *, with_pdf: bool) -> list[Path]:
    """The row's files, each .docx followed by its PDF when there is one."""
    paths: list[Path] = []
    for path in message.attachments:
        if not path.is_file():
            raise DeliveryError(f"attachment {path} does not exist", permanent=True)
        paths.append(path)
        if with_pdf and path.suffix.lower() == DOCX_SUFFIX and pdf_beside(path).is_file():
            paths.append(pdf_beside(path))
    return paths


# --- the lock ---------------------------------------------------------------------------


@contextlib.contextmanager
def sender_lock(data_dir: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """One sender per data dir; waits for a running one to finish, up to `wait_s`."""
    path = data_dir / "outbox" / "sender.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        give_up = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    raise UserError(
                        f"another outbox sender has held {path} for {wait_s:.0f} s; wait for "
                        "it to finish and run 'hoering outbox send' again"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What happened to one message in this run.

    `outcome`: sent | already_delivered (found delivered, marked without sending) |
    retry (temporary failure, back-off) | failed | cancelled (a reminder whose hearing
    left `circulated` or whose deadline passed before it went) | released (not tried
    this run: the transport became unavailable).
    """

    message_id: str
    kind: str
    case_number: str | None
    to_address: str
    organisation: str | None
    outcome: str
    detail: str = ""
    sent_at: datetime | None = None


@dataclass
class SendReport:
    transport: str
    as_of: datetime
    results: list[SendResult] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (transport unavailable)

    def counts(self) -> dict[str, int]:
        tally = Counter(result.outcome for result in self.results)
        outcomes = ("sent", "already_delivered", "retry", "failed", "cancelled", "released")
        return {name: tally.get(name, 0) for name in outcomes}

    def as_json(self) -> dict:
        return {
            "transport": self.transport,
            "as_of": self.as_of.isoformat(),
            "counts": self.counts(),
            "stopped": self.stopped,
            "messages": [
                {
                    "message_id": r.message_id,
                    "kind": kind_label(r.kind),
                    "case": r.case_number,
                    "to": r.to_address,
                    "organisation": r.organisation,
                    "outcome": r.outcome,
                    "detail": r.detail,
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                }
                for r in self.results
            ],
        }


def _result(message: OutgoingMessage, outcome: str, detail: str = "", sent_at=None) -> SendResult:
    return SendResult(
        message_id=message.message_id,
        kind=message.kind,
        case_number=message.case_number,
        to_address=message.to_address,
        organisation=message.organisation,
        outcome=outcome,
        detail=detail,
        sent_at=sent_at,
    )


def hearing_id_for_case(session: Session, case: str) -> int:
    """The hearing of a case number as a user typed it, or one UserError line."""
    number = normalise_case_number(case, "--case")
    hearing_id = session.exec(select(HearingRow.id).where(HearingRow.case_number == number)).first()
    if hearing_id is None:
        raise UserError(f"--case: no hearing has case number {number}; check the number")
    return hearing_id


def outgoing_message(row: OutboxMessageRow, case_number: str | None) -> OutgoingMessage:
    """The row as a detached message to build and deliver."""
    return OutgoingMessage(
        row_id=row.id or 0,
        message_id=row.message_id,
        kind=row.kind,
        case_number=case_number,
        to_address=row.to_address,
        to_name=row.to_name,
        organisation=row.organisation,
        subject=row.subject,
        body_text=row.body_text,
        attachments=tuple(Path(p) for p in json.loads(row.attachments_json or "[]")),
        queued_at=row.queued_at,
        attempts=row.attempts,
    )


def _select_with_hearing():  # type: ignore[no-untyped-def]
    """Outbox rows with their hearing's case number, state and deadline (None without one)."""
    return select(
        OutboxMessageRow, HearingRow.case_number, HearingRow.state, HearingRow.deadline
    ).join(HearingRow, col(OutboxMessageRow.hearing_id) == HearingRow.id, isouter=True)


def _recover_interrupted(
    engine: Engine, transport: Transport, now: datetime, policy: SendPolicy
) -> list[SendResult]:
    """Settle rows left in `sending` by a run that stopped (we hold the lock)."""
    results: list[SendResult] = []
    with write_session(engine) as session:
        rows = session.exec(
            _select_with_hearing()
            .where(OutboxMessageRow.status == SENDING)
            .order_by(col(OutboxMessageRow.id))
        ).all()
        for row, case_number, _state, _deadline in rows:
            message = outgoing_message(row, case_number)
            row.attempts += 1
            record = transport.delivered(row.message_id)
            if record is not None:
                row.status, row.sent_at = SENT, record.sent_at or now
                row.next_attempt_at, row.last_error = None, None
                results.append(_result(message, "already_delivered", record.detail, row.sent_at))
                continue
            reason = "interrupted: the sender stopped before the delivery was confirmed"
            if row.attempts >= policy.max_attempts:
                row.status, row.last_error = FAILED, f"{reason} (gave up after {row.attempts})"
                results.append(_result(message, "failed", row.last_error))
            else:
                row.status, row.last_error, row.next_attempt_at = PENDING, reason, None
            session.add(row)
    return results


def _claim_batch(
    engine: Engine, now: datetime, hearing_id: int | None, size: int, cancelled: list[SendResult]
) -> list[OutgoingMessage]:
    """Claim up to `size` due rows; reminders that may no longer go out are cancelled
    instead (appended to `cancelled`) and do not count."""
    today = oslo_date(now)
    with write_session(engine) as session:
        statement = (
            _select_with_hearing()
            .where(OutboxMessageRow.status == PENDING)
            .where(
                col(OutboxMessageRow.next_attempt_at).is_(None)
                | (col(OutboxMessageRow.next_attempt_at) <= now)
            )
            .order_by(col(OutboxMessageRow.id))
            .limit(size)
        )
        if hearing_id is not None:
            statement = statement.where(OutboxMessageRow.hearing_id == hearing_id)
        claimed: list[OutgoingMessage] = []
        for row, case_number, state, deadline in session.exec(statement).all():
            expired = None
            if row.kind == REMINDER_KIND and state is not None and deadline is not None:
                expired = reminder_expired(today, deadline=deadline, hearing_state=state)
            values = (
                {"status": SENDING}
                if expired is None
                else {
                    "status": CANCELLED,
                    "last_error": f"not sent: {expired}",
                    "next_attempt_at": None,
                }
            )
            taken = session.exec(
                update(OutboxMessageRow)
                .where(col(OutboxMessageRow.id) == row.id, col(OutboxMessageRow.status) == PENDING)
                .values(**values)
            )
            if taken.rowcount != 1:
                continue
            if expired is None:
                claimed.append(outgoing_message(row, case_number))
            else:
                cancelled.append(
                    _result(outgoing_message(row, case_number), "cancelled", values["last_error"])
                )
    return claimed


@dataclass(frozen=True)
class _Outcome:
    message: OutgoingMessage
    kind: str  # sent | retry_or_fail | failed | released
    detail: str = ""
    sent_at: datetime | None = None


def _record_outcomes(
    engine: Engine, outcomes: Sequence[_Outcome], now: datetime, policy: SendPolicy
) -> list[SendResult]:
    results: list[SendResult] = []
    with write_session(engine) as session:
        for outcome in outcomes:
            row = session.get(OutboxMessageRow, outcome.message.row_id)
            if row is None or row.status != SENDING:
                continue
            message = outcome.message
            if outcome.kind == "released":
                row.status = PENDING
                results.append(_result(message, "released", outcome.detail))
            elif outcome.kind in ("sent", "already_delivered"):
                row.attempts += 1
                row.status, row.sent_at = SENT, outcome.sent_at or now
                row.next_attempt_at, row.last_error = None, None
                results.append(_result(message, outcome.kind, outcome.detail, row.sent_at))
            elif outcome.kind == "failed" or row.attempts + 1 >= policy.max_attempts:
                row.attempts += 1
                row.status, row.next_attempt_at = FAILED, None
                suffix = "" if outcome.kind == "failed" else f" (gave up after {row.attempts})"
                row.last_error = outcome.detail + suffix
                results.append(_result(message, "failed", row.last_error))
            else:
                row.attempts += 1
                row.status, row.last_error = PENDING, outcome.detail
                row.next_attempt_at = now + retry_delay(row.attempts, policy)
                detail = f"{outcome.detail}; next attempt {row.next_attempt_at.isoformat()}"
                results.append(_result(message, "retry", detail))
            session.add(row)
    return results


def _deliver(
    message: OutgoingMessage,
    transport: Transport,
    *,
    now: datetime,
    sender: Address,
    with_pdf: bool,
) -> _Outcome:
    record = transport.delivered(message.message_id)
    if record is not None:
        return _Outcome(message, "already_delivered", record.detail, record.sent_at)
    try:
        try:
            email = build_email(
                message, sender=sender, attachments=attachment_paths(message, with_pdf=with_pdf)
            )
        except (ValueError, TypeError, UnicodeError) as exc:  # one bad row must not stop all
            raise DeliveryError(f"cannot build the e-mail: {exc}", permanent=True) from None
        record = transport.deliver(
            email, envelope_from=sender.addr_spec, recipient=message.to_address, now=now
        )
    except TransportUnavailable:
        raise
    except DeliveryError as exc:
        return _Outcome(message, "failed" if exc.permanent else "retry_or_fail", exc.reason)
    return _Outcome(message, "sent", record.detail, now)


def send_pending(
    engine: Engine,
    transport: Transport,
    *,
    now: datetime,
    data_dir: Path,
    sender: Address,
    case: str | None = None,
    limit: int | None = None,
    policy: SendPolicy | None = None,
    with_pdf: bool = False,
) -> SendReport:
    """Deliver the pending messages that are due at `now` (all, or one case's, at most
    `limit`), settle interrupted ones first; see the module docstring."""
    policy = policy or SendPolicy()
    if now.tzinfo is None:
        raise ValueError("send_pending needs an aware `now`")
    if limit is not None and limit < 0:
        raise UserError(f"--limit: {limit} is negative; give 0 or more messages")
    report = SendReport(transport=transport.name, as_of=now)
    hearing_id = None
    if case is not None:
        with read_session(engine) as session:
            hearing_id = hearing_id_for_case(session, case)
    with sender_lock(data_dir), transport:
        report.results.extend(_recover_interrupted(engine, transport, now, policy))
        remaining = limit
        while remaining is None or remaining > 0:
            size = policy.batch_size if remaining is None else min(policy.batch_size, remaining)
            cancelled: list[SendResult] = []
            batch = _claim_batch(engine, now, hearing_id, size, cancelled)
            report.results.extend(cancelled)
            if not batch:
                if cancelled:
                    continue
                break
            if with_pdf:
                ensure_pdfs([p for m in batch for p in m.attachments if p.suffix == DOCX_SUFFIX])
            outcomes: list[_Outcome] = []
            for index, message in enumerate(batch):
                try:
                    outcomes.append(
                        _deliver(message, transport, now=now, sender=sender, with_pdf=with_pdf)
                    )
                except TransportUnavailable as exc:
                    report.stopped = exc.reason
                    outcomes.extend(_Outcome(m, "released", exc.reason) for m in batch[index:])
                    break
            report.results.extend(_record_outcomes(engine, outcomes, now, policy))
            if report.stopped:
                break
            if remaining is not None:
                remaining -= len(batch)
    return report


# --- listing ------------------------------------------------------------------------------


def list_outbox(session: Session, case: str | None = None) -> list[dict]:
    """Every message (or one case's), oldest first, as the CLI shows it."""
    statement = _select_with_hearing().order_by(
        col(OutboxMessageRow.queued_at), col(OutboxMessageRow.id)
    )
    if case is not None:
        statement = statement.where(
            OutboxMessageRow.hearing_id == hearing_id_for_case(session, case)
        )
    listing = []
    for row, case_number, _state, _deadline in session.exec(statement).all():
        listing.append(
            {
                "kind": kind_label(row.kind),
                "case": case_number,
                "to": row.to_address,
                "name": row.to_name,
                "organisation": row.organisation,
                "subject": subject_with_reference(row.subject, case_number),
                "queued_at": _oslo(row.queued_at),
                "sent_at": _oslo(row.sent_at),
                "status": row.status,
                "attempts": row.attempts,
                "next_attempt_at": _oslo(row.next_attempt_at),
                "last_error": row.last_error,
                "message_id": row.message_id,
            }
        )
    return listing


def _oslo(moment: datetime | None) -> str | None:
    return moment.astimezone(OSLO).isoformat() if moment is not None else None
