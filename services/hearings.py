"""Hearings in the database: creation, lifecycle transitions and what they cause.

A transition is checked by the pure rules in `domain.lifecycle`; here the facts are
gathered, and the new state, the audit event, letters and outbox rows are written in
the caller's transaction (all or nothing). Letter files are written before commit
under content that depends only on the record, so a retry rewrites the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from domain.calendar import oslo_date
from domain.decisions import RESOLVE_NEXT, Decisions, Outcome
from domain.errors import UserError
from domain.goal_ids import deferred_display
from domain.hearing_spec import (
    AmendedText,
    DeletedGoal,
    HeadingChange,
    HearingSpec,
    MovedGoal,
    NewGoal,
)
from domain.letter_building import (
    RecipientInfo,
    SpecialtyInfo,
    hearing_letter_context,
    orientation_letter_context,
)
from domain.lifecycle import Action, Command, HearingFacts, HearingState, apply_command
from domain.reference import Stakeholder, StakeholderGroup
from rendering.change_sheet import write_change_sheet
from rendering.letters import render_docx
from storage import ledger
from storage.hearing_models import (
    AuditEventRow,
    HearingItemRow,
    HearingRecipientRow,
    HearingRow,
    LetterRow,
)
from storage.models import LearningGoalRow, SpecialtyRow, StakeholderRow
from storage.outbox_queue import queue_message
from storage.review_queries import unreviewed_response_count
from storage.timeutil import to_db

CREATE = "create"


class HearingNotFound(UserError):
    pass


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


# --- reading -------------------------------------------------------------------------------


def get_hearing(session: Session, case: str) -> HearingRow:
    row = session.exec(select(HearingRow).where(HearingRow.case_number == case.strip())).first()
    if row is None:
        raise HearingNotFound(
            f"no hearing with case number '{case}'; check it with 'hoering hearing list' "
            "or create it with 'hoering hearing create SPEC'"
        )
    return row


def load_spec(row: HearingRow) -> HearingSpec:
    return HearingSpec.model_validate(json.loads(row.spec_json))


def load_decisions(row: HearingRow) -> Decisions | None:
    return Decisions.model_validate(json.loads(row.decisions_json)) if row.decisions_json else None


def _specialties(session: Session) -> dict[str, SpecialtyInfo]:
    return {
        r.prefix: SpecialtyInfo(name=r.name, group=r.group)
        for r in session.exec(select(SpecialtyRow)).all()
    }


def _stakeholders(session: Session) -> list[Stakeholder]:
    rows = session.exec(
        select(StakeholderRow).where(StakeholderRow.active).order_by(StakeholderRow.key)
    ).all()
    return [
        Stakeholder(
            key=r.key,
            name=r.name,
            group=StakeholderGroup(r.group),
            email=r.email,
            email_verified=r.email_verified,
            specialty=r.specialty_prefix,
        )
        for r in rows
    ]


def recipients(session: Session, hearing: HearingRow) -> list[HearingRecipientRow]:
    return list(
        session.exec(
            select(HearingRecipientRow)
            .where(HearingRecipientRow.hearing_id == hearing.id)
            .order_by(HearingRecipientRow.position)
        ).all()
    )


def items(session: Session, hearing: HearingRow) -> list[HearingItemRow]:
    return list(
        session.exec(
            select(HearingItemRow)
            .where(HearingItemRow.hearing_id == hearing.id)
            .order_by(HearingItemRow.position)
        ).all()
    )


def id_displays(session: Session, hearing: HearingRow) -> dict[str, str]:
    """Item ref -> the ID as letters show it (BLS-154, or HJS-xxx while deferred)."""
    by_key = {r.key: r for r in ledger.reservations_for_case(session, hearing.case_number)}
    shown = {}
    for item in items(session, hearing):
        if item.final_goal_id:
            shown[item.ref] = item.final_goal_id
        elif item.reservation_key and item.reservation_key in by_key:
            shown[item.ref] = by_key[item.reservation_key].display
        else:
            shown[item.ref] = deferred_display(item.specialty_prefix)
    return shown


def history(session: Session, hearing: HearingRow) -> list[AuditEventRow]:
    return list(
        session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.hearing_id == hearing.id)
            .order_by(AuditEventRow.id)
        ).all()
    )


def letters(session: Session, hearing: HearingRow) -> list[LetterRow]:
    return list(
        session.exec(
            select(LetterRow).where(LetterRow.hearing_id == hearing.id).order_by(LetterRow.id)
        ).all()
    )


def allocate_document_number(session: Session, hearing_id: int) -> str:
    """The next number in the case's document series (24/750-2, -3, ...)."""
    number = session.execute(
        update(HearingRow)
        .where(HearingRow.id == hearing_id)
        .values(last_document_number=HearingRow.last_document_number + 1)
        .returning(HearingRow.last_document_number, HearingRow.case_number)
    ).one()
    return f"{number[1]}-{number[0]}"


# --- creating ------------------------------------------------------------------------------


def _check_references(session: Session, spec: HearingSpec) -> None:
    prefixes = set(session.exec(select(SpecialtyRow.prefix)).all())
    keys = set(session.exec(select(StakeholderRow.key).where(StakeholderRow.active)).all())
    spec.validate_references(prefixes, keys, {g.value for g in StakeholderGroup})
    for index, item in enumerate(spec.items):
        goal_id = getattr(item, "goal_id", None)
        if goal_id is not None and _current_version(session, goal_id) is None:
            raise spec.source_map.error(
                ("items", index, "goal_id"),
                f"no learning goal {goal_id} in the catalogue; check the ID with "
                f"'hoering goals list --specialty {item.specialty}'",
            )


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
    _check_references(session, spec)
    stakeholders = _stakeholders(session)
    chosen = spec.resolve_recipients(stakeholders)
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
    reserved: dict[str, str] = {}
    for position, item in enumerate(spec.items):
        key = None
        if isinstance(item, NewGoal):
            key = _reservation_key(spec.case, item.ref)
            if item.deferred:
                ledger.defer(session, item.specialty, key, item.defer_reason, to_db(now), spec.case)
            else:
                got = ledger.reserve(session, item.specialty, key, to_db(now), spec.case)
                reserved[item.ref] = str(got.goal_id)
        session.add(
            HearingItemRow(
                hearing_id=hearing.id,
                position=position,
                ref=item.ref,
                kind=item.kind,
                specialty_prefix=item.specialty,
                reservation_key=key,
            )
        )
    spec.check_reserved_ids(reserved)
    for position, stakeholder in enumerate(chosen):
        session.add(
            HearingRecipientRow(
                hearing_id=hearing.id,
                stakeholder_key=stakeholder.key,
                name=stakeholder.name,
                email=stakeholder.email,
                group=stakeholder.group.value,
                position=position,
            )
        )
    session.add(
        AuditEventRow(
            hearing_id=hearing.id,
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


# --- transitions ---------------------------------------------------------------------------


def gather_facts(
    session: Session, hearing: HearingRow, decisions: Decisions | None = None
) -> HearingFacts:
    spec = load_spec(hearing)
    stakeholders = {s.key: s for s in _stakeholders(session)}
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
        unreviewed_responses=unreviewed_response_count(session, hearing.id),
        decisions=decisions if decisions is not None else load_decisions(hearing),
        codified_on=hearing.codified_on,
        effective_date=hearing.effective_date,
    )


def _already_done(session: Session, hearing: HearingRow, action: Action) -> bool:
    from domain.lifecycle import TRANSITIONS

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
    hearing = get_hearing(session, case)
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
                hearing_id=hearing.id,
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


def case_folder(letters_dir: Path, case: str) -> Path:
    return letters_dir / case.replace("/", "-")


def _record_letter(
    session: Session,
    hearing: HearingRow,
    kind: str,
    path: Path,
    sha256: str,
    now: datetime,
    document_number: str | None = None,
    variant: str = "",
) -> LetterRow:
    row = session.exec(
        select(LetterRow).where(
            LetterRow.hearing_id == hearing.id, LetterRow.kind == kind, LetterRow.variant == variant
        )
    ).first()
    if row is None:
        row = LetterRow(
            hearing_id=hearing.id,
            kind=kind,
            variant=variant,
            document_number=document_number,
            path=str(path),
            sha256=sha256,
            created_at=to_db(now),
        )
    else:
        row.path, row.sha256, row.document_number = str(path), sha256, document_number
    session.add(row)
    session.flush()
    return row


def _recipient_infos(session: Session, hearing: HearingRow) -> list[RecipientInfo]:
    return [
        RecipientInfo(name=r.name, email=r.email, group=r.group)
        for r in recipients(session, hearing)
    ]


def _circulate_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    spec = facts.spec
    circulated_on = oslo_date(now)
    context = hearing_letter_context(
        spec,
        _specialties(session),
        id_displays(session, hearing),
        _recipient_infos(session, hearing),
        circulated_on,
    )
    folder = case_folder(letters_dir, spec.case)
    document_number = f"{spec.case}-1"
    letter_path = folder / f"hoeringsbrev-{spec.case.replace('/', '-')}-1.docx"
    sheet_path = folder / f"endringsoversikt-{spec.case.replace('/', '-')}.xlsx"
    letter_sha = render_docx("hoeringsbrev", context, letter_path)
    sheet_sha = write_change_sheet(context.change_sheet(), sheet_path)
    _record_letter(session, hearing, "hoeringsbrev", letter_path, letter_sha, now, document_number)
    _record_letter(session, hearing, "endringsoversikt", sheet_path, sheet_sha, now)
    hearing.circulated_on = circulated_on
    hearing.last_document_number = max(hearing.last_document_number, 1)
    queued = _queue_to_recipients(
        session,
        hearing,
        "hoeringsbrev",
        now,
        [letter_path, sheet_path],
        subject=f"Høring: {spec.title} (vår ref. {spec.case})",
        body=(
            f"Helsedirektoratet sender med dette på høring: {spec.title}.\n\n"
            f"Høringsbrevet og endringsoversikten er vedlagt. Frist for høringsinnspill er "
            f"{_date_nb(spec.deadline)}. Innspill sendes til postmottak@helsedir.no med "
            f"referanse til saksnummer {spec.case}.\n\nVennlig hilsen\nHelsedirektoratet\n"
        ),
    )
    return {"letters": [str(letter_path), str(sheet_path)], "queued_messages": queued}


def _date_nb(day: date) -> str:
    from domain.calendar import format_date_nb

    return format_date_nb(day)


def _queue_to_recipients(
    session: Session,
    hearing: HearingRow,
    kind: str,
    now: datetime,
    attachments: list[Path],
    subject: str,
    body: str,
) -> int:
    queued = 0
    for recipient in recipients(session, hearing):
        _, created = queue_message(
            session,
            kind=kind,
            dedupe_key=f"{kind}:{hearing.case_number}:{recipient.email.lower()}",
            to_address=recipient.email,
            to_name=recipient.name,
            subject=subject,
            body_text=body,
            now=to_db(now),
            hearing_id=hearing.id,
            organisation=recipient.name,
            stakeholder_key=recipient.stakeholder_key,
            attachments=attachments,
        )
        queued += created
    return queued


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


def _codify_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    spec, decisions = facts.spec, facts.decisions
    assert decisions is not None and outcome.effective_date is not None
    effective = outcome.effective_date
    codified_on = oslo_date(now)
    item_rows = {row.ref: row for row in items(session, hearing)}
    final_ids: dict[str, str | None] = {}
    for item in spec.items:
        decision = decisions.for_item(item.ref)
        assert decision is not None
        row = item_rows[item.ref]
        row.decision = decision.decision.value
        final_ids[item.ref] = _apply_item(session, spec, item, decision, row, effective, now)
        row.final_goal_id = final_ids[item.ref]
        session.add(row)
    hearing.decisions_json = decisions.model_dump_json()
    hearing.codified_on = codified_on
    hearing.effective_date = effective
    session.flush()
    specialties = _specialties(session)
    context = orientation_letter_context(
        spec, decisions, specialties, final_ids, codified_on, effective
    )
    folder = case_folder(letters_dir, spec.case)
    slug = spec.case.replace("/", "-")
    document_number = allocate_document_number(session, hearing.id)
    letter_path = folder / f"orienteringsbrev-{document_number.replace('/', '-')}.docx"
    letter_sha = render_docx("orienteringsbrev", context, letter_path)
    _record_letter(
        session, hearing, "orienteringsbrev", letter_path, letter_sha, now, document_number
    )
    sheet_context = hearing_letter_context(
        spec,
        specialties,
        id_displays(session, hearing),
        _recipient_infos(session, hearing),
        codified_on,
    ).change_sheet()
    sheet_path = folder / f"endringsoversikt-vedtatt-{slug}.xlsx"
    sheet_sha = write_change_sheet(sheet_context, sheet_path)
    _record_letter(session, hearing, "endringsoversikt-vedtatt", sheet_path, sheet_sha, now)
    queued = _queue_to_recipients(
        session,
        hearing,
        "orienteringsbrev",
        now,
        [letter_path, sheet_path],
        subject=f"Orientering om vedtak: {spec.title} (vår ref. {spec.case})",
        body=(
            f"Helsedirektoratet orienterer om vedtak etter høringen {spec.title}.\n\n"
            f"Endringene trer i kraft {_date_nb(effective)}. Orienteringsbrevet og "
            "endringsoversikten er vedlagt.\n\nVennlig hilsen\nHelsedirektoratet\n"
        ),
    )
    return {
        "final_ids": final_ids,
        "letters": [str(letter_path), str(sheet_path)],
        "queued_messages": queued,
    }


def _current_version(session: Session, goal_id: str) -> LearningGoalRow | None:
    return session.exec(
        select(LearningGoalRow)
        .where(LearningGoalRow.goal_id == goal_id, LearningGoalRow.valid_to.is_(None))
        .order_by(LearningGoalRow.version.desc())
    ).first()


def _new_version(
    session: Session, current: LearningGoalRow, effective: date, source: str, **changes: Any
) -> LearningGoalRow:
    """Close `current` at `effective` and add the next version with `changes`."""
    from domain.competence import level_of_text

    current.valid_to = effective
    session.add(current)
    values = current.model_dump(exclude={"id"})
    values.update(changes, version=current.version + 1, valid_from=effective, valid_to=None)
    values["source"] = source
    level = level_of_text(values["text"])
    values["level"] = level.name.lower() if level else None
    row = LearningGoalRow(**values)
    session.add(row)
    return row


def _apply_item(session, spec, item, decision, row, effective, now) -> str | None:
    """Apply one decided change item to the catalogue; returns its final goal ID."""
    source = f"hearing:{spec.case}"
    dropped = decision.decision == Outcome.DROP
    if isinstance(item, NewGoal):
        key = row.reservation_key
        if dropped:
            ledger.mark(session, key, "burned", to_db(now), "dropped at codification")
            return None
        if item.deferred:
            reservation = _resolve(session, key, decision.resolve_id, now)
        else:
            reservation = next(
                r for r in ledger.reservations_for_case(session, spec.case) if r.key == key
            )
        ledger.mark(session, key, "used", to_db(now))
        goal_id = reservation.goal_id
        amended = decision.decision == Outcome.ADOPT_AMENDED
        from domain.competence import level_of_text

        text = decision.text if amended else item.text
        level = level_of_text(text)
        session.add(
            LearningGoalRow(
                goal_id=str(goal_id),
                prefix=goal_id.prefix,
                number=goal_id.number,
                catalogue_code=item.specialty,
                version=1,
                text=text,
                elaboration=(decision.elaboration if amended else None) or item.elaboration,
                heading=item.heading,
                training_part=item.training_part,
                level=level.name.lower() if level else None,
                status="active",
                valid_from=effective,
                source=source,
            )
        )
        session.flush()
        return str(goal_id)
    if dropped:
        return getattr(item, "goal_id", None)
    if isinstance(item, AmendedText):
        current = _current_version(session, item.goal_id)
        text = decision.text if decision.decision == Outcome.ADOPT_AMENDED else item.new_text
        _new_version(session, current, effective, source, text=text)
        return item.goal_id
    if isinstance(item, MovedGoal):
        current = _current_version(session, item.goal_id)
        _new_version(session, current, effective, source, heading=item.to_heading)
        return item.goal_id
    if isinstance(item, DeletedGoal):
        current = _current_version(session, item.goal_id)
        current.valid_to = effective
        session.add(current)
        return item.goal_id
    if isinstance(item, HeadingChange):
        for current in session.exec(
            select(LearningGoalRow).where(
                LearningGoalRow.catalogue_code == item.specialty,
                LearningGoalRow.heading == item.old_heading,
                LearningGoalRow.valid_to.is_(None),
            )
        ).all():
            _new_version(session, current, effective, source, heading=item.new_heading)
        return None
    raise AssertionError(f"unknown change item {item!r}")


def _resolve(session: Session, key: str, how: str | None, now: datetime) -> ledger.Reservation:
    if how in (None, RESOLVE_NEXT):
        return ledger.resolve_deferred(session, key, to_db(now))
    return ledger.resolve_deferred_to(session, key, how, to_db(now))


_EFFECTS = {
    Action.CIRCULATE: _circulate_effects,
    Action.CLOSE: _close_effects,
    Action.CODIFY: _codify_effects,
    Action.WITHDRAW: _withdraw_effects,
}
