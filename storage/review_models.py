"""Tables of the review of hearing responses (issue 7).

- `response_review`: the current review of one response: stance, the change items it is
  about, a note, and whether the stance was the suggested one, accepted as suggested.
  `response.stance`, `reviewed_at` and `reviewed_by` are kept equal to it, so what the
  intake reports (and the lifecycle's review-done check) reads the same answer.
- `review_event`: every review recorded, never changed: who, when, from where (CLI or a
  review file), for one response or for a whole campaign group.
- `campaign_group` / `campaign_member`: near-identical responses of a hearing, numbered
  per hearing (Kampanje 1, 2, ...); a group reviewed as one has its stance here too, and
  a response joining it later gets that review.
- `response_excerpt`: a passage of a response (its text or an attachment's text) tied
  to a change item, with where it was found.

Times are stored as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ResponseReviewRow(SQLModel, table=True):
    """The current review of one response."""

    __tablename__ = "response_review"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", unique=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    stance: str = Field(max_length=32)
    items_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    suggested_stance: str | None = Field(default=None, max_length=32)
    suggested_phrase: str | None = Field(default=None, sa_column=Column(Text))
    accepted_as_suggested: bool = False
    campaign_id: int | None = Field(default=None, foreign_key="campaign_group.id", index=True)
    reviewed_at: datetime
    reviewed_by: str


class ReviewEventRow(SQLModel, table=True):
    """One review as it was recorded (the history)."""

    __tablename__ = "review_event"

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    response_id: int | None = Field(default=None, foreign_key="response.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign_group.id")
    members: int = 1  # responses the review applied to
    stance: str = Field(max_length=32)
    items_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    suggested_stance: str | None = Field(default=None, max_length=32)
    accepted_as_suggested: bool = False
    source: str = Field(sa_column=Column(Text, nullable=False))  # "cli", "file: x.yaml line 4"
    actor: str
    at: datetime


class CampaignGroupRow(SQLModel, table=True):
    """Responses of one hearing carrying the same form letter.

    `representative_id` and `representative_received_at` (the representative's
    `response.received_at`) are set together, only by
    `storage.campaign_state.set_representative`: `review list` pages the groups by
    that time through ix_campaign_group_hearing_received, without reading every group.
    """

    __tablename__ = "campaign_group"
    __table_args__ = (
        UniqueConstraint("hearing_id", "number", name="uq_campaign_number"),
        Index(
            "ix_campaign_group_hearing_received",
            "hearing_id",
            "representative_received_at",
            "representative_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    number: int
    size: int
    representative_id: int = Field(foreign_key="response.id", index=True)
    representative_received_at: datetime
    threshold: float
    stance: str | None = Field(default=None, max_length=32)  # set when reviewed as a group
    items_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    grouped_at: datetime


class CampaignMemberRow(SQLModel, table=True):
    """A response's membership of a campaign group (at most one group per response)."""

    __tablename__ = "campaign_member"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign_group.id", index=True)
    response_id: int = Field(foreign_key="response.id", unique=True)


class ResponseExcerptRow(SQLModel, table=True):
    """A passage of a response tied to a change item (`item_ref` None: the whole hearing).

    `source` is "body" or the sha256 of the attachment whose extracted text holds the
    passage; `start`/`end` are character offsets in that text.
    """

    __tablename__ = "response_excerpt"

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    item_ref: str | None = Field(default=None, max_length=80)
    source: str = Field(max_length=64)
    start: int
    end: int
    quote: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    created_by: str
