"""One learning goal's history, and the goals that open hearings propose to change.

`goal_history` lists every version of a goal (dates, status, text, heading, part) with
the hearing that made it and that hearing's decision on it, then the open hearings
(not yet codified or withdrawn) that propose to change it. `pending_changes` gives, for
`goals list`, each goal named by an open hearing's item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from domain.errors import UserError
from domain.lifecycle import HearingState
from services.hearing_records import load_spec
from storage import catalogue, ledger
from storage.hearing_models import HearingItemRow, HearingRow
from storage.models import LearningGoalRow

HEARING_SOURCE = "hearing:"
_CLOSED = (HearingState.CODIFIED.value, HearingState.IN_EFFECT.value, HearingState.WITHDRAWN.value)


@dataclass(frozen=True)
class GoalVersion:
    version: int
    status: str
    valid_from: date | None
    valid_to: date | None
    text: str
    heading: str | None
    training_part: int | None
    level: str | None
    source: str
    hearing: str | None
    decision: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "text": self.text,
            "heading": self.heading,
            "training_part": self.training_part,
            "level": self.level,
            "source": self.source,
            "hearing": self.hearing,
            "decision": self.decision,
        }


@dataclass(frozen=True)
class PendingChange:
    case: str
    state: str
    kind: str
    ref: str

    def as_json(self) -> dict[str, str]:
        return {"case": self.case, "state": self.state, "kind": self.kind, "ref": self.ref}


@dataclass(frozen=True)
class GoalHistory:
    goal_id: str
    catalogue: str | None
    versions: tuple[GoalVersion, ...]
    pending: tuple[PendingChange, ...]
    decisions: dict[str, str | None]  # hearing case -> its decision on the goal
    reserved_by: str | None = None  # a new goal's ID before codification

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.goal_id,
            "catalogue": self.catalogue,
            "versions": [v.as_json() for v in self.versions],
            "pending": [p.as_json() for p in self.pending],
            "decisions": self.decisions,
            "reserved_by": self.reserved_by,
        }


def _decisions(session: Session, goal_id: str) -> dict[str, str | None]:
    """Hearing case -> its decision on the item that ended as `goal_id`."""
    rows = session.exec(
        select(HearingRow.case_number, HearingItemRow.decision)
        .join(HearingItemRow, col(HearingItemRow.hearing_id) == col(HearingRow.id))
        .where(HearingItemRow.final_goal_id == goal_id)
    ).all()
    return dict(rows)


def pending_changes(session: Session) -> dict[str, list[PendingChange]]:
    """Goal ID -> the items of open hearings (draft to reviewed) that name it."""
    found: dict[str, list[PendingChange]] = {}
    open_hearings = session.exec(
        select(HearingRow).where(col(HearingRow.state).not_in(_CLOSED))
    ).all()
    for hearing in open_hearings:
        for item in load_spec(hearing).items:
            goal_id = getattr(item, "goal_id", None)
            if goal_id:
                found.setdefault(goal_id, []).append(
                    PendingChange(hearing.case_number, hearing.state, item.kind, item.ref)
                )
    return found


def goal_history(session: Session, goal_id: str) -> GoalHistory:
    """Every version of `goal_id`, oldest first, with its hearing and decision."""
    clean = str(ledger.registry(session).parse(goal_id))  # a malformed ID: one line
    rows = session.exec(
        select(LearningGoalRow)
        .where(LearningGoalRow.goal_id == clean)
        .order_by(col(LearningGoalRow.version))
    ).all()
    reserved = catalogue.reservation_holder(session, clean) if not rows else None
    if not rows and reserved is None:
        raise UserError(
            f"no learning goal {clean}; check the ID with 'hoering goals list --specialty "
            f"{clean.split('-')[0]}'"
        )
    decided = _decisions(session, clean)
    versions = []
    for row in rows:
        case = (
            row.source.removeprefix(HEARING_SOURCE)
            if row.source.startswith(HEARING_SOURCE)
            else None
        )
        versions.append(
            GoalVersion(
                row.version,
                row.status,
                row.valid_from,
                row.valid_to,
                row.text,
                row.heading,
                row.training_part,
                row.level,
                row.source,
                case,
                decided.get(case) if case else None,
            )
        )
    return GoalHistory(
        clean,
        rows[0].catalogue_code if rows else None,
        tuple(versions),
        tuple(pending_changes(session).get(clean, ())),
        decided,
        reserved,
    )
