"""Planning a batch of e-mails for filing: what each message becomes before anything is
written (quarantined, duplicate, matched or unmatched; see `services.intake`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from domain.attachment_text import ExtractedText, extract_text
from domain.email_intake import (
    MailLimits,
    ParsedMessage,
    Quarantine,
    dedupe_key,
    parse_message,
    received_time,
)
from services.response_matching import HearingDirectory, SenderMatch, StakeholderDirectory
from storage.blobs import BlobStore
from storage.hearing_models import HearingRow
from storage.intake_models import MESSAGE_ID_MAX, IntakeMessageRow, ResponseRow

FILED = ("matched", "unmatched")

TextReader = Callable[[str, str, bytes], ExtractedText]  # (filename, type, payload)


@dataclass(frozen=True)
class RawRef:
    """A message whose raw bytes are in the blob store."""

    source_id: str
    raw_sha256: str
    size: int
    uid: int | None = None  # IMAP UID, when the source is an IMAP folder


def clean_text(value: str | None, limit: int | None = None) -> str | None:
    """Text the databases accept: no NUL, no lone surrogates, at most `limit` chars."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit else value


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
class Original:
    """The filed (or earlier) message a duplicate repeats, as the report shows it."""

    intake_id: int | None = None
    plan: MessagePlan | None = None  # when it is earlier in the same batch
    case: str | None = None
    tracking_number: str | None = None
    response_id: int | None = None


@dataclass
class MessagePlan:
    """What one message will become, before anything is written."""

    ref: RawRef
    outcome: str = ""
    reason: str | None = None
    record: bool = True  # False for raw bytes read before: nothing new to write
    parsed: ParsedMessage | None = None
    case: str | None = None
    sender: SenderMatch | None = None
    texts: list[tuple[str | None, str | None]] = field(default_factory=list)
    extracted: bool = False  # the attachments' texts are in `texts`
    received: tuple[datetime, str] | None = None
    content_key: str | None = None
    message_id: str | None = None
    original: Original | None = None
    row_id: int | None = None  # its intake_message, once written
    response: FiledResponse | None = None


_Key = tuple[str, str | None]


@dataclass
class _Known:
    """Messages in the database that this batch may repeat."""

    by_sha: dict[str, tuple[Original, str, str]] = field(default_factory=dict)
    by_message_id: dict[_Key, Original] = field(default_factory=dict)
    by_content: dict[_Key, Original] = field(default_factory=dict)


def already_read(session: Session, shas: Sequence[str]) -> set[str]:
    """The raw messages (by sha256) some earlier batch recorded."""
    found = session.exec(
        select(IntakeMessageRow.raw_sha256).where(col(IntakeMessageRow.raw_sha256).in_(list(shas)))
    )
    return set(found.all())


def _filed_columns() -> tuple[Any, ...]:
    return (
        col(IntakeMessageRow.id),
        col(ResponseRow.id),
        col(ResponseRow.tracking_number),
        col(HearingRow.case_number),
    )


def _with_response(statement: Any) -> Any:
    return statement.outerjoin(
        ResponseRow, ResponseRow.intake_message_id == IntakeMessageRow.id
    ).outerjoin(HearingRow, HearingRow.id == ResponseRow.hearing_id)


def read_by_sha(shas: Sequence[str]) -> Any:
    """Messages read before, by the sha256 of their raw bytes (the unique index)."""
    statement = sql_select(  # SQLAlchemy's: columns given as a sequence
        *_filed_columns(),
        col(IntakeMessageRow.raw_sha256),
        col(IntakeMessageRow.outcome),
        col(IntakeMessageRow.source),
    )
    return _with_response(statement).where(col(IntakeMessageRow.raw_sha256).in_(list(shas)))


def _load_by_sha(session: Session, known: _Known, shas: Sequence[str]) -> None:
    rows = session.execute(read_by_sha(shas))
    for row_id, response_id, tracking, case, sha, outcome, source in rows.all():
        original = Original(row_id, None, case, tracking, response_id)
        known.by_sha[sha] = (original, outcome, source)


def filed_by_message_id(message_ids: Sequence[str]) -> Any:
    """Messages with one of these Message-IDs, their response and case: planned through
    ix_intake_message_message_id alone (the outcome is checked in Python, so the
    planner has no outcome index to mistake for a better one; SQLite is told the index,
    since its statistics may be missing or stale while an import runs)."""
    statement = sql_select(  # SQLAlchemy's: columns given as a sequence
        *_filed_columns(),
        col(IntakeMessageRow.outcome),
        col(IntakeMessageRow.message_id),
        col(IntakeMessageRow.from_address),
    )
    return (
        _with_response(statement)
        .where(col(IntakeMessageRow.message_id).in_(list(message_ids)))
        .with_hint(IntakeMessageRow, "INDEXED BY ix_intake_message_message_id", "sqlite")
    )


def filed_by_content_key(content_keys: Sequence[str]) -> Any:
    """Messages with one of these content keys (only filed ones have one): planned
    through ix_intake_message_content_key alone (named to SQLite, as above)."""
    statement = sql_select(  # SQLAlchemy's: columns given as a sequence
        *_filed_columns(),
        col(IntakeMessageRow.outcome),
        col(IntakeMessageRow.content_key),
    )
    return (
        _with_response(statement)
        .where(col(IntakeMessageRow.content_key).in_(list(content_keys)))
        .with_hint(IntakeMessageRow, "INDEXED BY ix_intake_message_content_key", "sqlite")
    )


def _load_filed(session: Session, known: _Known, plans: Sequence[MessagePlan]) -> None:
    """Filed messages with a Message-ID or content key that this batch has: one indexed
    lookup per kind of key, never a scan of the table. No ORDER BY (SQLite would rather
    scan in id order than sort): the earliest original is kept by sorting here."""
    message_ids = sorted({plan.message_id for plan in plans if plan.message_id})
    content_keys = sorted({plan.content_key for plan in plans if plan.content_key})
    if message_ids:
        rows = sorted(session.execute(filed_by_message_id(message_ids)).all())
        for row_id, response_id, tracking, case, outcome, message_id, sender in rows:
            if outcome in FILED:
                original = Original(row_id, None, case, tracking, response_id)
                known.by_message_id.setdefault((message_id, sender), original)
    if content_keys:
        rows = sorted(session.execute(filed_by_content_key(content_keys)).all())
        for row_id, response_id, tracking, case, outcome, content_key in rows:
            if outcome in FILED:
                original = Original(row_id, None, case, tracking, response_id)
                known.by_content.setdefault((content_key, case), original)


def _parse(plan: MessagePlan, raw: bytes, limits: MailLimits) -> None:
    result = parse_message(raw, limits)
    if isinstance(result, Quarantine):
        plan.outcome, plan.reason = "quarantined", result.reason
        return
    plan.parsed = result
    plan.message_id = clean_text(result.message_id, MESSAGE_ID_MAX)


def _extract(plan: MessagePlan, read: TextReader) -> None:
    assert plan.parsed is not None
    plan.texts = []
    for attachment in plan.parsed.all_attachments:
        if attachment.unreadable_reason:
            plan.texts.append((None, attachment.unreadable_reason))
            continue
        name = attachment.filename or attachment.safe_name
        extracted = read(name, attachment.content_type, attachment.payload)
        plan.texts.append((extracted.text, extracted.unreadable_reason))
    plan.extracted = True


def safely(plan: MessagePlan, step: Callable[[MessagePlan], None]) -> None:
    """Run one step on a message; a crash on odd input quarantines the message."""
    try:
        step(plan)
    except Exception as error:  # nothing a message holds may stop the import
        quarantine(plan, f"could not be filed ({type(error).__name__}: {_detail(error)})")


def _detail(error: Exception) -> str:
    return " ".join(str(error).split())[:120]


def quarantine(plan: MessagePlan, reason: str) -> None:
    """Mark a message quarantined with `reason`; nothing of it is filed."""
    plan.outcome, plan.reason = "quarantined", reason
    plan.parsed, plan.content_key, plan.texts = None, None, []


def prepare(ref: RawRef, raw: bytes, limits: MailLimits, read: TextReader) -> MessagePlan:
    """Parse a message and read its attachments' text: the slow part of filing, which
    needs no database and so runs before the batch's write transaction."""
    plan = MessagePlan(ref)
    safely(plan, lambda p: _parse(p, raw, limits))
    if plan.parsed is not None:
        safely(plan, lambda p: _extract(p, read))
    return plan


def _adopt(plan: MessagePlan, ready: MessagePlan) -> None:
    """Take over what `prepare` found for the same raw bytes."""
    plan.outcome, plan.reason, plan.parsed = ready.outcome, ready.reason, ready.parsed
    plan.message_id, plan.texts, plan.extracted = ready.message_id, ready.texts, ready.extracted


def _content_key(parsed: ParsedMessage) -> str | None:
    """The "same sender, text and attachments" key; None when there is nothing to compare."""
    if not parsed.combined_text.strip() and not parsed.all_attachments:
        return None
    return dedupe_key(parsed)


class BatchPlanner:
    """Plans one batch: what each message becomes. Everything is looked up once per batch."""

    def __init__(
        self,
        session: Session,
        store: BlobStore,
        now: datetime,
        limits: MailLimits,
        read: TextReader = extract_text,
    ) -> None:
        self.session = session
        self.store = store
        self.now = now
        self.limits = limits
        self.read = read
        self.hearings = HearingDirectory(session)
        self.stakeholders = StakeholderDirectory(session)
        self.known = _Known()
        self.by_message_id: dict[_Key, MessagePlan] = {}
        self.by_content: dict[_Key, MessagePlan] = {}

    def plan(
        self, refs: Sequence[RawRef], prepared: Mapping[str, MessagePlan] | None = None
    ) -> list[MessagePlan]:
        """What each message becomes; `prepared` has messages parsed beforehand (by sha)."""
        plans = [MessagePlan(ref) for ref in refs]
        prepared = prepared or {}
        _load_by_sha(self.session, self.known, [plan.ref.raw_sha256 for plan in plans])
        first_by_sha: dict[str, MessagePlan] = {}
        fresh: list[MessagePlan] = []
        for plan in plans:
            sha = plan.ref.raw_sha256
            if sha in self.known.by_sha:
                original, outcome, source = self.known.by_sha[sha]
                self._duplicate(plan, original, f"already imported (as {outcome}) from {source}")
                plan.record = False
            elif sha in first_by_sha:
                earlier = first_by_sha[sha]
                self._duplicate(
                    plan, Original(plan=earlier), f"read before from {earlier.ref.source_id}"
                )
                plan.record = False
            else:
                first_by_sha[sha] = plan
                fresh.append(plan)
        for plan in fresh:
            ready = prepared.get(plan.ref.raw_sha256)
            if ready is not None:
                _adopt(plan, ready)
            else:
                safely(plan, lambda p: _parse(p, self.store.get(p.ref.raw_sha256), self.limits))
        parsed = [plan for plan in fresh if plan.parsed is not None]
        for plan in parsed:
            safely(plan, self._prepare)
        _load_filed(self.session, self.known, parsed)
        for plan in parsed:
            if plan.parsed is not None:
                safely(plan, self._classify)
        return plans

    @staticmethod
    def _duplicate(plan: MessagePlan, original: Original, reason: str) -> None:
        plan.outcome, plan.original, plan.reason = "duplicate", original, reason

    def _prepare(self, plan: MessagePlan) -> None:
        """Attachment texts, the case and the content key (everything a duplicate needs)."""
        parsed = plan.parsed
        assert parsed is not None
        if not plan.extracted:
            _extract(plan, self.read)
        plan.case = self.hearings.match(parsed, (text for text, _ in plan.texts if text))
        plan.content_key = _content_key(parsed)

    def _classify(self, plan: MessagePlan) -> None:
        parsed = plan.parsed
        assert parsed is not None
        sender = clean_text(parsed.from_address, 320)
        id_key = (plan.message_id, sender) if plan.message_id else None
        content_key = (plan.content_key, plan.case) if plan.content_key else None
        same_id = "same Message-ID and sender as"
        same_content = "same sender, text and attachments as"
        if id_key and id_key in self.by_message_id:
            earlier = self.by_message_id[id_key]
            self._duplicate(plan, Original(plan=earlier), f"{same_id} {earlier.ref.source_id}")
        elif id_key and id_key in self.known.by_message_id:
            original = self.known.by_message_id[id_key]
            self._duplicate(plan, original, f"{same_id} response {_label(original)}")
        elif content_key and content_key in self.by_content:
            earlier = self.by_content[content_key]
            self._duplicate(plan, Original(plan=earlier), f"{same_content} {earlier.ref.source_id}")
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


def _label(original: Original) -> str:
    return original.tracking_number or f"#{original.response_id}"
