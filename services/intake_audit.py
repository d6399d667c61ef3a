"""The audit row of a person's assignment of an unmatched response to a hearing: who,
when, which response, from where (the desk: `web`). The hearing's state is unchanged."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from services import hearings
from storage.hearing_models import AuditEventRow
from storage.rows import row_id
from storage.timeutil import to_db

ACTION = "assign_response"


def record_assignment(
    session: Session, result: dict[str, Any], *, actor: str, now: datetime, source: str
) -> None:
    hearing = hearings.get_hearing(session, result["case"])
    details = {
        "response_id": result["response_id"],
        "tracking_number": result["tracking_number"],
        "source": source,
    }
    session.add(
        AuditEventRow(
            hearing_id=row_id(hearing),
            action=ACTION,
            actor=actor,
            at=to_db(now),
            from_state=hearing.state,
            to_state=hearing.state,
            details_json=json.dumps(details, ensure_ascii=False),
        )
    )
