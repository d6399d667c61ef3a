"""The one definition of an unreviewed response, and the count everything asks for
(the lifecycle before closing, the review queue, the intake listings).

A response is unreviewed when it is not an automatic reply (out of office, bounce),
not a supplement of an earlier response (`response.supplement_of_id`, reviewed and
counted with the response it adds to, see `domain.supplements`) and has no stance
yet. `response.stance` mirrors the current review (`response_review`), and
`reviewed_at` is set with it, so the stance is the one column to ask.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import Session, col, select

from storage.intake_models import ResponseRow


def is_counted(table: Any = ResponseRow) -> ColumnElement[bool]:
    """SQL condition: a response that counts on its own, i.e. not a supplement of an
    earlier response of the same sender (a supplement is counted once, with its first).
    `table`: ResponseRow or an alias of it."""
    return col(table.supplement_of_id).is_(None)


def is_unreviewed(table: Any = ResponseRow) -> ColumnElement[bool]:
    """SQL condition: a response that needs a stance and has none (`table`: ResponseRow
    or an alias of it)."""
    return and_(
        col(table.auto_submitted).is_(False),
        col(table.stance).is_(None),
        is_counted(table),
    )


def unreviewed_response_count(session: Session, hearing_id: int) -> int:
    """Responses of the hearing without a stance; automatic replies do not count, and a
    campaign reviewed as one has given each member its stance."""
    return int(
        session.exec(
            select(func.count(col(ResponseRow.id))).where(
                ResponseRow.hearing_id == hearing_id, is_unreviewed()
            )
        ).one()
    )
