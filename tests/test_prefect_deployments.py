"""prefect.yaml against a real Prefect server: deploy every flow, run one on a worker.

The module starts `prefect server start` on a free loopback port with its own
PREFECT_HOME (not the test harness), creates the process work pool `hoering`, runs
`prefect deploy --all` from the repository root and reads the deployments back from
the API. One test then starts `prefect worker start --pool hoering` against a test
SQLite database holding the circulated 24/750 and runs close-due-hearings/hoering.

The server's scheduler service is off, so no scheduled run (send-outbox every five
minutes, ...) fires into the test; the schedules are still stored and checked.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.lifecycle import Action
from flows.prefect_server import is_healthy
from services import hearings
from storage.db import read_session
from tests.hearing_helpers import CIRCULATED, act, create

pytestmark = [pytest.mark.integration, pytest.mark.prefect]

ROOT = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]
POOL = "hoering"
DEPLOYMENT = "hoering"
START_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 180

# flow name -> (entrypoint, cron schedule or None)
EXPECTED = {
    "hearing-create": ("flows/hearing_flows.py:create_hearing_flow", None),
    "hearing-transition": ("flows/hearing_flows.py:transition_flow", None),
    "close-due-hearings": ("flows/hearing_flows.py:close_due_hearings", "5 0 * * *"),
    "activate-effective-goals": ("flows/hearing_flows.py:activate_effective_goals", "10 0 * * *"),
    "send-outbox": ("flows/outbox_flows.py:send_outbox", "*/5 * * * *"),
    "send-reminders": ("flows/outbox_flows.py:send_reminders", "0 7 * * 1-5"),
    "import-responses-from-mailbox": (
        "flows/intake_flows.py:import_from_configured_mailbox",
        "*/15 * * * *",
    ),
    "group-campaigns": ("flows/review_flows.py:group_campaigns", None),
    "apply-review-file": ("flows/review_flows.py:apply_review_file", None),
    "hearing-summary": ("flows/review_flows.py:hearing_summary", None),
    "publish-hearing": ("flows/review_flows.py:publish_hearing", None),
}


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    env: dict[str, str]
    folder: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _base_env(home: Path, api_url: str) -> dict[str, str]:
    """This process's environment without its Prefect and hoering settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HOERING_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_CLI_PROMPT="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        COLUMNS="200",
    )
    return env


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as stream:
        return subprocess.Popen(
            [*PREFECT, *args],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as a whole
        )


def _stop(process: subprocess.Popen, grace_s: float = 20.0) -> None:
    """Stop the process group: SIGTERM, then SIGKILL after `grace_s`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError):  # children may outlive the leader
            os.killpg(process.pid, signal.SIGKILL)
        return


def _tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def _prefect(
    server: PrefectServer, *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*PREFECT, *args],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"prefect {' '.join(args)} exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _api(server: PrefectServer, method: str, path: str, body: Any = None) -> Any:
    reply = httpx.request(method, f"{server.api_url}{path}", json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> Iterator[PrefectServer]:
    """A real `prefect server start` on loopback, for this module only."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = _base_env(folder / "home", api_url)
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    log = folder / "server.log"
    process = _spawn(
        ["server", "start", "--host", "127.0.0.1", "--port", str(port)], server_env, log
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not is_healthy(api_url, timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"prefect server did not come up on {api_url} "
                    f"(exit {process.poll()}):\n{_tail(log)}"
                )
            time.sleep(0.2)
        yield PrefectServer(api_url, env, folder)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def deployed(prefect_server: PrefectServer) -> dict[str, dict[str, Any]]:
    """Work pool created and `prefect deploy --all` run; flow name -> deployment."""
    _prefect(prefect_server, "work-pool", "create", POOL, "--type", "process")
    _prefect(prefect_server, "deploy", "--all", "--no-prompt", timeout=300)
    flows = {f["id"]: f["name"] for f in _api(prefect_server, "POST", "/flows/filter", {})}
    return {flows[d["flow_id"]]: d for d in _api(prefect_server, "POST", "/deployments/filter", {})}


def test_every_flow_is_deployed_to_the_hoering_pool(deployed):
    assert set(deployed) == set(EXPECTED)
    for flow_name, (entrypoint, _) in EXPECTED.items():
        deployment = deployed[flow_name]
        assert deployment["name"] == DEPLOYMENT, flow_name
        assert deployment["entrypoint"] == entrypoint, flow_name
        assert deployment["work_pool_name"] == POOL, flow_name


def test_flow_runs_change_into_the_deploying_clone(deployed):
    for flow_name, deployment in deployed.items():
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ], flow_name


def test_scheduled_deployments_have_cron_schedules_in_oslo_time(deployed):
    for flow_name, (_, cron) in EXPECTED.items():
        schedules = deployed[flow_name]["schedules"]
        if cron is None:
            assert schedules == [], flow_name
            continue
        assert [(s["schedule"].get("cron"), s["schedule"].get("timezone")) for s in schedules] == [
            (cron, "Europe/Oslo")
        ], flow_name
        assert all(s["active"] for s in schedules), flow_name


@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_worker_runs_close_due_hearings_to_completion(
    prefect_server, deployed, engine, db_url, tmp_path
):
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, tmp_path / "letters")
    worker_env = {
        **prefect_server.env,
        "HOERING_DATA_DIR": str(tmp_path / "var"),
        "HOERING_DATABASE_URL": db_url,
    }
    log = tmp_path / "worker.log"
    worker = _spawn(["worker", "start", "--pool", POOL, "--name", "test-worker"], worker_env, log)
    try:
        started = _prefect(
            prefect_server,
            "deployment",
            "run",
            f"close-due-hearings/{DEPLOYMENT}",
            "--param",
            "as_of=2024-06-01",
            "--watch",
            "--watch-interval",
            "1",
            "--watch-timeout",
            str(RUN_TIMEOUT_S),
            timeout=RUN_TIMEOUT_S + 60,
        )
    finally:
        _stop(worker)
    found = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout)
    assert found, started.stdout
    flow_run = _api(prefect_server, "GET", f"/flow_runs/{found.group(1)}")
    assert flow_run["state"]["type"] == "COMPLETED", _tail(log)
    assert flow_run["deployment_id"] == deployed["close-due-hearings"]["id"]
    assert flow_run["parameters"] == {"as_of": "2024-06-01"}

    artifacts = _api(
        prefect_server,
        "POST",
        "/artifacts/filter",
        {"artifacts": {"flow_run_id": {"any_": [found.group(1)]}}},
    )
    assert any("24/750" in str(a["data"]) for a in artifacts), artifacts

    with read_session(engine) as session:
        hearing = hearings.get_hearing(session, "24/750")
        events = hearings.history(session, hearing)
    assert hearing.state == "closed"
    assert (events[-1].action, events[-1].actor) == ("close", "scheduler")
