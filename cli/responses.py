"""`hoering responses ...`: import hearing responses from mail, list them, assign them.

`import` and `assign` change state and run their Prefect flow; the listings read the
database directly and never import Prefect. While an import runs, its report (JSON
lines under `<data dir>/imports/`) is followed for the progress bar on stderr; with
--json the same report is printed on stdout when the import is done.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import output
from domain.case_numbers import normalise_case_number
from domain.errors import UserError
from mail.sources import ImapSource, imap_password, open_source
from services import runtime
from services.intake_report import ReportFollower, new_report_path, read_events
from storage.db import read_session

responses_app = typer.Typer(
    help="Hearing responses received by e-mail: import, list, assign.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Import as at this moment: YYYY-MM-DD (noon, Oslo) or YYYY-MM-DDTHH:MM "
        "(default: now). Decides which header times are trusted.",
    ),
]
PROGRESS_FROM = 5  # a bar for imports of more than a few messages
OUTCOMES = ("matched", "unmatched", "duplicate", "quarantined")


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


# --- import ----------------------------------------------------------------------------------


def _checked_sources(sources: list[str]) -> list[str]:
    """The sources as the flow gets them (absolute paths); bad ones fail here, in one line."""
    settings = runtime.settings().imap
    checked = []
    for text in sources:
        source = open_source(text, settings)
        if isinstance(source, ImapSource):
            imap_password(settings, source.key)  # no password: say so before starting
            checked.append(text)
        else:
            checked.append(str(Path(text).expanduser().resolve()))
    return checked


def _run_in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as error:  # handed to the main thread
            box["error"] = error

    thread = threading.Thread(target=target, name="import-flow", daemon=True)
    thread.start()
    return thread, box


def follow_with_progress(
    thread: threading.Thread, follower: ReportFollower, show: bool, interval: float = 0.2
) -> None:
    """Wait for `thread`, drawing a progress bar on stderr from the report it writes."""
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.stderr, transient=True, disable=not show) as bar:
        task = bar.add_task("import", total=None)
        while True:
            running = thread.is_alive()
            follower.poll()
            if follower.total > PROGRESS_FROM:
                bar.update(task, total=follower.total, completed=follower.read)
            if not running:
                break
            thread.join(interval)


def _print_import_json(result: dict[str, Any], report: Path) -> None:
    """{"read", "counts", "messages": [...], "report"} streamed from the report file."""
    write = sys.stdout.write
    write("{\n")
    write(f'  "read": {json.dumps(result["read"])},\n')
    write(f'  "counts": {json.dumps(result["counts"])},\n')
    write('  "messages": [')
    first = True
    for event in read_events(report):
        if event.pop("event") != "message":
            continue
        write(("\n    " if first else ",\n    ") + json.dumps(event, ensure_ascii=False))
        first = False
    write("\n  ],\n" if not first else "],\n")
    write(f'  "report": {json.dumps(str(report), ensure_ascii=False)}\n')
    write("}\n")


def _print_import_table(result: dict[str, Any], report: Path) -> None:
    counts = result["counts"]
    output.print_table(
        f"{result['read']} messages read",
        ["outcome", "messages"],
        [(outcome, counts[outcome]) for outcome in OUTCOMES],
    )
    noteworthy = []
    for event in read_events(report):
        if event.get("event") == "message" and event["outcome"] != "matched":
            noteworthy.append(event)
            if len(noteworthy) >= 50:
                break
    if noteworthy:
        output.print_table(
            "Needs a look (first 50)",
            ["source", "outcome", "case", "reason"],
            [(e["source"], e["outcome"], e["case"], e["reason"]) for e in noteworthy],
        )
    output.stdout.print(f"Report: {report}")


@responses_app.command("import")
def import_command(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="An .eml file, a folder of .eml files, an mbox, a Maildir, or "
            "imaps://user@host/INBOX (password from HOERING_IMAP_PASSWORD[_FILE])."
        ),
    ],
    as_of: AsOf = None,
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Split the import into this many parts, each a flow run on the work pool "
            "(run 'hoering worker --limit 1' on each machine that should import).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Import hearing responses: file, number and receipt them, or quarantine them."""
    now = runtime.as_of_moment(as_of)  # a bad date fails here, before Prefect starts
    runtime.engine()
    checked = _checked_sources(sources)
    if shards is not None:
        _import_sharded(checked, shards, now, json_out)
        return
    report = new_report_path(runtime.settings().data_dir)

    def call() -> Any:
        from flows.flow_runner import run_flow  # Prefect only for state-changing commands

        return run_flow(
            "intake_flows",
            "import_responses",
            sources=checked,
            as_of=now,
            report_path=str(report),
        )

    thread, box = _run_in_thread(call)
    follow_with_progress(thread, ReportFollower(report), show=output.stderr.is_terminal)
    if "error" in box:
        raise box["error"]
    result = box["result"]
    if json_out:
        _print_import_json(result, report)
    else:
        _print_import_table(result, report)


def _import_sharded(sources: list[str], shards: int, now: Any, json_out: bool) -> None:
    from flows.flow_runner import run_flow

    result = run_flow("intake_shards", "import_sharded", sources=sources, shards=shards, as_of=now)
    if json_out:
        output.print_json(result)
        return
    counts = result["counts"]
    output.print_table(
        f"{result['read']} messages read in {result['shards']} shards ({result['runs']} runs)",
        ["outcome", "messages"],
        [(outcome, counts[outcome]) for outcome in OUTCOMES],
    )
    output.stdout.print("Each shard's report is in the data dir of the worker that ran it.")


# --- listings --------------------------------------------------------------------------------


@responses_app.command("list")
def list_command(
    case: Annotated[str, typer.Argument(help="Case number, e.g. 24/750.")],
    json_out: JsonFlag = False,
) -> None:
    """Every response filed under a hearing: sender, time, late flag, texts, attachments."""
    from services.hearings import get_hearing
    from storage.intake_queries import list_responses

    wanted = normalise_case_number(case, "CASE")
    with read_session(runtime.engine()) as session:
        rows = list_responses(session, get_hearing(session, wanted))
    if json_out:
        output.print_json(rows)
        return
    supplements = sum(1 for r in rows if r["supplement_of"])
    counted = (
        f" ({len(rows) - supplements} counted, {supplements} supplements)" if supplements else ""
    )
    output.print_table(
        f"{len(rows)} responses in {wanted}{counted}",
        ["ref", "supplement of", "sender", "organisation", "received", "late", "attachments"],
        [
            (
                r["tracking_number"],
                r["supplement_of"] or "",
                f"{r['sender_name'] or ''} <{r['sender_address'] or ''}>".strip(),
                r["organisation"] or "(privatperson/ukjent)",
                output.local_time(r["received_at"]),
                _yes_no(r["late"]),
                ", ".join(a["name"] or a["safe_name"] for a in r["attachments"]),
            )
            for r in rows
        ],
    )
    for r in rows:
        _print_response(r)


_DOCUMENT_NUMBER = re.compile(r"\d{2}/\d{1,6}-\d{1,4}")


def _print_response(r: dict[str, Any]) -> None:
    output.stdout.rule(f"{r['tracking_number'] or '#' + str(r['id'])}: {r['subject'] or ''}")
    sender = f"{r['sender_name'] or ''} <{r['sender_address'] or ''}>".strip()
    output.stdout.print(
        f"From: {sender}, {r['organisation'] or '(privatperson/ukjent)'}; received "
        f"{output.local_time(r['received_at'])}; late: {_yes_no(r['late']) or '-'}",
        markup=False,
        highlight=False,
    )
    if r["supplement_of"]:
        output.stdout.print(f"Supplement to {r['supplement_of']} (counted with it).")
    if r["supplements"]:
        output.stdout.print(f"Supplements: {', '.join(r['supplements'])}.")
    output.stdout.print(r["body_text"] or "(ingen tekst)", markup=False, highlight=False)
    for a in r["attachments"]:
        title = f"Vedlegg: {a['name'] or a['safe_name']} (sha256 {a['sha256'][:12]}…)"
        output.stdout.print(f"\n{title}", markup=False, highlight=False)
        text = a["text"] if a["text"] else f"(ikke lesbart: {a['unreadable_reason']})"
        output.stdout.print(text, markup=False, highlight=False)


@responses_app.command("show")
def show_command(
    ref: Annotated[
        str, typer.Argument(help="The response's document number (24/750-3) or its ID.")
    ],
    json_out: JsonFlag = False,
) -> None:
    """One response: sender, time, late flag, texts, attachments, and its supplements."""
    from storage.intake_queries import response_detail

    text = ref.strip().replace(" ", "")
    if _DOCUMENT_NUMBER.fullmatch(text):
        case, _, number = text.rpartition("-")
        query: dict[str, Any] = {
            "tracking_number": f"{normalise_case_number(case, 'REF')}-{int(number)}"
        }
    elif text.isdigit():
        query = {"response_id": int(text)}
    else:
        raise UserError(
            f"REF: '{ref}' is neither a document number nor a response ID; write it as "
            "24/750-3, or give the ID 'hoering responses unmatched' shows"
        )
    with read_session(runtime.engine()) as session:
        found = response_detail(session, **query)
    if found is None:
        raise UserError(f"REF: no response {ref}; see 'hoering responses list CASE'")
    if json_out:
        output.print_json(found)
        return
    _print_response(found)


@responses_app.command("unmatched")
def unmatched_command(json_out: JsonFlag = False) -> None:
    """Responses that quote no known case, with the open hearings whose subject they name
    (suggested): assign each with 'hoering responses assign'."""
    from storage.intake_queries import list_unmatched

    with read_session(runtime.engine()) as session:
        rows = list_unmatched(session)
    if json_out:
        output.print_json(rows)
        return
    output.print_table(
        f"{len(rows)} unmatched responses",
        ["id", "received", "sender", "subject", "cases quoted", "suggested", "attachments"],
        [
            (
                r["id"],
                output.local_time(r["received_at"]),
                r["sender_address"],
                r["subject"],
                ", ".join(r["quoted_cases"]),
                ", ".join(s["case"] for s in r["suggested_cases"]),
                len(r["attachments"]),
            )
            for r in rows
        ],
    )
    if any(r["suggested_cases"] for r in rows):
        output.stdout.print(
            "Suggested: the subject names an open hearing's subject; check and file it with "
            "'hoering responses assign ID CASE'."
        )


@responses_app.command("quarantine")
def quarantine_command(json_out: JsonFlag = False) -> None:
    """Messages that could not be filed, with the reason and where the raw bytes are."""
    from storage.blobs import BlobStore
    from storage.intake_queries import list_quarantine

    store = BlobStore(runtime.settings().data_dir / "blobs")
    with read_session(runtime.engine()) as session:
        rows = list_quarantine(session)
    for row in rows:
        row["raw_path"] = str(store.path_for(row["raw_sha256"]).resolve())
    if json_out:
        output.print_json(rows)
        return
    output.print_table(
        f"{len(rows)} quarantined messages",
        ["id", "source", "reason", "bytes", "quarantined", "raw bytes"],
        [
            (
                r["id"],
                r["source"],
                r["reason"],
                r["size"],
                output.local_time(r["quarantined_at"]),
                r["raw_path"],
            )
            for r in rows
        ],
    )


# --- assign ----------------------------------------------------------------------------------


@responses_app.command("assign")
def assign_command(
    response_id: Annotated[int, typer.Argument(help="The response's ID (responses unmatched).")],
    case: Annotated[str, typer.Argument(help="Case number, e.g. 24/750.")],
    as_of: AsOf = None,
    json_out: JsonFlag = False,
) -> None:
    """File an unmatched response under a hearing: tracking number, late flag, receipt."""
    wanted = normalise_case_number(case, "CASE")
    now = runtime.as_of_moment(as_of)
    runtime.engine()
    from flows.flow_runner import run_flow

    result = run_flow(
        "intake_flows", "assign_response_flow", response_id=response_id, case=wanted, as_of=now
    )
    if json_out:
        output.print_json(result)
        return
    if result["already_assigned"]:
        output.stdout.print(
            f"Response {response_id} is already filed as {result['tracking_number']}."
        )
        return
    late = " (late)" if result["late"] else ""
    receipt = "; receipt queued" if result["receipt_queued"] else ""
    output.stdout.print(
        f"Response {response_id} filed under {wanted} as {result['tracking_number']}{late}"
        f"{receipt}."
    )
