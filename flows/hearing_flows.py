"""Prefect flows of the hearing lifecycle: one flow per step, each one storage transaction.

The same functions run from the CLI (a direct call against the Prefect API), from the
Prefect UI (a run of the step's deployment, with a typed parameter form) and on a
schedule. Every flow is safe to run again: a transition already made is reported as
done, and creation of an identical spec returns the stored hearing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from domain.calendar import oslo_date
from domain.decisions import parse_decisions
from domain.errors import UserError
from domain.hearing_spec import parse_hearing_spec
from domain.lifecycle import Action, Command
from flows.params import AsOf, iso, moment
from services import hearings, runtime, verification
from services.files import read_text_file as _read
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow

DEFAULT_ACTOR = "prefect"  # who acts when a run is started from the UI without one


def _letters_dir() -> Path:
    return runtime.settings().data_dir / "letters"


@task(name="store-hearing", cache_policy=NO_CACHE)
def store_hearing(
    spec_path: str, actor: str, as_of: str, reuse_withdrawn_case: bool = False
) -> dict[str, Any]:
    text = _read(spec_path, "hearing spec")
    spec = parse_hearing_spec(text, spec_path)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        row, created = hearings.create_hearing(
            session, spec, text, spec_path, now, actor, reuse_withdrawn_case
        )
        ids = hearings.id_displays(session, row)
        warnings = verification.hearing_warnings(session, row)
        return {
            "case": row.case_number,
            "created": created,
            "state": row.state,
            "ids": ids,
            "warnings": warnings,
        }


@task(name="store-revision", cache_policy=NO_CACHE)
def store_revision(case: str, spec_path: str, actor: str, as_of: str) -> dict[str, Any]:
    text = _read(spec_path, "hearing spec")
    spec = parse_hearing_spec(text, spec_path)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        result = hearings.revise_hearing(session, case, spec, text, spec_path, now, actor)
        warnings = verification.hearing_warnings(session, hearings.get_hearing(session, case))
        return {**result, "warnings": warnings}


@task(name="apply-transition", cache_policy=NO_CACHE)
def apply_transition(
    case: str,
    action: str,
    actor: str,
    as_of: str,
    reason: str | None = None,
    decisions_path: str | None = None,
    accept_unverified_id: bool = False,
) -> dict[str, Any]:
    decisions = None
    if decisions_path is not None:
        decisions = parse_decisions(_read(decisions_path, "decisions"), decisions_path)
        decisions.accepting_unverified_ids(accept_unverified_id)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        result = hearings.transition(
            session, case, Command(Action(action), actor, reason), now, _letters_dir(), decisions
        )
    return result.as_json()


def _report(title: str, result: dict[str, Any]) -> None:
    lines = [f"# {title}", ""]
    lines += [f"- **{key}**: {value}" for key, value in result.items()]
    create_markdown_artifact("\n".join(lines), description=title)


def _step(action: Action, case: str, actor: str, as_of: AsOf, **extra: Any) -> dict:
    result = apply_transition(case, action.value, actor, iso(as_of), **extra)
    _report(f"Høring {case}: {action.value}", result)
    return result


@flow(name="create-hearing", flow_run_name="create {spec_path}")
def create_hearing(
    spec_path: str,
    actor: str = DEFAULT_ACTOR,
    as_of: AsOf = None,
    reuse_withdrawn_case: bool = False,
):
    """Opprett en høring i utkast fra høringsspesifikasjonen (YAML) og reserver ID-ene.
    Saksnummeret til en tilbaketrukket høring brukes bare med reuse_withdrawn_case."""
    result = store_hearing(spec_path, actor, iso(as_of), reuse_withdrawn_case)
    _report(f"Høring {result['case']} opprettet", result)
    return result


@flow(name="revise-hearing", flow_run_name="revise {case}")
def revise_hearing(case: str, spec_path: str, actor: str = DEFAULT_ACTOR, as_of: AsOf = None):
    """Erstatt utkastets høringsspesifikasjon; uendrede punkter beholder ID-ene sine."""
    result = store_revision(case, spec_path, actor, iso(as_of))
    _report(f"Høring {case} revidert", result)
    return result


@flow(name="circulate-hearing", flow_run_name="circulate {case}")
def circulate_hearing(case: str, actor: str = DEFAULT_ACTOR, as_of: AsOf = None):
    """Send høringen ut: høringsbrev og én e-post per mottaker i utboksen."""
    return _step(Action.CIRCULATE, case, actor, as_of)


@flow(name="close-hearing", flow_run_name="close {case}")
def close_hearing(case: str, actor: str = DEFAULT_ACTOR, as_of: AsOf = None):
    """Lukk høringen når fristdagen er over (Europe/Oslo)."""
    return _step(Action.CLOSE, case, actor, as_of)


@flow(name="complete-review", flow_run_name="complete review {case}")
def complete_review(case: str, actor: str = DEFAULT_ACTOR, as_of: AsOf = None):
    """Marker gjennomgangen av høringssvarene som ferdig."""
    return _step(Action.REVIEW_DONE, case, actor, as_of)


@flow(name="codify-hearing", flow_run_name="codify {case}")
def codify_hearing(
    case: str,
    decisions_path: str,
    actor: str = DEFAULT_ACTOR,
    as_of: AsOf = None,
    accept_unverified_id: bool = False,
):
    """Vedta: katalogen får de nye læringsmålene fra ikrafttredelsesdatoen."""
    return _step(
        Action.CODIFY,
        case,
        actor,
        as_of,
        decisions_path=decisions_path,
        accept_unverified_id=accept_unverified_id,
    )


@flow(name="withdraw-hearing", flow_run_name="withdraw {case}")
def withdraw_hearing(case: str, reason: str, actor: str = DEFAULT_ACTOR, as_of: AsOf = None):
    """Trekk høringen tilbake; reserverte ID-er forblir brukt."""
    return _step(Action.WITHDRAW, case, actor, as_of, reason=reason)


def _cases_in(state: str) -> list[str]:
    """Cases in `state` (read only; each is re-checked by its transition)."""
    from sqlmodel import select

    with read_session(runtime.engine()) as session:
        rows = session.exec(select(HearingRow).where(HearingRow.state == state)).all()
        return [row.case_number for row in rows]


def _sweep(action: Action, state: str, actor: str, as_of: AsOf) -> dict:
    done, waiting = [], []
    for case in _cases_in(state):
        try:
            result = apply_transition(case, action.value, actor, iso(as_of))
        except UserError as refusal:  # not yet due: say why, carry on with the others
            waiting.append({"case": case, "reason": str(refusal)})
            continue
        done.append(result)
    summary = {
        "as_of": oslo_date(moment(as_of)).isoformat(),
        "done": [r["case"] for r in done if not r["already_done"]],
        "waiting": waiting,
    }
    _report(f"{action.value}: {len(summary['done'])} høringer", summary)
    return summary


@flow(name="close-due-hearings", flow_run_name="close due hearings")
def close_due_hearings(as_of: AsOf = None, actor: str = "scheduler") -> dict:
    """Lukk alle utsendte høringer der fristdagen er over (Europe/Oslo)."""
    return _sweep(Action.CLOSE, "circulated", actor, as_of)


@flow(name="activate-goals", flow_run_name="activate goals")
def activate_goals(as_of: AsOf = None, actor: str = "scheduler") -> dict:
    """Sett vedtatte læringsmål i kraft på ikrafttredelsesdatoen."""
    return _sweep(Action.ACTIVATE, "codified", actor, as_of)
