"""The engine as an installation runs it: `hoering server start`, `hoering deploy`,
`hoering worker`, against a real Prefect server and a real worker, both stopped here.

One module-wide installation (a data dir with an SQLite database): the server is started
with the scheduler loop shortened and the worker polls every second. Tests then
trigger `circulate-hearing/on-demand` through the Prefect API with parameters, and let
the `send-reminders/weekdays-0700` deployment fire from a schedule.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.calendar import OSLO, is_working_day
from domain.lifecycle import Action
from services import hearings
from services.outbox_listing import list_outbox
from storage.db import create_db_engine, read_session
from tests.hearing_helpers import act, create, spec_text
from tests.installation_helpers import (
    HOERING,
    ROOT,
    hoering,
    installation_env,
    start_worker,
    stop_group,
)

pytestmark = [pytest.mark.integration, pytest.mark.prefect]

RUN_TIMEOUT_S = 180.0

# flow/deployment -> (entrypoint, cron or None)
EXPECTED = {
    "close-due-hearings/daily": ("flows/hearing_flows.py:close_due_hearings", "5 0 * * *"),
    "activate-goals/daily": ("flows/hearing_flows.py:activate_goals", "10 0 * * *"),
    "send-reminders/weekdays-0700": ("flows/outbox_flows.py:send_reminders", "0 7 * * 1-5"),
    "send-outbox/every-5-min": ("flows/outbox_flows.py:send_outbox", "*/5 * * * *"),
    "import-mailbox/every-15-min": ("flows/intake_flows.py:import_mailbox", "*/15 * * * *"),
    "create-hearing/on-demand": ("flows/hearing_flows.py:create_hearing", None),
    "revise-hearing/on-demand": ("flows/hearing_flows.py:revise_hearing", None),
    "circulate-hearing/on-demand": ("flows/hearing_flows.py:circulate_hearing", None),
    "close-hearing/on-demand": ("flows/hearing_flows.py:close_hearing", None),
    "complete-review/on-demand": ("flows/hearing_flows.py:complete_review", None),
    "codify-hearing/on-demand": ("flows/hearing_flows.py:codify_hearing", None),
    "withdraw-hearing/on-demand": ("flows/hearing_flows.py:withdraw_hearing", None),
    "import-responses/on-demand": ("flows/intake_flows.py:import_responses", None),
    "import-shard/on-demand": ("flows/intake_shards.py:import_shard", None),
    "assign-response/on-demand": ("flows/intake_flows.py:assign_response_flow", None),
    "group-campaigns/on-demand": ("flows/review_flows.py:group_campaigns", None),
    "apply-review-file/on-demand": ("flows/review_flows.py:apply_review_file", None),
    "hearing-summary/on-demand": ("flows/review_flows.py:hearing_summary", None),
    "publish-hearing/on-demand": ("flows/review_flows.py:publish_hearing", None),
}


@dataclass(frozen=True)
class Installation:
    env: dict[str, str]
    api_url: str
    db_url: str
    data_dir: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        for _ in range(10):  # 503: the server's SQLite was busy (scheduler, worker); retry
            reply = httpx.request(method, f"{self.api_url}{path}", json=body, timeout=30)
            if reply.status_code != 503:
                break
            time.sleep(1)
        reply.raise_for_status()
        return reply.json() if reply.content else None


@pytest.fixture(scope="module")
def installation(tmp_path_factory, db_templates) -> Iterator[Installation]:
    """`hoering server start` + `hoering deploy` + `hoering worker`; all stopped after."""
    folder = tmp_path_factory.mktemp("installation")
    db_file = folder / "hoering.db"
    db_file.write_bytes(Path(db_templates["sqlite"]).read_bytes())
    env = installation_env(
        folder / "var",
        f"sqlite:///{db_file}",
        HOERING_MAIL_PDF="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
        PREFECT_WORKER_QUERY_SECONDS="2",
        PREFECT_WORKER_PREFETCH_SECONDS="1",
    )
    log = (folder / "worker.log").open("ab")
    worker = None
    try:
        started = hoering(env, "server", "start")
        assert "UI http://127.0.0.1:" in started
        status = hoering(env, "server", "status")
        api_url = status.split("UI ")[1].split()[0] + "/api"
        hoering(env, "deploy")
        worker = start_worker(env, log)
        yield Installation(env, api_url, env["HOERING_DATABASE_URL"], folder / "var")
    finally:
        if worker is not None:
            stop_group(worker)
        log.close()
        subprocess.run([*HOERING, "server", "stop"], env=env, cwd=ROOT, timeout=60)
    assert subprocess.run([*HOERING, "server", "status"], env=env, cwd=ROOT).returncode == 1


def _deployments(inst: Installation) -> dict[str, dict]:
    flows = {f["id"]: f["name"] for f in inst.api("POST", "/flows/filter", {})}
    return {
        f"{flows[d['flow_id']]}/{d['name']}": d for d in inst.api("POST", "/deployments/filter", {})
    }


def _wait_for_run(inst: Installation, flow_run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = inst.api("GET", f"/flow_runs/{flow_run_id}")
        if run["state_type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} did not finish in {RUN_TIMEOUT_S} s")


def test_deploy_applies_every_deployment_with_oslo_schedules(installation):
    deployed = _deployments(installation)
    assert set(deployed) == set(EXPECTED)
    for name, (entrypoint, cron) in EXPECTED.items():
        deployment = deployed[name]
        assert deployment["entrypoint"] == entrypoint, name
        assert deployment["work_pool_name"] == "hoering", name
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ], name
        schedules = [
            (s["schedule"].get("cron"), s["schedule"].get("timezone"))
            for s in deployment["schedules"]
        ]
        assert schedules == ([(cron, "Europe/Oslo")] if cron else []), name
    pools = installation.api("POST", "/work_pools/filter", {})
    assert [p["type"] for p in pools if p["name"] == "hoering"] == ["process"]


def test_circulate_hearing_triggered_through_the_api(installation):
    engine = create_db_engine(installation.db_url)
    create(engine)
    deployment = _deployments(installation)["circulate-hearing/on-demand"]
    created = installation.api(
        "POST",
        f"/deployments/{deployment['id']}/create_flow_run",
        {"parameters": {"case": "24/750", "actor": "marie", "as_of": "2024-03-22"}},
    )
    run = _wait_for_run(installation, created["id"])
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["name"] == "circulate 24/750"
    with read_session(engine) as session:
        hearing = hearings.get_hearing(session, "24/750")
        last = hearings.history(session, hearing)[-1]
        assert hearing.state == "circulated"
        assert (last.action, last.actor) == ("circulate", "marie")
        assert len(list_outbox(session, "24/750")) > 0
    engine.dispose()


# The scheduled run acts as on this day (the schedule's own parameters), so the test does
# not depend on the day it runs: Thursday 16 May 2024 is 24/751's 14-day reminder day.
REMINDER_DAY = date(2024, 5, 16)


def test_scheduled_send_reminders_fires_and_queues_reminders(installation):
    assert is_working_day(REMINDER_DAY)
    engine = create_db_engine(installation.db_url)
    content = spec_text(**{'case: "24/750"': 'case: "24/751"'})
    create(engine, re.sub(r"(?m)^\s*expected_id:.*\n", "", content))  # new IDs for 24/751
    circulated = datetime(2024, 3, 22, 12, 0, tzinfo=OSLO)
    act(engine, Action.CIRCULATE, circulated, installation.data_dir / "letters", case="24/751")

    deployment = _deployments(installation)["send-reminders/weekdays-0700"]
    soon = datetime.now(OSLO) + timedelta(seconds=5)
    installation.api(  # one more schedule beside weekdays 07:00: its first run is in 5 s
        "POST",
        f"/deployments/{deployment['id']}/schedules",
        [
            {
                "schedule": {
                    "interval": 86400,
                    "anchor_date": soon.isoformat(),
                    "timezone": "Europe/Oslo",
                },
                "active": True,
                "parameters": {"as_of": REMINDER_DAY.isoformat()},
            }
        ],
    )
    deadline_s = time.monotonic() + RUN_TIMEOUT_S
    finished: list[dict] = []
    while time.monotonic() < deadline_s and not finished:
        runs = installation.api(
            "POST",
            "/flow_runs/filter",
            {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}},
        )
        finished = [r for r in runs if r["state_type"] in {"COMPLETED", "FAILED", "CRASHED"}]
        time.sleep(1)
    assert finished, "the scheduled send-reminders run did not finish"
    assert finished[0]["state_type"] == "COMPLETED", finished[0]["state"]
    assert finished[0]["auto_scheduled"] is True
    assert finished[0]["name"] == "send reminders"
    with read_session(engine) as session:
        kinds = {row["kind"] for row in list_outbox(session, "24/751")}
    engine.dispose()
    assert "påminnelse" in kinds, kinds
