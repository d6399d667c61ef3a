"""Migration 0008_ledger: the counter row comes to hold the next number."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, create_db_engine, upgrade_schema
from tests.conftest import _pg_url, service_missing

OLD_STATE = [
    "INSERT INTO catalogue (code, name, kind) VALUES ('BLS', 'Blod', 'specialty')",
    "INSERT INTO id_prefix (prefix, catalogue_code, padding, floor, floor_verified) "
    "VALUES ('BLS', 'BLS', 3, 153, true), ('AMM', 'BLS', 3, 60, false), "
    "('GER', 'BLS', 3, NULL, false)",
    "INSERT INTO id_counter (prefix, last_number) VALUES ('BLS', 150), ('AMM', 70), ('GER', 0)",
    "INSERT INTO id_reservation (key, prefix, number, status, created_at) "
    "VALUES ('k1', 'BLS', 160, 'burned', '2024-03-22 09:00:00')",
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path, pg_admin) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if pg_admin is None:
        service_missing("PostgreSQL is not running")
    name = f"hoering_mig_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_next_number_is_one_above_the_highest_known(empty_url):
    engine = create_db_engine(empty_url)
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005_desk")
    with engine.begin() as conn:
        for statement in OLD_STATE:
            conn.execute(text(statement))
    upgrade_schema(engine)
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT prefix, next_number FROM id_counter")).all())
        flags = conn.execute(text("SELECT accepted_unverified FROM id_reservation")).scalars()
        assert list(flags) == [False]
    engine.dispose()
    # BLS: the burned reservation 160 is highest; AMM: the old counter; GER: nothing yet
    assert got == {"BLS": 161, "AMM": 71, "GER": 1}
