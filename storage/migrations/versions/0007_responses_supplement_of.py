"""response.supplement_of_id: a later message that adds to a filed response (issue 12),
and an index on response.receipt_outbox_id to find the response a receipt reply answers.

Revision ID: 0007_responses
Revises: 0006_catalogues
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_responses"
down_revision = "0006_catalogues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplement_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_response_supplement_of_id_response", "response", ["supplement_of_id"], ["id"]
        )
        batch_op.create_index("ix_response_supplement_of_id", ["supplement_of_id"])
        # a reply to a receipt finds its response by the receipt's outbox row
        batch_op.create_index("ix_response_receipt_outbox_id", ["receipt_outbox_id"])


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_receipt_outbox_id")
        batch_op.drop_index("ix_response_supplement_of_id")
        batch_op.drop_constraint("fk_response_supplement_of_id_response", type_="foreignkey")
        batch_op.drop_column("supplement_of_id")
