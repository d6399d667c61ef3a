"""The import's duplicate lookups are planned through their own indexes on both
databases, at a table size where a scan would show (50,000 messages)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from services.intake_planning import filed_by_content_key, filed_by_message_id, read_by_sha
from storage.db import create_db_engine, refresh_statistics

ROWS = 50_000
COLUMNS = "raw_sha256, size, source, read_at, outcome, message_id, from_address, content_key, "
COLUMNS += "warnings_json"

SQLITE_FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
INSERT INTO intake_message ({COLUMNS})
SELECT printf('%064x', i), 1000, 'bench/' || i, '2024-06-03 09:00:00.000000',
       CASE WHEN i % 50 = 0 THEN 'duplicate' ELSE 'matched' END,
       '<' || i || '@example.no>', 'post@example.no',
       CASE WHEN i % 50 = 0 THEN NULL ELSE printf('%064x', i * 7) END, '[]'
FROM n
"""

POSTGRES_FILL = f"""
INSERT INTO intake_message ({COLUMNS})
SELECT lpad(to_hex(i), 64, '0'), 1000, 'bench/' || i, now(),
       CASE WHEN i % 50 = 0 THEN 'duplicate' ELSE 'matched' END,
       '<' || i || '@example.no>', 'post@example.no',
       CASE WHEN i % 50 = 0 THEN NULL ELSE lpad(to_hex(i * 7), 64, '0') END, '[]'
FROM generate_series(1, {ROWS}) AS i
"""


def _fill(engine: Engine) -> None:
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        connection.execute(text(SQLITE_FILL if sqlite else POSTGRES_FILL))
    if sqlite:
        refresh_statistics(engine)  # what the import runs at its end
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE intake_message"))  # autovacuum's job in production


def _plan(engine: Engine, statement) -> str:
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
            return "\n".join(str(row[-1]) for row in rows)
        return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql).all())


def _assert_indexed(engine: Engine, plan: str, index: str) -> None:
    assert index in plan, plan
    if engine.dialect.name == "sqlite":
        lines = [line.strip() for line in plan.splitlines()]
        assert "SCAN intake_message" not in lines, plan  # a full scan names no index
        assert "ix_intake_message_outcome" not in plan, plan
    else:
        assert "Seq Scan on intake_message" not in plan, plan
        assert "ix_intake_message_outcome" not in plan, plan


def test_duplicate_lookups_use_their_own_indexes_at_50k_rows(db_url):
    engine = create_db_engine(db_url)
    try:
        _fill(engine)
        batch = range(20_000, 20_200)  # one batch of 200 keys
        by_id = filed_by_message_id([f"<{i}@example.no>" for i in batch])
        _assert_indexed(engine, _plan(engine, by_id), "ix_intake_message_message_id")
        by_content = filed_by_content_key([f"{i * 7:064x}" for i in batch])
        _assert_indexed(engine, _plan(engine, by_content), "ix_intake_message_content_key")
        sha_index = (
            "sqlite_autoindex_intake_message_1"
            if engine.dialect.name == "sqlite"
            else "intake_message_raw_sha256_key"
        )
        by_sha = read_by_sha([f"{i:064x}" for i in batch])
        _assert_indexed(engine, _plan(engine, by_sha), sha_index)
        with engine.connect() as connection:
            found = connection.execute(by_content).all()
        assert len(found) == len(batch) - len([i for i in batch if i % 50 == 0])
    finally:
        engine.dispose()


def test_refresh_statistics_gives_sqlite_its_statistics(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    try:
        from storage.db import upgrade_schema

        upgrade_schema(engine)
        with engine.begin() as connection:
            connection.execute(text(SQLITE_FILL.replace(str(ROWS), "2000")))
        refresh_statistics(engine)
        with engine.connect() as connection:
            indexes = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT idx FROM sqlite_stat1 WHERE tbl = 'intake_message'"
                )
            }
        assert {"ix_intake_message_content_key", "ix_intake_message_message_id"} <= indexes
    finally:
        engine.dispose()
