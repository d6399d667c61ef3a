"""Shared fixtures: databases (SQLite and PostgreSQL), reference data, the CLI.

PostgreSQL tests need a server at HOERING_TEST_PG_URL (default: the local one on
127.0.0.1:5432 with trust auth). Outside CI they are skipped when it is missing;
under CI=true they fail, because CI must run them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from config.settings import default_data_dir
from services.reference_files import load_reference_data
from storage.db import create_db_engine, upgrade_schema, write_session
from storage.reference_sync import sync_reference_data

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "HOERING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def service_missing(reason: str) -> None:
    """Skip outside CI; fail under CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"required service missing under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def reference_data():
    return load_reference_data(default_data_dir())


def _pg_admin_engine() -> Engine | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine | None]:
    engine = _pg_admin_engine()
    yield engine
    if engine is not None:
        engine.dispose()


def _pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory, reference_data, pg_admin) -> Iterator[dict[str, str | None]]:
    """An initialised database per backend, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    sqlite_file = folder / "template.db"
    engine = create_db_engine(f"sqlite:///{sqlite_file}")
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, reference_data)
    engine.dispose()
    with sqlite3.connect(sqlite_file) as conn:  # fold the WAL into the file we copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    templates: dict[str, str | None] = {"sqlite": str(sqlite_file), "postgresql": None}
    pg_template = None
    if pg_admin is not None:
        pg_template = f"hoering_tpl_{uuid.uuid4().hex[:10]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_template}"'))
        engine = create_db_engine(_pg_url(pg_template))
        upgrade_schema(engine)
        with write_session(engine) as session:
            sync_reference_data(session, reference_data)
        engine.dispose()
        templates["postgresql"] = pg_template
    yield templates
    if pg_template is not None and pg_admin is not None:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_template}" WITH (FORCE)'))


def _fresh_database(backend: str, templates, pg_admin, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        target = tmp_path / "hoering.db"
        shutil.copyfile(templates["sqlite"], target)
        yield f"sqlite:///{target}"
        return
    if templates["postgresql"] is None:
        service_missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"hoering_t_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"'))
    try:
        yield _pg_url(name)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, db_templates, pg_admin, tmp_path) -> Iterator[str]:
    """The URL of a fresh, initialised database (reference data loaded), per backend."""
    yield from _fresh_database(request.param, db_templates, pg_admin, tmp_path)


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def hoering_env(tmp_path, monkeypatch, db_url) -> dict[str, str]:
    """Environment for running the CLI against the test database."""
    env = {
        "HOERING_DATA_DIR": str(tmp_path / "var"),
        "HOERING_DATABASE_URL": db_url,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> Iterator[str]:
    """One Prefect test harness (a real API server on loopback) for the whole session.

    Its URL is also exported as PREFECT_API_URL so CLI subprocesses report there.
    """
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        os.environ["PREFECT_API_URL"] = url
        yield url
        os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture
def flow_env(hoering_env, prefect_api) -> dict[str, str]:
    """CLI environment whose flows report to the session's Prefect harness."""
    return {**hoering_env, "PREFECT_API_URL": prefect_api}


# --- no process left behind --------------------------------------------------------------------

SESSION_MARK = "HOERING_TEST_SESSION"


def pytest_configure(config) -> None:
    """Mark this session's environment: every process the suite starts inherits it."""
    os.environ.setdefault(SESSION_MARK, uuid.uuid4().hex)


def _ends_with_this_process(proc: Path, cmd: str) -> bool:
    """multiprocessing's resource tracker, started for this process by a spawn pool (the
    ledger's concurrency test): it reads a pipe from this process and exits when this
    process does, so it is not left behind."""
    if "multiprocessing.resource_tracker" not in cmd:
        return False
    parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return parent == os.getpid()


def _marked_processes(mark: str) -> list[str]:
    """Processes (not this one) whose environment carries this session's mark."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            if f"{SESSION_MARK}={mark}".encode() in environ.split(b"\0"):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if _ends_with_this_process(proc, cmd):
                    continue
                found.append(f"{proc.name}: {cmd.strip()[:160]}")
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run when a process the suite started (a Prefect server, a worker, a
    hoering command) is still running after it."""
    mark = os.environ.get(SESSION_MARK)
    if not mark or not Path("/proc").is_dir():
        return
    import time

    deadline = time.monotonic() + 10  # what was just stopped may take a moment to go
    left = _marked_processes(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _marked_processes(mark)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "processes started by the test suite are still running:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = 1
