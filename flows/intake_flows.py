"""Prefect flows of the e-mail intake: import responses from mail sources.

The flow streams each source: every message's raw bytes go into the blob store as
they are read; every HOERING_INTAKE_BATCH_SIZE messages make a batch, which worker
processes (HOERING_INTAKE_PARSE_WORKERS) parse, reading the attachments each within a
time and memory budget, holding no lock; the flow writes the parsed batches in order,
each in one short transaction (`services.intake_parsing`). No Prefect task per batch:
its bookkeeping cost more than filing. Only when a batch is committed is it moved or
flagged on an IMAP server. So an import killed at any point and run again ends in the
same state as one clean run: committed batches are recognised by their raw bytes,
and a batch that was not committed is filed by the second run.

Per-message outcomes go to a JSON-lines report under `<data dir>/imports/` as the
import runs (the CLI follows it for its progress bar and its --json output); the flow
itself keeps only the counts, so memory does not grow with the mailbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import IntakeSettings
from domain.errors import UserError
from flows.params import AsOf, moment
from flows.review_flows import group_new_responses_task
from mail.shards import ShardSource
from mail.sources import (
    ImapSource,
    MailSource,
    SourceMessage,
    SourceUnavailable,
    open_source,
)
from services import runtime
from services.attachment_reading import close_shared_readers
from services.intake import (
    OUTCOMES,
    RawRef,
    TrackedSource,
    assign_response,
    file_prepared,
    mark_source_items_acknowledged,
    pending_source_uids,
)
from services.intake_parsing import ImportPipeline, ParseJob, worker_count
from services.intake_report import ImportReport, new_report_path
from storage.blobs import BlobStore
from storage.db import refresh_statistics, write_session


def intake_settings() -> IntakeSettings:
    """The import limits and batch size (HOERING_INTAKE_*), or one UserError line."""
    return runtime.settings().intake


OUTCOME_LABELS_NB = {
    "matched": "Knyttet til høring",
    "unmatched": "Uten høring (må fordeles)",
    "duplicate": "Duplikat",
    "quarantined": "Karantene",
}


def blob_store() -> BlobStore:
    return BlobStore(runtime.settings().data_dir / "blobs")


@dataclass
class ImportTotals:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def read(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "counts": dict(self.counts)}


def _batches(messages: Iterator[SourceMessage], size: int) -> Iterator[list[SourceMessage]]:
    """Batches of `messages`; a source that fails mid-batch first yields what it read."""
    batch: list[SourceMessage] = []
    try:
        for message in messages:
            batch.append(message)
            if len(batch) >= size:
                yield batch
                batch = []
    except SourceUnavailable:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


BatchHook = Callable[[MailSource, dict[str, int]], None]  # the batch's counts


def _tracked(source: MailSource) -> TrackedSource | None:
    """An IMAP folder, or a shard of one (`mail.shards`), once open."""
    if isinstance(source, ImapSource | ShardSource) and source.uidvalidity is not None:
        return TrackedSource(source.key, source.kind, source.uidvalidity)
    return None


def _resume(source: MailSource, now: datetime) -> None:
    """Acknowledge what an interrupted run filed but could not move or flag."""
    tracked = _tracked(source)
    if tracked is None:
        return
    engine = runtime.engine()
    with write_session(engine) as session:
        pending = pending_source_uids(session, tracked.key, tracked.uidvalidity)
    if not pending:
        return
    assert isinstance(source, ImapSource | ShardSource)
    taken = source.skip(pending)  # a shard takes those in its range
    with write_session(engine) as session:
        mark_source_items_acknowledged(session, tracked.key, tracked.uidvalidity, taken, now)


def _acknowledge(source: MailSource, batch: Sequence[SourceMessage], now: datetime) -> None:
    source.acknowledge(batch)
    tracked = _tracked(source)
    if tracked is not None:
        uids = [m.uid for m in batch if m.uid is not None]
        with write_session(runtime.engine()) as session:
            mark_source_items_acknowledged(session, tracked.key, tracked.uidvalidity, uids, now)


def import_sources(
    sources: Iterable[MailSource],
    now: datetime,
    report: ImportReport,
    *,
    totals: ImportTotals | None = None,
    batch_size: int | None = None,
    after_batch: BatchHook | None = None,
) -> ImportTotals:
    """Read, store and file every message of every source; returns the counts.

    `totals` is updated as batches are committed, so a caller still has the counts
    when a source fails half way.
    """
    try:
        return _import_each(sources, now, report, totals, batch_size, after_batch)
    finally:
        close_shared_readers()  # the attachment reader's worker process


def _import_each(
    sources: Iterable[MailSource],
    now: datetime,
    report: ImportReport,
    totals: ImportTotals | None,
    batch_size: int | None,
    after_batch: BatchHook | None,
) -> ImportTotals:
    totals = totals if totals is not None else ImportTotals()
    batch_size = batch_size or intake_settings().batch_size
    for source in sources:
        source.open()
        try:
            _resume(source, now)
            total = source.count()
            report.write("source", source=source.key, kind=source.kind, total=total)
            _import_source(source, now, report, totals, batch_size, after_batch, total)
        finally:
            source.close()
    if totals.read:  # SQLite's planner statistics (cheap; see storage.db)
        refresh_statistics(runtime.engine())
    return totals


def _keep_raw(store: BlobStore, batch: Sequence[SourceMessage]) -> list[RawRef]:
    """Store the batch's raw bytes (before anything else is done with them)."""
    refs = [
        RawRef(message.source_id, store.put(message.raw), len(message.raw), message.uid)
        for message in batch
    ]
    store.sync()
    return refs


def _import_source(
    source: MailSource,
    now: datetime,
    report: ImportReport,
    totals: ImportTotals,
    batch_size: int,
    after_batch: BatchHook | None,
    total: int | None,
) -> None:
    """Read the source in batches; workers parse them while the batches parsed so far
    are written, in order, each in one short transaction (`services.intake_parsing`)."""
    settings, store, engine = intake_settings(), blob_store(), runtime.engine()
    tracked = _tracked(source)
    job = ParseJob(
        str(store.root),
        settings.limits(),
        settings.attachment_timeout_s,
        settings.attachment_memory_mb,
    )
    alone = total is not None and total <= batch_size

    def write(batch: Sequence[SourceMessage], refs: list[RawRef], prepared: Any) -> None:
        outcomes = file_prepared(engine, store, refs, prepared, now, settings.limits(), tracked)
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome in outcomes:
            counts[outcome.outcome] += 1
            report.write("message", **outcome.as_json())
        for kind, count in counts.items():
            totals.counts[kind] += count
        _acknowledge(source, batch, now)
        if after_batch is not None:  # e.g. incremental campaign grouping of the new responses
            after_batch(source, counts)

    # An IMAP folder keeps its lock step (read a batch, file it, move it, read the next):
    # what a dropped connection leaves is then exactly the batches before it.
    workers = 1 if source.kind == "imap" else worker_count(settings.parse_workers)
    pipeline = ImportPipeline[Sequence[SourceMessage]](engine, job, workers)
    with pipeline:
        try:
            for batch in _batches(source.messages(), batch_size):
                for ready in pipeline.put(batch, _keep_raw(store, batch), alone=alone):
                    write(*ready)
        except SourceUnavailable:
            for ready in pipeline.drain():  # what was read before the source failed
                write(*ready)
            raise
        for ready in pipeline.drain():
            write(*ready)


def validated_sources(sources: Sequence[str]) -> list[MailSource]:
    if not sources:
        raise UserError("no mail source given; name an .eml file, folder, mbox, Maildir or URL")
    settings = runtime.settings().imap
    return [open_source(text, settings) for text in sources]


async def _publish(totals: ImportTotals, sources: Sequence[str]) -> None:
    rows = [
        {"utfall": OUTCOME_LABELS_NB[outcome], "antall": totals.counts[outcome]}
        for outcome in OUTCOMES
    ]
    rows.append({"utfall": "Lest i alt", "antall": totals.read})
    await acreate_table_artifact(
        rows,
        key="hoeringsinnspill-import",
        description="Import av høringsinnspill fra " + ", ".join(sources),
    )


@flow(name="import-responses", flow_run_name="import responses", log_prints=False)
async def import_responses(
    sources: list[str], as_of: AsOf = None, report_path: str | None = None
) -> dict:
    """Import hearing responses from the sources; the counts and the report's path."""
    now = moment(as_of)
    intake_settings()  # a bad setting fails here, in one line
    opened = validated_sources(sources)
    path = Path(report_path) if report_path else new_report_path(runtime.settings().data_dir)
    report = ImportReport(path)
    report.write("start", sources=list(sources), as_of=now.isoformat())
    totals = ImportTotals()
    try:
        import_sources(opened, now, report, totals=totals)
        group_new_responses_task(now.isoformat())  # campaigns grow as responses arrive
    except UserError as error:
        report.write("error", message=str(error))
        raise
    finally:
        report.write("end", **totals.as_json())
        report.close()
        await _publish(totals, sources)
    return {**totals.as_json(), "report": str(path)}


@flow(name="import-mailbox", flow_run_name="import mailbox", log_prints=False)
async def import_mailbox(as_of: AsOf = None) -> dict:
    """The scheduled import (every 15 minutes) from the mailbox in HOERING_IMAP_URL."""
    url = runtime.settings().imap.url
    if not url:
        raise UserError(
            "HOERING_IMAP_URL is not set; set it to the post room's mailbox, e.g. "
            "imaps://postmottak@imap.example.no/INBOX"
        )
    return await import_responses([url], as_of)


@task(name="assign-response", cache_policy=NO_CACHE)
def store_assignment(response_id: int, case: str, now: str) -> dict[str, Any]:
    with write_session(runtime.engine()) as session:
        return assign_response(session, response_id, case, datetime.fromisoformat(now))


@flow(name="assign-response", flow_run_name="assign response {response_id} to {case}")
async def assign_response_flow(response_id: int, case: str, as_of: AsOf = None) -> dict:
    """File an unmatched response under a case: tracking number, late flag, receipt."""
    now = moment(as_of)
    return store_assignment(response_id, case, now.isoformat())
