"""Lifecycle rules of a hearing, on the 24/750 example: every transition and refusal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.calendar import OSLO
from domain.deadlines import check_deadline
from domain.decisions import Decisions, Outcome, parse_decisions
from domain.errors import TransitionRefused, UserError
from domain.hearing_spec import HearingSpec, parse_hearing_spec
from domain.lifecycle import (
    TRANSITIONS,
    Action,
    Command,
    HearingFacts,
    HearingState,
    Transition,
    allowed_actions,
    apply_command,
    resolve_effective_date,
)
from domain.reference import ReferenceData, Stakeholder, StakeholderGroup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hearings"
SPEC = parse_hearing_spec(
    (EXAMPLES / "24-750-kliniske-studier.yaml").read_text(encoding="utf-8"), "spec.yaml"
)
DECISIONS = parse_decisions((EXAMPLES / "24-750-vedtak.yaml").read_text(encoding="utf-8"), "v.yaml")
RESERVED = {
    "AMM": "AMM-068", "BLS": "BLS-154", "GER": "GER-064", "MED": "MED-106", "LUN": "LUN-061",
    "NYR": "NYR-067", "KIR": "KIR-174", "NKI": "NKI-037", "URO": "URO-090", "PED": "PED-165",
    "NEV": "NEV-068", "ONC": "ONC-069",
}  # fmt: skip
G = StakeholderGroup


def _stakeholder(key: str, name: str, group: G, specialty: str | None = None) -> Stakeholder:
    return Stakeholder(key, name, group, f"post@{key}.no", True, specialty=specialty)


RHFS = (
    _stakeholder("helse-sor-ost", "Helse Sør-Øst RHF", G.RHF),
    _stakeholder("helse-vest", "Helse Vest RHF", G.RHF),
    _stakeholder("helse-midt-norge", "Helse Midt-Norge RHF", G.RHF),
    _stakeholder("helse-nord", "Helse Nord RHF", G.RHF),
)
EVERYONE = (
    *RHFS,
    _stakeholder("regut-hso", "RegUt HSØ", G.REGUT),
    _stakeholder("legeforeningen", "Den norske legeforening", G.LEGEFORENINGEN),
    _stakeholder("uio-med", "Det medisinske fakultet, UiO", G.FAKULTET),
    _stakeholder("oslo-universitetssykehus", "Oslo universitetssykehus HF", G.HELSEFORETAK),
    _stakeholder("helse-bergen", "Helse Bergen HF", G.HELSEFORETAK),
    _stakeholder("st-olavs-hospital", "St. Olavs hospital HF", G.HELSEFORETAK),
    _stakeholder("universitetssykehuset-nord-norge", "UNN HF", G.HELSEFORETAK),
    *(
        _stakeholder(f"komite-{p.lower()}", f"Spesialitetskomiteen i {p}", G.SPESIALITETSKOMITE, p)
        for p in (*SPEC.affected_specialties, "ANE")
    ),
)
RECIPIENTS = SPEC.resolve_recipients(EVERYONE)

CIRCULATE_AT = datetime(2024, 4, 12, 10, 0, tzinfo=OSLO)  # Friday, seven weeks before 31.5
CODIFY_AT = datetime(2024, 9, 16, 14, 0, tzinfo=OSLO)
ALL_STATES = list(HearingState)


def oslo(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def facts(state: HearingState, **changes: Any) -> HearingFacts:
    base = HearingFacts(
        state=state,
        spec=SPEC,
        reserved_ids=RESERVED,
        recipients=RECIPIENTS,
        known_rhfs=RHFS,
        unreviewed_responses=0,
        decisions=DECISIONS,
        codified_on=date(2024, 9, 16),
        effective_date=date(2025, 9, 1),
    )
    return dataclasses.replace(base, **changes)


def spec_with(**changes: Any) -> HearingSpec:
    return SPEC.model_copy(update=changes)


def decisions_with(**changes: Any) -> Decisions:
    return DECISIONS.model_copy(update=changes)


def refused(hearing: HearingFacts, command: Command, now: datetime) -> str:
    with pytest.raises(TransitionRefused) as info:
        apply_command(hearing, command, now)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"cannot {command.action.value} hearing 24/750: ")
    return message


def cmd(action: Action, reason: str | None = None) -> Command:
    return Command(action, "marie.thoresen", reason)


# --- the whole way, 24/750 --------------------------------------------------------------------


def test_24_750_goes_from_draft_to_in_effect() -> None:
    steps = [
        (HearingState.DRAFT, Action.CIRCULATE, CIRCULATE_AT),
        (HearingState.CIRCULATED, Action.CLOSE, oslo(2024, 6, 1, 0, 0)),
        (HearingState.CLOSED, Action.REVIEW_DONE, oslo(2024, 6, 20)),
        (HearingState.REVIEWED, Action.CODIFY, CODIFY_AT),
        (HearingState.CODIFIED, Action.ACTIVATE, oslo(2025, 9, 1, 0, 5)),
    ]
    state = HearingState.DRAFT
    for expected_from, action, now in steps:
        assert state == expected_from
        result = apply_command(facts(state), cmd(action), now)
        assert isinstance(result, Transition)
        (event,) = result.events
        assert (event.from_state, event.to_state) == (state, result.new_state)
        assert (event.actor, event.at, event.action) == ("marie.thoresen", now, action)
        assert result.new_state == TRANSITIONS[action][1]
        state = result.new_state
    assert state == HearingState.IN_EFFECT


def test_circulation_records_ids_recipients_and_warns_below_three_months() -> None:
    result = apply_command(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), CIRCULATE_AT)
    assert result.new_state == HearingState.CIRCULATED
    details = result.events[0].details
    assert details["circulated_on"] == "2024-04-12"
    assert details["deadline"] == "2024-05-31"
    assert details["reserved_ids"]["BLS"] == "BLS-154"
    assert details["deferred"] == ["HJS"]
    assert "komite-hjs" in details["recipients"] and "komite-ane" not in details["recipients"]
    assert len(result.warnings) == 1
    assert "three months" in result.warnings[0] and "3-3" in result.warnings[0]


def test_circulation_three_months_ahead_has_no_warning() -> None:
    result = apply_command(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), oslo(2024, 2, 29))
    assert result.warnings == []


# --- wrong state ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state"),
    [
        (action, state)
        for action, (sources, _) in TRANSITIONS.items()
        for state in ALL_STATES
        if state not in sources
    ],
)
def test_a_command_in_the_wrong_state_is_refused(action: Action, state: HearingState) -> None:
    message = refused(facts(state), cmd(action, "grunn"), oslo(2026, 1, 5))
    assert f"it is {state.value}" in message


def test_allowed_actions_follow_the_table() -> None:
    assert allowed_actions(HearingState.DRAFT) == (Action.CIRCULATE, Action.WITHDRAW)
    assert allowed_actions(HearingState.CLOSED) == (Action.REVIEW_DONE, Action.WITHDRAW)
    assert allowed_actions(HearingState.REVIEWED) == (Action.CODIFY,)
    assert allowed_actions(HearingState.IN_EFFECT) == ()
    assert allowed_actions(HearingState.WITHDRAWN) == ()


def test_a_command_needs_an_actor_and_an_aware_time() -> None:
    message = refused(facts(HearingState.DRAFT), Command(Action.CIRCULATE, "  "), CIRCULATE_AT)
    assert "actor" in message
    with pytest.raises(ValueError):
        apply_command(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), datetime(2024, 4, 12))


def test_transition_refused_is_a_user_error() -> None:
    assert issubclass(TransitionRefused, UserError)


# --- circulate --------------------------------------------------------------------------------


def test_circulate_needs_every_non_deferred_id_reserved() -> None:
    reserved = {k: v for k, v in RESERVED.items() if k not in {"AMM", "ONC"}}
    message = refused(
        facts(HearingState.DRAFT, reserved_ids=reserved), cmd(Action.CIRCULATE), CIRCULATE_AT
    )
    assert "no goal ID reserved for AMM, ONC" in message
    assert "HJS" not in message  # deferred: needs none


def test_circulate_refuses_a_reservation_that_differs_from_expected_id() -> None:
    reserved = {**RESERVED, "KIR": "KIR-175"}
    message = refused(
        facts(HearingState.DRAFT, reserved_ids=reserved), cmd(Action.CIRCULATE), CIRCULATE_AT
    )
    assert "KIR-175" in message and "KIR-174" in message


def test_circulate_names_a_missing_rhf() -> None:
    recipients = tuple(s for s in RECIPIENTS if s.key != "helse-nord")
    message = refused(
        facts(HearingState.DRAFT, recipients=recipients), cmd(Action.CIRCULATE), CIRCULATE_AT
    )
    assert "Helse Nord RHF" in message and "§ 6" in message
    assert "Helse Vest RHF" not in message


def test_circulate_needs_known_rhfs() -> None:
    message = refused(facts(HearingState.DRAFT, known_rhfs=()), cmd(Action.CIRCULATE), CIRCULATE_AT)
    assert "RHF" in message


def test_circulate_names_missing_specialty_committees() -> None:
    recipients = tuple(s for s in RECIPIENTS if s.key not in {"komite-bls", "komite-onc"})
    message = refused(
        facts(HearingState.DRAFT, recipients=recipients), cmd(Action.CIRCULATE), CIRCULATE_AT
    )
    assert "spesialitetskomité of BLS, ONC" in message


@pytest.mark.parametrize(
    ("deadline", "suggested", "why"),
    [
        (date(2024, 5, 17), "2024-05-21", "Grunnlovsdag"),  # 18-19 weekend, 20 Andre pinsedag
        (date(2024, 6, 1), "2024-06-03", "lørdag"),
        (date(2024, 6, 2), "2024-06-03", "søndag"),
        (date(2024, 5, 9), "2024-05-10", "Kristi himmelfartsdag"),
    ],
)
def test_circulate_refuses_a_deadline_on_a_day_off(
    deadline: date, suggested: str, why: str
) -> None:
    hearing = facts(HearingState.DRAFT, spec=spec_with(deadline=deadline))
    message = refused(hearing, cmd(Action.CIRCULATE), oslo(2024, 3, 1))
    assert f"the deadline {deadline.isoformat()} is not a working day ({why})" in message
    assert f"move it to {suggested}" in message


def test_circulate_refuses_a_deadline_before_circulation() -> None:
    message = refused(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), oslo(2024, 6, 3))
    assert "not after the circulation date 2024-06-03" in message


def test_circulate_refuses_less_than_six_weeks_without_a_reason() -> None:
    message = refused(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), oslo(2024, 4, 20))
    assert "less than six weeks" in message and "short_deadline_reason" in message


def test_six_weeks_exactly_is_enough() -> None:
    result = apply_command(facts(HearingState.DRAFT), cmd(Action.CIRCULATE), oslo(2024, 4, 19))
    assert result.new_state == HearingState.CIRCULATED


def test_a_short_deadline_with_a_reason_is_allowed_with_a_warning() -> None:
    spec = spec_with(short_deadline_reason="Endringen må inn før opptaket høsten 2024.")
    result = apply_command(
        facts(HearingState.DRAFT, spec=spec), cmd(Action.CIRCULATE), oslo(2024, 5, 2)
    )
    assert result.new_state == HearingState.CIRCULATED
    assert "opptaket høsten 2024" in result.warnings[0]
    assert result.events[0].details["short_deadline_reason"].startswith("Endringen")


def test_circulate_lists_every_missing_condition_in_one_line() -> None:
    hearing = facts(HearingState.DRAFT, reserved_ids={}, spec=spec_with(deadline=date(2024, 5, 17)))
    message = refused(hearing, cmd(Action.CIRCULATE), CIRCULATE_AT)
    assert "no goal ID reserved" in message and "not a working day" in message


def test_check_deadline_alone() -> None:
    problems, warnings = check_deadline(date(2024, 7, 15), date(2024, 4, 12), None)
    assert (problems, warnings) == ([], [])
    problems, warnings = check_deadline(date(2024, 4, 12), date(2024, 4, 12), "reason")
    assert len(problems) == 1 and warnings == []


# --- close ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (oslo(2024, 5, 31, 23, 59), False),
        (oslo(2024, 6, 1, 0, 0), True),
        (datetime(2024, 5, 31, 21, 59, tzinfo=UTC), False),  # 23:59 in Oslo (CEST)
        (datetime(2024, 5, 31, 22, 0, tzinfo=UTC), True),  # 00:00 in Oslo
        (oslo(2024, 5, 2), False),
    ],
)
def test_close_only_after_the_end_of_the_deadline_day_in_oslo(now: datetime, allowed: bool) -> None:
    hearing = facts(HearingState.CIRCULATED)
    if allowed:
        assert apply_command(hearing, cmd(Action.CLOSE), now).new_state == HearingState.CLOSED
    else:
        message = refused(hearing, cmd(Action.CLOSE), now)
        assert "2024-06-01 00:00 Europe/Oslo" in message


# --- review -----------------------------------------------------------------------------------


def test_review_done_needs_every_response_reviewed() -> None:
    message = refused(
        facts(HearingState.CLOSED, unreviewed_responses=3),
        cmd(Action.REVIEW_DONE),
        oslo(2024, 6, 10),
    )
    assert "3 response(s) not reviewed" in message


def test_review_done_when_nothing_is_left_unreviewed() -> None:
    # Zero unreviewed also covers a hearing that got no responses at all.
    hearing = facts(HearingState.CLOSED, unreviewed_responses=0)
    assert (
        apply_command(hearing, cmd(Action.REVIEW_DONE), oslo(2024, 6, 10)).new_state
        == HearingState.REVIEWED
    )


# --- codify -----------------------------------------------------------------------------------


def test_codify_uses_the_decisions_effective_date() -> None:
    result = apply_command(facts(HearingState.REVIEWED), cmd(Action.CODIFY), CODIFY_AT)
    assert result.new_state == HearingState.CODIFIED
    assert result.effective_date == date(2025, 9, 1)
    details = result.events[0].details
    assert details["effective_date_source"] == "decisions"
    assert details["decisions"] == {"adopt": 13, "adopt_amended": 0, "drop": 0}
    assert details["deferred_id_resolutions"] == {"HJS": "next"}


@pytest.mark.parametrize(
    ("codified", "expected"),
    [(oslo(2024, 9, 16), date(2025, 9, 1)), (oslo(2024, 8, 30), date(2025, 3, 1))],
)
def test_codify_defaults_the_effective_date(codified: datetime, expected: date) -> None:
    hearing = facts(
        HearingState.REVIEWED,
        spec=spec_with(effective_date=None),
        decisions=decisions_with(effective_date=None, decided_on=date(2024, 8, 20)),
    )
    result = apply_command(hearing, cmd(Action.CODIFY), codified)
    assert result.effective_date == expected
    assert result.events[0].details["effective_date_source"] == "default"


def test_codify_falls_back_to_the_specs_effective_date() -> None:
    date_, source = resolve_effective_date(
        SPEC, decisions_with(effective_date=None), date(2024, 9, 16)
    )
    assert (date_, source) == (date(2025, 9, 1), "spec")


def test_codify_needs_decisions() -> None:
    message = refused(facts(HearingState.REVIEWED, decisions=None), cmd(Action.CODIFY), CODIFY_AT)
    assert "no decisions" in message


def test_codify_needs_a_decision_for_every_item() -> None:
    decisions = decisions_with(decisions=[d for d in DECISIONS.decisions if d.item != "URO"])
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions), cmd(Action.CODIFY), CODIFY_AT
    )
    assert "no decision for item 'URO'" in message


def test_codify_refuses_decisions_for_unknown_items() -> None:
    extra = DECISIONS.decisions[0].model_copy(update={"item": "XYZ"})
    decisions = decisions_with(decisions=[*DECISIONS.decisions, extra])
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions), cmd(Action.CODIFY), CODIFY_AT
    )
    assert "no change item 'XYZ'" in message


def test_codify_needs_the_deferred_id_resolved() -> None:
    items = [d.model_copy(update={"resolve_id": None}) for d in DECISIONS.decisions]
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions_with(decisions=items)),
        cmd(Action.CODIFY),
        CODIFY_AT,
    )
    assert "ID of 'HJS' was deferred" in message and "resolve_id" in message


def test_a_dropped_deferred_item_needs_no_resolution() -> None:
    items = [
        d.model_copy(update={"decision": Outcome.DROP, "resolve_id": None})
        if d.item == "HJS"
        else d
        for d in DECISIONS.decisions
    ]
    result = apply_command(
        facts(HearingState.REVIEWED, decisions=decisions_with(decisions=items)),
        cmd(Action.CODIFY),
        CODIFY_AT,
    )
    assert result.events[0].details["decisions"]["drop"] == 1


def test_codify_refuses_an_unusual_effective_date_without_a_reason() -> None:
    decisions = decisions_with(effective_date=date(2025, 8, 15))
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions), cmd(Action.CODIFY), CODIFY_AT
    )
    assert "not 1 March or 1 September" in message and "effective_date_reason" in message
    with_reason = decisions_with(
        effective_date=date(2025, 8, 15), effective_date_reason="Studiestart."
    )
    result = apply_command(
        facts(HearingState.REVIEWED, decisions=with_reason), cmd(Action.CODIFY), CODIFY_AT
    )
    assert result.effective_date == date(2025, 8, 15)
    assert result.events[0].details["effective_date_reason"] == "Studiestart."


def test_codify_refuses_an_effective_date_not_after_codification() -> None:
    decisions = decisions_with(effective_date=date(2024, 9, 1))
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions), cmd(Action.CODIFY), CODIFY_AT
    )
    assert "not after the codification date 2024-09-16" in message


def test_codify_refuses_decisions_dated_in_the_future_or_before_the_deadline() -> None:
    future = decisions_with(decided_on=date(2024, 9, 17))
    assert "after today" in refused(
        facts(HearingState.REVIEWED, decisions=future), cmd(Action.CODIFY), CODIFY_AT
    )
    early = decisions_with(decided_on=date(2024, 5, 31))
    assert "not after the deadline" in refused(
        facts(HearingState.REVIEWED, decisions=early), cmd(Action.CODIFY), CODIFY_AT
    )


def test_codify_refuses_decisions_of_another_case() -> None:
    message = refused(
        facts(HearingState.REVIEWED, decisions=decisions_with(case="24/751")),
        cmd(Action.CODIFY),
        CODIFY_AT,
    )
    assert "case 24/751" in message


# --- activate ---------------------------------------------------------------------------------


def test_activate_not_before_the_effective_date() -> None:
    message = refused(facts(HearingState.CODIFIED), cmd(Action.ACTIVATE), oslo(2025, 8, 31, 23, 59))
    assert "2025-09-01 has not come" in message
    result = apply_command(
        facts(HearingState.CODIFIED), cmd(Action.ACTIVATE), oslo(2025, 9, 1, 0, 0)
    )
    assert result.new_state == HearingState.IN_EFFECT


def test_activate_works_out_the_effective_date_when_none_was_stored() -> None:
    hearing = facts(
        HearingState.CODIFIED,
        effective_date=None,
        spec=spec_with(effective_date=None),
        decisions=decisions_with(effective_date=None),
        codified_on=date(2024, 8, 30),
    )
    assert apply_command(hearing, cmd(Action.ACTIVATE), oslo(2025, 3, 1)).effective_date == date(
        2025, 3, 1
    )
    refused(hearing, cmd(Action.ACTIVATE), oslo(2025, 2, 28))
    unknown = dataclasses.replace(hearing, codified_on=None)
    assert "unknown" in refused(unknown, cmd(Action.ACTIVATE), oslo(2026, 1, 5))


# --- withdraw ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [HearingState.DRAFT, HearingState.CIRCULATED, HearingState.CLOSED]
)
def test_withdraw_from_an_open_state_keeps_ids_burned(state: HearingState) -> None:
    result = apply_command(facts(state), cmd(Action.WITHDRAW, "Saken utsettes."), oslo(2024, 5, 2))
    assert result.new_state == HearingState.WITHDRAWN
    event = result.events[0]
    assert event.reason == "Saken utsettes."
    assert event.details["burned_ids"] == sorted(RESERVED.values())
    assert "never" in event.details["note"]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_withdraw_needs_a_reason(reason: str | None) -> None:
    message = refused(facts(HearingState.DRAFT), cmd(Action.WITHDRAW, reason), oslo(2024, 5, 2))
    assert "no reason" in message


def test_24_750_circulates_with_the_recipients_of_the_reference_data(
    reference_data: ReferenceData,
) -> None:
    stakeholders = reference_data.stakeholders
    hearing = facts(
        HearingState.DRAFT,
        recipients=SPEC.resolve_recipients(stakeholders),
        known_rhfs=tuple(s for s in stakeholders if s.group == G.RHF),
    )
    assert len(hearing.known_rhfs) == 4
    result = apply_command(hearing, cmd(Action.CIRCULATE), CIRCULATE_AT)
    assert result.new_state == HearingState.CIRCULATED
    assert "spesialitetskomite-hjs" in result.events[0].details["recipients"]
