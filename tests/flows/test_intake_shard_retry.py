"""When the planning run of a sharded import hands a shard to a new run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, Crashed, Failed, Pending, Running, Scheduled

from flows.intake_shards import needs_new_run
from storage.intake_shards import IntakeShardRow

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


def _shard(**values) -> IntakeShardRow:
    return IntakeShardRow(plan_key="p", position=0, source="/box", planned_at=NOW, **values)


def _run(state, seconds_ago: float) -> FlowRun:
    state.timestamp = NOW - timedelta(seconds=seconds_ago)
    return FlowRun(flow_id=uuid4(), state=state)


def test_a_run_that_ended_without_finishing_its_shard_is_replaced():
    for state in (Failed(), Crashed(), Completed()):
        assert needs_new_run(_shard(), _run(state, 1), 60, NOW), state.type


def test_a_running_run_is_replaced_only_after_it_stalled():
    beating = _shard(heartbeat_at=NOW - timedelta(seconds=10))
    assert not needs_new_run(beating, _run(Running(), 500), 60, NOW)
    stalled = _shard(heartbeat_at=NOW - timedelta(seconds=61))
    assert needs_new_run(stalled, _run(Running(), 500), 60, NOW)
    assert needs_new_run(_shard(), _run(Pending(), 61), 60, NOW)  # picked up, never began
    assert not needs_new_run(_shard(), _run(Running(), 30), 60, NOW)


def test_a_waiting_or_finished_shard_is_left_alone():
    assert not needs_new_run(_shard(), _run(Scheduled(), 5000), 60, NOW)  # no free worker
    done = _shard(done_at=NOW)
    assert not needs_new_run(done, _run(Crashed(), 5000), 60, NOW)
