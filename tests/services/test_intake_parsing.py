"""The import pipeline (`services.intake_parsing`): batches parsed in worker processes
come back in order and equal to parsing them in the importing process; a worker that
dies loses nothing (its batch is parsed in the importing process)."""

from __future__ import annotations

import os
import signal

import pytest

from domain.email_intake import MailLimits
from services.intake_parsing import ImportPipeline, ParseJob, parse_refs
from services.intake_planning import RawRef
from storage.blobs import BlobStore
from storage.db import create_db_engine
from tests.sample_files import message


def _batches(store: BlobStore, count: int, size: int) -> list[list[RawRef]]:
    batches = []
    for b in range(count):
        refs = []
        for n in range(size):
            raw = message(message_id=f"<{b}-{n}@x.no>", body=f"Svar {b}-{n} i sak 24/750.")
            refs.append(RawRef(f"m{b}-{n}", store.put(raw), len(raw)))
        batches.append(refs)
    refs_junk = b"\x00\x01 not mail"
    batches[-1].append(RawRef("junk", store.put(refs_junk), len(refs_junk)))
    return batches


def _summary(prepared) -> list[tuple[str, str | None, str]]:
    return sorted((sha, plan.message_id, plan.outcome) for sha, plan in prepared.items())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_workers_parse_in_order_like_the_importing_process(db_url, tmp_path):
    engine = create_db_engine(db_url)
    store = BlobStore(tmp_path / "blobs", durable=False)
    job = ParseJob(str(store.root), MailLimits(), 20.0, 512)
    batches = _batches(store, 5, 4)
    with ImportPipeline[int](engine, job, workers=2) as pipeline:
        done = []
        for number, refs in enumerate(batches):
            done += list(pipeline.put(number, refs))
            if number == 2:  # a worker dies holding a batch: nothing is lost
                worker = next(w for w in pipeline.workers if w is not None)
                os.kill(worker.process.pid, signal.SIGKILL)
        done += list(pipeline.drain())
    engine.dispose()
    assert [number for number, _, _ in done] == list(range(5))
    for (_, refs, prepared), expected in zip(done, batches, strict=True):
        assert refs == expected
        assert _summary(prepared) == _summary(parse_refs(job, expected))
    assert [p.outcome for p in done[-1][2].values()].count("quarantined") == 1
