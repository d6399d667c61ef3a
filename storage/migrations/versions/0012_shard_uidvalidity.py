"""The UIDVALIDITY of an IMAP folder recorded with a sharded import's plan.

Revision ID: 0012_shard_uidvalidity
Revises: 0011_review_groups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_shard_uidvalidity"
down_revision = "0011_review_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_shard") as batch:
        batch.add_column(sa.Column("uidvalidity", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_shard") as batch:
        batch.drop_column("uidvalidity")
