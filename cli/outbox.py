"""`hoering outbox` and `hoering reminders`: what is queued, sending it, reminders.

Listing and dry runs only read the database and never import Prefect; sending runs
the flows in `flows.outbox_flows` (imported when needed) so each run shows in Prefect.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli import output
from config.settings import Settings
from services import runtime
from storage.db import read_session

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The moment the run stands for: YYYY-MM-DD (noon, Oslo) or YYYY-MM-DDTHH:MM "
        "(default: now).",
    ),
]
CaseOption = Annotated[str | None, typer.Option("--case", help="Only this case, e.g. 24/750.")]

outbox_app = typer.Typer(
    help="Outgoing e-mail: list the outbox (default) or send what is pending.",
    invoke_without_command=True,
)
reminders_app = typer.Typer(help="Reminders (påminnelser) before a hearing's deadline.")


def _short_time(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else ""


@outbox_app.callback()
def outbox_list(ctx: typer.Context, case: CaseOption = None, json_out: JsonFlag = False) -> None:
    """Every message in the outbox, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from services.outbox_listing import list_outbox

    with read_session(runtime.engine()) as session:
        rows = list_outbox(session, case)
    if json_out:
        output.print_json(rows)
        return
    output.print_table(
        f"{len(rows)} messages" + (f" in {case}" if case else ""),
        ["kind", "case", "to", "organisation", "queued", "sent", "status", "message id"],
        [
            (
                r["kind"],
                r["case"],
                r["to"],
                r["organisation"],
                _short_time(r["queued_at"]),
                _short_time(r["sent_at"]),
                r["status"] + (f" ({r['last_error']})" if r["last_error"] else ""),
                r["message_id"],
            )
            for r in rows
        ],
    )


def _check_before_running(as_of: str | None) -> Settings:
    """Bad options and settings fail here, in one line, before Prefect starts."""
    from mail.transports import open_transport

    runtime.as_of_moment(as_of)
    settings = runtime.settings()  # bad settings fail here, in one line
    open_transport(settings.mail)
    runtime.engine(settings)
    return settings


def _run(flow_name: str, **params: Any) -> dict:
    from flows.flow_runner import run_flow  # Prefect only for state-changing commands

    return run_flow("outbox_flows", flow_name, **params)


@outbox_app.command("send")
def outbox_send(
    as_of: AsOf = None,
    case: CaseOption = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=0, help="Send at most this many messages.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Deliver the pending messages (through HOERING_MAIL_TRANSPORT: folder or smtp)."""
    _check_before_running(as_of)
    report = _run("send_outbox", as_of=runtime.as_of_moment(as_of), case=case, limit=limit)
    if json_out:
        output.print_json(report)
        return
    _print_send_report(report)


def _print_send_report(report: dict) -> None:
    counts = ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in report["counts"].items())
    output.stdout.print(f"Transport {report['transport']}, as of {report['as_of']}: {counts}")
    if report["stopped"]:
        output.stdout.print(f"Stopped: {report['stopped']}")
    if report["messages"]:
        output.print_table(
            "Messages",
            ["kind", "case", "to", "organisation", "outcome", "detail"],
            [
                (m["kind"], m["case"], m["to"], m["organisation"], m["outcome"], m["detail"])
                for m in report["messages"]
            ],
        )


@reminders_app.callback()
def reminders() -> None:
    """Reminders (påminnelser) before a hearing's deadline."""


@reminders_app.command("send")
def reminders_send(
    as_of: AsOf = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say who would get a reminder.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Queue the reminders due on the day and send the outbox; says who got what."""
    settings = _check_before_running(as_of)
    moment, engine = runtime.as_of_moment(as_of), runtime.engine(settings)
    if dry_run:
        from services.reminders import default_policy, plan_reminders

        with read_session(engine) as session:
            policy = default_policy(settings.reminders)
            run = plan_reminders(session, now=moment, default=policy).as_json()
        result: dict = {"reminders": run, "send": None}
    else:
        result = _run("send_reminders", as_of=moment, dry_run=False)
    if json_out:
        output.print_json(result)
        return
    run = result["reminders"]
    for hearing in run["hearings"]:
        due = (
            f"reminder day {hearing['reminder_date']} ({hearing['days_before']} days before)"
            if hearing["reminder_date"]
            else "no reminder due"
        )
        output.stdout.print(
            f"{hearing['case']}: deadline {hearing['deadline']}, {due}; "
            f"{hearing['answered']} of {hearing['recipients']} recipients have answered"
        )
    if not run["hearings"]:
        output.stdout.print("No circulated hearing.")
    title = "Would get a reminder" if dry_run else "Reminders"
    output.print_table(
        f"{title}: {len(run['reminders'])}",
        ["case", "organisation", "to", "reminder", "day", "outcome", "status"],
        [
            (
                r["case"],
                r["organisation"],
                r["to"],
                r["reminder"],
                r["reminder_date"],
                r["outcome"].replace("_", " "),
                r["status"] or "",
            )
            for r in run["reminders"]
        ],
    )
    if result["send"]:
        _print_send_report(result["send"])
