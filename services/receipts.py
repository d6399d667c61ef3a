"""The receipt (kvittering) for a filed response, queued once in the outbox.

The letter is rendered from `templates/letters/kvittering.md.j2` and queued as the
text of the e-mail; its subject carries the case number and our reference, so a
reply to it is matched to the case. The same letter goes with the e-mail as a .docx,
like every other letter: `attach_receipt_letters` renders it when the outbox sends the
receipt (rendering a .docx costs about a tenth of a second, too much for every message
of an import), dated the day the receipt was queued, so it says what the e-mail says;
it is recorded as a letter of the case (variant: our reference).

No receipt goes to a message sent by a machine (auto-reply, bounce, list), to a
no-reply address or to our own post room, which would start a mail loop.

`queue_receipt` queues one through `storage.outbox_queue.queue_message`. `queue_receipts`
queues a whole import batch in one statement: it writes the rows `queue_message`
would write (same dedupe key, same stable Message-ID), because one query and one
flush per message cost an import more than parsing the message did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from domain.calendar import oslo_date
from domain.hearing_spec import HearingSpec
from domain.letter_context import HELSEDIREKTORATET, Contact, ReceiptContext
from mail.outgoing import OutgoingMessage
from rendering.letters import render_docx, render_markdown
from services.hearing_records import case_folder, load_spec, record_letter
from storage.db import write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.intake_models import ResponseRow
from storage.outbox_queue import queue_message, stable_message_id

RECEIPT_KIND = "kvittering"
_AUTOMATIC_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)
_MARKER_LINE = re.compile(r"^\[\[/?\w+\]\]$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def receipt_dedupe_key(case: str, response_id: int) -> str:
    return f"{RECEIPT_KIND}:{case}:{response_id}"


def receipt_subject(case: str, tracking_number: str) -> str:
    return f"Kvittering for mottatt høringsinnspill – sak {case} (vår ref. {tracking_number})"


def letter_as_text(markdown: str) -> str:
    """The letter Markdown as the plain text of an e-mail."""
    text = _MARKER_LINE.sub("", markdown)
    text = _HEADING.sub("", text)
    text = _ESCAPED.sub(r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


class ReceiptTarget(Protocol):
    """What a receipt needs of a filed response (a ResponseRow, or a batch's own record)."""

    @property
    def id(self) -> int | None: ...

    @property
    def tracking_number(self) -> str | None: ...

    @property
    def from_address(self) -> str | None: ...

    @property
    def from_name(self) -> str | None: ...

    @property
    def organisation(self) -> str | None: ...

    @property
    def stakeholder_key(self) -> str | None: ...

    @property
    def auto_submitted(self) -> bool: ...

    @property
    def received_at(self) -> datetime: ...


def wants_receipt(response: ReceiptTarget) -> bool:
    """False for machine senders and addresses that must not get mail from us."""
    address = (response.from_address or "").lower()
    if response.auto_submitted or "@" not in address:
        return False
    if address == HELSEDIREKTORATET.response_email.lower():
        return False
    return address.split("@", 1)[0] not in _AUTOMATIC_LOCAL_PARTS


def receipt_context(
    hearing: HearingRow, spec: HearingSpec, response: ReceiptTarget, now: datetime
) -> ReceiptContext:
    assert response.tracking_number is not None
    recipient = response.organisation or response.from_name or response.from_address or ""
    return ReceiptContext(
        case_number=hearing.case_number,
        tracking_number=response.tracking_number,
        letter_date=oslo_date(now),
        title=hearing.title,
        received_date=oslo_date(response.received_at),
        recipient_name=recipient,
        recipient_address="",
        case_officer=spec.case_officer.name,
        contact=Contact(title=spec.contact.title, name=spec.contact.name, email=spec.contact.email),
        hearing_withdrawn=hearing.state == "withdrawn",
    )


def queue_receipt(
    session: Session, hearing: HearingRow, spec: HearingSpec, response: ReceiptTarget, now: datetime
) -> OutboxMessageRow | None:
    """Queue the receipt for a filed response (once); None when none is to be sent."""
    if response.id is None or response.tracking_number is None or not wants_receipt(response):
        return None
    context = receipt_context(hearing, spec, response, now)
    body = letter_as_text(render_markdown(RECEIPT_KIND, context))
    row, _ = queue_message(
        session,
        kind=RECEIPT_KIND,
        dedupe_key=receipt_dedupe_key(hearing.case_number, response.id),
        to_address=response.from_address or "",
        to_name=response.from_name or response.organisation or "",
        subject=receipt_subject(hearing.case_number, response.tracking_number),
        body_text=body,
        now=now,
        hearing_id=hearing.id,
        organisation=response.organisation,
        stakeholder_key=response.stakeholder_key,
    )
    return row


def _receipt_row(
    hearing: HearingRow, spec: HearingSpec, response: ReceiptTarget, now: datetime
) -> dict[str, Any]:
    """The outbox row `queue_message` writes for this receipt, as a row to insert."""
    assert response.id is not None and response.tracking_number is not None
    body = letter_as_text(
        render_markdown(RECEIPT_KIND, receipt_context(hearing, spec, response, now))
    )
    key = receipt_dedupe_key(hearing.case_number, response.id)
    return {
        "hearing_id": hearing.id,
        "kind": RECEIPT_KIND,
        "dedupe_key": key,
        "message_id": stable_message_id(key),
        "to_address": (response.from_address or "").lower(),
        "to_name": response.from_name or response.organisation or "",
        "organisation": response.organisation,
        "stakeholder_key": response.stakeholder_key,
        "subject": receipt_subject(hearing.case_number, response.tracking_number),
        "body_text": body,
        "attachments_json": "[]",
        "queued_at": now,
        "sent_at": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": None,
    }


def queue_receipts(
    session: Session,
    items: Sequence[tuple[HearingRow, HearingSpec, ReceiptTarget]],
    now: datetime,
) -> dict[int, int]:
    """Queue the receipts of many filed responses at once; response id -> outbox id."""
    wanted = [
        (hearing, spec, response)
        for hearing, spec, response in items
        if response.id is not None and response.tracking_number and wants_receipt(response)
    ]
    if not wanted:
        return {}
    keys = {receipt_dedupe_key(h.case_number, r.id or 0): r.id for h, _, r in wanted}
    existing = session.exec(
        select(OutboxMessageRow.dedupe_key, OutboxMessageRow.id).where(
            col(OutboxMessageRow.dedupe_key).in_(list(keys))
        )
    ).all()
    queued = {keys[key]: row_id for key, row_id in existing}
    rows = [
        (response.id, _receipt_row(hearing, spec, response, now))
        for hearing, spec, response in wanted
        if response.id not in queued
    ]
    if rows:  # one bulk INSERT, not an ORM object per receipt
        table = OutboxMessageRow.__table__  # type: ignore[attr-defined]
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = session.connection().execute(statement, [row for _, row in rows]).scalars().all()
        queued.update({rid: row_id for (rid, _), row_id in zip(rows, ids, strict=True)})
    return queued  # type: ignore[return-value]


def receipt_letter_path(letters_dir: Path, case: str, tracking_number: str) -> Path:
    """Where the kvittering of one response is written: one file per our reference."""
    name = f"{RECEIPT_KIND}-{tracking_number.replace('/', '-')}.docx"
    return case_folder(letters_dir, case) / name


def attach_receipt_letters(
    engine: Engine, messages: Sequence[OutgoingMessage], letters_dir: Path, now: datetime
) -> list[OutgoingMessage]:
    """`messages` with the kvittering letter (.docx) attached to each receipt that has
    none yet: rendered, recorded as a letter and stored on its outbox row, in one
    transaction. Other messages are returned unchanged."""
    wanted = [m for m in messages if m.kind == RECEIPT_KIND and not m.attachments]
    if not wanted:
        return list(messages)
    attached: dict[int, tuple[Path, ...]] = {}
    with write_session(engine) as session:
        for message in wanted:
            path = _render_receipt_letter(session, message.row_id, letters_dir, now)
            if path is not None:
                attached[message.row_id] = (path,)
    return [
        replace(m, attachments=attached[m.row_id]) if m.row_id in attached else m for m in messages
    ]


def _render_receipt_letter(
    session: Session, outbox_id: int, letters_dir: Path, now: datetime
) -> Path | None:
    row = session.get(OutboxMessageRow, outbox_id)
    response_id = (row.dedupe_key.rsplit(":", 1)[-1] if row else "").strip()
    if row is None or row.hearing_id is None or not response_id.isdigit():
        return None
    response = session.get(ResponseRow, int(response_id))
    hearing = session.get(HearingRow, row.hearing_id)
    if response is None or hearing is None or response.tracking_number is None:
        return None
    context = receipt_context(hearing, load_spec(hearing), response, row.queued_at)
    path = receipt_letter_path(letters_dir, hearing.case_number, response.tracking_number)
    sha256 = render_docx(RECEIPT_KIND, context, path)
    record_letter(
        session,
        hearing,
        RECEIPT_KIND,
        path,
        sha256,
        now,
        document_number=response.tracking_number,
        variant=response.tracking_number,
    )
    row.attachments_json = json.dumps([str(path)])
    session.add(row)
    return path
