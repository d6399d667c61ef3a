"""The `hoering` command line (Typer). Commands are thin: they parse, call, print."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, cast

import typer

from cli import output
from cli.catalogue import catalogue_app, goals_history
from cli.hearing import actor, hearing_app
from cli.outbox import outbox_app, reminders_app
from cli.responses import responses_app
from cli.review import hearing_review_app, review_app
from cli.server import deploy, server_app, worker
from cli.web import web_app
from domain.errors import UserError
from services import runtime
from storage import catalogue, ledger
from storage.db import read_session, short_error, write_session

app = typer.Typer(
    help="hoering: hearings on learning goals in doctors' specialist training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
goals_app = typer.Typer(help="The learning-goal catalogue.", no_args_is_help=True)
ids_app = typer.Typer(help="The learning-goal ID ledger.", no_args_is_help=True)
app.add_typer(goals_app, name="goals")
app.add_typer(ids_app, name="ids")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(hearing_app, name="hearing")
app.add_typer(outbox_app, name="outbox")
app.add_typer(reminders_app, name="reminders")
app.add_typer(responses_app, name="responses")
app.add_typer(review_app, name="review")
hearing_app.add_typer(hearing_review_app)  # hoering hearing summary / publish
app.add_typer(server_app, name="server")
app.add_typer(web_app, name="web")
app.command("deploy")(deploy)
app.command("worker")(worker)


class _ClickError(Exception):
    """The shape of click's ClickException, for the type checker."""

    def format_message(self) -> str:
        return str(self)


# Typer may vendor click; find its ClickException through a public subclass.
_CLICK_EXCEPTION = cast(
    type[_ClickError],
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]


@app.command()
def init(json_out: JsonFlag = False) -> None:
    """Create or upgrade the database and load or refresh the reference data."""
    from services.initialise import run_init

    summary = run_init()
    if json_out:
        output.print_json(summary)
        return
    output.stdout.print(f"Database: {summary['database']}")
    output.stdout.print(f"Reference data: {summary['reference_dir']}")
    output.print_table(
        "Loaded",
        ["what", "in database", "inserted", "updated"],
        [
            (name, counts["total"], counts["inserted"], counts["updated"])
            for name, counts in summary["counts"].items()
        ],
    )
    output.stdout.print(
        "Next IDs: " + ", ".join(f"{p}: {n}" for p, n in summary["next_ids"].items())
    )


@app.command()
def specialties(json_out: JsonFlag = False) -> None:
    """List the medical specialties with their ID prefix."""
    with read_session(runtime.engine()) as session:
        rows = catalogue.specialties(session)
        data = [
            {
                "prefix": r.prefix,
                "name": r.name,
                "group": r.group,
                "prefix_verified": r.prefix_verified,
            }
            for r in rows
        ]
    if json_out:
        output.print_json(data)
        return
    output.print_table(
        f"{len(data)} specialties",
        ["prefix", "name", "group", "prefix verified"],
        [
            (d["prefix"], d["name"], d["group"], "yes" if d["prefix_verified"] else "no")
            for d in data
        ],
    )


@goals_app.command("list")
def goals_list(
    specialty: Annotated[
        str | None, typer.Option(help="Only this catalogue, by prefix (BLS) or code (FKM).")
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="The date to ask about, YYYY-MM-DD (default: today).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """The goals that apply on a date, and the open hearings that propose to change them."""
    from services.goal_history import pending_changes

    day = runtime.as_of_date(on, "--on")
    with read_session(runtime.engine()) as session:
        code = None
        if specialty is not None:
            code = specialty.strip().upper()
            if code not in catalogue.catalogue_codes(session):
                raise UserError(
                    f"--specialty: unknown specialty or catalogue '{specialty}'; "
                    "run 'hoering specialties' for the prefixes"
                )
        goals = catalogue.goals_on(session, day, code)
        pending = pending_changes(session)
    under = {g.id: sorted({p.case for p in pending.get(g.id, ())}) for g in goals}
    if json_out:
        output.print_json([{**g.as_json(), "under_change_in": under[g.id]} for g in goals])
        return
    output.print_table(
        f"{len(goals)} goals on {day.isoformat()}",
        ["id", "status", "level", "part", "heading", "text", "valid from", "under change in"],
        [
            (
                g.id,
                g.status,
                g.level,
                g.training_part,
                g.heading,
                g.text,
                g.valid_from,
                ", ".join(under[g.id]),
            )
            for g in goals
        ],
    )


goals_app.command("history")(goals_history)


@ids_app.command("next")
def ids_next(
    prefix: Annotated[str, typer.Argument(help="ID prefix, e.g. BLS.")],
    json_out: JsonFlag = False,
) -> None:
    """Show the next free ID for a prefix; reserves nothing."""
    with read_session(runtime.engine()) as session:
        clean = ledger.registry(session).normalise_prefix(prefix)
        goal_id = ledger.peek_next(session, clean)
    if json_out:
        output.print_json({"prefix": clean, "next": str(goal_id)})
    else:
        output.stdout.print(str(goal_id))


@ids_app.command("list")
def ids_list(
    prefix: Annotated[str | None, typer.Option(help="Only this ID prefix, e.g. HJS.")] = None,
    case: Annotated[str | None, typer.Option(help="Only this hearing, e.g. 24/750.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 100,
    json_out: JsonFlag = False,
) -> None:
    """The ledger's reservations, newest first; 'unverified' marks an explicit ID taken
    above the verified floor (--accept-unverified-id)."""
    with read_session(runtime.engine()) as session:
        clean = ledger.registry(session).normalise_prefix(prefix) if prefix else None
        rows = ledger.list_reservations(session, clean, case, limit)
    data = [
        {
            "id": r.display,
            "status": r.status,
            "key": r.key,
            "case": r.hearing_case,
            "reason": r.reason,
            "unverified": r.accepted_unverified,
        }
        for r in rows
    ]
    if json_out:
        output.print_json(data)
        return
    output.print_table(
        f"{len(data)} reservations",
        ["id", "status", "case", "key", "note"],
        [(d["id"], d["status"], d["case"], d["key"], _reservation_note(d)) for d in data],
    )


def _reservation_note(row: dict) -> str:
    notes = ["unverified (--accept-unverified-id)"] if row["unverified"] else []
    return "; ".join([*notes, row["reason"] or ""]).strip("; ")


@ids_app.command("reserve")
def ids_reserve(
    prefix: Annotated[str, typer.Argument(help="ID prefix, e.g. BLS.")],
    key: Annotated[str, typer.Option(help="What the ID is for; the same key returns the same ID.")],
    json_out: JsonFlag = False,
) -> None:
    """Reserve the next ID for a prefix under a key (idempotent per key)."""
    with write_session(runtime.engine()) as session:
        clean = ledger.registry(session).normalise_prefix(prefix)
        reservation = ledger.reserve(session, clean, key, datetime.now(UTC))
    data = {
        "prefix": reservation.prefix,
        "id": reservation.display,
        "key": reservation.key,
        "new": reservation.newly_created,
    }
    if json_out:
        output.print_json(data)
    else:
        verb = "reserved" if reservation.newly_created else "already reserved"
        output.stdout.print(f"{reservation.display} {verb} for key '{reservation.key}'")


@goals_app.command("activate")
def goals_activate(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: today.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Put codified hearings whose effective date has come in effect."""
    from flows.flow_runner import run_flow

    now = runtime.as_of_moment(as_of)
    runtime.engine()
    result = run_flow("hearing_flows", "activate_goals", as_of=now, actor=actor())
    if json_out:
        output.print_json(result)
    else:
        output.stdout.print(f"in effect: {', '.join(result['done']) or 'none'}")


def run(args: list[str] | None = None) -> int:
    """Run one command and return its exit code; user errors end in one line on stderr."""
    output.open_consoles()
    try:
        code = app(args=args, prog_name="hoering", standalone_mode=False)
    except UserError as exc:
        output.error_line(str(exc))
        return exc.exit_code
    except typer.Abort:
        output.error_line("aborted")
        return 130
    except _CLICK_EXCEPTION as exc:
        if exc.format_message():  # an empty one follows the help shown for no arguments
            output.error_line(f"{exc.format_message()} (see 'hoering --help')")
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # a bug, not the user's fault: one line here, details logged
        log = _log_internal_error()
        output.error_line(f"internal error: {short_error(exc)} (details in {log})")
        return 1
    return code if isinstance(code, int) else 0  # typer.Exit(n) comes back as n


def main() -> None:
    """Console entry point."""
    sys.exit(run())


def _log_internal_error() -> str:
    import traceback
    from datetime import datetime as _dt

    try:
        folder = runtime.settings().data_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "errors.log"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {_dt.now(UTC).isoformat()} {sys.argv}\n{traceback.format_exc()}")
        return str(path)
    except OSError:
        return "stderr (the data dir is not writable)"


if __name__ == "__main__":
    main()
