"""Tables of the e-mail intake: every message read, the responses filed from them,
their attachments, the quarantine, and where each mail source stands.

- `intake_message`: one row per distinct raw message (by sha256 of its bytes, which
  are in the blob store). `outcome` is what the import decided: matched, unmatched,
  duplicate or quarantined. A message read again adds no row.
- `response`: a message filed as a hearing response (matched, or unmatched until a
  person assigns it). `stance` and `reviewed_at` are for the review (issue 7);
  `supplement_of_id` links a supplement to the first response it adds to
  (`domain.supplements`).
- `response_attachment`: one attached file, its bytes in the blob store by sha256.
- `quarantine`: a message that could not be filed, with its reason.
- `intake_source_state` / `intake_source_item`: per IMAP mailbox, UIDVALIDITY and the
  UIDs filed but not yet moved or flagged, so an interrupted run resumes exactly.

Times are stored as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Longer Message-IDs are cut for the index (PostgreSQL b-tree entries are limited).
MESSAGE_ID_MAX = 500


class IntakeMessageRow(SQLModel, table=True):
    """One distinct raw message read from any source."""

    __tablename__ = "intake_message"
    __table_args__ = (
        Index("ix_intake_message_message_id", "message_id", "from_address"),
        Index("ix_intake_message_content_key", "content_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    raw_sha256: str = Field(max_length=64, unique=True)
    size: int
    source: str = Field(sa_column=Column(Text, nullable=False))  # where it was first read
    read_at: datetime
    outcome: str = Field(max_length=16, index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    message_id: str | None = Field(default=None, max_length=MESSAGE_ID_MAX)
    from_address: str | None = Field(default=None, max_length=320)
    content_key: str | None = Field(default=None, max_length=64)
    duplicate_of_id: int | None = Field(default=None, foreign_key="intake_message.id")
    warnings_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))


class ResponseRow(SQLModel, table=True):
    """A hearing response (høringsinnspill) filed from one message."""

    __tablename__ = "response"
    __table_args__ = (  # the desk's paged lists (migration 0005_desk)
        Index("ix_response_hearing_received", "hearing_id", "received_at", "id"),
        Index("ix_response_hearing_stance", "hearing_id", "stance"),
        # `review list`'s unreviewed page (migration 0008_ledger)
        Index("ix_response_hearing_stance_received", "hearing_id", "stance", "received_at", "id"),
        # the responses not grouped yet (migration 0009_streaming)
        Index("ix_response_hearing_campaign_scan", "hearing_id", "campaign_scanned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    intake_message_id: int = Field(foreign_key="intake_message.id", unique=True)
    hearing_id: int | None = Field(default=None, foreign_key="hearing.id", index=True)
    tracking_number: str | None = Field(default=None, max_length=24, unique=True)
    message_id: str | None = Field(default=None, max_length=MESSAGE_ID_MAX)
    subject: str | None = Field(default=None, sa_column=Column(Text))
    from_name: str | None = Field(default=None, sa_column=Column(Text))
    from_address: str | None = Field(default=None, max_length=320, index=True)
    stakeholder_key: str | None = Field(default=None, max_length=80, index=True)
    organisation: str | None = None  # the stakeholder's name when the response was filed
    matched_by: str | None = Field(default=None, max_length=16)  # address | domain | None
    received_at: datetime
    received_source: str = Field(max_length=16)  # received | date | import
    late: bool | None = None  # None while not filed under a hearing
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    auto_submitted: bool = False
    filed_at: datetime
    assigned_at: datetime | None = None  # set when a person assigned an unmatched response
    receipt_outbox_id: int | None = Field(  # indexed: a reply to the receipt (0007)
        default=None, foreign_key="outbox_message.id", index=True
    )
    stance: str | None = Field(default=None, max_length=32)
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    # the first response this one adds to (a supplement is counted with it; migration 0007)
    supplement_of_id: int | None = Field(default=None, foreign_key="response.id", index=True)
    campaign_scanned_at: datetime | None = None  # when the campaign grouping took it in


class ResponseAttachmentRow(SQLModel, table=True):
    """One attached file of a response; its bytes are in the blob store by `sha256`."""

    __tablename__ = "response_attachment"
    __table_args__ = (
        UniqueConstraint("response_id", "position", name="uq_response_attachment_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    position: int
    filename: str | None = Field(default=None, sa_column=Column(Text))  # as sent
    safe_name: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int
    sha256: str = Field(max_length=64, index=True)
    text: str | None = Field(default=None, sa_column=Column(Text))
    unreadable_reason: str | None = None
    forwarded: bool = False  # attached to a forwarded message inside the e-mail


class QuarantineRow(SQLModel, table=True):
    """A message that could not be filed; its raw bytes are kept in the blob store."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    intake_message_id: int = Field(foreign_key="intake_message.id", unique=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    quarantined_at: datetime
    released_at: datetime | None = None
    note: str | None = Field(default=None, sa_column=Column(Text))


class IntakeSourceStateRow(SQLModel, table=True):
    """Where one mail source (an IMAP folder) stands."""

    __tablename__ = "intake_source_state"

    source_key: str = Field(primary_key=True, max_length=300)
    kind: str = Field(max_length=16)
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_uid: int | None = Field(default=None, sa_column=Column(BigInteger))
    imported_total: int = 0
    last_import_at: datetime | None = None


class IntakeSourceItemRow(SQLModel, table=True):
    """A message of an IMAP folder that was filed; `acknowledged_at` when it was moved
    or flagged. One filed but not acknowledged is acknowledged, not read, next time."""

    __tablename__ = "intake_source_item"
    __table_args__ = (
        UniqueConstraint("source_key", "uidvalidity", "uid", name="uq_intake_source_item"),
        Index("ix_intake_source_item_pending", "source_key", "acknowledged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=300)
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    uid: int = Field(sa_column=Column(BigInteger, nullable=False))
    raw_sha256: str = Field(max_length=64)
    read_at: datetime
    acknowledged_at: datetime | None = None
