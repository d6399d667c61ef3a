"""Summary and publication at two sizes: memory flat, time linear in the responses.

For each size (default 20,000 and 100,000) a fresh database (SQLite by default,
`--postgres URL` for a PostgreSQL server: one database per size is created and dropped)
gets hearing 24/750 and that many responses written straight into the tables
(`benchmarks.bulk_responses`: organisations and private persons with names, addresses
and phone numbers to mask, edited form-letter copies, unrelated letters, attachments
with text, 30 % reviewed), their raw messages in a blob store, and its campaigns grouped.
Then, each in a fresh process so its peak memory (ru_maxrss) is its own:

  - summary: `hearing summary` (`services.summary.write_summary`: the internal and the
    public .docx and .xlsx and the chart);
  - publication: `hearing publish` (`services.publication.export_publication` to a .zip).

It prints the seconds, responses per second and peak RSS of each stage per size, and the
ratios of the largest size to the smallest: RSS within 15 % (flat) and seconds per
response within 25 % (linear).

Run: .venv/bin/python -m benchmarks.summary_scale [--sizes 20000 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = "24/750"
AS_OF = datetime(2024, 9, 16, 9, 0, tzinfo=UTC)
STAGES = ("summary", "publication")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """The CPU time (user + system) of this process and of its children that ended (parse
    and masking workers): on a shared machine, what the work cost."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(url: str, work: Path, count: int) -> dict:
    """The hearing with `count` bulk-inserted responses and its campaigns grouped."""
    from benchmarks.bulk_responses import bodies, insert_responses
    from config.settings import default_data_dir
    from services.campaigns import group_campaigns
    from services.reference_files import load_reference_data
    from storage.blobs import BlobStore
    from storage.db import create_db_engine, upgrade_schema, write_session
    from storage.reference_sync import sync_reference_data
    from tests.intake_helpers import circulated_hearing

    engine = create_db_engine(url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
    hearing_id = circulated_hearing(engine)
    store = BlobStore(work / "blobs", durable=False)
    started = time.perf_counter()
    insert_responses(engine, hearing_id, bodies(count, seed=count), store=store)
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with write_session(engine) as session:
        groups = group_campaigns(session, CASE, actor="benchmark", now=AS_OF)
    engine.dispose()
    return {
        "insert_seconds": inserted,
        "group_seconds": time.perf_counter() - started,
        "campaigns": len(groups),
        "largest": max((g["size"] for g in groups), default=0),
    }


def stage(name: str, url: str, work: Path) -> dict:
    """One stage, timed, in this (fresh) process."""
    from services import runtime
    from services.intake_parsing import worker_count
    from services.publication import export_publication
    from services.summary import write_summary
    from storage.blobs import BlobStore
    from storage.db import create_db_engine, read_session, write_session

    engine = create_db_engine(url)
    with read_session(engine) as session:  # connect and load the models before timing
        session.connection()
    ready = peak_rss_mib()
    started, cpu = time.perf_counter(), cpu_seconds()
    if name == "summary":
        with write_session(engine) as session:
            files = write_summary(session, CASE, AS_OF, work / "letters")
            result = {"responses": len(files.context.respondents)}
    elif name == "publication":
        with read_session(engine) as session:
            workers = worker_count(runtime.settings().publication_workers)  # as the flow does
            exported = export_publication(
                session, BlobStore(work / "blobs"), CASE, work / "export.zip", AS_OF, workers
            )
            result = {"responses": exported.responses, "private": exported.private}
    else:
        raise SystemExit(f"unknown stage {name}")
    engine.dispose()
    return {
        **result,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu,
        "ready_rss_mib": ready,
        "peak_rss_mib": peak_rss_mib(),
        "workers_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def run_child(module: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """`python -m module --child args...` in a fresh process; its last line as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(args: list[str]) -> dict:
    name, url, work = args[0], args[1], Path(args[2])
    if name == "build":
        return build(url, work, int(args[3]))
    return stage(name, url, work)


def database(postgres: str | None, work: Path, count: int) -> tuple[str, str | None]:
    """The URL of a fresh database for `count`, and the PostgreSQL database to drop."""
    if postgres is None:
        return f"sqlite:///{work / 'hoering.db'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"hoering_bench_{count}_{os.getpid()}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(postgres).set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), name


def drop_database(postgres: str | None, name: str | None) -> None:
    if postgres is None or name is None:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument(
        "--postgres", help="admin URL, e.g. postgresql://postgres@127.0.0.1/postgres"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    root = Path(tempfile.mkdtemp(prefix="hoering-summary-bench-"))
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    results: dict[int, dict[str, dict]] = {}
    try:
        for count in args.sizes:
            work = root / f"n{count}"
            work.mkdir()
            url, name = database(args.postgres, work, count)
            try:
                built = run_child("benchmarks.summary_scale", "build", url, str(work), str(count))
                print(
                    f"{count:>7} responses: inserted in {built['insert_seconds']:.0f} s, grouped "
                    f"in {built['group_seconds']:.0f} s ({built['campaigns']} campaigns, "
                    f"largest {built['largest']})",
                    flush=True,
                )
                results[count] = {}
                for each in STAGES:
                    done = run_child("benchmarks.summary_scale", each, url, str(work))
                    results[count][each] = done
                    print(
                        f"{count:>7} responses: {each:<11} {done['seconds']:7.1f} s "
                        f"({count / done['seconds']:6.0f} responses/s; CPU "
                        f"{done['cpu_seconds']:.1f} s), peak RSS "
                        f"{done['peak_rss_mib']:5.0f} MiB (ready {done['ready_rss_mib']:.0f} MiB)",
                        flush=True,
                    )
            finally:
                drop_database(args.postgres, name)
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    small, large = min(results), max(results)
    for each in STAGES:
        a, b = results[small][each], results[large][each]
        rss = b["peak_rss_mib"] / a["peak_rss_mib"]
        per = (b["seconds"] / large) / (a["seconds"] / small)
        cpu = (b["cpu_seconds"] / large) / (a["cpu_seconds"] / small)
        print(
            f"{each:<11} {small} -> {large}: peak RSS x{rss:.2f} (flat: <= 1.15), "
            f"seconds per response x{per:.2f}, CPU seconds per response x{cpu:.2f} "
            "(linear: <= 1.25)"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
