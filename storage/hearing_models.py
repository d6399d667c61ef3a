"""Tables of hearings: the record every letter is rendered from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class HearingRow(SQLModel, table=True):
    """One hearing. `spec_json` is the validated spec; `spec_text` the file as given."""

    __tablename__ = "hearing"

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(max_length=16, unique=True)
    title: str
    state: str = Field(max_length=16, index=True)
    spec_text: str = Field(sa_column=Column(Text, nullable=False))
    spec_json: str = Field(sa_column=Column(Text, nullable=False))
    spec_source: str
    deadline: date
    circulated_on: date | None = None
    closed_at: datetime | None = None
    codified_on: date | None = None
    effective_date: date | None = None
    decisions_json: str | None = Field(default=None, sa_column=Column(Text))
    last_document_number: int = 0  # the case's document series: 24/750-1, -2, ...
    created_at: datetime
    updated_at: datetime


class HearingItemRow(SQLModel, table=True):
    """One change item of a hearing, with its reservation and, later, its decision."""

    __tablename__ = "hearing_item"
    __table_args__ = (UniqueConstraint("hearing_id", "ref", name="uq_hearing_item_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    position: int
    ref: str = Field(max_length=80)
    kind: str = Field(max_length=24)
    # The catalogue the item changes: a specialty's prefix (its catalogue's code) or FKM, LIS1.
    specialty_prefix: str = Field(foreign_key="catalogue.code", max_length=16)
    reservation_key: str | None = Field(default=None, max_length=200)
    decision: str | None = Field(default=None, max_length=24)
    final_goal_id: str | None = Field(default=None, max_length=16)


class HearingRecipientRow(SQLModel, table=True):
    """A høringsinstans of one hearing, as resolved when the hearing was created."""

    __tablename__ = "hearing_recipient"
    __table_args__ = (
        UniqueConstraint("hearing_id", "stakeholder_key", name="uq_hearing_recipient"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    stakeholder_key: str = Field(foreign_key="stakeholder.key", max_length=80)
    name: str
    email: str = Field(max_length=254)
    group: str = Field(max_length=32)
    position: int = 0


class AuditEventRow(SQLModel, table=True):
    """Who moved a hearing from which state to which, when and why."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    action: str = Field(max_length=32)
    actor: str
    at: datetime
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    details_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class LetterRow(SQLModel, table=True):
    """A rendered letter or sheet (one file), with its checksum."""

    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("hearing_id", "kind", "variant", name="uq_letter"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    kind: str = Field(max_length=32)
    variant: str = Field(default="", max_length=120)  # e.g. the recipient of a receipt
    document_number: str | None = Field(default=None, max_length=24)
    path: str
    sha256: str = Field(max_length=64)
    created_at: datetime


class OutboxMessageRow(SQLModel, table=True):
    """An e-mail to send, written in the same transaction as the change that causes it.

    `dedupe_key` makes queuing idempotent (one høringsbrev per recipient address);
    `message_id` is stable, so a resend after a crash is the same message.
    """

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int | None = Field(default=None, foreign_key="hearing.id", index=True)
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=300, unique=True)
    message_id: str = Field(max_length=300, unique=True)
    to_address: str = Field(max_length=254)
    to_name: str
    organisation: str | None = None
    stakeholder_key: str | None = Field(default=None, max_length=80)
    subject: str
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    attachments_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    queued_at: datetime
    sent_at: datetime | None = None
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
