"""`hoering hearing ...`: the lifecycle of one hearing from the command line.

State-changing commands check what the database can tell (case, state, dates, files)
and then run the step's Prefect flow against the running Prefect server; read-only
ones read the database directly and never import Prefect.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import output
from services import runtime
from services.files import read_text_file as _read
from storage.db import read_session
from storage.timeutil import from_db

hearing_app = typer.Typer(help="Hearings: create, circulate, close, codify.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Act as on this date (YYYY-MM-DD) or time; default: now."),
]
Case = Annotated[str, typer.Argument(help="Case number, e.g. 24/750.")]


def actor() -> str:
    """Who acts: HOERING_ACTOR, else the login name."""
    return os.environ.get("HOERING_ACTOR") or getpass.getuser()


def _run(flow_name: str, **params: Any) -> Any:
    from flows.flow_runner import run_flow  # Prefect only for state-changing commands

    return run_flow("hearing_flows", flow_name, **params)


def _print_warnings(result: dict) -> None:
    for warning in result.get("warnings", []):
        output.warning_line(warning)


def _print_transition(result: dict, json_out: bool) -> None:
    _print_warnings(result)
    if json_out:
        output.print_json(result)
        return
    if result["already_done"]:
        output.stdout.print(f"Hearing {result['case']} is already {result['to']}; nothing to do.")
        return
    output.stdout.print(f"Hearing {result['case']}: {result['from']} → {result['to']}")
    for path in result.get("details", {}).get("letters", []):
        output.stdout.print(f"  letter: {path}")
    queued = result.get("details", {}).get("queued_messages")
    if queued:
        output.stdout.print(f"  {queued} messages queued in the outbox")
    cancelled = result.get("details", {}).get("cancelled_messages") or {}
    if cancelled:
        listed = ", ".join(f"{count} {kind}" for kind, count in cancelled.items())
        output.stdout.print(f"  cancelled in the outbox (never sent): {listed}")


STEP_FLOWS = {  # lifecycle action -> its flow in flows.hearing_flows
    "circulate": "circulate_hearing",
    "close": "close_hearing",
    "review_done": "complete_review",
    "codify": "codify_hearing",
    "withdraw": "withdraw_hearing",
}


def _transition(case: str, action: str, as_of: str | None, json_out: bool, **extra: Any) -> None:
    """Check the step against the database (no Prefect), then run its flow."""
    from domain.lifecycle import Action
    from flows.checks import check_step

    now = runtime.as_of_moment(as_of)
    decisions = extra.pop("decisions", None)
    check_step(case, Action(action), actor(), now, extra.get("reason"), decisions)
    result = _run(STEP_FLOWS[action], case=case, actor=actor(), as_of=now, **extra)
    _print_transition(result, json_out)


SpecFile = Annotated[str, typer.Argument(help="The hearing spec (YAML).")]


@hearing_app.command("create")
def create(
    spec: SpecFile,
    reuse_withdrawn_case: Annotated[
        bool,
        typer.Option(
            "--reuse-withdrawn-case",
            help="Take over the case number of a withdrawn hearing (kept as CASE~N).",
        ),
    ] = False,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Create a hearing in draft from its spec; reserves its learning-goal IDs."""
    from domain.hearing_spec import parse_hearing_spec
    from flows.checks import check_spec

    parsed = parse_hearing_spec(_read(spec, "hearing spec"), spec)  # bad spec: one line
    now = runtime.as_of_moment(as_of)
    check_spec(parsed, now)  # unknown names, goals not in the catalogue: no Prefect
    spec_path = str(Path(spec).resolve())
    result = _run(
        "create_hearing",
        spec_path=spec_path,
        actor=actor(),
        as_of=now,
        reuse_withdrawn_case=reuse_withdrawn_case,
    )
    _print_warnings(result)
    if json_out:
        output.print_json(result)
        return
    verb = "created" if result["created"] else "already exists"
    output.stdout.print(f"Hearing {result['case']} {verb} ({result['state']})")
    if not result["created"] and result["state"] == "withdrawn":
        output.stdout.print("  to take its case number for a new draft add --reuse-withdrawn-case")
    output.print_table("IDs", ["item", "ID"], sorted(result["ids"].items()))


@hearing_app.command("revise")
def revise(case: Case, spec: SpecFile, as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Replace a draft's spec; unchanged items keep their IDs, removed ones are burned."""
    from domain.hearing_spec import parse_hearing_spec
    from flows.checks import check_revision

    parsed = parse_hearing_spec(_read(spec, "hearing spec"), spec)
    now = runtime.as_of_moment(as_of)
    check_revision(case, parsed, spec)  # unknown case, not a draft: one line, no Prefect
    spec_path = str(Path(spec).resolve())
    result = _run("revise_hearing", case=case, spec_path=spec_path, actor=actor(), as_of=now)
    _print_warnings(result)
    if json_out:
        output.print_json(result)
        return
    if not result["revised"]:
        output.stdout.print(f"Hearing {result['case']} already has this spec; nothing to do.")
        return
    output.stdout.print(f"Hearing {result['case']} revised ({result['state']})")
    kept, new = result["kept_ids"], result["new_ids"]
    rows = [(ref, shown, "kept") for ref, shown in sorted(kept.items())]
    rows += [(ref, shown, "new") for ref, shown in sorted(new.items())]
    output.print_table("IDs", ["item", "ID", ""], rows)
    if result["burned_ids"]:
        output.stdout.print(f"  burned (never reused): {', '.join(result['burned_ids'])}")


@hearing_app.command("circulate")
def circulate(case: Case, as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Send the hearing out: render the letter and queue one e-mail per recipient."""
    _transition(case, "circulate", as_of, json_out)


@hearing_app.command("close")
def close(case: Case, as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Close the hearing after the end of its deadline day (Europe/Oslo)."""
    _transition(case, "close", as_of, json_out)


@hearing_app.command("review-done")
def review_done(case: Case, as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Mark the review of the responses as complete."""
    _transition(case, "review_done", as_of, json_out)


@hearing_app.command("codify")
def codify(
    case: Case,
    decisions: Annotated[str, typer.Argument(help="The decisions file (YAML).")],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
    accept_unverified_id: Annotated[
        bool,
        typer.Option(
            "--accept-unverified-id",
            help="Take an explicit resolve_id above the verified floor (recorded as unverified).",
        ),
    ] = False,
) -> None:
    """Codify the decisions: the catalogue gets the new goals from the effective date."""
    from domain.decisions import parse_decisions

    parsed = parse_decisions(_read(decisions, "decisions"), decisions)
    parsed.accepting_unverified_ids(accept_unverified_id)
    path = str(Path(decisions).resolve())
    extra: dict[str, Any] = {"decisions_path": path, "decisions": parsed}
    if accept_unverified_id:  # only then: the flow run's parameters stay as they were
        extra["accept_unverified_id"] = True
    _transition(case, "codify", as_of, json_out, **extra)


@hearing_app.command("withdraw")
def withdraw(
    case: Case,
    reason: Annotated[str, typer.Option(help="Why the hearing is withdrawn.")],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Withdraw the hearing; its reserved IDs stay burned."""
    _transition(case, "withdraw", as_of, json_out, reason=reason)


@hearing_app.command("close-due")
def close_due(as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Close every hearing whose deadline has passed (what the schedule runs)."""
    now = runtime.as_of_moment(as_of)
    runtime.engine()
    result = _run("close_due_hearings", as_of=now, actor=actor())
    output.print_json(result) if json_out else output.stdout.print(
        f"closed: {', '.join(result['done']) or 'none'}"
    )


@hearing_app.command("list")
def list_hearings(json_out: JsonFlag = False) -> None:
    """All hearings with their state and deadline."""
    from sqlmodel import col, select

    from storage.hearing_models import HearingRow

    with read_session(runtime.engine()) as session:
        rows = session.exec(select(HearingRow).order_by(col(HearingRow.id))).all()
        data = [
            {"case": r.case_number, "title": r.title, "state": r.state, "deadline": r.deadline}
            for r in rows
        ]
    if json_out:
        output.print_json(data)
        return
    output.print_table(
        "Hearings",
        ["case", "state", "deadline", "title"],
        [(d["case"], d["state"], d["deadline"], d["title"]) for d in data],
    )


def status_data(case: str) -> dict:
    from services import hearings

    with read_session(runtime.engine()) as session:
        row = hearings.get_hearing(session, case)
        shown = hearings.id_displays(session, row)
        item_rows = hearings.items(session, row)
        answered = _answered(session, row)
        return {
            "case": row.case_number,
            "title": row.title,
            "state": row.state,
            "deadline": row.deadline,
            "circulated_on": row.circulated_on,
            "closed_at": from_db(row.closed_at),
            "codified_on": row.codified_on,
            "effective_date": row.effective_date,
            "items": [
                {
                    "ref": i.ref,
                    "kind": i.kind,
                    "specialty": i.specialty_prefix,
                    "id": shown.get(i.ref),
                    "decision": i.decision,
                }
                for i in item_rows
            ],
            "recipients": [
                {
                    "stakeholder": r.stakeholder_key,
                    "name": r.name,
                    "email": r.email,
                    "group": r.group,
                    "answered": r.stakeholder_key in answered,
                }
                for r in hearings.recipients(session, row)
            ],
        }


def _answered(session, row) -> set[str]:
    from storage.intake_queries import answered_stakeholder_keys  # not services.intake

    return answered_stakeholder_keys(session, row.id)


@hearing_app.command("status")
def status(case: Case, json_out: JsonFlag = False) -> None:
    """Where the hearing stands: state, dates, IDs, who has answered."""
    data = status_data(case)
    if json_out:
        output.print_json(data)
        return
    output.stdout.print(f"[bold]{data['case']}[/bold] {data['title']}")
    output.stdout.print(f"state: {data['state']}   deadline: {data['deadline']}")
    output.print_table(
        "Items",
        ["ref", "kind", "ID", "decision"],
        [(i["ref"], i["kind"], i["id"], i["decision"]) for i in data["items"]],
    )
    answered = sum(r["answered"] for r in data["recipients"])
    output.print_table(
        f"Recipients ({answered} of {len(data['recipients'])} answered)",
        ["name", "e-mail", "answered"],
        [(r["name"], r["email"], "yes" if r["answered"] else "no") for r in data["recipients"]],
    )


@hearing_app.command("history")
def history(case: Case, json_out: JsonFlag = False) -> None:
    """Every transition: who, when, from, to, why."""
    from services import hearings

    with read_session(runtime.engine()) as session:
        row = hearings.get_hearing(session, case)
        events = [
            {
                "at": from_db(e.at),
                "actor": e.actor,
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "reason": e.reason,
                "details": json.loads(e.details_json),
            }
            for e in hearings.history(session, row)
        ]
    if json_out:
        output.print_json(events)
        return
    output.print_table(
        f"History of {case}",
        ["at", "actor", "action", "from", "to", "reason"],
        [(e["at"], e["actor"], e["action"], e["from"], e["to"], e["reason"]) for e in events],
    )


@hearing_app.command("letters")
def letters(case: Case, json_out: JsonFlag = False) -> None:
    """The letters generated for the hearing: kind, path, sha256."""
    from services import hearings

    with read_session(runtime.engine()) as session:
        row = hearings.get_hearing(session, case)
        data = [
            {
                "kind": letter.kind,
                "document_number": letter.document_number,
                "variant": letter.variant,
                "path": letter.path,
                "sha256": letter.sha256,
            }
            for letter in hearings.letters(session, row)
        ]
    if json_out:
        output.print_json(data)
        return
    output.print_table(
        f"Letters of {case}",
        ["kind", "document", "path", "sha256"],
        [(d["kind"], d["document_number"], d["path"], (d["sha256"] or "")[:16]) for d in data],
    )
