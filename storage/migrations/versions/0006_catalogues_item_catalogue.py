"""A hearing item names the catalogue it changes (issue 12): hearing_item.specialty_prefix
refers to catalogue.code (a specialty's catalogue has its prefix as code; FKM and LIS1 are
catalogues, not specialties) and holds up to 16 characters.

Revision ID: 0006_catalogues
Revises: 0005_desk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_catalogues"
down_revision = "0005_desk"
branch_labels = None
depends_on = None

# SQLite keeps the constraint unnamed; batch mode names it by this convention to drop it.
_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _swap(old_table: str, new_table: str, new_column: str, length: int) -> None:
    bind = op.get_bind()
    name = (
        next(
            (
                fk["name"]
                for fk in sa.inspect(bind).get_foreign_keys("hearing_item")
                if fk["constrained_columns"] == ["specialty_prefix"]
            ),
            None,
        )
        or f"fk_hearing_item_specialty_prefix_{old_table}"
    )
    with op.batch_alter_table("hearing_item", naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.alter_column(
            "specialty_prefix",
            type_=sa.String(length=length),
            existing_nullable=False,
        )
        batch_op.create_foreign_key(
            f"fk_hearing_item_specialty_prefix_{new_table}",
            new_table,
            ["specialty_prefix"],
            [new_column],
        )


def upgrade() -> None:
    _swap("specialty", "catalogue", "code", 16)


def downgrade() -> None:
    _swap("catalogue", "specialty", "prefix", 8)
