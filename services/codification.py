"""Codifying a hearing: each decided change item is applied to the learning-goal
catalogue (new goals take their reserved or resolved ID, amended and moved goals get a
new version from the effective date), and the orienteringsbrev with the adopted change
sheet is rendered, recorded and queued to every recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from domain.calendar import format_date_nb, oslo_date
from domain.change_items import AmendedText, DeletedGoal, HeadingChange, MovedGoal, NewGoal
from domain.competence import level_of_text
from domain.decisions import RESOLVE_NEXT, Decisions, Outcome
from domain.errors import UserError
from domain.letter_building import (
    adopted_change_sheet,
    adopted_text,
    orientation_letter_context,
)
from services.hearing_records import (
    allocate_document_number,
    case_folder,
    current_version,
    goal_texts,
    id_displays,
    items,
    queue_to_recipients,
    record_letter,
    specialty_infos,
)
from storage import ledger
from storage.catalogue import add_version
from storage.models import LearningGoalRow
from storage.timeutil import to_db


def codify_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    # Rendering loads python-docx and openpyxl: only for the step itself, so that a
    # refusal checked before the flow (flows.checks) answers quickly.
    from rendering.change_sheet import write_change_sheet
    from rendering.letters import render_docx

    spec, decisions = facts.spec, facts.decisions
    assert decisions is not None and outcome.effective_date is not None
    effective = outcome.effective_date
    codified_on = oslo_date(now)
    texts_before = goal_texts(session, spec)
    proposed_ids = id_displays(session, hearing)
    final_ids = _apply_decisions(session, hearing, spec, decisions, effective, now)
    hearing.decisions_json = decisions.model_dump_json()
    hearing.codified_on = codified_on
    hearing.effective_date = effective
    session.flush()
    specialties = specialty_infos(session)
    context = orientation_letter_context(
        spec, decisions, specialties, final_ids, codified_on, effective, texts_before, proposed_ids
    )
    folder = case_folder(letters_dir, spec.case)
    slug = spec.case.replace("/", "-")
    document_number = allocate_document_number(session, hearing.id)
    letter_path = folder / f"orienteringsbrev-{document_number.replace('/', '-')}.docx"
    letter_sha = render_docx("orienteringsbrev", context, letter_path)
    record_letter(
        session, hearing, "orienteringsbrev", letter_path, letter_sha, now, document_number
    )
    sheet_context = adopted_change_sheet(
        spec, decisions, specialties, final_ids, proposed_ids, codified_on, texts_before
    )
    sheet_path = folder / f"endringsoversikt-vedtatt-{slug}.xlsx"
    sheet_sha = write_change_sheet(sheet_context, sheet_path)
    record_letter(session, hearing, "endringsoversikt-vedtatt", sheet_path, sheet_sha, now)
    queued = queue_to_recipients(
        session,
        hearing,
        "orienteringsbrev",
        now,
        [letter_path, sheet_path],
        subject=f"Orientering om vedtak: {spec.title} (vår ref. {spec.case})",
        body=(
            f"Helsedirektoratet orienterer om vedtak etter høringen {spec.title}.\n\n"
            f"Endringene trer i kraft {format_date_nb(effective)}. Orienteringsbrevet og "
            "endringsoversikten er vedlagt.\n\nVennlig hilsen\nHelsedirektoratet\n"
        ),
    )
    return {
        "final_ids": final_ids,
        "letters": [str(letter_path), str(sheet_path)],
        "queued_messages": queued,
    }


def _apply_decisions(session, hearing, spec, decisions, effective, now) -> dict[str, str | None]:
    """Apply every decided item to the catalogue; item ref -> its final goal ID."""
    item_rows = {row.ref: row for row in items(session, hearing)}
    final_ids: dict[str, str | None] = {}
    for item in spec.items:
        decision = decisions.for_item(item.ref)
        assert decision is not None  # codify is refused while an item is undecided
        row = item_rows[item.ref]
        row.decision = decision.decision.value
        final_ids[item.ref] = _apply_item(session, spec, decisions, item, row, effective, now)
        row.final_goal_id = final_ids[item.ref]
        session.add(row)
    return final_ids


def _version_in_force(session: Session, goal_id: str, case: str) -> LearningGoalRow:
    """The goal's current version, which an amend, move or delete item changes."""
    current = current_version(session, goal_id)
    if current is None:
        raise UserError(
            f"hearing {case}: {goal_id} has no version in force to change; it was retired "
            "after the hearing was created: decide the item as 'drop'"
        )
    return current


def _apply_item(session, spec, decisions, item, row, effective, now) -> str | None:
    """Apply one decided change item to the catalogue; returns its final goal ID."""
    source = f"hearing:{spec.case}"
    decision = decisions.for_item(item.ref)
    dropped = decision.decision == Outcome.DROP
    if isinstance(item, NewGoal):
        return _add_new_goal(session, spec, decisions, item, row, effective, now)
    if dropped:
        return getattr(item, "goal_id", None)
    if isinstance(item, (AmendedText, MovedGoal, DeletedGoal)):
        current = _version_in_force(session, item.goal_id, spec.case)
        add_version(session, current, effective, source, **_changes(item, decision))
        return item.goal_id
    if isinstance(item, HeadingChange):
        query = select(LearningGoalRow).where(
            LearningGoalRow.catalogue_code == item.catalogue_code,
            LearningGoalRow.heading == item.old_heading,
            LearningGoalRow.status == "active",
            col(LearningGoalRow.valid_to).is_(None),
        )
        if item.training_part is not None:
            query = query.where(LearningGoalRow.training_part == item.training_part)
        for current in session.exec(query).all():
            add_version(session, current, effective, source, heading=item.new_heading)
        return None
    raise AssertionError(f"unknown change item {item!r}")


def _changes(item: AmendedText | MovedGoal | DeletedGoal, decision: Any) -> dict[str, Any]:
    """The columns the item's adopted change sets on the goal's next version: text,
    heading and training part as given; a deleted goal's version is retired."""
    if isinstance(item, DeletedGoal):
        return {"status": "retired"}
    changes: dict[str, Any] = {}
    if isinstance(item, AmendedText):
        changes["text"] = adopted_text(item, decision)[0]
        if item.heading is not None:
            changes["heading"] = item.heading
    else:
        changes["heading"] = item.to_heading
    if item.training_part is not None:
        changes["training_part"] = item.training_part
    return changes


def _add_new_goal(session, spec, decisions, item, row, effective, now) -> str | None:
    """A new goal takes its reserved ID (or the one a deferred reservation resolves to)
    and enters the catalogue at version 1; dropped, its reservation is burned."""
    source = f"hearing:{spec.case}"
    decision = decisions.for_item(item.ref)
    dropped = decision.decision == Outcome.DROP
    key = row.reservation_key
    if dropped:
        ledger.mark(session, key, "burned", to_db(now), "dropped at codification")
        return None
    if item.deferred:
        reservation = _resolve(session, key, decisions, item.ref, now)
    else:
        reservation = next(
            r for r in ledger.reservations_for_case(session, spec.case) if r.key == key
        )
    ledger.mark(session, key, "used", to_db(now))
    goal_id = reservation.goal_id
    if goal_id is None:  # _resolve gives a deferred reservation its ID, or refuses
        raise UserError(f"hearing {spec.case}: {key} has no learning-goal ID; resolve it first")
    text, elaboration = adopted_text(item, decision)
    level = level_of_text(text)
    session.add(
        LearningGoalRow(
            goal_id=str(goal_id),
            prefix=goal_id.prefix,
            number=goal_id.number,
            catalogue_code=item.catalogue_code,
            version=1,
            text=text,
            elaboration=elaboration or None,
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


def _resolve(session: Session, key: str, decisions, ref: str, now: datetime) -> ledger.Reservation:
    entry = decisions.for_item(ref)
    if entry.resolve_id in (None, RESOLVE_NEXT):
        return ledger.resolve_deferred(session, key, to_db(now))
    try:
        return ledger.resolve_deferred_to(
            session, key, entry.resolve_id, to_db(now), decisions.accept_unverified_ids
        )
    except ledger.LedgerError as exc:
        index = decisions.decisions.index(entry)
        raise decisions.source_map.error(("decisions", index, "resolve_id"), str(exc)) from None


def check_explicit_ids(session: Session, hearing, decisions: Decisions) -> None:
    """Refuse in one line (naming the decisions file line) an explicit `resolve_id` that
    the catalogue or ledger already holds, that two items share, or that lies above the
    verified floor without --accept-unverified-id. Read only: before the flow runs."""
    reservations = {r.key: r for r in ledger.reservations_for_case(session, hearing.case_number)}
    keys = {row.ref: row.reservation_key for row in items(session, hearing)}
    registry = ledger.registry(session)
    taken: dict[str, int] = {}
    for index, entry in enumerate(decisions.decisions):
        held = reservations.get(keys.get(entry.item) or "")
        if entry.resolve_id in (None, RESOLVE_NEXT) or held is None or held.status != "deferred":
            continue
        wanted = registry.parse(entry.resolve_id)
        path = ("decisions", index, "resolve_id")
        if str(wanted) in taken:
            raise decisions.source_map.error(
                path,
                f"{wanted} is also the resolve_id of decisions[{taken[str(wanted)]}]; "
                "give each deferred item its own ID or `next`",
            )
        taken[str(wanted)] = index
        problem, _ = ledger.explicit_id_problem(
            session, wanted.prefix, wanted.number, decisions.accept_unverified_ids
        )
        if problem:
            raise decisions.source_map.error(path, problem)
