"""Incremental campaign grouping (issue 13): what the grouping remembers between batches,
and the index of the responses not grouped yet.

Revision ID: 0009_streaming
Revises: 0008_ledger
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_streaming"
down_revision = "0008_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response") as batch:
        batch.add_column(
            sa.Column("campaign_scanned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.create_index(
        "ix_response_hearing_campaign_scan", "response", ["hearing_id", "campaign_scanned_at"]
    )
    op.create_table(
        "campaign_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("first_response_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"]),
        sa.ForeignKeyConstraint(["first_response_id"], ["response.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hearing_id", "digest", name="uq_campaign_text_digest"),
    )
    op.create_table(
        "campaign_rep",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("runs", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"]),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.PrimaryKeyConstraint("response_id"),
    )
    op.create_index("ix_campaign_rep_hearing_id", "campaign_rep", ["hearing_id"])
    op.create_table(
        "campaign_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"]),
        sa.ForeignKeyConstraint(["rep_id"], ["response.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaign_key_hearing_key", "campaign_key", ["hearing_id", "key"])


def downgrade() -> None:
    op.drop_index("ix_campaign_key_hearing_key", table_name="campaign_key")
    op.drop_table("campaign_key")
    op.drop_index("ix_campaign_rep_hearing_id", table_name="campaign_rep")
    op.drop_table("campaign_rep")
    op.drop_table("campaign_text")
    op.drop_index("ix_response_hearing_campaign_scan", table_name="response")
    with op.batch_alter_table("response") as batch:
        batch.drop_column("campaign_scanned_at")
