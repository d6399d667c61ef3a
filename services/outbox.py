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
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import OutboxSettings
from domain.calendar import oslo_date
from domain.case_numbers import normalise_case_number
from domain.errors import UserError
from domain.reminder_policy import reminder_expired
from mail.outgoing import OutgoingMessage, build_email
from mail.transports import DeliveryError, Transport, TransportUnavailable
from rendering.pdf import DOCX_SUFFIX, ensure_pdfs, pdf_beside
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED)
REMINDER_KIND = "paaminnelse"
LOCK_WAIT_S = 300.0

KIND_LABELS_NB = {
    "hoeringsbrev": "høringsbrev",
    "kvittering": "kvittering",
    "paaminnelse": "påminnelse",
    "orienteringsbrev": "orienteringsbrev",
    "tilbaketrekking": "tilbaketrekking",
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


# --- attachments ---------------------------------------------------------------------------


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


def select_with_hearing() -> Any:
    """Outbox rows with their hearing's case number, state and deadline (None without one)."""
    return select(
        OutboxMessageRow,
        col(HearingRow.case_number),
        col(HearingRow.state),
        col(HearingRow.deadline),
    ).join(HearingRow, col(OutboxMessageRow.hearing_id) == col(HearingRow.id), isouter=True)


def _recover_interrupted(
    engine: Engine, transport: Transport, now: datetime, policy: SendPolicy
) -> list[SendResult]:
    """Settle rows left in `sending` by a run that stopped (we hold the lock)."""
    results: list[SendResult] = []
    with write_session(engine) as session:
        rows = session.exec(
            select_with_hearing()
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
            select_with_hearing()
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
                    _result(outgoing_message(row, case_number), "cancelled", f"not sent: {expired}")
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
    # The receipt letters are rendered here (python-docx): not imported by the listings.
    from services.receipts import attach_receipt_letters

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
            batch = attach_receipt_letters(engine, batch, data_dir / "letters", now)
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
