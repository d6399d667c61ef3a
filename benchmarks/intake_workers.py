"""Sharded import on PostgreSQL: one Prefect worker against two, on the same mailbox.

The mailbox is `benchmarks.intake`'s (same generator, same mix). For each worker count
the benchmark makes a fresh PostgreSQL database and installation (`hoering server
start`, `hoering deploy`), starts that many `hoering worker --limit 1`, runs
`hoering responses import MAILDIR --shards S` and times it; every process it starts
it stops. Each worker is one importing process (HOERING_INTAKE_PARSE_WORKERS=1), so
the workers are what runs in parallel. It prints messages per second, the ratio
two/one (target: at least 1.6) and the peak resident memory of each shard run
(its process or its largest parse worker; with `--counts 50000 200000` it shows
whether a worker's memory stays flat as the mailbox grows).

Run: .venv/bin/python -m benchmarks.intake_workers [--counts 20000] [--shards 8]
     [--maildir-cache DIR]  (each generated Maildir kept in DIR and reused)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.intake import _pg_database, cached_maildir
from tests.installation_helpers import (
    HOERING,
    ROOT,
    hoering,
    installation_env,
    start_worker,
    stop_group,
)


def _prepare(db_url: str) -> None:
    from config.settings import default_data_dir
    from services.reference_files import load_reference_data
    from storage.db import create_db_engine, upgrade_schema, write_session
    from storage.reference_sync import sync_reference_data
    from tests.intake_helpers import circulated_hearing

    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
    circulated_hearing(engine)
    engine.dispose()


def run(folder: Path, workers: int, shards: int, root: Path) -> dict:
    """Import `folder` with `workers` workers into a fresh installation; the figures."""
    name = f"hoering_workers_{os.getpid()}_{workers}"
    db_url = _pg_database(name)
    home = root / f"install-{workers}"
    env = installation_env(
        home,
        db_url,
        HOERING_INTAKE_PARSE_WORKERS="1",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    started: list[subprocess.Popen] = []
    try:
        _prepare(db_url)
        hoering(env, "server", "start")
        hoering(env, "deploy")
        for number in range(workers):
            log = (root / f"worker-{workers}-{number}.log").open("ab")
            started.append(start_worker(env, log, "--limit", "1"))
        began = time.perf_counter()
        out = hoering(
            env,
            "responses",
            "import",
            str(folder),
            "--shards",
            str(shards),
            "--json",
            timeout=6 * 3600,
        )
        seconds = time.perf_counter() - began
    finally:
        for process in started:
            stop_group(process)
        subprocess.run([*HOERING, "server", "stop"], env=env, cwd=ROOT, timeout=120)
        _pg_database(name, drop=True)
    result = json.loads(out)
    return {**result, "seconds": seconds, "workers": workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[20_000])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--maildir-cache", type=Path, help="generate each Maildir here once and reuse it"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hoering-intake-workers-"))
    try:
        for count in args.counts:
            began = time.perf_counter()
            folder, _ = cached_maildir(args.maildir_cache, root / f"maildir-{count}", count)
            print(f"generated {count} messages in {time.perf_counter() - began:.0f} s", flush=True)
            rates = {}
            for workers in (1, 2):
                result = run(folder, workers, args.shards, root)
                rates[workers] = result["read"] / result["seconds"]
                print(
                    f"{count:>7} messages, {workers} worker(s), {args.shards} shards: "
                    f"{rates[workers]:5.0f} msg/s ({result['seconds']:.0f} s, {result['runs']} "
                    f"runs) | peak RSS per shard run {result['peak_rss_mib']} MiB | "
                    f"load {os.getloadavg()[0]:.1f} | {result['counts']}",
                    flush=True,
                )
            print(f"{count:>7} messages: two workers / one = {rates[2] / rates[1]:.2f} (>= 1.6)")
            if not args.keep and args.maildir_cache is None:
                shutil.rmtree(folder)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")


if __name__ == "__main__":
    main()
