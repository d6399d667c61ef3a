"""The foundation commands against both databases: in-process, and through the real
`hoering` entry point in a process of its own."""

from __future__ import annotations

import shutil

from sqlalchemy import inspect, text

from config.settings import default_data_dir
from storage.db import create_db_engine
from tests.cli_helpers import assert_one_line_error, run_hoering, run_hoering_process


def _dump(url: str) -> dict[str, list[tuple]]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        tables = sorted(t for t in inspect(conn).get_table_names() if t != "alembic_version")
        dump = {
            t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"')).all()), key=repr)
            for t in tables
        }
    engine.dispose()
    return dump


def test_init_twice_leaves_the_same_state(hoering_env, db_url):
    first = run_hoering("init", "--json", env=hoering_env)
    assert first.code == 0, first.stderr
    before = _dump(db_url)
    second = run_hoering("init", "--json", env=hoering_env)
    assert second.code == 0, second.stderr
    summary = second.json()
    assert summary["changed"] is False
    assert summary["counts"]["specialties"]["total"] == 46
    assert summary["next_ids"]["BLS"] == "BLS-154"
    assert _dump(db_url) == before


def test_ids_next_after_init_and_unknown_prefix(hoering_env):
    assert run_hoering("ids", "next", "AMM", env=hoering_env).stdout.strip() == "AMM-068"
    assert run_hoering("ids", "next", "onc", "--json", env=hoering_env).json() == {
        "prefix": "ONC",
        "next": "ONC-069",
    }
    assert_one_line_error(run_hoering("ids", "next", "XYZ", env=hoering_env), "unknown ID prefix")


def test_ids_reserve_is_idempotent_per_key(hoering_env):
    first = run_hoering("ids", "reserve", "NEV", "--key", "k-1", "--json", env=hoering_env)
    again = run_hoering("ids", "reserve", "NEV", "--key", "k-1", "--json", env=hoering_env)
    other = run_hoering("ids", "reserve", "NEV", "--key", "k-2", "--json", env=hoering_env)
    assert first.json()["id"] == "NEV-068" and first.json()["new"] is True
    assert again.json() == {**first.json(), "new": False}
    assert other.json()["id"] == "NEV-069"
    assert run_hoering("ids", "next", "NEV", env=hoering_env).stdout.strip() == "NEV-070"


def test_goals_list_json_has_the_documented_fields(hoering_env):
    result = run_hoering(
        "goals", "list", "--specialty", "BLS", "--on", "2024-01-01", "--json", env=hoering_env
    )
    goals = result.json()
    assert goals, result.stderr
    assert {"id", "specialty", "text", "level", "status", "valid_from", "valid_to"} <= set(goals[0])
    by_id = {g["id"]: g for g in goals}
    assert by_id["BLS-001"]["level"] == "highest"
    assert by_id["BLS-101"]["level"] == "middle"
    assert all(g["specialty"] == "BLS" for g in goals)


def test_fkm_goal_applies_only_from_its_start(hoering_env):
    before = run_hoering(
        "goals", "list", "--specialty", "FKM", "--on", "2024-08-31", "--json", env=hoering_env
    ).json()
    after = run_hoering(
        "goals", "list", "--specialty", "FKM", "--on", "2024-09-01", "--json", env=hoering_env
    ).json()
    assert [g["id"] for g in before] == []
    assert [g["id"] for g in after] == ["LM-75"]


def test_bad_inputs_end_in_one_line_and_exit_2(hoering_env):
    assert_one_line_error(
        run_hoering("goals", "list", "--on", "2024-02-30", env=hoering_env), "--on", "2024-02-30"
    )
    assert_one_line_error(
        run_hoering("goals", "list", "--specialty", "XYZ", env=hoering_env), "XYZ"
    )
    assert_one_line_error(run_hoering("ids", "reserve", "BLS", env=hoering_env), "--key")


def test_unreachable_database_is_one_line(tmp_path):
    env = {
        "HOERING_DATA_DIR": str(tmp_path),
        "HOERING_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
    }
    assert_one_line_error(run_hoering("init", env=env), "cannot reach the database")
    assert_one_line_error(run_hoering("specialties", env=env), "cannot reach the database")


def test_broken_reference_file_writes_nothing(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    specialties = data / "specialties.yaml"
    specialties.write_text(specialties.read_text().replace("prefix: BLS", "prefix: B1S", 1))
    env = {"HOERING_DATA_DIR": str(tmp_path / "var"), "HOERING_REFERENCE_DIR": str(data)}
    assert_one_line_error(run_hoering("init", env=env), "specialties.yaml", "B1S")
    assert not (tmp_path / "var" / "hoering.db").exists()


def test_uninitialised_database_says_run_init(tmp_path):
    env = {"HOERING_DATA_DIR": str(tmp_path / "var")}
    assert_one_line_error(run_hoering("specialties", env=env), "hoering init")


def test_the_real_entry_point_answers_and_refuses_in_one_line(hoering_env):
    """`python -m cli.main` as the console script runs it: exit codes and streams as a
    user sees them (the in-process runner must not hide a difference)."""
    first = run_hoering_process("ids", "next", "AMM", env=hoering_env)
    assert (first.code, first.stdout.strip()) == (0, "AMM-068"), first.stderr
    assert_one_line_error(
        run_hoering_process("ids", "next", "XYZ", env=hoering_env), "unknown ID prefix"
    )
    usage = run_hoering_process("no-such-command", env=hoering_env)
    assert_one_line_error(usage, "no-such-command", "hoering --help")
