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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import insert, or_, text, update
from sqlmodel import Session, select

from domain.attachment_text import extract_text
from domain.case_numbers import match_case_number, normalise_case_number
from domain.email_intake import (
    Attachment,
    MailLimits,
    ParsedMessage,
    Quarantine,
    dedupe_key,
    is_late,
    parse_message,
    received_time,
)
from domain.errors import UserError
from domain.hearing_spec import HearingSpec
from services import hearings
from services.receipts import queue_receipt, queue_receipts
from storage.blobs import BlobStore
from storage.hearing_models import HearingRow
from storage.intake_models import (
    MESSAGE_ID_MAX,
    IntakeMessageRow,
    IntakeSourceItemRow,
    IntakeSourceStateRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from storage.intake_queries import (  # re-exported: the lifecycle and CLI read them here
    answered_stakeholder_keys,
    recipient_answer_status,
    response_counts_by_review,
)
from storage.models import StakeholderDomainRow, StakeholderRow
from storage.review_queries import unreviewed_response_count

__all__ = [
    "OUTCOMES",
    "MessageOutcome",
    "RawRef",
    "allocate_document_numbers",
    "answered_stakeholder_keys",
    "assign_response",
    "file_batch",
    "mark_source_items_acknowledged",
    "pending_source_uids",
    "recipient_answer_status",
    "response_counts_by_review",
    "unreviewed_response_count",
]

OUTCOMES = ("matched", "unmatched", "duplicate", "quarantined")
FILED = ("matched", "unmatched")
_ADVISORY_LOCK = 0x686F6572  # "hoer": one importer at a time on PostgreSQL
_MAX_WARNINGS = 50


@dataclass(frozen=True)
class RawRef:
    """A message whose raw bytes are in the blob store."""

    source_id: str
    raw_sha256: str
    size: int
    uid: int | None = None  # IMAP UID, when the source is an IMAP folder


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one message read: the JSON report's entry."""

    source: str
    outcome: str
    case: str | None = None
    tracking_number: str | None = None
    response_id: int | None = None
    late: bool | None = None
    reason: str | None = None
    raw_sha256: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "outcome": self.outcome,
            "case": self.case,
            "tracking_number": self.tracking_number,
            "response_id": self.response_id,
            "late": self.late,
            "reason": self.reason,
            "raw_sha256": self.raw_sha256,
        }


# --- small helpers --------------------------------------------------------------------------


def _clean(value: str | None, limit: int | None = None) -> str | None:
    """Text the databases accept: no NUL, no lone surrogates, at most `limit` chars."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit else value


def _lock_importer(session: Session) -> None:
    """Serialise concurrent imports (SQLite already does, by BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def allocate_document_numbers(session: Session, hearing_id: int, count: int) -> list[str]:
    """The next `count` numbers of the case's document series, in one statement.

    The høringsbrev is document 1, so responses start at 2 even if the series is still
    empty; a series that letters have taken further continues after them.
    """
    if count < 1:
        return []
    current = HearingRow.last_document_number
    floor = sql_case((current < 1, 1), else_=current)
    last, case_number = session.execute(
        update(HearingRow)
        .where(HearingRow.id == hearing_id)
        .values(last_document_number=floor + count)
        .returning(HearingRow.last_document_number, HearingRow.case_number)
    ).one()
    return [f"{case_number}-{number}" for number in range(last - count + 1, last + 1)]


# --- who sent it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderMatch:
    stakeholder_key: str | None
    organisation: str | None
    matched_by: str | None  # "address", "domain" or None (private person / unknown)


class StakeholderDirectory:
    """Stakeholders by exact address, then by mail domain including subdomains."""

    def __init__(self, session: Session) -> None:
        rows = session.exec(select(StakeholderRow.key, StakeholderRow.name, StakeholderRow.email))
        self.names: dict[str, str] = {}
        self.by_address: dict[str, str] = {}
        for key, name, email in rows.all():
            self.names[key] = name
            self.by_address[email.strip().lower()] = key
        self.by_domain = {
            domain.lower(): key
            for domain, key in session.exec(
                select(StakeholderDomainRow.domain, StakeholderDomainRow.stakeholder_key)
            ).all()
        }

    def match(self, address: str | None) -> SenderMatch:
        if not address or "@" not in address:
            return SenderMatch(None, None, None)
        address = address.strip().lower()
        key = self.by_address.get(address)
        if key is not None:
            return SenderMatch(key, self.names.get(key), "address")
        labels = address.rsplit("@", 1)[1].strip(".").split(".")
        for start in range(len(labels) - 1):  # mh.ntnu.no, then ntnu.no; never "no"
            key = self.by_domain.get(".".join(labels[start:]))
            if key is not None:
                return SenderMatch(key, self.names.get(key), "domain")
        return SenderMatch(None, None, None)


# --- the hearings a message can belong to ------------------------------------------------


class HearingDirectory:
    """Hearings that take responses (every state but draft), loaded once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        rows = session.exec(select(HearingRow).where(HearingRow.state != "draft")).all()
        self.by_case = {row.case_number: row for row in rows}
        self._specs: dict[int, HearingSpec] = {}

    def match(self, parsed: ParsedMessage, attachment_texts: Iterable[str]) -> str | None:
        if not self.by_case:
            return None
        found = match_case_number(parsed.subject, parsed.combined_text, self.by_case)
        if found is None:
            for attachment_text in attachment_texts:
                found = match_case_number(None, attachment_text, self.by_case)
                if found is not None:
                    break
        return found

    def spec(self, hearing: HearingRow) -> HearingSpec:
        assert hearing.id is not None
        if hearing.id not in self._specs:
            self._specs[hearing.id] = hearings.load_spec(hearing)
        return self._specs[hearing.id]


# --- one batch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiledResponse:
    """A response as written by this batch (what receipts and the report need)."""

    id: int
    tracking_number: str | None
    late: bool | None
    from_address: str | None
    from_name: str | None
    organisation: str | None
    stakeholder_key: str | None
    auto_submitted: bool
    received_at: datetime


@dataclass
class _Original:
    """The filed (or earlier) message a duplicate repeats, as the report shows it."""

    intake_id: int | None = None
    plan: _Plan | None = None  # when it is earlier in the same batch
    case: str | None = None
    tracking_number: str | None = None
    response_id: int | None = None


@dataclass
class _Plan:
    """What one message will become, before anything is written."""

    ref: RawRef
    outcome: str = ""
    reason: str | None = None
    record: bool = True  # False for raw bytes read before: nothing new to write
    parsed: ParsedMessage | None = None
    case: str | None = None
    sender: SenderMatch | None = None
    texts: list[tuple[str | None, str | None]] = field(default_factory=list)
    received: tuple[datetime, str] | None = None
    content_key: str | None = None
    message_id: str | None = None
    original: _Original | None = None
    row_id: int | None = None  # its intake_message, once written
    response: FiledResponse | None = None


_Key = tuple[str, str | None]


@dataclass
class _Known:
    """Messages in the database that this batch may repeat."""

    by_sha: dict[str, tuple[_Original, str, str]] = field(default_factory=dict)
    by_message_id: dict[_Key, _Original] = field(default_factory=dict)
    by_content: dict[_Key, _Original] = field(default_factory=dict)


def _filed_columns() -> tuple[Any, ...]:
    return (
        IntakeMessageRow.id,
        ResponseRow.id,
        ResponseRow.tracking_number,
        HearingRow.case_number,
    )


def _with_response(statement: Any) -> Any:
    return statement.outerjoin(
        ResponseRow, ResponseRow.intake_message_id == IntakeMessageRow.id
    ).outerjoin(HearingRow, HearingRow.id == ResponseRow.hearing_id)


def _load_by_sha(session: Session, known: _Known, shas: Sequence[str]) -> None:
    statement = select(
        *_filed_columns(),
        IntakeMessageRow.raw_sha256,
        IntakeMessageRow.outcome,
        IntakeMessageRow.source,
    )
    rows = session.exec(_with_response(statement).where(IntakeMessageRow.raw_sha256.in_(shas)))
    for row_id, response_id, tracking, case, sha, outcome, source in rows.all():
        original = _Original(row_id, None, case, tracking, response_id)
        known.by_sha[sha] = (original, outcome, source)


def _load_filed(session: Session, known: _Known, plans: Sequence[_Plan]) -> None:
    """Filed messages with a Message-ID or content key that this batch has."""
    message_ids = {plan.message_id for plan in plans if plan.message_id}
    content_keys = {plan.content_key for plan in plans if plan.content_key}
    conditions = []
    if message_ids:
        conditions.append(IntakeMessageRow.message_id.in_(message_ids))
    if content_keys:
        conditions.append(IntakeMessageRow.content_key.in_(content_keys))
    if not conditions:
        return
    statement = select(
        *_filed_columns(),
        IntakeMessageRow.message_id,
        IntakeMessageRow.from_address,
        IntakeMessageRow.content_key,
    )
    rows = session.exec(
        _with_response(statement)
        .where(IntakeMessageRow.outcome.in_(FILED), or_(*conditions))
        .order_by(IntakeMessageRow.id)
    )
    for row_id, response_id, tracking, case, message_id, sender, content_key in rows.all():
        original = _Original(row_id, None, case, tracking, response_id)
        if message_id:
            known.by_message_id.setdefault((message_id, sender), original)
        if content_key:
            known.by_content.setdefault((content_key, case), original)


def _parse(plan: _Plan, raw: bytes, limits: MailLimits) -> None:
    result = parse_message(raw, limits)
    if isinstance(result, Quarantine):
        plan.outcome, plan.reason = "quarantined", result.reason
        return
    plan.parsed = result
    plan.message_id = _clean(result.message_id, MESSAGE_ID_MAX)


def _extract(plan: _Plan) -> None:
    assert plan.parsed is not None
    for attachment in plan.parsed.all_attachments:
        if attachment.unreadable_reason:
            plan.texts.append((None, attachment.unreadable_reason))
            continue
        name = attachment.filename or attachment.safe_name
        extracted = extract_text(name, attachment.content_type, attachment.payload)
        plan.texts.append((extracted.text, extracted.unreadable_reason))


def _content_key(parsed: ParsedMessage) -> str | None:
    """The "same sender, text and attachments" key; None when there is nothing to compare."""
    if not parsed.combined_text.strip() and not parsed.all_attachments:
        return None
    return dedupe_key(parsed)


class _Batch:
    """Plans and writes one batch. Everything is looked up once per batch."""

    def __init__(
        self, session: Session, store: BlobStore, now: datetime, limits: MailLimits
    ) -> None:
        self.session = session
        self.store = store
        self.now = now
        self.limits = limits
        self.hearings = HearingDirectory(session)
        self.stakeholders = StakeholderDirectory(session)
        self.known = _Known()
        self.by_message_id: dict[_Key, _Plan] = {}
        self.by_content: dict[_Key, _Plan] = {}

    # -- planning --

    def plan(self, refs: Sequence[RawRef]) -> list[_Plan]:
        plans = [_Plan(ref) for ref in refs]
        _load_by_sha(self.session, self.known, [plan.ref.raw_sha256 for plan in plans])
        first_by_sha: dict[str, _Plan] = {}
        fresh: list[_Plan] = []
        for plan in plans:
            sha = plan.ref.raw_sha256
            if sha in self.known.by_sha:
                original, outcome, source = self.known.by_sha[sha]
                self._duplicate(plan, original, f"already imported (as {outcome}) from {source}")
                plan.record = False
            elif sha in first_by_sha:
                earlier = first_by_sha[sha]
                self._duplicate(
                    plan, _Original(plan=earlier), f"read before from {earlier.ref.source_id}"
                )
                plan.record = False
            else:
                first_by_sha[sha] = plan
                fresh.append(plan)
        for plan in fresh:
            self._safely(plan, lambda p: _parse(p, self.store.get(p.ref.raw_sha256), self.limits))
        parsed = [plan for plan in fresh if plan.parsed is not None]
        for plan in parsed:
            self._safely(plan, self._prepare)
        _load_filed(self.session, self.known, parsed)
        for plan in parsed:
            if plan.parsed is not None:
                self._safely(plan, self._classify)
        return plans

    def _safely(self, plan: _Plan, step: Any) -> None:
        """Run one planning step; a crash on odd input quarantines the message."""
        try:
            step(plan)
        except Exception as error:  # nothing a message holds may stop the import
            detail = " ".join(str(error).split())[:120]
            plan.outcome = "quarantined"
            plan.reason = f"could not be filed ({type(error).__name__}: {detail})"
            plan.parsed = None
            plan.content_key = None

    @staticmethod
    def _duplicate(plan: _Plan, original: _Original, reason: str) -> None:
        plan.outcome, plan.original, plan.reason = "duplicate", original, reason

    def _prepare(self, plan: _Plan) -> None:
        """Attachment texts, the case and the content key (everything a duplicate needs)."""
        parsed = plan.parsed
        assert parsed is not None
        _extract(plan)
        plan.case = self.hearings.match(parsed, (text for text, _ in plan.texts if text))
        plan.content_key = _content_key(parsed)

    def _classify(self, plan: _Plan) -> None:
        parsed = plan.parsed
        assert parsed is not None
        sender = _clean(parsed.from_address, 320)
        id_key = (plan.message_id, sender) if plan.message_id else None
        content_key = (plan.content_key, plan.case) if plan.content_key else None
        same_id = "same Message-ID and sender as"
        same_content = "same sender, text and attachments as"
        if id_key and id_key in self.by_message_id:
            earlier = self.by_message_id[id_key]
            self._duplicate(plan, _Original(plan=earlier), f"{same_id} {earlier.ref.source_id}")
        elif id_key and id_key in self.known.by_message_id:
            original = self.known.by_message_id[id_key]
            self._duplicate(plan, original, f"{same_id} response {_label(original)}")
        elif content_key and content_key in self.by_content:
            earlier = self.by_content[content_key]
            self._duplicate(
                plan, _Original(plan=earlier), f"{same_content} {earlier.ref.source_id}"
            )
        elif content_key and content_key in self.known.by_content:
            original = self.known.by_content[content_key]
            self._duplicate(plan, original, f"{same_content} response {_label(original)}")
        else:
            plan.sender = self.stakeholders.match(parsed.from_address)
            plan.received = received_time(parsed, self.now)
            plan.outcome = "matched" if plan.case else "unmatched"
            if id_key:
                self.by_message_id.setdefault(id_key, plan)
            if content_key:
                self.by_content.setdefault(content_key, plan)

    # -- writing --

    def write(self, plans: Sequence[_Plan]) -> list[MessageOutcome]:
        """Bulk statements: messages, then responses, then attachments and receipts."""
        self._insert_messages([p for p in plans if p.record and p.outcome != "duplicate"])
        self._insert_messages([p for p in plans if p.record and p.outcome == "duplicate"])
        filed = [plan for plan in plans if plan.outcome in FILED]
        numbers = self._tracking_numbers(filed)
        values = [self._response_values(plan, numbers.get(id(plan))) for plan in filed]
        ids = _insert_rows(self.session, ResponseRow, values, returning=True)
        for plan, row, row_id in zip(filed, values, ids, strict=True):
            plan.response = FiledResponse(
                id=row_id,
                tracking_number=row["tracking_number"],
                late=row["late"],
                from_address=row["from_address"],
                from_name=row["from_name"],
                organisation=row["organisation"],
                stakeholder_key=row["stakeholder_key"],
                auto_submitted=row["auto_submitted"],
                received_at=row["received_at"],
            )
        quarantined = [
            {
                "intake_message_id": plan.row_id,
                "reason": _clean(plan.reason) or "",
                "quarantined_at": self.now,
                "released_at": None,
                "note": None,
            }
            for plan in plans
            if plan.outcome == "quarantined" and plan.row_id is not None
        ]
        _insert_rows(self.session, QuarantineRow, quarantined)
        attachments = [row for plan in filed for row in self._attachment_values(plan)]
        _insert_rows(self.session, ResponseAttachmentRow, attachments)
        self._queue_receipts(filed)
        self.store.sync()
        return [self._outcome(plan) for plan in plans]

    def _insert_messages(self, plans: Sequence[_Plan]) -> None:
        """Write intake_message rows (duplicates after what they repeat)."""
        rows = [self._message_values(plan) for plan in plans]
        ids = _insert_rows(self.session, IntakeMessageRow, rows, returning=True)
        for plan, row_id in zip(plans, ids, strict=True):
            plan.row_id = row_id

    def _message_values(self, plan: _Plan) -> dict[str, Any]:
        parsed = plan.parsed
        warnings = list(parsed.warnings[:_MAX_WARNINGS]) if parsed else []
        original_id = None
        if plan.original is not None:
            earlier = plan.original.plan
            original_id = earlier.row_id if earlier is not None else plan.original.intake_id
        return {
            "raw_sha256": plan.ref.raw_sha256,
            "size": plan.ref.size,
            "source": _clean(plan.ref.source_id) or "",
            "read_at": self.now,
            "outcome": plan.outcome,
            "reason": _clean(plan.reason),
            "message_id": plan.message_id,
            "from_address": _clean(parsed.from_address, 320) if parsed else None,
            "content_key": plan.content_key if plan.outcome in FILED else None,
            "duplicate_of_id": original_id,
            "warnings_json": json.dumps([_clean(w) for w in warnings], ensure_ascii=False),
        }

    def _tracking_numbers(self, filed: Sequence[_Plan]) -> dict[int, str]:
        by_case: dict[str, list[_Plan]] = {}
        for plan in filed:
            if plan.case:
                by_case.setdefault(plan.case, []).append(plan)
        numbers: dict[int, str] = {}
        for case, members in by_case.items():
            hearing = self.hearings.by_case[case]
            assert hearing.id is not None
            allocated = allocate_document_numbers(self.session, hearing.id, len(members))
            numbers.update((id(plan), n) for plan, n in zip(members, allocated, strict=True))
        return numbers

    def _response_values(self, plan: _Plan, tracking_number: str | None) -> dict[str, Any]:
        parsed, sender, received = plan.parsed, plan.sender, plan.received
        assert parsed is not None and sender is not None and received is not None
        assert plan.row_id is not None
        hearing = self.hearings.by_case.get(plan.case) if plan.case else None
        moment, time_source = received
        return {
            "intake_message_id": plan.row_id,
            "hearing_id": hearing.id if hearing else None,
            "tracking_number": tracking_number,
            "message_id": plan.message_id,
            "subject": _clean(parsed.subject),
            "from_name": _clean(parsed.from_name),
            "from_address": _clean(parsed.from_address, 320),
            "stakeholder_key": sender.stakeholder_key,
            "organisation": _clean(sender.organisation),
            "matched_by": sender.matched_by,
            "received_at": moment,
            "received_source": time_source,
            "late": is_late(moment, hearing.deadline) if hearing else None,
            "body_text": _clean(parsed.combined_text) or "",
            "auto_submitted": parsed.auto_submitted,
            "filed_at": self.now,
            "assigned_at": None,
            "receipt_outbox_id": None,
            "stance": None,
            "reviewed_at": None,
            "reviewed_by": None,
        }

    def _attachment_values(self, plan: _Plan) -> list[dict[str, Any]]:
        parsed, response = plan.parsed, plan.response
        assert parsed is not None and response is not None
        own = len(parsed.attachments)
        rows = []
        pairs = zip(parsed.all_attachments, plan.texts, strict=True)
        for position, (attachment, (extracted, reason)) in enumerate(pairs, start=1):
            self._store_attachment(attachment)
            rows.append(
                {
                    "response_id": response.id,
                    "position": position,
                    "filename": _clean(attachment.filename),
                    "safe_name": _clean(attachment.safe_name, 255) or f"vedlegg-{position}",
                    "content_type": _clean(attachment.content_type, 255) or "",
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                    "text": _clean(extracted),
                    "unreadable_reason": _clean(reason),
                    "forwarded": position > own,
                }
            )
        return rows

    def _store_attachment(self, attachment: Attachment) -> None:
        self.store.put_known(attachment.sha256, attachment.payload)

    def _queue_receipts(self, filed: Sequence[_Plan]) -> None:
        items = []
        for plan in filed:
            if plan.case is not None and plan.response is not None:
                hearing = self.hearings.by_case[plan.case]
                items.append((hearing, self.hearings.spec(hearing), plan.response))
        queued = queue_receipts(self.session, items, self.now)
        if queued:
            self.session.execute(
                update(ResponseRow),
                [{"id": rid, "receipt_outbox_id": oid} for rid, oid in queued.items()],
            )

    def _outcome(self, plan: _Plan) -> MessageOutcome:
        case, tracking, response_id, late = None, None, None, None
        if plan.response is not None:
            case, tracking = plan.case, plan.response.tracking_number
            response_id, late = plan.response.id, plan.response.late
        elif plan.original is not None:
            earlier = plan.original.plan
            if earlier is not None and earlier.response is not None:
                case, tracking = earlier.case, earlier.response.tracking_number
                response_id = earlier.response.id
            elif earlier is None:
                case, tracking = plan.original.case, plan.original.tracking_number
                response_id = plan.original.response_id
        return MessageOutcome(
            source=plan.ref.source_id,
            outcome=plan.outcome,
            case=case,
            tracking_number=tracking,
            response_id=response_id,
            late=late,
            reason=plan.reason,
            raw_sha256=plan.ref.raw_sha256,
        )


def _insert_rows(
    session: Session, model: type, rows: list[dict[str, Any]], returning: bool = False
) -> list[int]:
    """One bulk INSERT (executemany); the new ids in the order of `rows` if asked."""
    if not rows:
        return []
    statement = insert(model)
    if not returning:
        session.execute(statement, rows)
        return []
    table_id = model.id  # type: ignore[attr-defined]
    result = session.execute(statement.returning(table_id, sort_by_parameter_order=True), rows)
    return list(result.scalars().all())


def _label(original: _Original) -> str:
    return original.tracking_number or f"#{original.response_id}"


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
) -> list[MessageOutcome]:
    """File a batch of stored raw messages in the caller's transaction; one outcome each."""
    if now.tzinfo is None:
        raise ValueError("file_batch needs an aware `now`")
    _lock_importer(session)
    batch = _Batch(session, store, now, limits or MailLimits())
    outcomes = batch.write(batch.plan(refs))
    if tracked is not None:
        _record_source_items(session, tracked, refs, now)
    return outcomes


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
                    IntakeSourceItemRow.uid.in_(list(uids)),
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
                IntakeSourceItemRow.acknowledged_at.is_(None),
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
                IntakeSourceItemRow.source_key == source_key,
                IntakeSourceItemRow.uidvalidity == uidvalidity,
                IntakeSourceItemRow.uid.in_(wanted[start : start + 500]),
                IntakeSourceItemRow.acknowledged_at.is_(None),
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
