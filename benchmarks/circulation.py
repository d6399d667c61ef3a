"""The time to circulate a hearing with about 500 recipients.

The 24/750 spec gets `--extra` (default 500) more stakeholders (helseforetak rows added
after init) in its `stakeholders:` list; the hearing is created, then circulated:

- storage: `services.hearings.transition(CIRCULATE)` in one write transaction (rules,
  høringsbrev and change sheet, one outbox message per recipient, audit event, commit),
  on SQLite and, when reachable, on PostgreSQL;
- flow: the same through the Prefect flow `circulate-hearing` (SQLite), against
  PREFECT_API_URL if set, else a local Prefect server started in the temporary data
  dir (its start-up is reported apart and not counted), after one warm-up flow run.

Run: .venv/bin/python -m benchmarks.circulation [--extra 500] [--no-flow] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from config.settings import default_data_dir
from domain.calendar import OSLO
from domain.hearing_spec import parse_hearing_spec
from domain.lifecycle import Action, Command
from services import hearings
from services.reference_files import load_reference_data
from storage.db import create_db_engine, read_session, upgrade_schema, write_session
from storage.models import StakeholderRow
from storage.reference_sync import sync_reference_data

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "examples" / "hearings" / "24-750-kliniske-studier.yaml"
CASE = "24/750"
CREATED = datetime(2024, 3, 20, 9, 0, tzinfo=OSLO)
CIRCULATED = datetime(2024, 3, 22, 10, 0, tzinfo=OSLO)
STAKEHOLDERS_LINE = "  stakeholders:\n"
PG_ADMIN = os.environ.get(
    "HOERING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def extra_keys(count: int) -> list[str]:
    return [f"bench-hf-{i:04d}" for i in range(count)]


def spec_with_extras(count: int) -> str:
    """The 24/750 spec with `count` more stakeholders listed under recipients."""
    content = SPEC_PATH.read_text(encoding="utf-8")
    if content.count(STAKEHOLDERS_LINE) != 1:
        raise SystemExit(f"{SPEC_PATH}: expected one '{STAKEHOLDERS_LINE.strip()}' line")
    listed = "".join(f"    - {key}\n" for key in extra_keys(count))
    return content.replace(STAKEHOLDERS_LINE, STAKEHOLDERS_LINE + listed, 1)


def prepare(url: str, extra: int) -> int:
    """Schema, reference data, `extra` stakeholders and the hearing in draft; returns
    the number of recipients."""
    engine = create_db_engine(url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
        for key in extra_keys(extra):
            session.add(
                StakeholderRow(
                    key=key,
                    name=f"Helseforetak {key[-4:]} & Søn",
                    group="helseforetak",
                    email=f"{key}@example.no",
                    email_verified=True,
                )
            )
    content = spec_with_extras(extra)
    spec = parse_hearing_spec(content, "benchmark-spec.yaml")
    with write_session(engine) as session:
        hearings.create_hearing(session, spec, content, "benchmark-spec.yaml", CREATED, "bench")
    with read_session(engine) as session:
        count = len(hearings.recipients(session, hearings.get_hearing(session, CASE)))
    engine.dispose()
    return count


def circulate_in_storage(url: str, letters_dir: Path) -> tuple[float, int]:
    """Seconds for the circulate transaction (commit included), messages queued."""
    engine = create_db_engine(url)
    with read_session(engine) as session:  # connect outside the timing
        hearings.get_hearing(session, CASE)
    start = time.perf_counter()
    with write_session(engine) as session:
        result = hearings.transition(
            session, CASE, Command(Action.CIRCULATE, "bench"), CIRCULATED, letters_dir
        )
    elapsed = time.perf_counter() - start
    engine.dispose()
    if result.to_state != "circulated":
        raise SystemExit(f"circulate ended in {result.to_state}")
    return elapsed, result.details["queued_messages"]


def circulate_through_flow(url: str, data_dir: Path) -> tuple[float, float, int]:
    """(Prefect start-up s, warm-up flow s, circulate flow s, messages queued)."""
    os.environ["HOERING_DATABASE_URL"] = url
    os.environ["HOERING_DATA_DIR"] = str(data_dir)
    import socket

    from flows.flow_runner import prepare_prefect
    from flows.prefect_server import start_server, stop_server

    started_server = "PREFECT_API_URL" not in os.environ
    if started_server:  # a server of its own, stopped at the end
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        start_server(data_dir, port)
    start = time.perf_counter()
    prepare_prefect()
    from flows.hearing_flows import circulate_hearing, close_due_hearings

    startup = time.perf_counter() - start
    try:
        close_due_hearings(as_of=CIRCULATED)  # warm-up: nothing is due
        start = time.perf_counter()
        result = circulate_hearing(case=CASE, actor="bench", as_of=CIRCULATED)
        elapsed = time.perf_counter() - start
    finally:
        if started_server:
            stop_server(data_dir)
    return startup, elapsed, result["details"]["queued_messages"]


@contextmanager
def postgres_database() -> Iterator[str | None]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hoering_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        yield None
        return
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(backend: str, recipients: int, seconds: float, queued: int) -> None:
    print(
        f"{backend:22s} {recipients:4d} recipients  circulate {seconds:6.2f} s  "
        f"({1000 * seconds / recipients:5.1f} ms per recipient, {queued} messages queued)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=int, default=500, help="stakeholders added to 24/750")
    parser.add_argument("--no-flow", action="store_true", help="skip the Prefect flow run")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sqlite_file = folder / "storage.db"
        recipients = prepare(f"sqlite:///{sqlite_file}", args.extra)
        with sqlite3.connect(sqlite_file) as conn:  # fold the WAL in before copying
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        flow_file = folder / "flow.db"
        shutil.copyfile(sqlite_file, flow_file)

        seconds, queued = circulate_in_storage(f"sqlite:///{sqlite_file}", folder / "letters")
        report("storage, sqlite", recipients, seconds, queued)

        if not args.no_postgres:
            with postgres_database() as pg_url:
                if pg_url is not None:
                    pg_recipients = prepare(pg_url, args.extra)
                    seconds, queued = circulate_in_storage(pg_url, folder / "pg-letters")
                    report("storage, postgresql", pg_recipients, seconds, queued)

        if not args.no_flow:
            startup, seconds, queued = circulate_through_flow(
                f"sqlite:///{flow_file}", folder / "var"
            )
            report("prefect flow, sqlite", recipients, seconds, queued)
            print(f"(Prefect server start-up and import, not counted: {startup:.1f} s)")


if __name__ == "__main__":
    main()
