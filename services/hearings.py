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

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from domain.calendar import oslo_date
from domain.decisions import Decisions
from domain.errors import TransitionRefused, UserError
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
from services.hearing_items import add_items
from services.hearing_records import (  # re-exported: the flows, CLI and services read them here
    HearingNotFound,
    active_stakeholders,
    allocate_document_number,
    archive_withdrawn,
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
from services.verification import hearing_warnings
from services.withdrawal import withdraw_effects
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
    "revise_hearing",
    "revise_refusal",
    "transition",
]

CREATE = "create"
REVISE = "revise"


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


def create_hearing(
    session: Session,
    spec: HearingSpec,
    spec_text: str,
    source: str,
    now: datetime,
    actor: str,
    reuse_withdrawn_case: bool = False,
) -> tuple[HearingRow, bool]:
    """Store a new hearing in draft with its IDs reserved; (row, created).

    Creating the same spec again returns the stored hearing (safe to re-run); a
    different spec under an existing case number is refused (a draft is changed with
    `revise_hearing`). A withdrawn hearing's case number is taken over only with
    `reuse_withdrawn_case`: the withdrawn record is kept, whole, as '<case>~N'.
    """
    spec_json = spec.model_dump_json()
    existing = session.exec(select(HearingRow).where(HearingRow.case_number == spec.case)).first()
    archived = None
    if existing is not None:
        withdrawn = existing.state == HearingState.WITHDRAWN.value
        if withdrawn and reuse_withdrawn_case:
            archived = archive_withdrawn(session, existing, now, actor)
        elif json.loads(existing.spec_json) == json.loads(spec_json):
            return existing, False
        else:
            raise UserError(_exists_message(source, spec.case, existing.state))
    _check_references(session, spec, now)
    chosen = spec.resolve_recipients(active_stakeholders(session), common_catalogues(session))
    hearing = _new_row(spec, spec_text, spec_json, source, now)
    if existing is not None:  # the case's document series goes on (24/750-5, ...)
        hearing.last_document_number = existing.last_document_number
    session.add(hearing)
    session.flush()
    ids = add_items(session, hearing, spec, now)
    spec.check_reserved_ids(ids.reserved)
    _add_recipients(session, hearing, chosen)
    details: dict[str, Any] = {"reserved_ids": ids.reserved}
    reason = f"created from {source}"
    if archived is not None:
        details["withdrawn_record"] = archived
        reason += f"; reuses the case number of the withdrawn hearing, kept as {archived}"
    _audit(session, hearing, CREATE, actor, now, None, reason, details)
    session.flush()
    return hearing, True


def _exists_message(source: str, case: str, state: str) -> str:
    hint = "use another case number or withdraw the old one"
    if state == HearingState.DRAFT.value:
        hint = f"to change the draft run 'hoering hearing revise {case} {source}'"
    elif state == HearingState.WITHDRAWN.value:
        hint = (
            "to take its case number for a new draft add --reuse-withdrawn-case (the "
            f"withdrawn record is kept as {case}~N)"
        )
    return f"{source}: hearing {case} already exists with a different spec (state {state}); {hint}"


def _new_row(
    spec: HearingSpec, spec_text: str, spec_json: str, source: str, now: datetime
) -> HearingRow:
    return HearingRow(
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


def _audit(
    session: Session,
    hearing: HearingRow,
    action: str,
    actor: str,
    now: datetime,
    from_state: str | None,
    reason: str,
    details: dict[str, Any],
) -> None:
    session.add(
        AuditEventRow(
            hearing_id=row_id(hearing),
            action=action,
            actor=actor,
            at=to_db(now),
            from_state=from_state,
            to_state=hearing.state,
            reason=reason,
            details_json=json.dumps(details, ensure_ascii=False),
        )
    )


def revise_refusal(hearing: HearingRow, spec: HearingSpec, source: str) -> UserError | None:
    """Why `spec` cannot replace the spec of `hearing`, or None."""
    if spec.case != hearing.case_number:
        return UserError(
            f"{source}: the spec is for case {spec.case}, not {hearing.case_number}; "
            "fix `case:` in the spec or the case on the command line"
        )
    if hearing.state != HearingState.DRAFT.value:
        return TransitionRefused(
            f"cannot revise hearing {hearing.case_number}: it is {hearing.state}; only a "
            "draft can be revised (withdraw it and create it again with --reuse-withdrawn-case)"
        )
    return None


def revise_hearing(
    session: Session,
    case: str,
    spec: HearingSpec,
    spec_text: str,
    source: str,
    now: datetime,
    actor: str,
) -> dict[str, Any]:
    """Replace a draft's spec. Items that stay keep their reserved IDs, new items get
    new ones, removed items' reservations are burned; the old spec is kept in the audit
    row. The same spec again changes nothing."""
    hearing = get_hearing(session, case, for_update=True)
    refusal = revise_refusal(hearing, spec, source)
    if refusal is not None:
        raise refusal
    result: dict[str, Any] = {"case": hearing.case_number, "state": hearing.state}
    if json.loads(hearing.spec_json) == json.loads(spec.model_dump_json()):
        return {**result, "revised": False, "ids": id_displays(session, hearing)}
    _check_references(session, spec, now)
    chosen = spec.resolve_recipients(active_stakeholders(session), common_catalogues(session))
    previous = {row.ref: row.reservation_key for row in items(session, hearing)}
    old = {"source": hearing.spec_source, "text": hearing.spec_text}
    for model in (HearingItemRow, HearingRecipientRow):
        session.execute(delete(model).where(col(model.hearing_id) == hearing.id))
    session.flush()
    ids = add_items(session, hearing, spec, now, previous)
    spec.check_reserved_ids(ids.reserved)
    _add_recipients(session, hearing, chosen)
    hearing.title, hearing.deadline = spec.title, spec.deadline
    hearing.spec_text, hearing.spec_json, hearing.spec_source = (
        spec_text,
        spec.model_dump_json(),
        source,
    )
    hearing.updated_at = to_db(now)
    session.add(hearing)
    details = {**ids.as_json(), "previous_spec": old}
    _audit(session, hearing, REVISE, actor, now, hearing.state, f"revised from {source}", details)
    session.flush()
    return {**result, "revised": True, **ids.as_json(), "ids": id_displays(session, hearing)}


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
    warnings = list(outcome.warnings)
    if command.action in _WARNS_UNVERIFIED:
        warnings += hearing_warnings(session, hearing)
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
        warnings=warnings,
        details=details,
    )


def _close_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    hearing.closed_at = to_db(now)
    return {}


_WARNS_UNVERIFIED = frozenset({Action.CIRCULATE, Action.CODIFY})
_EFFECTS = {
    Action.CIRCULATE: circulate_effects,
    Action.CLOSE: _close_effects,
    Action.CODIFY: codify_effects,
    Action.WITHDRAW: withdraw_effects,
}
