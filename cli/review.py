"""`hoering review ...` (review the responses of a hearing) and the `summary` and
`publish` commands of `hoering hearing`.

`hoering review CASE` lists what is left to review (read only, no Prefect). `review set`
and `review excerpt`, edits staff make hundreds of times, write straight to storage with
their audit row; applying a review file, grouping campaigns, the summary and the
publication export run their Prefect flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cli import output
from cli.hearing import actor
from domain.case_numbers import normalise_case_number
from services import runtime
from services.files import read_text_file
from storage.db import read_session, write_session


class _CaseOrCommand(TyperGroup):
    """`hoering review 24/750` is `hoering review list 24/750`: a first argument that is no
    command name is a case number."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["list", *args]
        return super().parse_args(ctx, args)


review_app = typer.Typer(
    cls=_CaseOrCommand,
    help="Review the responses of a hearing: stances, items, campaigns. "
    "'hoering review CASE' lists what is left to review.",
    no_args_is_help=True,
)
hearing_review_app = typer.Typer(help="The summary and the publication export of a hearing.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Act as on this date (YYYY-MM-DD) or time; default: now."),
]
Case = Annotated[str, typer.Argument(help="Case number, e.g. 24/750.")]
Response = Annotated[
    str, typer.Argument(help="The response: tracking number (24/750-7) or response id.")
]


def _run(flow_name: str, **params: Any) -> Any:
    from flows.flow_runner import run_flow  # Prefect only for state-changing commands

    return run_flow("review_flows", flow_name, **params)


def _checked(case: str, as_of: str | None) -> str:
    """The canonical case; a bad case or date fails here, before Prefect starts."""
    wanted = normalise_case_number(case, "CASE")
    runtime.as_of_moment(as_of)
    runtime.engine()
    return wanted


# --- review ------------------------------------------------------------------------------------


@review_app.command("list")
def list_command(
    case: Case,
    all_responses: Annotated[
        bool, typer.Option("--all", help="Also list responses that are reviewed.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows on the page.")] = 50,
    after: Annotated[
        str | None,
        typer.Option(help="The last response of the previous page (as printed at the end)."),
    ] = None,
    count: Annotated[
        bool, typer.Option("--count", help="Also count the hearing's responses (slower).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """A page of the responses to review, with the suggested stance and the phrase behind it."""
    from services.review_queue import review_queue  # not services.review (campaigns: numpy)

    wanted = normalise_case_number(case, "CASE")
    with read_session(runtime.engine()) as session:
        queue = review_queue(
            session,
            wanted,
            include_reviewed=all_responses,
            limit=limit,
            after=after,
            counts=count,
        )
    if json_out:
        output.print_json(queue)
        return
    rows = []
    for row in queue["rows"]:
        who = row["respondent"]
        if row["campaign"]:
            who = f"Kampanje {row['campaign']} ({row['campaign_size']} svar), f.eks. {who}"
        if row["supplements"]:
            who = f"{who} (+ tillegg {', '.join(row['supplements'])})"
        rows.append(
            (
                row["tracking_number"],
                who,
                output.local_time(row["received_at"]) + (" (late)" if row["late"] else ""),
                row["suggested_stance_nb"] or "",
                f"«{row['suggested_phrase']}»" if row["suggested_phrase"] else "",
                row["stance_nb"] or "",
            )
        )
    title = f"{queue['case']}: {len(rows)} responses" + ("" if all_responses else " to review")
    if count:
        title = (
            f"{queue['case']}: {queue['unreviewed']} of {queue['responses']} responses without "
            "a stance"
        )
    output.print_table(
        title, ["response", "from", "received", "suggested", "because of", "stance"], rows
    )
    if queue["next_after"]:
        output.stdout.print(
            f"Next page: hoering review list {queue['case']} --after {queue['next_after']}"
        )
    if any(r["campaign"] for r in queue["rows"]):
        output.stdout.print(
            "Review a campaign as one: hoering review set RESPONSE --campaign --stance ..."
        )


@review_app.command("set")
def set_command(
    response: Response,
    stance: Annotated[
        str | None,
        typer.Option(help="støtter | 'støtter med merknader' | 'går imot' | 'ingen merknader'."),
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option(
            "--item", help="A change item the response is about (BLS or BLS-154); repeatable."
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the summary sheet.")] = None,
    accept_suggestion: Annotated[
        bool,
        typer.Option(
            "--accept-suggestion", help="Take the suggested stance (recorded as accepted)."
        ),
    ] = False,
    campaign: Annotated[
        bool, typer.Option("--campaign", help="Review the response's whole campaign group.")
    ] = False,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Record the review of a response: its stance, the items it is about, a note."""
    _check_stance(stance, accept_suggestion)
    from services.review_recording import record_review  # not campaigns (numpy)

    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:  # straight to storage, with its audit row
        result = record_review(
            session,
            response,
            stance=stance,
            items=item or [],
            note=note,
            accept_suggestion=accept_suggestion,
            campaign=campaign,
            actor=actor(),
            now=now,
        )
    if json_out:
        output.print_json(result)
        return
    _print_review(result)


def _check_stance(stance: str | None, accept_suggestion: bool) -> None:
    """A stance is given and is one (before the database is opened)."""
    from domain.errors import UserError
    from domain.stance import parse_stance, stance_choices_nb

    if stance is None and not accept_suggestion:
        raise UserError(
            f"--stance: no stance given; use --stance with one of {stance_choices_nb()}, "
            "or --accept-suggestion"
        )
    if stance is not None and parse_stance(stance) is None:
        raise UserError(f"--stance: '{stance}' is not a stance; use one of {stance_choices_nb()}")


def _print_review(result: dict[str, Any]) -> None:
    which = ", ".join(result["responses"])
    if result["campaign"]:
        which = f"Kampanje {result['campaign']} ({len(result['responses'])} svar)"
    how = " (as suggested)" if result["accepted_as_suggested"] else ""
    items = f" on {', '.join(result['items'])}" if result["items"] else ""
    output.stdout.print(f"{which}: {result['stance_nb']}{how}{items}")


@review_app.command("apply")
def apply_command(
    case: Case,
    file: Annotated[
        str, typer.Argument(help="The review file: .yaml or .csv, one row a response.")
    ],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Apply a review file: every row is recorded, or none when a row is wrong."""
    from services.review import parse_review_file

    wanted = _checked(case, as_of)
    parse_review_file(read_text_file(file, "review"), file)  # a bad file: one line, no Prefect
    result = _run(
        "apply_review_file",
        case=wanted,
        path=str(Path(file).resolve()),
        actor=actor(),
        as_of=runtime.as_of_moment(as_of),
    )
    if json_out:
        output.print_json(result)
        return
    output.stdout.print(
        f"{result['case']}: {result['responses_reviewed']} responses reviewed in "
        f"{result['rows']} rows, {result['excerpts_added']} excerpts added; "
        f"{result['unreviewed']} responses without a stance"
    )


@review_app.command("excerpt")
def excerpt_command(
    response: Response,
    quote: Annotated[str, typer.Option(help="The passage, exactly as the response has it.")],
    item: Annotated[
        str | None, typer.Option(help="The change item it is about (none: the whole hearing).")
    ] = None,
    attachment: Annotated[
        str | None, typer.Option(help="Look in this attachment only (its file name).")
    ] = None,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Tie a passage of a response to a change item, for the summary."""
    from services.review import add_excerpt

    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:  # an edit like review set: no flow run
        result = add_excerpt(
            session, response, quote=quote, item=item, attachment=attachment, actor=actor(), now=now
        )
    if json_out:
        output.print_json(result)
        return
    verb = "added" if result["added"] else "already there"
    output.stdout.print(f"{result['response']} → {result['item'] or 'hele høringen'}: {verb}")


@review_app.command("campaigns")
def campaigns_command(case: Case, as_of: AsOf = None, json_out: JsonFlag = False) -> None:
    """Group near-identical responses (form letters) into campaigns and list them."""
    wanted = _checked(case, as_of)
    groups = _run("group_campaigns", case=wanted, actor=actor(), as_of=runtime.as_of_moment(as_of))
    if json_out:
        output.print_json(groups)
        return
    output.print_table(
        f"{len(groups)} campaigns in {wanted}",
        ["campaign", "responses", "stance", "first", "text"],
        [
            (
                g["campaign"],
                g["size"],
                g["stance_nb"] or "",
                g["representative"],
                g["first_lines"][:80],
            )
            for g in groups
        ],
    )


@review_app.command("history")
def history_command(case: Case, json_out: JsonFlag = False) -> None:
    """Every review recorded: who, when, what, from where."""
    from services.review_queue import review_history  # not services.review (numpy)

    wanted = normalise_case_number(case, "CASE")
    with read_session(runtime.engine()) as session:
        events = review_history(session, wanted)
    if json_out:
        output.print_json(events)
        return
    output.print_table(
        f"Reviews of {wanted}",
        ["at", "who", "response", "stance", "as suggested", "source"],
        [
            (
                output.local_time(e["at"]),
                e["actor"],
                e["response"] or f"Kampanje {e['campaign']} ({e['members']})",
                e["stance"],
                "yes" if e["accepted_as_suggested"] else "",
                e["source"],
            )
            for e in events
        ],
    )


# --- hoering hearing summary / publish -------------------------------------------------------


@hearing_review_app.command("summary")
def summary_command(
    case: Case,
    as_of: AsOf = None,
    json_out: JsonFlag = False,
    decisions: Annotated[
        str | None,
        typer.Option(help="A draft decisions file to use instead of the codified decisions."),
    ] = None,
) -> None:
    """Write the høringsoppsummering: .docx with a chart, and .xlsx; the internal version
    (names) and beside it the public version (personal data masked as in the export)."""
    wanted = _checked(case, as_of)
    if decisions is not None:
        from domain.decisions import parse_decisions

        parse_decisions(read_text_file(decisions, "decisions"), decisions)
        decisions = str(Path(decisions).resolve())
    result = _run(
        "hearing_summary",
        case=wanted,
        as_of=runtime.as_of_moment(as_of),
        decisions_path=decisions,
    )
    if json_out:
        output.print_json(result)
        return
    output.stdout.print(
        f"Høringsoppsummering for {result['case']}: {result['responses']} responses "
        f"({result['late']} late, {result['unreviewed']} without a stance)"
    )
    output.stdout.print(f"  {result['docx']}\n  {result['xlsx']}  (intern versjon, med navn)")
    output.stdout.print(
        f"  {result['public_docx']}\n  {result['public_xlsx']}  (offentlig versjon, skjermet)"
    )


@hearing_review_app.command("publish")
def publish_command(
    case: Case,
    outdir: Annotated[str, typer.Argument(help="A folder, or a file name ending in .zip.")],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """Export every response for publication; private persons' personal data masked."""
    wanted = _checked(case, as_of)
    target = str(Path(outdir).expanduser().resolve())
    result = _run("publish_hearing", case=wanted, outdir=target, as_of=runtime.as_of_moment(as_of))
    if json_out:
        output.print_json(result)
        return
    output.stdout.print(
        f"{result['responses']} responses of {result['case']} exported to {result['target']} "
        f"({result['private']} from private persons, masked)"
    )
