"""What a state-changing command checks before Prefect is imported: only the database.

A lifecycle step is previewed with the same rule the flow applies
(`domain.lifecycle.apply_command` on the stored facts) in a read-only session, so an
unknown case, a wrong state or a date before the deadline is refused in one line
without a flow run. The flow checks again in its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from domain.calendar import oslo_date
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.lifecycle import TRANSITIONS, Action, Command, apply_command
from services import hearings, runtime
from services.codification import check_explicit_ids
from services.spec_checks import check_spec_references
from storage.db import read_session


def check_step(
    case: str,
    action: Action,
    actor: str,
    now: datetime,
    reason: str | None = None,
    decisions: Decisions | None = None,
) -> None:
    """Raise the step's refusal (a UserError) if it cannot happen at `now`."""
    with read_session(runtime.engine()) as session:
        hearing = hearings.get_hearing(session, case)
        if hearing.state == TRANSITIONS[action][1].value:
            return  # already done, or done by another path: the flow says which
        if decisions is not None:
            decisions.check_against(hearings.load_spec(hearing))
            check_explicit_ids(session, hearing, decisions)
        facts = hearings.gather_facts(session, hearing, decisions)
        apply_command(facts, Command(action, actor, reason), now)


def check_revision(case: str, spec: HearingSpec, source: str) -> None:
    """Raise the refusal of `hearing revise` (unknown case, not a draft, another case)."""
    with read_session(runtime.engine()) as session:
        refusal = hearings.revise_refusal(hearings.get_hearing(session, case), spec, source)
    if refusal is not None:
        raise refusal


def check_spec(spec: HearingSpec, now: datetime) -> None:
    """Raise the spec's first reference or catalogue problem (a UserError) at `now`, with
    the check creation makes (`services.spec_checks`), before Prefect is imported."""
    with read_session(runtime.engine()) as session:
        try:
            hearings.get_hearing(session, spec.case)
            return  # the same spec again, or another one: creation says which
        except hearings.HearingNotFound:
            pass
        check_spec_references(session, spec, oslo_date(now))
