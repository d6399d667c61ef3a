"""The shards of a sharded import over several workers (issue 13).

Revision ID: 0010_intake
Revises: 0009_streaming
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_intake"
down_revision = "0009_streaming"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_shard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("lower", sa.Text(), nullable=True),
        sa.Column("upper", sa.Text(), nullable=True),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("planned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_key", "position", name="uq_intake_shard"),
    )


def downgrade() -> None:
    op.drop_table("intake_shard")
