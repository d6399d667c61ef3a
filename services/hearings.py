"""Hearings in the database: creation, lifecycle transitions and what they cause.

A transition is checked by the pure rules in `domain.lifecycle`; here the facts are
gathered, and the new state, the audit event, letters and outbox rows are written in
the caller's transaction (all or nothing). Letter files are written before commit
under content that depends only on the record, so a retry rewrites the same bytes.

What a transition causes: circulating in `services.circulation`, codifying in
`services.codification`, closing and withdrawing here. Reading a hearing's rows is in
`services.hearing_records` (re-exported here for the flows and the CLI).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from domain.calendar import oslo_date
from domain.change_items import NewGoal
from domain.decisions import Decisions
from domain.errors import UserError
from domain.hearing_spec import HearingSpec
from domain.lifecycle import (
    TRANSITIONS,
    Action,
    Command,
    HearingFacts,
    HearingState,
    apply_command,
)
from domain.reference import Stakeholder, StakeholderGroup
from services.circulation import circulate_effects
from services.codification import codify_effects
from services.hearing_records import (  # re-exported: the flows, CLI and services read them here
    HearingNotFound,
    active_stakeholders,
    allocate_document_number,
    case_folder,
    get_hearing,
    history,
    id_displays,
    items,
    letters,
    load_decisions,
    load_spec,
    recipients,
)
from services.spec_checks import check_spec_references, common_catalogues
from storage import ledger
from storage.hearing_models import AuditEventRow, HearingItemRow, HearingRecipientRow, HearingRow
from storage.review_queries import unreviewed_response_count
from storage.rows import row_id
from storage.timeutil import to_db

__all__ = [
    "CREATE",
    "HearingNotFound",
    "TransitionResult",
    "allocate_document_number",
    "case_folder",
    "create_hearing",
    "gather_facts",
    "get_hearing",
    "history",
    "id_displays",
    "items",
    "letters",
    "load_decisions",
    "load_spec",
    "recipients",
    "transition",
]

CREATE = "create"


@dataclass(frozen=True)
class TransitionResult:
    case: str
    action: str
    from_state: str
    to_state: str
    already_done: bool
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "action": self.action,
            "from": self.from_state,
            "to": self.to_state,
            "already_done": self.already_done,
            "warnings": self.warnings,
            "details": self.details,
        }


# --- creating ------------------------------------------------------------------------------


def _check_references(session: Session, spec: HearingSpec, now: datetime) -> None:
    check_spec_references(session, spec, oslo_date(now))


def _reservation_key(case: str, ref: str) -> str:
    return f"hearing:{case}:{ref}"


def create_hearing(
    session: Session,
    spec: HearingSpec,
    spec_text: str,
    source: str,
    now: datetime,
    actor: str,
) -> tuple[HearingRow, bool]:
    """Store a new hearing in draft with its IDs reserved; (row, created).

    Creating the same spec again returns the stored hearing (safe to re-run); a
    different spec under an existing case number is refused.
    """
    spec_json = spec.model_dump_json()
    existing = session.exec(select(HearingRow).where(HearingRow.case_number == spec.case)).first()
    if existing is not None:
        if json.loads(existing.spec_json) == json.loads(spec_json):
            return existing, False
        raise UserError(
            f"{source}: hearing {spec.case} already exists with a different spec "
            f"(state {existing.state}); use another case number or withdraw the old one"
        )
    _check_references(session, spec, now)
    stakeholders = active_stakeholders(session)
    chosen = spec.resolve_recipients(stakeholders, common_catalogues(session))
    hearing = HearingRow(
        case_number=spec.case,
        title=spec.title,
        state=HearingState.DRAFT.value,
        spec_text=spec_text,
        spec_json=spec_json,
        spec_source=source,
        deadline=spec.deadline,
        created_at=to_db(now),
        updated_at=to_db(now),
    )
    session.add(hearing)
    session.flush()
    reserved = _add_items(session, hearing, spec, now)
    spec.check_reserved_ids(reserved)
    _add_recipients(session, hearing, chosen)
    session.add(
        AuditEventRow(
            hearing_id=row_id(hearing),
            action=CREATE,
            actor=actor,
            at=to_db(now),
            from_state=None,
            to_state=HearingState.DRAFT.value,
            reason=f"created from {source}",
            details_json=json.dumps({"reserved_ids": reserved}, ensure_ascii=False),
        )
    )
    session.flush()
    return hearing, True


def _add_items(
    session: Session, hearing: HearingRow, spec: HearingSpec, now: datetime
) -> dict[str, str]:
    """The hearing's change items; a new goal reserves (or defers) its ID in the ledger.
    Returns item ref -> reserved goal ID."""
    reserved: dict[str, str] = {}
    for position, item in enumerate(spec.items):
        key = None
        if isinstance(item, NewGoal):
            key = _reservation_key(spec.case, item.ref)
            if item.deferred:
                ledger.defer(
                    session, item.id_prefix, key, item.defer_reason or "", to_db(now), spec.case
                )
            else:
                got = ledger.reserve(session, item.id_prefix, key, to_db(now), spec.case)
                reserved[item.ref] = str(got.goal_id)
        session.add(
            HearingItemRow(
                hearing_id=row_id(hearing),
                position=position,
                ref=item.ref,
                kind=item.kind,
                specialty_prefix=item.catalogue_code,
                reservation_key=key,
            )
        )
    return reserved


def _add_recipients(session: Session, hearing: HearingRow, chosen: Sequence[Stakeholder]) -> None:
    for position, stakeholder in enumerate(chosen):
        session.add(
            HearingRecipientRow(
                hearing_id=row_id(hearing),
                stakeholder_key=stakeholder.key,
                name=stakeholder.name,
                email=stakeholder.email,
                group=stakeholder.group.value,
                position=position,
            )
        )


# --- transitions ---------------------------------------------------------------------------


def gather_facts(
    session: Session, hearing: HearingRow, decisions: Decisions | None = None
) -> HearingFacts:
    spec = load_spec(hearing)
    stakeholders = {s.key: s for s in active_stakeholders(session)}
    chosen = tuple(
        stakeholders[r.stakeholder_key]
        for r in recipients(session, hearing)
        if r.stakeholder_key in stakeholders
    )
    shown = id_displays(session, hearing)
    reserved = {
        item.ref: shown[item.ref]
        for item in spec.new_goals
        if not item.deferred and not shown[item.ref].endswith("-xxx")
    }
    return HearingFacts(
        state=HearingState(hearing.state),
        spec=spec,
        reserved_ids=reserved,
        recipients=chosen,
        known_rhfs=tuple(s for s in stakeholders.values() if s.group == StakeholderGroup.RHF),
        all_committees=_all_committees(session, spec, stakeholders.values()),
        unreviewed_responses=unreviewed_response_count(session, row_id(hearing)),
        decisions=decisions if decisions is not None else load_decisions(hearing),
        codified_on=hearing.codified_on,
        effective_date=hearing.effective_date,
    )


def _all_committees(
    session: Session, spec: HearingSpec, stakeholders: Iterable[Stakeholder]
) -> tuple[Stakeholder, ...]:
    """Every specialty's committee when an item changes a common catalogue (FKM)."""
    if not set(spec.affected_catalogues) & common_catalogues(session):
        return ()
    return tuple(s for s in stakeholders if s.group == StakeholderGroup.SPESIALITETSKOMITE)


def _already_done(session: Session, hearing: HearingRow, action: Action) -> bool:
    target = TRANSITIONS[action][1]
    if hearing.state != target.value:
        return False
    return (
        session.exec(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.hearing_id == hearing.id, AuditEventRow.action == action.value)
        ).one()
        > 0
    )


def transition(
    session: Session,
    case: str,
    command: Command,
    now: datetime,
    letters_dir: Path,
    decisions: Decisions | None = None,
) -> TransitionResult:
    """Apply `command` to hearing `case` at `now`, with everything the transition causes."""
    hearing = get_hearing(session, case, for_update=True)
    if _already_done(session, hearing, command.action):
        return TransitionResult(
            case, command.action.value, hearing.state, hearing.state, already_done=True
        )
    if decisions is not None:
        decisions.check_against(load_spec(hearing))
    facts = gather_facts(session, hearing, decisions)
    outcome = apply_command(facts, command, now)
    from_state = hearing.state
    details = dict(outcome.events[0].details) if outcome.events else {}
    effects = _EFFECTS.get(command.action)
    if effects is not None:
        details.update(effects(session, hearing, facts, outcome, now, letters_dir))
    hearing.state = outcome.new_state.value
    hearing.updated_at = to_db(now)
    session.add(hearing)
    for event in outcome.events:
        session.add(
            AuditEventRow(
                hearing_id=row_id(hearing),
                action=event.action.value,
                actor=event.actor,
                at=to_db(event.at),
                from_state=event.from_state.value,
                to_state=event.to_state.value,
                reason=event.reason,
                details_json=json.dumps(details, ensure_ascii=False, default=str),
            )
        )
    session.flush()
    return TransitionResult(
        case,
        command.action.value,
        from_state,
        outcome.new_state.value,
        already_done=False,
        warnings=list(outcome.warnings),
        details=details,
    )


def _close_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    hearing.closed_at = to_db(now)
    return {}


def _withdraw_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    burned = []
    for reservation in ledger.reservations_for_case(session, hearing.case_number):
        if reservation.status in {"reserved", "deferred"}:
            ledger.mark(session, reservation.key, "burned", to_db(now), "hearing withdrawn")
            burned.append(reservation.display)
    return {"burned_reservations": burned}


_EFFECTS = {
    Action.CIRCULATE: circulate_effects,
    Action.CLOSE: _close_effects,
    Action.CODIFY: codify_effects,
    Action.WITHDRAW: _withdraw_effects,
}
