"""ID allocations per second under contention, against plain single-row inserts.

Eight processes each do N transactions at once, on SQLite and on PostgreSQL:
  - ledger: `ledger.reserve` (counter UPDATE ... RETURNING + reservation INSERT)
  - baseline: one INSERT of a single row into a scratch table per transaction
Both use the same engine settings (on SQLite, BEGIN IMMEDIATE), so the ratio shows
what the ledger's bookkeeping costs over the cheapest possible write.

Run: .venv/bin/python -m benchmarks.id_allocation [--per-worker 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
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


def _ledger_worker(url: str, worker: int, count: int, barrier) -> None:
    engine = create_db_engine(url)
    barrier.wait()
    for i in range(count):
        with write_session(engine) as session:
            ledger.reserve(session, "BLS", f"bench-{worker}-{i}", datetime.now(UTC))
    engine.dispose()


def _insert_worker(url: str, worker: int, count: int, barrier) -> None:
    engine = create_db_engine(url)
    barrier.wait()
    for i in range(count):
        with write_session(engine) as session:
            session.execute(
                text("INSERT INTO bench_insert (key) VALUES (:key)"), {"key": f"b-{worker}-{i}"}
            )
    engine.dispose()


def _timed(target, url: str, per_worker: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(WORKERS + 1)
        procs = [
            ctx.Process(target=target, args=(url, w, per_worker, barrier)) for w in range(WORKERS)
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


def run_backend(name: str, url: str, per_worker: int) -> None:
    _prepare(url)
    baseline = _timed(_insert_worker, url, per_worker)
    allocations = _timed(_ledger_worker, url, per_worker)
    print(
        f"{name:10s} baseline inserts/s {baseline:8.0f}   ledger allocations/s "
        f"{allocations:8.0f}   ratio {allocations / baseline:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-worker", type=int, default=100)
    args = parser.parse_args()
    print(f"{WORKERS} processes x {args.per_worker} transactions each, started together")
    with tempfile.TemporaryDirectory() as folder:
        run_backend("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.per_worker)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hoering_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    try:
        run_backend("postgresql", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.per_worker)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
