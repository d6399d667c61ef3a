"""The hearing commands as staff run them: separate processes, flows reported to Prefect."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import SPEC_PATH


@pytest.fixture
def inline_env(flow_env):
    """Commands run their flows in their own process against the session's Prefect API."""
    return flow_env


def test_create_circulate_status_history_letters(inline_env):
    created = run_hoering(
        "hearing", "create", str(SPEC_PATH), "--as-of", "2024-03-20", "--json", env=inline_env
    )
    assert created.code == 0, created.stderr
    assert created.json()["ids"]["BLS"] == "BLS-154"
    assert created.json()["ids"]["HJS"] == "HJS-xxx"

    circulated = run_hoering(
        "hearing", "circulate", "24/750", "--as-of", "2024-03-22", "--json", env=inline_env
    )
    assert circulated.code == 0, circulated.stderr
    assert circulated.json()["to"] == "circulated"
    assert "three months" in circulated.stderr  # the utredningsinstruks warning

    again = run_hoering(
        "hearing", "circulate", "24/750", "--as-of", "2024-03-23", "--json", env=inline_env
    )
    assert again.json()["already_done"] is True

    status = run_hoering("hearing", "status", "24/750", "--json", env=inline_env).json()
    assert status["state"] == "circulated"
    assert status["circulated_on"] == "2024-03-22"
    assert {i["id"] for i in status["items"]} >= {"AMM-068", "ONC-069", "HJS-xxx"}
    assert status["recipients"] and not any(r["answered"] for r in status["recipients"])

    history = run_hoering("hearing", "history", "24/750", "--json", env=inline_env).json()
    assert [e["action"] for e in history] == ["create", "circulate"]
    assert history[1]["from"] == "draft" and history[1]["to"] == "circulated"

    letters = run_hoering("hearing", "letters", "24/750", "--json", env=inline_env).json()
    kinds = {letter["kind"]: letter for letter in letters}
    assert set(kinds) == {"hoeringsbrev", "endringsoversikt"}
    letter = kinds["hoeringsbrev"]
    assert letter["document_number"] == "24/750-1"
    assert hashlib.sha256(Path(letter["path"]).read_bytes()).hexdigest() == letter["sha256"]


def test_bad_spec_is_one_line_and_writes_nothing(inline_env, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(SPEC_PATH.read_text().replace("deadline: 2024-05-31", "deadline: 2024-05-32"))
    assert_one_line_error(
        run_hoering("hearing", "create", str(broken), env=inline_env), "broken.yaml", "deadline"
    )
    assert run_hoering("hearing", "list", "--json", env=inline_env).json() == []
    assert_one_line_error(
        run_hoering("hearing", "create", str(tmp_path / "missing.yaml"), env=inline_env),
        "not found",
    )


def test_refusals_and_bad_dates_are_one_line(inline_env):
    assert_one_line_error(
        run_hoering("hearing", "circulate", "99/999", env=inline_env), "no hearing", "99/999"
    )
    run_hoering("hearing", "create", str(SPEC_PATH), "--as-of", "2024-03-20", env=inline_env)
    assert_one_line_error(
        run_hoering("hearing", "circulate", "24/750", "--as-of", "2024-13-01", env=inline_env),
        "--as-of",
    )
    assert_one_line_error(
        run_hoering("hearing", "close", "24/750", "--as-of", "2024-06-01", env=inline_env),
        "cannot close",
        "draft",
    )
    status = run_hoering("hearing", "status", "24/750", "--json", env=inline_env).json()
    assert status["state"] == "draft"


def test_read_only_commands_never_import_prefect(hoering_env, tmp_path):
    """status/letters/history/goals/ids run without Prefect: no import, no server."""
    run_hoering("ids", "next", "BLS", env=hoering_env)
    revision = SPEC_PATH.parent / "25-1201-blodsykdommer-revisjon.yaml"
    wrong = tmp_path / "wrong.yaml"  # refused by the catalogue check before Prefect
    wrong.write_text(revision.read_text().replace("goal_id: BLS-013", "goal_id: BLS-014"))
    sheet = tmp_path / "bls.xlsx"
    probe = (
        "import sys\n"
        "from cli.main import app\n"
        "from domain.errors import UserError\n"
        "for args in (['ids','next','BLS'], ['goals','list','--specialty','BLS'],\n"
        "             ['hearing','list'], ['specialties'], ['goals','history','BLS-001'],\n"
        f"             ['catalogue','export','BLS','{sheet}'],\n"
        f"             ['catalogue','import','{sheet}','--dry-run'],\n"
        f"             ['hearing','create','{wrong}','--as-of','2025-03-03']):\n"
        "    try:\n"
        "        app(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    except UserError as exc:\n"
        "        print('refused:', exc)\n"
        "print('prefect' in sys.modules)\n"
    )
    env = {k: v for k, v in hoering_env.items()}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert result.stdout.count("refused:") == 1 and "no learning goal BLS-014" in result.stdout
    assert not (Path(hoering_env["HOERING_DATA_DIR"]) / "prefect").exists()


def test_no_prefect_server_is_refused_in_one_line(hoering_env, flow_env):
    """Without a running server a state-changing command names 'hoering server start';
    it starts nothing, and an unknown case is refused before Prefect is even needed."""
    env = {k: v for k, v in hoering_env.items()}
    env["PREFECT_API_URL"] = ""  # neither a configured server nor a started one
    created = run_hoering("hearing", "create", str(SPEC_PATH), "--as-of", "2024-03-20", env=env)
    assert_one_line_error(created, "no Prefect server is running", "hoering server start")
    assert not (Path(env["HOERING_DATA_DIR"]) / "prefect" / "server.pid").exists()
    unknown = run_hoering("hearing", "circulate", "99/999", "--as-of", "2024-03-22", env=env)
    assert_one_line_error(unknown, "no hearing with case number '99/999'")
    assert run_hoering("hearing", "create", str(SPEC_PATH), env=flow_env).code == 0
    refused = run_hoering("hearing", "close", "24/750", "--as-of", "2024-04-01", env=env)
    assert_one_line_error(refused, "cannot close", "draft")  # the state, still no server


def test_server_status_and_stop_without_a_server(hoering_env):
    env = {**hoering_env, "PREFECT_API_URL": ""}
    status = run_hoering("server", "status", env=env)
    assert status.code == 1
    assert "No Prefect server started for this installation" in status.stdout
    stopped = run_hoering("server", "stop", env=env)
    assert stopped.code == 0
    assert "No Prefect server was running" in stopped.stdout
    assert_one_line_error(run_hoering("deploy", env=env), "hoering server start")
    assert_one_line_error(run_hoering("worker", env=env), "hoering server start")
