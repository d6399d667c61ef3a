"""The import's pipeline: batches parsed in worker processes, written in order, briefly.

Filing a message is mostly CPU work that needs no database: MIME parsing, hashing and
reading the attachments' text (`intake_planning.prepare`). `ImportPipeline` hands each
batch to one of `HOERING_INTAKE_PARSE_WORKERS` worker processes
(`python -m services.intake_parsing`, each with its own budgeted attachment reader,
`services.attachment_reading`) and, while they parse, the importing process reads the
source, keeps the raw bytes and writes the batches that are ready, in the order they
were read, each in one short transaction (`services.intake.file_prepared`). No lock is
held while a batch is parsed.

A worker that dies (it should not: attachments are read in the reader's own process)
is replaced, and its batch is parsed in the importing process instead. With one
worker, or for a source of one batch, everything runs in the importing process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from domain.email_intake import MailLimits
from services.attachment_reading import shared_reader
from services.intake_planning import MessagePlan, RawRef, already_read, prepare
from storage.blobs import BlobStore
from storage.db import read_session

Item = TypeVar("Item")


@dataclass(frozen=True)
class ParseJob:
    """What a worker needs to parse messages: where the raw bytes are and the limits."""

    store_root: str
    limits: MailLimits
    attachment_timeout_s: float
    attachment_memory_mb: int


def parse_refs(job: ParseJob, refs: Sequence[RawRef]) -> dict[str, MessagePlan]:
    """Parse each message, read its attachments and keep their bytes in the blob store
    (by sha256); what a worker does. The writer then finds the attachments stored."""
    store = BlobStore(Path(job.store_root))
    reader = shared_reader(job.attachment_timeout_s, job.attachment_memory_mb)
    prepared: dict[str, MessagePlan] = {}
    for ref in refs:
        if ref.raw_sha256 not in prepared:
            plan = prepare(ref, store.get(ref.raw_sha256), job.limits, reader.read)
            prepared[ref.raw_sha256] = plan
            for attachment in plan.parsed.all_attachments if plan.parsed else ():
                store.put_known(attachment.sha256, attachment.payload)  # not under the lock
    store.sync()
    return prepared


class _Worker:
    """One parsing process: jobs on its stdin, results on its stdout (pickled)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.intake_parsing"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # library warnings may quote a message
            cwd=Path(__file__).resolve().parents[1],
            start_new_session=True,  # its attachment reader is stopped with it (killpg)
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.results = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()

    def send(self, job: ParseJob, refs: Sequence[RawRef]) -> bool:
        try:
            self.requests.send((job, list(refs)))
        except OSError:
            return False
        return True

    def receive(self) -> dict[str, MessagePlan] | None:
        """The batch's plans, or None when the worker died."""
        try:
            result = self.results.recv()
        except (EOFError, OSError):
            return None
        return result if isinstance(result, dict) else None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.requests.send(None)
        self.requests.close()
        self.results.close()
        try:
            self.process.wait(5.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class _Pending(Generic[Item]):
    item: Item
    refs: list[RawRef]
    fresh: list[RawRef]  # not read before: these are parsed
    worker: _Worker | None  # None: parse in this process when written


def worker_count(setting: int) -> int:
    """HOERING_INTAKE_PARSE_WORKERS, where 0 means one per CPU this process may use."""
    if setting > 0:
        return setting
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ImportPipeline(Generic[Item]):
    """Batches in (`put`), parsed batches out in the same order, ready to be written.

    `put` returns the batches whose parsing is done, oldest first; `drain` the rest.
    Each comes with its plans by sha256, for `services.intake.file_prepared`.
    """

    def __init__(self, engine: Engine, job: ParseJob, workers: int) -> None:
        self.engine = engine
        self.job = job
        self.size = self.depth(workers)
        self.workers: list[_Worker | None] = [None] * self.size
        self.pending: deque[_Pending[Item]] = deque()
        self.turn = 0

    @staticmethod
    def depth(workers: int) -> int:
        """Batches parsed ahead of the one being written (memory: this many + 1)."""
        return workers if workers > 1 else 0

    def __enter__(self) -> ImportPipeline[Item]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def put(
        self, item: Item, refs: Sequence[RawRef], *, alone: bool = False
    ) -> Iterator[tuple[Item, list[RawRef], dict[str, MessagePlan]]]:
        """Queue a batch (`alone`: the source has no other, parse it here)."""
        with read_session(self.engine) as session:
            seen = already_read(session, [ref.raw_sha256 for ref in refs])
        fresh = [ref for ref in refs if ref.raw_sha256 not in seen]
        worker = None
        if self.size and fresh and not alone:
            index = self.turn % self.size
            self.turn += 1
            worker = self._worker(index)
            if not worker.send(self.job, fresh):
                self._replace(index)
                worker = None
        self.pending.append(_Pending(item, list(refs), fresh, worker))
        while len(self.pending) > self.size:  # every worker busy: write the oldest
            yield self._finish(self.pending.popleft())

    def drain(self) -> Iterator[tuple[Item, list[RawRef], dict[str, MessagePlan]]]:
        while self.pending:
            yield self._finish(self.pending.popleft())

    def close(self) -> None:
        """Stop the workers (batches not yet written are dropped: they were not filed)."""
        for index, worker in enumerate(self.workers):
            if worker is not None:
                worker.stop()
            self.workers[index] = None
        self.pending.clear()

    def _worker(self, index: int) -> _Worker:
        worker = self.workers[index]
        if worker is None or worker.process.poll() is not None:
            worker = self._replace(index)
        return worker

    def _replace(self, index: int) -> _Worker:
        old = self.workers[index]
        if old is not None:
            old.stop()
        self.workers[index] = _Worker()
        return self.workers[index]  # type: ignore[return-value]

    def _finish(self, entry: _Pending[Item]) -> tuple[Item, list[RawRef], dict[str, MessagePlan]]:
        prepared = entry.worker.receive() if entry.worker is not None else None
        if entry.worker is not None and prepared is None:  # it died: parse the batch here
            for index, worker in enumerate(self.workers):
                if worker is entry.worker:
                    self._replace(index)
        if prepared is None:
            prepared = parse_refs(self.job, entry.fresh)
        return entry.item, entry.refs, prepared


def _serve(requests: Connection, results: Connection) -> None:
    """The worker: parse batches until told to stop (None) or the pipe closes."""
    while True:
        try:
            request: Any = requests.recv()
        except EOFError:
            return
        if request is None:
            return
        job, refs = request
        try:
            results.send(parse_refs(job, refs))
        except Exception as error:  # the importing process parses the batch itself
            results.send(f"{type(error).__name__}")


def _main() -> None:
    requests = Connection(os.dup(0), writable=False)
    results = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a library that prints must not write into the results pipe
    try:
        _serve(requests, results)
    finally:
        from services.attachment_reading import close_shared_readers

        close_shared_readers()


if __name__ == "__main__":
    _main()
