"""Engines, sessions and schema upgrades.

SQLite is the embedded default. Its write transactions start with BEGIN IMMEDIATE so
that two processes never interleave a read-then-write (the ID ledger relies on it);
read-only sessions start a plain deferred transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session

from domain.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(UserError):
    """The database cannot be reached or opened."""


class DatabaseBusy(UserError):
    """Another command held the database longer than the busy timeout (exit code 1:
    nothing is wrong with the input; trying again later works)."""

    exit_code = 1


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def create_db_engine(url: str, busy_timeout_s: float = 60.0) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"HOERING_DATABASE_URL '{url}' is not a database URL; use e.g. "
            "sqlite:///var/hoering.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, busy_timeout_s)
        # hide_parameters: an error's text (which Prefect logs) quotes no values, and
        # responses hold personal data
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseUnavailable(
            f"no driver for database URL {describe_url(url)} ({exc}); use sqlite:/// "
            "or postgresql+psycopg://"
        ) from None


def _sqlite_engine(url, busy_timeout_s: float) -> Engine:
    database = url.database
    if database and database != ":memory:":
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create the data folder {folder}: {exc.strerror}; set HOERING_DATA_DIR "
                "to a writable folder"
            ) from None
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get("read_only") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


_ENGINES: dict[tuple[str, float], Engine] = {}


def engine_for(url: str, busy_timeout_s: float = 60.0) -> Engine:
    """One engine per URL and process."""
    key = (url, busy_timeout_s)
    if key not in _ENGINES:
        _ENGINES[key] = create_db_engine(url, busy_timeout_s)
    return _ENGINES[key]


def dispose_engines() -> None:
    """Close every engine this process opened (when a command ends inside a longer process)."""
    while _ENGINES:
        _, engine = _ENGINES.popitem()
        engine.dispose()


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed as one transaction, or rolled back on error."""
    with _translate_connection_errors(engine), Session(engine) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading only; on SQLite it takes no write lock."""
    with (
        _translate_connection_errors(engine),
        Session(engine.execution_options(read_only=True)) as session,
    ):
        yield session  # closing ends the transaction; loaded rows stay readable


@contextmanager
def _translate_connection_errors(engine: Engine) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if is_busy(exc):
            raise DatabaseBusy(
                f"the database {describe_url(str(engine.url))} is busy: another hoering "
                "command (an import?) held it longer than the busy timeout; run this again "
                "when it has finished, or raise HOERING_SQLITE_BUSY_TIMEOUT_S"
            ) from None
        if not _is_connection_problem(exc):
            raise
        raise DatabaseUnavailable(
            f"cannot reach the database {describe_url(str(engine.url))}: "
            f"{_first_line(exc.orig)}; start the server or set HOERING_DATABASE_URL"
        ) from None


def refresh_statistics(engine: Engine) -> None:
    """Bring the planner's statistics up to date after a bulk write (the end of an import).

    SQLite keeps none unless ANALYZE runs. A full ANALYZE reads each index once (about
    0.2 s at 200,000 messages); the approximate one (`analysis_limit`) was tried and
    misjudges low-cardinality columns such as `intake_message.outcome` as selective, the
    very mistake that made the duplicate lookup scan. The per-batch lookups name their
    index on SQLite (`INDEXED BY`), so they stay indexed between two imports too.
    PostgreSQL's autovacuum analyses on its own, so nothing is done there.
    """
    if engine.dialect.name != "sqlite":
        return
    with _translate_connection_errors(engine), engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" after its busy timeout."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text


def short_error(exc: BaseException) -> str:
    """The kind of an error and a short reason, without SQL or parameters.

    SQLAlchemy's text of a database error holds the statement and its parameters
    (addresses, letter bodies): only the driver's error class and the constraint are
    named here.
    """
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None) if diag is not None else None
        reason = type(orig).__name__ if orig is not None else "database error"
        if constraint:
            reason += f" on {constraint}"
        elif orig is not None and "constraint failed" in str(orig):  # SQLite names it
            reason += f" ({str(orig).splitlines()[0][:100]})"
        return f"{type(exc).__name__}: {reason}"
    detail = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _is_connection_problem(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    markers = (
        "connection",
        "could not connect",
        "unable to open database",
        "does not exist",
        "password authentication",
        "no such host",
        "name or service not known",
        "timeout expired",
    )
    return exc.connection_invalidated or any(m in text for m in markers)


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def alembic_config(engine: Engine):  # -> alembic.config.Config, imported lazily
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", str(engine.url).replace("%", "%%"))
    return config


def upgrade_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    config = alembic_config(engine)
    with _translate_connection_errors(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_is_current(engine: Engine) -> bool:
    """True when the database has our tables (init has run)."""
    with _translate_connection_errors(engine), engine.connect() as connection:
        return inspect(connection).has_table("alembic_version")
