"""Sharded import: several Prefect workers import one mailbox at once (PostgreSQL).

`import-sharded` (run by `hoering responses import --shards N`, or from the UI) splits
each source into key ranges (`mail.shards`), records them (`storage.intake_shards`) and
starts one `import-shard/on-demand` flow run per shard on the `hoering` work pool
(`run_deployment(..., timeout=0)`); every `hoering worker` takes shard runs as it has
room (start the workers with `--limit 1` so each takes one at a time). Each shard run
imports its range (of an IMAP folder: a UID range, refused if the folder's UIDVALIDITY
changed since the plan) exactly as `import-responses` imports a source: parsing in parallel,
each batch written in one short transaction holding the importer lock, tracking numbers
allocated inside it (so they stay unique and gap-free), and a heartbeat recorded after
every committed batch.

The planning run watches its shards. A shard whose run failed or crashed, or whose run
has not committed a batch for HOERING_INTAKE_SHARD_STALL_S seconds (its worker was
killed: Prefect cannot tell, the run stays "Running"), is marked Crashed and handed to a
new run, at most HOERING_INTAKE_SHARD_ATTEMPTS times. That is safe even if the old run
was only slow: a message already filed is recognised by the sha256 of its raw bytes
(unique in `intake_message`), checked under the importer lock, so every message is filed
exactly once however many runs read it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.runtime import flow_run as current_run
from prefect.states import Crashed

from domain.errors import UserError
from flows.intake_flows import ImportTotals, import_sources, intake_settings, validated_sources
from flows.params import AsOf, iso, moment
from flows.review_flows import group_new_responses_task
from mail.imap import UidValidityChanged
from mail.shards import ShardSource, plan_ranges, planned_uidvalidity
from mail.sources import SourceUnavailable, open_source
from services import runtime
from services.intake import OUTCOMES
from services.intake_report import ImportReport, new_report_path
from storage.db import read_session, write_session
from storage.intake_shards import (
    IntakeShardRow,
    PlannedRange,
    add_shards,
    assign_run,
    beat,
    finish,
    plan_shards,
)

SHARD_DEPLOYMENT = "import-shard/on-demand"
_ACTIVE = {"PENDING", "RUNNING"}
_FAILED = {"FAILED", "CRASHED", "CANCELLED", "CANCELLING"}


def _clock() -> datetime:
    return datetime.now(UTC)


@flow(name="import-shard", flow_run_name="import shard {shard_id}", log_prints=False)
async def import_shard(shard_id: int, as_of: AsOf = None) -> dict:
    """Import one shard of a sharded import (a key range of one source)."""
    now = moment(as_of)
    engine = runtime.engine()
    with read_session(engine) as session:
        shard = session.get(IntakeShardRow, shard_id)
    if shard is None:
        raise UserError(f"SHARD_ID: no shard {shard_id}; start sharded imports with --shards")
    if shard.done_at is not None:  # a run started again after the shard was done
        return {"shard": shard_id, "already_done": True}
    runner = f"{socket.gethostname()}:{os.getpid()}"
    with write_session(engine) as session:
        beat(session, shard_id, _clock(), runner)
    source = ShardSource(
        open_source(shard.source, runtime.settings().imap),
        shard.lower,
        shard.upper,
        shard.uidvalidity,  # an IMAP folder: refused if it changed since the plan
    )

    def heartbeat(_source: Any, counts: dict[str, int]) -> None:
        with write_session(engine) as session:
            beat(session, shard_id, _clock(), runner, sum(counts.values()))

    report = ImportReport(new_report_path(runtime.settings().data_dir))
    try:
        report.write("start", sources=[shard.source], shard=shard_id, as_of=now.isoformat())
        totals = import_sources([source], now, report, after_batch=heartbeat)
        report.write("end", **totals.as_json())
    finally:
        report.close()
    peak = {"peak_rss_mib": _peak_rss_mib()}  # for benchmarks.intake_workers
    with write_session(engine) as session:
        finish(session, shard_id, _clock(), {**totals.counts, **peak})
    return {"shard": shard_id, **totals.as_json(), **peak, "report": str(report.path)}


def _peak_rss_mib() -> float:
    """The peak resident memory of this run's process and of its largest parse worker."""
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(mine, workers) / 1024, 1)


def needs_new_run(shard: IntakeShardRow, run: FlowRun, stall_s: float, now: datetime) -> bool:
    """Whether the shard must be handed to a new run: its run ended without finishing
    the shard, or is pending/running without a committed batch for `stall_s` seconds."""
    if shard.done_at is not None or run.state is None:
        return False
    kind = run.state.type.value
    if kind in _FAILED or kind == "COMPLETED":
        return True
    if kind not in _ACTIVE:
        return False  # scheduled: waiting for a free worker
    moments = [run.state.timestamp]
    if shard.heartbeat_at is not None:
        moments.append(shard.heartbeat_at)
    return (now - max(moments)).total_seconds() > stall_s


async def _start_run(shard: IntakeShardRow, as_of: str) -> None:
    run: FlowRun = await run_deployment(  # type: ignore[misc]  # sync-compatible union
        SHARD_DEPLOYMENT,
        parameters={"shard_id": shard.id, "as_of": as_of},
        timeout=0,
        as_subflow=False,
    )
    assert shard.id is not None
    with write_session(runtime.engine()) as session:
        assign_run(session, shard.id, str(run.id))


def _refuse_changed_folder(shard: IntakeShardRow) -> None:
    """Stop before a retry when the shard's IMAP folder changed UIDVALIDITY since the plan
    (its runs refuse it: no retry can help). Other trouble is left to the new run."""
    if shard.uidvalidity is None:
        return
    source = ShardSource(
        open_source(shard.source, runtime.settings().imap),
        shard.lower,
        shard.upper,
        shard.uidvalidity,
    )
    try:
        source.open()
    except UidValidityChanged:
        raise
    except SourceUnavailable:
        return
    source.close()


async def _retry(shard: IntakeShardRow, run: FlowRun, as_of: str, attempts: int) -> None:
    _refuse_changed_folder(shard)
    if shard.attempts >= attempts:
        raise UserError(
            f"shard {shard.position} of {shard.source} did not finish in {attempts} runs "
            f"(last: flow run {run.id}, {run.state.name if run.state else '?'}); "
            "see the worker's log, then import the source again (filed messages are skipped)"
        )
    if run.state is not None and run.state.type.value in _ACTIVE:
        async with get_client() as client:  # its worker is gone: say so in the UI
            await client.set_flow_run_state(
                run.id, Crashed(message="no batch committed in time; shard retried"), force=True
            )
    await _start_run(shard, as_of)


async def _runs(plan_key: str) -> dict[str, FlowRun]:
    """The current run of every unfinished shard, by flow run id."""
    with read_session(runtime.engine()) as session:
        ids = [s.flow_run_id for s in plan_shards(session, plan_key) if s.done_at is None]
    async with get_client() as client:
        return {run_id: await client.read_flow_run(UUID(run_id)) for run_id in ids if run_id}


async def _watch(plan_key: str, as_of: str, poll_s: float) -> list[IntakeShardRow]:
    """Wait until every shard is done, handing the shards of dead runs to new runs."""
    settings = intake_settings()
    while True:
        runs = await _runs(plan_key)  # before the shards: a run done now has its shard done
        with read_session(runtime.engine()) as session:
            shards = plan_shards(session, plan_key)
        waiting = [shard for shard in shards if shard.done_at is None]
        if not waiting:
            return shards
        for shard in waiting:
            run = runs.get(shard.flow_run_id or "")
            if shard.flow_run_id is None:
                await _start_run(shard, as_of)
            elif run is not None and needs_new_run(shard, run, settings.shard_stall_s, _clock()):
                await _retry(shard, run, as_of, settings.shard_attempts)
        await asyncio.sleep(poll_s)


@flow(name="import-sharded", flow_run_name="import responses in shards", log_prints=False)
async def import_sharded(
    sources: list[str], shards: int = 4, as_of: AsOf = None, poll_s: float = 2.0
) -> dict:
    """Import the sources split into `shards` parts each, one flow run per part on the
    work pool; returns the counts when every part is filed."""
    if shards < 1:
        raise UserError("--shards: give 1 or more")
    when = iso(as_of)
    opened = validated_sources(sources)
    ranges: list[PlannedRange] = []
    for text, source in zip(sources, opened, strict=True):
        cut = plan_ranges(source, shards)  # opens the source: an IMAP folder's UIDVALIDITY
        # a file source by its absolute path: a worker may run elsewhere in the tree
        name = source.key if source.kind != "imap" else text
        ranges.extend((name, lower, upper, planned_uidvalidity(source)) for lower, upper in cut)
    plan_key = str(current_run.get_id() or uuid4())
    with write_session(runtime.engine()) as session:
        add_shards(session, plan_key, ranges, _clock())
    with read_session(runtime.engine()) as session:  # rows stay readable after a read
        planned = plan_shards(session, plan_key)
    for shard in planned:
        await _start_run(shard, when)
    done = await _watch(plan_key, when, poll_s)
    group_new_responses_task(when)  # once every shard is filed: campaigns grow with them
    totals, peaks = ImportTotals(), []
    for shard in done:
        counts = json.loads(shard.counts_json)
        peaks.append(counts.get("peak_rss_mib"))
        for outcome in OUTCOMES:
            totals.counts[outcome] += int(counts.get(outcome, 0))
    runs = sum(shard.attempts for shard in done)
    return {
        **totals.as_json(),
        "shards": len(done),
        "runs": runs,
        "plan": plan_key,
        "peak_rss_mib": peaks,
    }
