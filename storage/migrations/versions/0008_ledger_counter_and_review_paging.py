"""Lean ledger: the counter row holds the next number; explicit IDs accepted unverified.

`id_counter.last_number` becomes `next_number`, filled with one above the highest
number known anywhere (floor, catalogue goals, reservations, the old counter), so a
reservation is one UPDATE ... RETURNING on the counter row. A reservation whose ID was
given explicitly above the verified floor records that in `accepted_unverified`.
`review list` pages unreviewed responses through ix_response_hearing_stance_received.

Revision ID: 0008_ledger
Revises: 0007_responses
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ledger"
down_revision = "0007_responses"
branch_labels = None
depends_on = None

_HIGHEST = """
SELECT c.prefix,
       c.last_number,
       (SELECT p.floor FROM id_prefix p WHERE p.prefix = c.prefix),
       (SELECT MAX(g.number) FROM learning_goal g WHERE g.prefix = c.prefix),
       (SELECT MAX(r.number) FROM id_reservation r WHERE r.prefix = c.prefix)
FROM id_counter c
"""


def upgrade() -> None:
    bind = op.get_bind()
    highest = {
        prefix: max(n or 0 for n in numbers)
        for prefix, *numbers in bind.execute(sa.text(_HIGHEST)).all()
    }
    op.execute("ALTER TABLE id_counter RENAME COLUMN last_number TO next_number")
    for prefix, number in highest.items():
        bind.execute(
            sa.text("UPDATE id_counter SET next_number = :n WHERE prefix = :p"),
            {"n": number + 1, "p": prefix},
        )
    with op.batch_alter_table("id_reservation") as batch_op:
        batch_op.add_column(
            sa.Column(
                "accepted_unverified",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )

    op.create_index(
        "ix_response_hearing_stance_received",
        "response",
        ["hearing_id", "stance", "received_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_response_hearing_stance_received", table_name="response")
    with op.batch_alter_table("id_reservation") as batch_op:
        batch_op.drop_column("accepted_unverified")
    op.execute("UPDATE id_counter SET next_number = next_number - 1")
    op.execute("ALTER TABLE id_counter RENAME COLUMN next_number TO last_number")
