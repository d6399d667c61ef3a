"""What the campaign grouping remembers between batches (issue 13), so responses are
grouped as they arrive without regrouping the hearing:

- `campaign_text`: the first response of each normalised wording (by its sha256);
- `campaign_rep`: a representative's runs of words (8-word shingle hashes, text order);
- `campaign_key`: the index of sampled run keys -> representatives (capped per key);
- `response.campaign_scanned_at` (in `storage.intake_models`): set once a response has
  been grouped; the responses still to group are found through its index.

Which responses are joined is `campaign_group` / `campaign_member` (`storage.review_models`):
a group's `representative_id` is the smallest response id in it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class CampaignTextRow(SQLModel, table=True):
    __tablename__ = "campaign_text"
    __table_args__ = (UniqueConstraint("hearing_id", "digest", name="uq_campaign_text_digest"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id")
    digest: str = Field(max_length=64)  # sha256 hex of the normalised words
    first_response_id: int = Field(foreign_key="response.id")


class CampaignRepRow(SQLModel, table=True):
    __tablename__ = "campaign_rep"

    response_id: int = Field(foreign_key="response.id", primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id", index=True)
    runs: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # uint64, little-endian


class CampaignKeyRow(SQLModel, table=True):
    __tablename__ = "campaign_key"
    __table_args__ = (Index("ix_campaign_key_hearing_key", "hearing_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="hearing.id")
    key: int = Field(sa_column=Column(BigInteger, nullable=False))  # signed 64-bit form
    rep_id: int = Field(foreign_key="response.id")
