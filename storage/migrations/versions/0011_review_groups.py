"""campaign_group.representative_received_at: the representative's received time on the
group, so `review list` pages the campaign groups through an index
(ix_campaign_group_hearing_received) and reads only the groups in its range; and an
index on campaign_group.representative_id (a response's group by its representative).

The column is filled from the representative's `response.received_at`. It is NOT NULL
on PostgreSQL; on SQLite it stays nullable in the schema (adding a NOT NULL column needs
a default, and rebuilding the table would break the foreign keys pointing at it), and
`storage.campaign_state.set_representative` always sets it.

Revision ID: 0011_review_groups
Revises: 0010_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision = "0011_review_groups"
down_revision = "0010_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "campaign_group",
        sa.Column("representative_received_at", UTCDateTime(), nullable=True),
    )
    op.execute(
        "UPDATE campaign_group SET representative_received_at = (SELECT r.received_at "
        "FROM response r WHERE r.id = campaign_group.representative_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("campaign_group", "representative_received_at", nullable=False)
    op.create_index(
        "ix_campaign_group_hearing_received",
        "campaign_group",
        ["hearing_id", "representative_received_at", "representative_id"],
    )
    op.create_index("ix_campaign_group_representative_id", "campaign_group", ["representative_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_group_representative_id", table_name="campaign_group")
    op.drop_index("ix_campaign_group_hearing_received", table_name="campaign_group")
    op.drop_column("campaign_group", "representative_received_at")
