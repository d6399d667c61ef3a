"""National scale end to end on PostgreSQL: import, campaign grouping, summary and
publication of N responses (default 200,000), each timed, with its peak memory, and the
projection to 1,000,000 and 4,600,000 responses on 1 and 2 workers.

The run: a fresh PostgreSQL database and data folder, a Maildir of N responses from the
generator of `benchmarks.intake` (the same mix: Norwegian text, .docx and PDF
attachments, HTML alternatives, resends and junk), and a Prefect server of its own
(stopped at the end; `PREFECT_API_URL` set: that server is used). Each stage runs in a
fresh process, so its peak RSS (ru_maxrss) is its own:

  1. import: the import flow (`flows.intake_flows.import_responses`, a Prefect flow run)
     of the whole Maildir, as `hoering responses import` runs it;
  2. grouping: `services.campaigns.group_all_new_responses`, the incremental grouping
     the import calls after its batches, over every imported response;
  3. summary: `services.summary.write_summary` (internal and public .docx/.xlsx, chart);
  4. publication: `services.publication.export_publication` to a .zip.

Projection model: every stage is linear in the responses (each stage's memory is flat
and its per-batch lookups are indexed, so seconds per response do not grow; check with
`benchmarks.summary_scale` at two sizes), so a stage at M responses takes its measured
seconds x M / N. On this machine the import is one importer whose parse workers already
use both cores, so that row is the measurement scaled; the goal (imported, grouped and
summarised in under an hour) is judged on it. With two worker machines the import
takes that time divided by the two-worker speed-up (`--import-speedup`, measured by
`benchmarks.intake_workers`, two workers against one; 1.0 when not given). Grouping,
summary and publication are one process per hearing. The stages' counts are printed:
the summary covers the counted responses (supplements and automatic replies are not
counted), the publication every response. Wall-clock time
depends on the machine's load: the load average is printed at start and end, and each
stage's CPU seconds beside its wall seconds.

Run: .venv/bin/python -m benchmarks.national_scale [--responses 200000]
     [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--import-speedup 1.7]
     [--maildir-cache DIR]  (the generated Maildir kept in DIR, shared with intake_workers)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from benchmarks.summary_scale import (
    cpu_seconds,
    database,
    drop_database,
    peak_rss_mib,
    run_child,
    stage,
)

MODULE = "benchmarks.national_scale"
AS_OF = "2024-06-03T09:00"
STAGES = ("import", "grouping", "summary", "publication")
TARGETS = (1_000_000, 4_600_000)
GOAL_SECONDS = 3600


def _engine(url: str) -> Any:
    from storage.db import create_db_engine

    return create_db_engine(url)


def setup(url: str) -> dict:
    from config.settings import default_data_dir
    from services.reference_files import load_reference_data
    from storage.db import upgrade_schema, write_session
    from storage.reference_sync import sync_reference_data
    from tests.intake_helpers import circulated_hearing

    engine = _engine(url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
    hearing_id = circulated_hearing(engine)
    engine.dispose()
    return {"hearing_id": hearing_id}


def run_import(folder: Path) -> dict:
    import asyncio

    from flows.intake_flows import import_responses

    ready = peak_rss_mib()
    started, cpu = time.perf_counter(), cpu_seconds()
    flow = cast(Any, import_responses)  # a Prefect flow: called as the CLI calls it
    result = asyncio.run(flow([str(folder)], as_of=AS_OF))
    return {
        "responses": result["counts"]["matched"],
        "read": result["read"],
        "counts": result["counts"],
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu,
        "ready_rss_mib": ready,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_grouping(url: str) -> dict:
    from services.campaigns import group_all_new_responses
    from services.runtime import as_of_moment
    from storage.db import write_session

    engine = _engine(url)
    with write_session(engine) as session:
        session.connection()
    ready = peak_rss_mib()
    started, cpu = time.perf_counter(), cpu_seconds()
    done = group_all_new_responses(engine, actor="benchmark", now=as_of_moment(AS_OF))
    engine.dispose()
    counts = next(iter(done.values()), {"responses": 0, "joined": 0, "new_groups": 0})
    return {
        **counts,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu,
        "ready_rss_mib": ready,
        "peak_rss_mib": peak_rss_mib(),
    }


def child(args: list[str]) -> dict:
    name, url, work = args[0], args[1], Path(args[2])
    os.environ["HOERING_DATABASE_URL"] = url
    os.environ["HOERING_DATA_DIR"] = str(work)
    if name == "setup":
        return setup(url)
    if name == "import":
        return run_import(Path(os.environ["HOERING_BENCH_MAILDIR"]))
    if name == "grouping":
        return run_grouping(url)
    return stage(name, url, work)  # summary, publication: blobs and letters under `work`


def project(
    results: dict[str, dict], measured: int, speedup: float, key: str = "seconds"
) -> list[str]:
    """The projected time per stage and in all at each target size, from the stages'
    wall seconds (`key` "seconds") or CPU seconds ("cpu_seconds"): on this machine as
    measured (one importer whose parse workers use every core), and with the import
    spread over two worker machines (divided by the measured two-worker speed-up). The
    goal is judged on this machine only."""
    lines = []
    for target in TARGETS:
        scale = target / measured
        rows = (("this machine", 1.0), ("2 worker machines", speedup))
        for label, factor in rows:
            times = {s: results[s][key] * scale if s in results else 0.0 for s in STAGES}
            times["import"] /= factor
            total = sum(times.values())
            parts = ", ".join(f"{s} {times[s] / 60:.0f} min" for s in STAGES if s in results)
            counted = sum(times[s] for s in ("import", "grouping", "summary"))
            verdict = ""
            judged = all(s in results for s in ("import", "summary"))
            if target == 1_000_000 and factor == 1.0 and judged:
                met = "met" if counted < GOAL_SECONDS else "not met"
                verdict = (
                    f" (imported, grouped and summarised in {counted / 60:.0f} min; "
                    f"goal < 60 min: {met})"
                )
            lines.append(
                f"{target:>9,} responses, {label}: {total / 60:6.0f} min = {parts}{verdict}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin URL"
    )
    parser.add_argument("--import-speedup", type=float, default=1.0)
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=list(STAGES),
        help="run only these stages, in this order (import first: the others read it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    parser.add_argument(
        "--maildir-cache", type=Path, help="generate the Maildir here once and reuse it"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    from benchmarks.intake import cached_maildir
    from flows.prefect_server import start_server, stop_server
    from tests.installation_helpers import free_port

    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="hoering-national-bench-"))
    work = root / "data"
    work.mkdir()
    env = {**os.environ, "PREFECT_HOME": str(root / "prefect-home")}
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    own_server = "PREFECT_API_URL" not in os.environ
    url, name = database(args.postgres, root, args.responses)
    results: dict[str, dict] = {}
    try:
        if own_server:
            env["PREFECT_API_URL"] = start_server(root / "server", free_port()).api_url
        started = time.perf_counter()
        maildir, stats = cached_maildir(args.maildir_cache, work / "maildir", args.responses)
        print(
            f"generated {args.responses} messages ({stats['bytes'] / 2**20:.0f} MiB) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        env["HOERING_BENCH_MAILDIR"] = str(maildir)
        run_child(MODULE, "setup", url, str(work), env=env)
        for each in args.stages:
            done = run_child(MODULE, each, url, str(work), env=env)
            results[each] = done
            print(
                f"{each:<11} {done['seconds']:8.1f} s wall, {done['cpu_seconds']:8.1f} s CPU, "
                f"{args.responses / done['seconds']:6.0f} responses/s, peak RSS "
                f"{done['peak_rss_mib']:5.0f} MiB | "
                + json.dumps(
                    {
                        k: v
                        for k, v in done.items()
                        if k in ("counts", "responses", "joined", "new_groups", "private")
                    }
                ),
                flush=True,
            )
    finally:
        if own_server:
            stop_server(root / "server")
        if not args.keep:
            drop_database(args.postgres, name)
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root} and database {name}")
    total = sum(r["seconds"] for r in results.values())
    print(f"end to end at {args.responses}: {total / 60:.1f} min")
    print(
        "projection (linear per stage; with 2 worker machines the import is divided by "
        f"{args.import_speedup:.2f}):"
    )
    for line in project(results, args.responses, args.import_speedup):
        print("  " + line)
    print(
        "the same from the stages' CPU seconds (their processes and worker processes, "
        "without PostgreSQL's; work that ran on both cores counts twice):"
    )
    for line in project(results, args.responses, args.import_speedup, "cpu_seconds"):
        print("  " + line)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
