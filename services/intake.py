"""Filing e-mails as hearing responses: one batch of raw messages per transaction.

The raw bytes are in the blob store before a batch comes here (`RawRef` names them
by sha256). Each message ends in exactly one outcome:

- quarantined: not an e-mail, or over a limit (`domain.email_intake.parse_message`),
  or it broke the filing code: a `quarantine` row with the reason;
- duplicate: its raw bytes were read before (a second import of a source), or it
  has the Message-ID and sender of a filed response, or the same sender, text and
  attachments as a response filed under the same case (an identical "no comments"
  to two hearings is two responses);
- matched: filed under the hearing whose case number it quotes (subject, then body,
  then the text of its attachments), with the next document number of the case
  (24/750-2, ...), the late flag, and a receipt queued in the outbox;
- unmatched: filed without a hearing, for a person to assign (`assign_response`).

A batch is written in a few statements (one query per kind of lookup, bulk inserts)
and committed by the caller; re-running a batch that was rolled back, or reading a
source again, changes nothing that was committed.

`file_stored` is what the import runs: it parses the batch and reads its attachments
(`prepare_batch`) before it takes the write lock, then writes in one short
transaction; a batch that fails twice is split until the message that breaks it is
alone, and that message is quarantined with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from domain.case_numbers import normalise_case_number
from domain.deadlines import is_late
from domain.email_intake import MailLimits
from domain.errors import UserError
from services import hearings
from services.intake_planning import (
    BatchPlanner,
    MessagePlan,
    RawRef,
    TextReader,
    already_read,
    prepare,
    quarantine,
)
from services.intake_writing import BatchWriter, MessageOutcome, allocate_document_numbers
from services.receipts import queue_receipt
from services.supplements import link_supplements
from storage.blobs import BlobStore
from storage.db import read_session, short_error, write_session
from storage.hearing_models import HearingRow
from storage.intake_models import IntakeSourceItemRow, IntakeSourceStateRow, ResponseRow
from storage.intake_queries import (  # re-exported: the lifecycle and CLI read them here
    answered_stakeholder_keys,
    recipient_answer_status,
    response_counts_by_review,
)
from storage.review_queries import unreviewed_response_count

__all__ = [
    "OUTCOMES",
    "MessageOutcome",
    "RawRef",
    "allocate_document_numbers",
    "answered_stakeholder_keys",
    "assign_response",
    "file_batch",
    "file_prepared",
    "file_stored",
    "mark_source_items_acknowledged",
    "pending_source_uids",
    "prepare_batch",
    "recipient_answer_status",
    "response_counts_by_review",
    "unreviewed_response_count",
]

OUTCOMES = ("matched", "unmatched", "duplicate", "quarantined")
_ADVISORY_LOCK = 0x686F6572  # "hoer": one importer at a time on PostgreSQL


# --- small helpers --------------------------------------------------------------------------


def _lock_importer(session: Session) -> None:
    """Serialise concurrent imports (SQLite already does, by BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


@dataclass(frozen=True)
class TrackedSource:
    """An IMAP folder whose filed UIDs are recorded with the batch."""

    key: str
    kind: str
    uidvalidity: int


def file_batch(
    session: Session,
    store: BlobStore,
    refs: Sequence[RawRef],
    now: datetime,
    limits: MailLimits | None = None,
    tracked: TrackedSource | None = None,
    prepared: Mapping[str, MessagePlan] | None = None,
) -> list[MessageOutcome]:
    """File a batch of stored raw messages in the caller's transaction; one outcome each.

    Messages in `prepared` (by sha256) were parsed before; the others are parsed here.
    """
    if now.tzinfo is None:
        raise ValueError("file_batch needs an aware `now`")
    _lock_importer(session)
    planner = BatchPlanner(session, store, now, limits or MailLimits())
    plans = planner.plan(refs, prepared)
    outcomes = BatchWriter(session, store, now, planner.hearings).write(plans)
    if tracked is not None:
        _record_source_items(session, tracked, refs, now)
    return outcomes


# --- the import: parse without a lock, write briefly, split off what breaks a batch --------


def prepare_batch(
    engine: Engine, store: BlobStore, refs: Sequence[RawRef], limits: MailLimits, read: TextReader
) -> dict[str, MessagePlan]:
    """Parse the batch's new messages and read their attachments, holding no lock."""
    with read_session(engine) as session:
        seen = already_read(session, [ref.raw_sha256 for ref in refs])
    prepared: dict[str, MessagePlan] = {}
    for ref in refs:
        if ref.raw_sha256 not in seen and ref.raw_sha256 not in prepared:
            prepared[ref.raw_sha256] = prepare(ref, store.get(ref.raw_sha256), limits, read)
    return prepared


# Not the batch's fault: the database is down or busy; splitting would not help.
_NOT_THE_BATCH = (UserError, OperationalError, InterfaceError)


@dataclass(frozen=True)
class _Batch:
    engine: Engine
    store: BlobStore
    now: datetime
    limits: MailLimits
    tracked: TrackedSource | None

    def write(
        self, refs: Sequence[RawRef], prepared: Mapping[str, MessagePlan]
    ) -> list[MessageOutcome]:
        with write_session(self.engine) as session:
            return file_batch(
                session, self.store, refs, self.now, self.limits, self.tracked, prepared
            )

    def write_or_split(
        self, refs: Sequence[RawRef], prepared: dict[str, MessagePlan]
    ) -> list[MessageOutcome]:
        """Write; after a second failure write each half, down to the one message that
        fails alone, which is quarantined with the reason."""
        failure: Exception | None = None
        for _attempt in range(2):
            try:
                return self.write(refs, prepared)
            except _NOT_THE_BATCH:
                raise
            except Exception as error:  # what the message holds broke the filing code
                failure = error
        assert failure is not None
        if len(refs) > 1:
            middle = len(refs) // 2
            return self.write_or_split(refs[:middle], prepared) + self.write_or_split(
                refs[middle:], prepared
            )
        held = MessagePlan(refs[0])
        quarantine(held, f"could not be filed (failed twice: {short_error(failure)})")
        prepared[refs[0].raw_sha256] = held
        return self.write(refs, prepared)


def file_prepared(
    engine: Engine,
    store: BlobStore,
    refs: Sequence[RawRef],
    prepared: dict[str, MessagePlan],
    now: datetime,
    limits: MailLimits,
    tracked: TrackedSource | None = None,
) -> list[MessageOutcome]:
    """Write a batch whose new messages were parsed already (`prepared`, by sha256) in
    one short transaction, splitting off a message that breaks it."""
    return _Batch(engine, store, now, limits, tracked).write_or_split(refs, prepared)


def file_stored(
    engine: Engine,
    store: BlobStore,
    refs: Sequence[RawRef],
    now: datetime,
    limits: MailLimits,
    read: TextReader,
    tracked: TrackedSource | None = None,
) -> list[MessageOutcome]:
    """File a batch the way the import does; one outcome per message."""
    prepared = prepare_batch(engine, store, refs, limits, read)
    return _Batch(engine, store, now, limits, tracked).write_or_split(refs, prepared)


# --- IMAP folders: what was filed but not yet moved -----------------------------------------


def _record_source_items(
    session: Session, tracked: TrackedSource, refs: Sequence[RawRef], now: datetime
) -> None:
    uids = {ref.uid: ref.raw_sha256 for ref in refs if ref.uid is not None}
    if uids:
        present = set(
            session.exec(
                select(IntakeSourceItemRow.uid).where(
                    IntakeSourceItemRow.source_key == tracked.key,
                    IntakeSourceItemRow.uidvalidity == tracked.uidvalidity,
                    col(IntakeSourceItemRow.uid).in_(list(uids)),
                )
            ).all()
        )
        session.add_all(
            IntakeSourceItemRow(
                source_key=tracked.key,
                uidvalidity=tracked.uidvalidity,
                uid=uid,
                raw_sha256=sha,
                read_at=now,
            )
            for uid, sha in uids.items()
            if uid not in present
        )
    state = session.get(IntakeSourceStateRow, tracked.key)
    if state is None:
        state = IntakeSourceStateRow(source_key=tracked.key, kind=tracked.kind)
    if state.uidvalidity != tracked.uidvalidity:
        state.uidvalidity, state.last_uid = tracked.uidvalidity, None
    if uids:
        state.last_uid = max(state.last_uid or 0, *uids)
    state.imported_total += len(refs)
    state.last_import_at = now
    session.add(state)
    session.flush()


def pending_source_uids(session: Session, source_key: str, uidvalidity: int) -> set[int]:
    """UIDs of the folder filed by an earlier run but not yet moved or flagged."""
    return set(
        session.exec(
            select(IntakeSourceItemRow.uid).where(
                IntakeSourceItemRow.source_key == source_key,
                IntakeSourceItemRow.uidvalidity == uidvalidity,
                col(IntakeSourceItemRow.acknowledged_at).is_(None),
            )
        ).all()
    )


def mark_source_items_acknowledged(
    session: Session, source_key: str, uidvalidity: int, uids: Iterable[int], now: datetime
) -> None:
    """Record that these UIDs were moved or flagged on the server."""
    wanted = sorted(set(uids))
    for start in range(0, len(wanted), 500):
        session.execute(
            update(IntakeSourceItemRow)
            .where(
                col(IntakeSourceItemRow.source_key) == source_key,
                col(IntakeSourceItemRow.uidvalidity) == uidvalidity,
                col(IntakeSourceItemRow.uid).in_(wanted[start : start + 500]),
                col(IntakeSourceItemRow.acknowledged_at).is_(None),
            )
            .values(acknowledged_at=now)
        )


# --- a person assigns an unmatched response ------------------------------------------------


class ResponseNotFound(UserError):
    pass


def assign_response(session: Session, response_id: int, case: str, now: datetime) -> dict[str, Any]:
    """File an unmatched response under hearing `case`: number, late flag, receipt."""
    wanted = normalise_case_number(case, "CASE")
    response = session.exec(
        select(ResponseRow).where(ResponseRow.id == response_id).with_for_update()
    ).first()
    if response is None:
        raise ResponseNotFound(
            f"RESPONSE_ID: no response {response_id}; see 'hoering responses unmatched' for the IDs"
        )
    hearing = hearings.get_hearing(session, wanted)
    if hearing.state == "draft":
        raise UserError(
            f"CASE: hearing {wanted} is still a draft and takes no responses; "
            "circulate it first or choose another case"
        )
    if response.hearing_id is not None:
        if response.hearing_id == hearing.id:
            return _assignment(response, wanted, already=True)
        current = session.get(HearingRow, response.hearing_id)
        raise UserError(
            f"RESPONSE_ID: response {response_id} is already filed under "
            f"{current.case_number if current else response.hearing_id} as "
            f"{response.tracking_number}; it cannot be moved to another case"
        )
    assert hearing.id is not None
    response.hearing_id = hearing.id
    response.tracking_number = allocate_document_numbers(session, hearing.id, 1)[0]
    response.late = is_late(response.received_at, hearing.deadline)
    response.assigned_at = now
    session.add(response)
    session.flush()
    receipt = queue_receipt(session, hearing, hearings.load_spec(hearing), response, now)
    if receipt is not None:
        response.receipt_outbox_id = receipt.id
        session.add(response)
        session.flush()
    link_supplements(session, [(response_id, ())])  # e.g. an organisation's second message
    return _assignment(response, wanted, already=False)


def _assignment(response: ResponseRow, case: str, already: bool) -> dict[str, Any]:
    return {
        "response_id": response.id,
        "case": case,
        "tracking_number": response.tracking_number,
        "late": response.late,
        "receipt_queued": response.receipt_outbox_id is not None,
        "already_assigned": already,
    }
