"""Prefect flows of the hearing lifecycle. Thin: each step is one storage transaction.

Every flow is safe to run again: a transition already made is reported as done, and
creation of an identical spec returns the stored hearing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact

from domain.calendar import oslo_date
from domain.decisions import parse_decisions
from domain.errors import UserError
from domain.hearing_spec import parse_hearing_spec
from domain.lifecycle import Action, Command
from services import hearings, runtime
from services.files import read_text_file as _read
from storage.db import write_session
from storage.hearing_models import HearingRow


def _letters_dir() -> Path:
    return runtime.settings().data_dir / "letters"


@task(name="store-hearing")
def store_hearing(spec_path: str, actor: str, as_of: str | None) -> dict[str, Any]:
    text = _read(spec_path, "hearing spec")
    spec = parse_hearing_spec(text, spec_path)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        row, created = hearings.create_hearing(session, spec, text, spec_path, now, actor)
        ids = hearings.id_displays(session, row)
        return {"case": row.case_number, "created": created, "state": row.state, "ids": ids}


@task(name="apply-transition")
def apply_transition(
    case: str,
    action: str,
    actor: str,
    as_of: str | None,
    reason: str | None = None,
    decisions_path: str | None = None,
) -> dict[str, Any]:
    decisions = None
    if decisions_path is not None:
        decisions = parse_decisions(_read(decisions_path, "decisions"), decisions_path)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        result = hearings.transition(
            session,
            case,
            Command(Action(action), actor, reason),
            now,
            _letters_dir(),
            decisions,
        )
    return result.as_json()


async def _report(title: str, result: dict[str, Any]) -> None:
    lines = [f"# {title}", ""]
    for key, value in result.items():
        lines.append(f"- **{key}**: {value}")
    await acreate_markdown_artifact("\n".join(lines), description=title)


@flow(name="hearing-create")
async def create_hearing_flow(spec_path: str, actor: str, as_of: str | None = None) -> dict:
    result = store_hearing(spec_path, actor, as_of)
    await _report(f"Høring {result['case']} opprettet", result)
    return result


@flow(name="hearing-transition")
async def transition_flow(
    case: str,
    action: str,
    actor: str,
    as_of: str | None = None,
    reason: str | None = None,
    decisions_path: str | None = None,
) -> dict:
    result = apply_transition(case, action, actor, as_of, reason, decisions_path)
    await _report(f"Høring {case}: {action}", result)
    return result


def _cases_in(state: str) -> list[str]:
    """Cases in `state` (read only; each is re-checked by its transition)."""
    from sqlmodel import select

    from storage.db import read_session

    with read_session(runtime.engine()) as session:
        rows = session.exec(select(HearingRow).where(HearingRow.state == state)).all()
        return [row.case_number for row in rows]


async def _sweep(action: Action, state: str, actor: str, as_of: str | None) -> dict:
    done, waiting = [], []
    for case in _cases_in(state):
        try:
            result = apply_transition(case, action.value, actor, as_of)
        except UserError as refusal:  # not yet due: say why, carry on with the others
            waiting.append({"case": case, "reason": str(refusal)})
            continue
        done.append(result)
    summary = {
        "as_of": oslo_date(runtime.as_of_moment(as_of)).isoformat(),
        "done": [r["case"] for r in done if not r["already_done"]],
        "waiting": waiting,
    }
    await _report(f"{action.value}: {len(summary['done'])} høringer", summary)
    return summary


@flow(name="close-due-hearings")
async def close_due_hearings(as_of: str | None = None, actor: str = "scheduler") -> dict:
    """Close every circulated hearing whose deadline day has ended (Europe/Oslo)."""
    return await _sweep(Action.CLOSE, "circulated", actor, as_of)


@flow(name="activate-effective-goals")
async def activate_effective_goals(as_of: str | None = None, actor: str = "scheduler") -> dict:
    """Put codified hearings in effect on their effective date."""
    return await _sweep(Action.ACTIVATE, "codified", actor, as_of)
