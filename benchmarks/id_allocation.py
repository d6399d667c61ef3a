"""ID allocations per second under contention, against plain single-row inserts.

Eight processes each do N transactions at once, on SQLite and on PostgreSQL:
  - ledger: `ledger.reserve` (key lookup, counter UPDATE ... RETURNING, reservation
    INSERT), one reservation per transaction, all on one prefix (one counter row)
  - baseline: one INSERT of a single row into a scratch table per transaction
Both use the same engine settings (on SQLite, BEGIN IMMEDIATE), so the ratio shows
what the ledger's bookkeeping costs over the cheapest possible write. The two run in
alternating rounds (the machine is shared; load drifts); the ratio reported is the
median of the rounds' ratios. Afterwards every reservation is checked: distinct,
consecutive numbers.

Run: .venv/bin/python -m benchmarks.id_allocation [--per-worker 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from config.settings import default_data_dir
from services.reference_files import load_reference_data
from storage import ledger
from storage.db import create_db_engine, upgrade_schema, write_session
from storage.reference_sync import sync_reference_data

WORKERS = 8
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _ledger_worker(url: str, tag: str, worker: int, count: int, barrier) -> None:
    engine = create_db_engine(url)
    barrier.wait()
    for i in range(count):
        with write_session(engine) as session:
            ledger.reserve(session, "BLS", f"bench-{tag}-{worker}-{i}", datetime.now(UTC))
    engine.dispose()


def _insert_worker(url: str, tag: str, worker: int, count: int, barrier) -> None:
    engine = create_db_engine(url)
    barrier.wait()
    for i in range(count):
        with write_session(engine) as session:
            session.execute(
                text("INSERT INTO bench_insert (key) VALUES (:key)"),
                {"key": f"b-{tag}-{worker}-{i}"},
            )
    engine.dispose()


def _timed(target, url: str, per_worker: int, tag: str) -> float:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(WORKERS + 1)
        procs = [
            ctx.Process(target=target, args=(url, tag, w, per_worker, barrier))
            for w in range(WORKERS)
        ]
        for p in procs:
            p.start()
        barrier.wait()
        start = time.perf_counter()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
    if any(p.exitcode for p in procs):
        raise SystemExit("a worker failed")
    return WORKERS * per_worker / elapsed


def _prepare(url: str) -> None:
    engine = create_db_engine(url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
        serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
        session.execute(
            text(f"CREATE TABLE bench_insert (id {serial} PRIMARY KEY, key VARCHAR(200) UNIQUE)")
        )
    engine.dispose()


def _check_numbers(url: str, expected: int) -> None:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        numbers = conn.execute(
            text("SELECT number FROM id_reservation WHERE prefix = 'BLS' ORDER BY number")
        ).scalars()
        got = list(numbers)
    engine.dispose()
    if len(got) != expected or got != list(range(got[0], got[0] + expected)):
        raise SystemExit(f"ledger handed out {len(got)} numbers, not {expected} consecutive")


def run_backend(name: str, url: str, per_worker: int, rounds: int) -> None:
    _prepare(url)
    baselines, allocations = [], []
    for round_ in range(rounds):
        baselines.append(_timed(_insert_worker, url, per_worker, f"r{round_}"))
        allocations.append(_timed(_ledger_worker, url, per_worker, f"r{round_}"))
    _check_numbers(url, rounds * WORKERS * per_worker)
    ratios = [a / b for a, b in zip(allocations, baselines, strict=True)]
    print(
        f"{name:10s} baseline inserts/s {statistics.median(baselines):8.0f}   ledger "
        f"allocations/s {statistics.median(allocations):8.0f}   ratio (median of rounds) "
        f"{statistics.median(ratios):5.2f}   (rounds: {' '.join(f'{r:.2f}' for r in ratios)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-worker", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{WORKERS} processes x {args.per_worker} transactions each, started together; "
        f"median of {args.rounds} alternating rounds"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        run_backend("sqlite", url, args.per_worker, args.rounds)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hoering_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    try:
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        run_backend("postgresql", url, args.per_worker, args.rounds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
