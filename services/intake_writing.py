"""Writing a planned batch of e-mails: intake messages, responses with their document
numbers and late flag, quarantine rows, attachments and receipts, in bulk statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import insert, update
from sqlmodel import Session, col

from domain.deadlines import is_late
from domain.email_intake import Attachment
from services.intake_planning import FILED, FiledResponse, MessagePlan, clean_text
from services.receipts import queue_receipts
from services.response_matching import HearingDirectory
from services.supplements import link_supplements
from storage.blobs import BlobStore
from storage.hearing_models import HearingRow
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)

_MAX_WARNINGS = 50


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


def allocate_document_numbers(session: Session, hearing_id: int, count: int) -> list[str]:
    """The next `count` numbers of the case's document series, in one statement.

    The høringsbrev is document 1, so responses start at 2 even if the series is still
    empty; a series that letters have taken further continues after them.
    """
    if count < 1:
        return []
    current = col(HearingRow.last_document_number)
    floor = sql_case((current < 1, 1), else_=current)
    last, case_number = session.execute(
        update(HearingRow)
        .where(col(HearingRow.id) == hearing_id)
        .values(last_document_number=floor + count)
        .returning(col(HearingRow.last_document_number), col(HearingRow.case_number))
    ).one()
    return [f"{case_number}-{number}" for number in range(last - count + 1, last + 1)]


class BatchWriter:
    """Writes one planned batch in bulk statements."""

    def __init__(
        self, session: Session, store: BlobStore, now: datetime, hearings: HearingDirectory
    ) -> None:
        self.session = session
        self.store = store
        self.now = now
        self.hearings = hearings

    def write(self, plans: Sequence[MessagePlan]) -> list[MessageOutcome]:
        """Bulk statements: messages, then responses, then attachments and receipts."""
        self._insert_messages([p for p in plans if p.record and p.outcome != "duplicate"])
        self._insert_messages([p for p in plans if p.record and p.outcome == "duplicate"])
        filed = [plan for plan in plans if plan.outcome in FILED]
        numbers = self._tracking_numbers(filed)
        values = [self._response_values(plan, numbers.get(id(plan))) for plan in filed]
        ids = insert_rows(self.session, ResponseRow, values, returning=True)
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
                "reason": clean_text(plan.reason) or "",
                "quarantined_at": self.now,
                "released_at": None,
                "note": None,
            }
            for plan in plans
            if plan.outcome == "quarantined" and plan.row_id is not None
        ]
        insert_rows(self.session, QuarantineRow, quarantined)
        attachments = [row for plan in filed for row in self._attachment_values(plan)]
        insert_rows(self.session, ResponseAttachmentRow, attachments)
        self._queue_receipts(filed)
        replies = [(p.response.id, p.parsed.reply_ids) for p in filed if p.response and p.parsed]
        link_supplements(self.session, replies)  # responses that add to one filed before
        self.store.sync()
        return [self._outcome(plan) for plan in plans]

    def _insert_messages(self, plans: Sequence[MessagePlan]) -> None:
        """Write intake_message rows (duplicates after what they repeat)."""
        rows = [self._message_values(plan) for plan in plans]
        ids = insert_rows(self.session, IntakeMessageRow, rows, returning=True)
        for plan, row_id in zip(plans, ids, strict=True):
            plan.row_id = row_id

    def _message_values(self, plan: MessagePlan) -> dict[str, Any]:
        parsed = plan.parsed
        warnings = list(parsed.warnings[:_MAX_WARNINGS]) if parsed else []
        original_id = None
        if plan.original is not None:
            earlier = plan.original.plan
            original_id = earlier.row_id if earlier is not None else plan.original.intake_id
        return {
            "raw_sha256": plan.ref.raw_sha256,
            "size": plan.ref.size,
            "source": clean_text(plan.ref.source_id) or "",
            "read_at": self.now,
            "outcome": plan.outcome,
            "reason": clean_text(plan.reason),
            "message_id": plan.message_id,
            "from_address": clean_text(parsed.from_address, 320) if parsed else None,
            "content_key": plan.content_key if plan.outcome in FILED else None,
            "duplicate_of_id": original_id,
            "warnings_json": json.dumps([clean_text(w) for w in warnings], ensure_ascii=False),
        }

    def _tracking_numbers(self, filed: Sequence[MessagePlan]) -> dict[int, str]:
        by_case: dict[str, list[MessagePlan]] = {}
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

    def _response_values(self, plan: MessagePlan, tracking_number: str | None) -> dict[str, Any]:
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
            "subject": clean_text(parsed.subject),
            "from_name": clean_text(parsed.from_name),
            "from_address": clean_text(parsed.from_address, 320),
            "stakeholder_key": sender.stakeholder_key,
            "organisation": clean_text(sender.organisation),
            "matched_by": sender.matched_by,
            "received_at": moment,
            "received_source": time_source,
            "late": is_late(moment, hearing.deadline) if hearing else None,
            "body_text": clean_text(parsed.combined_text) or "",
            "auto_submitted": parsed.auto_submitted,
            "filed_at": self.now,
            "assigned_at": None,
            "receipt_outbox_id": None,
            "stance": None,
            "reviewed_at": None,
            "reviewed_by": None,
        }

    def _attachment_values(self, plan: MessagePlan) -> list[dict[str, Any]]:
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
                    "filename": clean_text(attachment.filename),
                    "safe_name": clean_text(attachment.safe_name, 255) or f"vedlegg-{position}",
                    "content_type": clean_text(attachment.content_type, 255) or "",
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                    "text": clean_text(extracted),
                    "unreadable_reason": clean_text(reason),
                    "forwarded": position > own,
                }
            )
        return rows

    def _store_attachment(self, attachment: Attachment) -> None:
        self.store.put_known(attachment.sha256, attachment.payload)

    def _queue_receipts(self, filed: Sequence[MessagePlan]) -> None:
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

    def _outcome(self, plan: MessagePlan) -> MessageOutcome:
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


def insert_rows(
    session: Session, model: type, rows: list[dict[str, Any]], returning: bool = False
) -> list[int]:
    """One bulk INSERT (executemany); the new ids in the order of `rows` if asked.

    A Core insert into the model's table: the ORM's bulk path costs more per row than
    the database does, and these rows need nothing of the ORM.
    """
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    if not returning:
        session.connection().execute(statement, rows)
        return []
    returning_id = statement.returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(returning_id, rows).scalars().all())
