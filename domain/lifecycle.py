"""The lifecycle of one hearing as pure rules.

    draft -> circulated -> closed -> reviewed -> codified -> in_effect
    draft | circulated | closed -> withdrawn

`apply_command(facts, command, now)` checks one command against the facts the caller
(storage) gathered and returns the new state, the audit event to record and any
warnings, or raises `TransitionRefused` with one line naming what is missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.calendar import OSLO, oslo_date
from domain.deadlines import check_deadline, deadline_ends
from domain.decisions import RESOLVE_NEXT, Decisions, Outcome
from domain.effective_date import default_effective_date, is_standard_effective_date
from domain.errors import TransitionRefused
from domain.hearing_spec import HearingSpec
from domain.reference import Stakeholder, StakeholderGroup


class HearingState(StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    CLOSED = "closed"
    REVIEWED = "reviewed"
    CODIFIED = "codified"
    IN_EFFECT = "in_effect"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    CIRCULATE = "circulate"
    CLOSE = "close"
    REVIEW_DONE = "review_done"
    CODIFY = "codify"
    ACTIVATE = "activate"
    WITHDRAW = "withdraw"


S = HearingState
TRANSITIONS: Mapping[Action, tuple[frozenset[HearingState], HearingState]] = {
    Action.CIRCULATE: (frozenset({S.DRAFT}), S.CIRCULATED),
    Action.CLOSE: (frozenset({S.CIRCULATED}), S.CLOSED),
    Action.REVIEW_DONE: (frozenset({S.CLOSED}), S.REVIEWED),
    Action.CODIFY: (frozenset({S.REVIEWED}), S.CODIFIED),
    Action.ACTIVATE: (frozenset({S.CODIFIED}), S.IN_EFFECT),
    Action.WITHDRAW: (frozenset({S.DRAFT, S.CIRCULATED, S.CLOSED}), S.WITHDRAWN),
}
_STATE_ORDER = list(HearingState)


@dataclass(frozen=True)
class Command:
    action: Action
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class HearingFacts:
    """What the caller knows about one hearing when a command arrives.

    `reserved_ids` maps a change item's ref to the goal ID the ledger reserved for it.
    `recipients` are the resolved stakeholders (groups expanded, committees included);
    `known_rhfs` are all regional health authorities in the reference data;
    `all_committees` are every specialty's committee when an item changes a catalogue
    common to all specialties (FKM), else empty.
    """

    state: HearingState
    spec: HearingSpec
    reserved_ids: Mapping[str, str] = field(default_factory=dict)
    recipients: tuple[Stakeholder, ...] = ()
    known_rhfs: tuple[Stakeholder, ...] = ()
    all_committees: tuple[Stakeholder, ...] = ()
    unreviewed_responses: int = 0
    decisions: Decisions | None = None
    codified_on: date | None = None
    effective_date: date | None = None


@dataclass(frozen=True)
class AuditEventDraft:
    """One audit event to store with the state change (same transaction)."""

    action: Action
    actor: str
    at: datetime
    from_state: HearingState
    to_state: HearingState
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    new_state: HearingState
    events: list[AuditEventDraft]
    warnings: list[str] = field(default_factory=list)
    effective_date: date | None = None  # set by codify


@dataclass(frozen=True)
class _Outcome:
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    effective_date: date | None = None


def allowed_actions(state: HearingState) -> tuple[Action, ...]:
    """The commands that may apply in `state` (their conditions still have to hold)."""
    return tuple(action for action, (sources, _) in TRANSITIONS.items() if state in sources)


def apply_command(facts: HearingFacts, command: Command, now: datetime) -> Transition:
    """Check `command` against `facts` at `now` (aware) and return the transition."""
    if now.tzinfo is None:
        raise ValueError("apply_command needs an aware datetime")
    case = facts.spec.case
    sources, target = TRANSITIONS[command.action]
    if facts.state not in sources:
        allowed = ", ".join(s.value for s in _STATE_ORDER if s in sources)
        raise TransitionRefused(
            f"cannot {command.action.value} hearing {case}: it is {facts.state.value}; "
            f"{command.action.value} applies only to a hearing that is {allowed}"
        )
    if not command.actor.strip():
        raise TransitionRefused(
            f"cannot {command.action.value} hearing {case}: no actor; say who does it"
        )
    outcome = _CHECKS[command.action](facts, command, now)
    event = AuditEventDraft(
        action=command.action,
        actor=command.actor,
        at=now,
        from_state=facts.state,
        to_state=target,
        reason=command.reason,
        details=outcome.details,
    )
    return Transition(target, [event], outcome.warnings, outcome.effective_date)


def _refuse(facts: HearingFacts, action: Action, problems: list[str]) -> None:
    if problems:
        raise TransitionRefused(
            f"cannot {action.value} hearing {facts.spec.case}: " + "; ".join(problems)
        )


# --- circulate -----------------------------------------------------------------------------


def _circulate(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    spec = facts.spec
    today = oslo_date(now)
    problems: list[str] = []

    missing_ids = [
        g.ref for g in spec.new_goals if not g.deferred and g.ref not in facts.reserved_ids
    ]
    if missing_ids:
        problems.append(
            f"no goal ID reserved for {', '.join(missing_ids)}; reserve them in the ID ledger"
        )
    for goal in spec.new_goals:
        got = facts.reserved_ids.get(goal.ref)
        if got and goal.expected_id and got != goal.expected_id:
            problems.append(
                f"{goal.ref} has ID {got} reserved but the spec expects {goal.expected_id}; "
                "fix expected_id or the reservation"
            )

    problems.extend(_recipient_problems(facts))
    deadline_problems, warnings = check_deadline(spec.deadline, today, spec.short_deadline_reason)
    problems.extend(deadline_problems)
    _refuse(facts, Action.CIRCULATE, problems)
    details = {
        "circulated_on": today.isoformat(),
        "deadline": spec.deadline.isoformat(),
        "reserved_ids": dict(sorted(facts.reserved_ids.items())),
        "deferred": [g.ref for g in spec.new_goals if g.deferred],
        "recipients": [s.key for s in facts.recipients],
    }
    if spec.short_deadline_reason:
        details["short_deadline_reason"] = spec.short_deadline_reason
    return _Outcome(details=details, warnings=warnings)


def _recipient_problems(facts: HearingFacts) -> list[str]:
    """Spesialistforskriften § 6: every RHF and the spesialitetskomité of each affected
    specialty must be asked."""
    problems: list[str] = []
    keys = {s.key for s in facts.recipients}
    if not facts.known_rhfs:
        problems.append("no regional health authority (RHF) known; load the stakeholder list")
    missing_rhfs = [s.name for s in facts.known_rhfs if s.key not in keys]
    if missing_rhfs:
        problems.append(
            f"recipients lack {', '.join(missing_rhfs)} (every RHF must be asked, "
            "spesialistforskriften § 6); add group rhf to recipients"
        )
    covered = {
        s.specialty for s in facts.recipients if s.group == StakeholderGroup.SPESIALITETSKOMITE
    }
    missing = [p for p in facts.spec.affected_specialties if p not in covered]
    missing += [
        s.specialty for s in facts.all_committees if s.specialty and s.specialty not in covered
    ]
    missing = list(dict.fromkeys(missing))
    if missing:
        problems.append(
            f"recipients lack the spesialitetskomité of {', '.join(missing)} "
            "(spesialistforskriften § 6); set recipients.committees_for_affected_specialties: "
            "true or add the committees to the stakeholder list"
        )
    return problems


# --- close, review ---------------------------------------------------------------------------


def _close(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    deadline = facts.spec.deadline
    opens = deadline_ends(deadline)
    if now < opens:
        _refuse(
            facts,
            Action.CLOSE,
            [
                f"the deadline {deadline.isoformat()} has not ended; close on or after "
                f"{opens:%Y-%m-%d %H:%M} Europe/Oslo"
            ],
        )
    return _Outcome(
        details={"deadline": deadline.isoformat(), "closed_at": now.astimezone(OSLO).isoformat()}
    )


def _review_done(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    if facts.unreviewed_responses > 0:
        _refuse(
            facts,
            Action.REVIEW_DONE,
            [
                f"{facts.unreviewed_responses} response(s) not reviewed; give each a stance "
                "and tags first"
            ],
        )
    return _Outcome()


# --- codify, activate ------------------------------------------------------------------------


def resolve_effective_date(
    spec: HearingSpec, decisions: Decisions | None, codified_on: date
) -> tuple[date, str]:
    """The effective date and where it comes from: 'decisions', 'spec' or 'default'."""
    if decisions is not None and decisions.effective_date is not None:
        return decisions.effective_date, "decisions"
    if spec.effective_date is not None:
        return spec.effective_date, "spec"
    return default_effective_date(codified_on), "default"


def _codify(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    decisions = facts.decisions
    if decisions is None:
        _refuse(facts, Action.CODIFY, ["no decisions file; load the decisions (vedtak) first"])
    assert decisions is not None
    spec = facts.spec
    today = oslo_date(now)
    problems = [decisions.describe(p) for p in decisions.problems_against(spec)]
    if decisions.decided_on > today:
        problems.append(
            f"the decisions are dated {decisions.decided_on.isoformat()}, after today "
            f"({today.isoformat()}); codify on or after that date or fix decided_on"
        )
    if decisions.decided_on <= spec.deadline:
        problems.append(
            f"the decisions are dated {decisions.decided_on.isoformat()}, not after the "
            f"deadline {spec.deadline.isoformat()}; fix decided_on"
        )
    effective, source = resolve_effective_date(spec, decisions, today)
    if effective <= today:
        problems.append(
            f"the effective date {effective.isoformat()} ({source}) is not after the "
            f"codification date {today.isoformat()}; set a later effective_date in the decisions"
        )
    if not is_standard_effective_date(effective) and decisions.effective_date_reason is None:
        problems.append(
            f"the effective date {effective.isoformat()} ({source}) is not 1 March or "
            "1 September; use one of those or give effective_date_reason in the decisions"
        )
    _refuse(facts, Action.CODIFY, problems)

    counts = Counter(d.decision.value for d in decisions.decisions)
    resolutions = {d.item: d.resolve_id for d in decisions.decisions if d.resolve_id is not None}
    details: dict[str, Any] = {
        "codified_on": today.isoformat(),
        "decided_on": decisions.decided_on.isoformat(),
        "effective_date": effective.isoformat(),
        "effective_date_source": source,
        "decisions": {o.value: counts.get(o.value, 0) for o in Outcome},
        "deferred_id_resolutions": resolutions,
    }
    if decisions.effective_date_reason:
        details["effective_date_reason"] = decisions.effective_date_reason
    if any(r == RESOLVE_NEXT for r in resolutions.values()):
        details["note"] = "deferred IDs marked 'next' take the next free number from the ledger"
    return _Outcome(details=details, effective_date=effective)


def _activate(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    today = oslo_date(now)
    effective = facts.effective_date
    if effective is None and facts.codified_on is not None:
        effective, _ = resolve_effective_date(facts.spec, facts.decisions, facts.codified_on)
    if effective is None:
        _refuse(facts, Action.ACTIVATE, ["the effective date is unknown; codify first"])
    assert effective is not None
    if today < effective:
        _refuse(
            facts,
            Action.ACTIVATE,
            [
                f"the effective date {effective.isoformat()} has not come; activate on or "
                f"after it (today is {today.isoformat()})"
            ],
        )
    return _Outcome(details={"effective_date": effective.isoformat()}, effective_date=effective)


# --- withdraw --------------------------------------------------------------------------------


def _withdraw(facts: HearingFacts, command: Command, now: datetime) -> _Outcome:
    if not (command.reason or "").strip():
        _refuse(facts, Action.WITHDRAW, ["no reason given; say why the hearing is withdrawn"])
    burned = sorted(facts.reserved_ids.values())
    details: dict[str, Any] = {"burned_ids": burned}
    if burned:
        details["note"] = "reserved IDs stay used in the ledger and are never given to another goal"
    return _Outcome(details=details)


_CHECKS = {
    Action.CIRCULATE: _circulate,
    Action.CLOSE: _close,
    Action.REVIEW_DONE: _review_done,
    Action.CODIFY: _codify,
    Action.ACTIVATE: _activate,
    Action.WITHDRAW: _withdraw,
}
