"""A sharded import over two real Prefect workers on PostgreSQL, one of them killed
half way: after the retry every message is filed exactly once and the tracking
numbers have no gap.

`hoering server start`, `hoering deploy` and two `hoering worker --limit 1` processes,
all started and stopped here; `hoering responses import --shards 4` plans the shards and
waits for them. When both workers are in the middle of a shard, one worker is killed
with SIGKILL together with the flow run it was running (as when its machine dies).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from benchmarks.intake import generate_maildir
from storage.db import create_db_engine
from tests.installation_helpers import (
    HOERING,
    ROOT,
    hoering,
    installation_env,
    start_worker,
    stop_group,
)
from tests.intake_helpers import circulated_hearing

pytestmark = [pytest.mark.integration, pytest.mark.prefect, pytest.mark.postgres]

MESSAGES = 240
SHARDED = ["--shards", "4", "--as-of", "2024-06-03", "--json"]
TIMEOUT_S = 300.0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (the flow runs a worker started, in their own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started: nothing of it reports back."""
    below = _descendants(worker.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _worker_half_way(engine, workers: list[subprocess.Popen], importer) -> subprocess.Popen:
    """The worker whose flow run has filed part of its shard (not all of it)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            runners = connection.execute(
                text("SELECT runner FROM intake_shard WHERE read > 0 AND done_at IS NULL")
            ).all()
        pids = {int(row[0].rsplit(":", 1)[1]) for row in runners if row[0]}
        for worker in workers:
            if pids & set(_descendants(worker.pid)):
                return worker
        assert importer.poll() is None, importer.communicate()
        time.sleep(0.1)
    raise AssertionError("no worker was ever half way through a shard")


def _shards(engine) -> list[tuple[int, int, bool]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT read, attempts, done_at IS NOT NULL FROM intake_shard")
        ).all()
    return [(int(r[0]), int(r[1]), bool(r[2])) for r in rows]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_worker_shard_is_retried_and_every_message_filed_once(db_url, tmp_path):
    engine = create_db_engine(db_url)
    circulated_hearing(engine)
    maildir = tmp_path / "Maildir"
    generate_maildir(maildir, MESSAGES, seed=13)
    raws = {hashlib.sha256(p.read_bytes()).hexdigest() for p in maildir.glob("*/*")}

    env = installation_env(
        tmp_path / "var",
        db_url,
        HOERING_MAIL_PDF="false",
        HOERING_INTAKE_BATCH_SIZE="10",
        HOERING_INTAKE_PARSE_WORKERS="1",
        HOERING_INTAKE_SHARD_STALL_S="15",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="1",
    )
    logs = [(tmp_path / f"worker-{n}.log").open("ab") for n in (1, 2)]
    workers: list[subprocess.Popen] = []
    importer = None
    try:
        hoering(env, "server", "start")
        hoering(env, "deploy")
        for log in logs:
            workers.append(start_worker(env, log, "--limit", "1"))
        importer = subprocess.Popen(
            [*HOERING, "responses", "import", str(maildir), *SHARDED],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        victim = _worker_half_way(engine, workers, importer)
        _kill_worker(victim)

        out, err = importer.communicate(timeout=TIMEOUT_S)
        assert importer.returncode == 0, (out[-2000:], err[-2000:])
        result = json.loads(out)
    finally:
        if importer is not None and importer.poll() is None:
            importer.kill()
        for worker in workers:
            stop_group(worker)
        for log in logs:
            log.close()
        subprocess.run([*HOERING, "server", "stop"], env=env, cwd=ROOT, timeout=60)

    shards = _shards(engine)
    assert all(done for _, _, done in shards)
    assert max(attempts for _, attempts, _ in shards) >= 2, shards  # a shard was retried
    assert result["shards"] == 4 and result["runs"] > 4
    with engine.connect() as connection:
        filed = [r[0] for r in connection.execute(text("SELECT raw_sha256 FROM intake_message"))]
        numbers = [
            r[0]
            for r in connection.execute(
                text("SELECT tracking_number FROM response WHERE tracking_number IS NOT NULL")
            )
        ]
        responses = connection.execute(text("SELECT count(*) FROM response")).scalar_one()
        kept = connection.execute(
            text("SELECT count(*) FROM intake_message WHERE outcome IN ('matched','unmatched')")
        ).scalar_one()
        last = connection.execute(
            text("SELECT last_document_number FROM hearing WHERE case_number = '24/750'")
        ).scalar_one()
    engine.dispose()
    assert sorted(filed) == sorted(raws)  # every distinct message read once, none twice
    assert responses == kept  # one response per filed message
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(2, 2 + len(numbers)))  # unique, no gap (1: the letter)
    assert last == 1 + len(numbers)
    assert len(numbers) > MESSAGES // 2
