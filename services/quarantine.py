"""A person's decision on a quarantined message: release it (it is handled, e.g. filed by
hand, and no longer counts as quarantined) or keep it, always with a reason. The
decision is written on the quarantine row with who, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from domain.errors import UserError
from storage.intake_models import QuarantineRow
from storage.timeutil import to_db


def decide_quarantine(
    session: Session,
    quarantine_id: int,
    *,
    release: bool,
    reason: str,
    actor: str,
    now: datetime,
    source: str,
) -> dict[str, Any]:
    why = " ".join(reason.split())
    if not why:
        raise UserError("reason: no reason given; say why the message is released or kept")
    row = session.exec(
        select(QuarantineRow).where(QuarantineRow.id == quarantine_id).with_for_update()
    ).first()
    if row is None:
        raise UserError(
            f"QUARANTINE_ID: no quarantined message {quarantine_id}; see "
            "'hoering responses quarantine' for the IDs"
        )
    if row.released_at is not None:
        raise UserError(f"QUARANTINE_ID: message {quarantine_id} is already released")
    at = to_db(now)
    verb = "frigitt" if release else "beholdt"
    line = f"{at:%Y-%m-%d %H:%M} UTC {verb} av {actor} ({source}): {why}"
    row.note = f"{row.note}\n{line}" if row.note else line
    if release:
        row.released_at = at
    session.add(row)
    session.flush()
    return {"id": row.id, "released": release, "note": row.note}
