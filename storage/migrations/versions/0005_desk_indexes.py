"""Indexes for the review desk's paged lists (issue 14).

Revision ID: 0005_desk
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005_desk"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_response_hearing_received", "response", ["hearing_id", "received_at", "id"])
    op.create_index("ix_response_hearing_stance", "response", ["hearing_id", "stance"])


def downgrade() -> None:
    op.drop_index("ix_response_hearing_stance", table_name="response")
    op.drop_index("ix_response_hearing_received", table_name="response")
