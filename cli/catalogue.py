"""`hoering catalogue ...`: a learning-goal catalogue to and from a spreadsheet.

Export writes the latest version of every goal of one catalogue; import compares a
workbook with what is loaded and shows the difference (added, changed, removed), and
without `--dry-run` applies it in one transaction (layout: data/README.md). Neither
starts Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import output
from services import runtime
from storage.db import read_session, write_session

catalogue_app = typer.Typer(
    help="Learning-goal catalogues as spreadsheets (.xlsx).", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="The day it happens (YYYY-MM-DD); default: today.")
]


@catalogue_app.command("export")
def export(
    code: Annotated[
        str, typer.Argument(help="The catalogue: a specialty prefix (BLS), FKM, LIS1.")
    ],
    file: Annotated[Path, typer.Argument(help="The .xlsx file to write.")],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Write a catalogue's goals to a spreadsheet, one row per goal."""
    from services.catalogue_files import export_catalogue

    day = runtime.as_of_date(as_of)
    with read_session(runtime.engine()) as session:
        count = export_catalogue(session, code, file, day)
    if json_out:
        output.print_json({"catalogue": code.strip().upper(), "goals": count, "file": str(file)})
    else:
        output.stdout.print(f"{count} goals of {code.strip().upper()} written to {file}")


@catalogue_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The .xlsx file: one sheet per catalogue.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the difference; change nothing.")
    ] = False,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Load full catalogues from a spreadsheet: shows what is added, changed and removed."""
    from services.catalogue_files import import_catalogue

    day = runtime.as_of_date(as_of)
    session_of = read_session if dry_run else write_session
    with session_of(runtime.engine()) as session:
        report = import_catalogue(session, file, day, dry_run)
    for warning in report.warnings:
        output.stderr.print(f"[yellow]warning:[/yellow] {warning}")
    if json_out:
        output.print_json(report.as_json())
        return
    for diff in report.diffs:
        rows = [("added", g.goal_id, g.text) for g in diff.added]
        rows += [("changed", c.after.goal_id, ", ".join(c.fields)) for c in diff.changed]
        rows += [("removed", g.goal_id, g.text) for g in diff.removed]
        title = f"{diff.code}: {len(diff.added)} added, {len(diff.changed)} changed, "
        output.print_table(title + f"{len(diff.removed)} removed", ["", "id", "what"], rows)
    for prefix, floor in sorted(report.floors.items()):
        state = "verified" if floor["verified"] else "not verified (a higher floor is kept)"
        output.stdout.print(f"{prefix}: highest number {floor['highest']}, {state}")
    verb = "nothing changed (dry run)" if dry_run else "applied"
    output.stdout.print(verb if report.changed or dry_run else "no change")


def goals_history(
    goal_id: Annotated[str, typer.Argument(help="A learning-goal ID, e.g. BLS-012.")],
    json_out: JsonFlag = False,
) -> None:
    """Every version of one goal: dates, status, text, the hearing and its decision."""
    from services.goal_history import goal_history

    with read_session(runtime.engine()) as session:
        history = goal_history(session, goal_id)
    if json_out:
        output.print_json(history.as_json())
        return
    output.print_table(
        f"{history.goal_id} ({history.catalogue or 'not in the catalogue yet'})",
        [
            "version",
            "status",
            "valid from",
            "valid to",
            "part",
            "heading",
            "text",
            "hearing",
            "decision",
        ],
        [
            (
                v.version,
                v.status,
                v.valid_from or "",
                v.valid_to or "",
                v.training_part or "",
                v.heading or "",
                v.text,
                v.hearing or v.source,
                v.decision or "",
            )
            for v in history.versions
        ],
    )
    if history.reserved_by:
        output.stdout.print(
            f"reserved for {history.reserved_by}; enters the catalogue when codified"
        )
    for p in history.pending:
        output.stdout.print(f"under change: {p.kind} in hearing {p.case} ({p.state})")
