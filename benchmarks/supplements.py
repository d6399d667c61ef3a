"""What linking supplements costs the import: its share of the time filing takes.

Files `--count` responses (default 4,000) to hearing 24/750 in batches of 200 into a
fresh SQLite database as the import does, timing the batch writer's call of
`services.supplements.link_supplements` within the whole filing (the baseline, in the
same run; a share is steadier than two runs on shared cores). A tenth of the messages
answer an earlier message's receipt, a tenth come from a stakeholder that answered
before, the rest are private persons. Prints both times, their ratio, and how many
supplements were linked.

Run: .venv/bin/python -m benchmarks.supplements [--count 4000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import func
from sqlmodel import col, select

from config.settings import default_data_dir
from domain.calendar import OSLO
from services.intake import RawRef, file_batch
from services.reference_files import load_reference_data
from services.supplements import link_supplements
from storage.blobs import BlobStore
from storage.db import create_db_engine, upgrade_schema, write_session
from storage.intake_models import ResponseRow
from storage.outbox_queue import stable_message_id
from storage.reference_sync import sync_reference_data
from tests.intake_helpers import circulated_hearing
from tests.sample_files import message

BATCH = 200
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=OSLO)
DOMAINS = ["helse-vest.no", "helse-nord.no", "helse-midt.no", "helse-sorost.no"]


def _raw(number: int) -> bytes:
    date = f"Thu, 30 May 2024 {8 + number % 10:02d}:{number % 60:02d}:00 +0200"
    kind = number % 10
    if kind == 0 and number > BATCH:  # answers the receipt of an earlier response
        receipt = stable_message_id(f"kvittering:24/750:{number - BATCH}")
        return message(
            sender=f"person{number - BATCH}@gmail.com",
            message_id=f"<m{number}@x>",
            body=f"Et tillegg {number}.",
            date=date,
            headers=[("In-Reply-To", receipt)],
        )
    if kind == 1:
        sender = f"fag{number}@{DOMAINS[number % len(DOMAINS)]}"
    else:
        sender = f"person{number}@gmail.com"
    return message(sender=sender, message_id=f"<m{number}@x>", body=f"Svar {number}.", date=date)


def _run(count: int) -> tuple[float, float, int]:
    """(seconds filing, seconds of them linking supplements, supplements linked)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'hoering.db'}")
        upgrade_schema(engine)
        with write_session(engine) as session:
            sync_reference_data(session, load_reference_data(default_data_dir()))
        circulated_hearing(engine)
        store = BlobStore(Path(folder) / "blobs", durable=False)
        refs = []
        for number in range(1, count + 1):
            raw = _raw(number)
            refs.append(RawRef(f"bench#{number}", store.put(raw), len(raw)))
        linking = [0.0]

        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return link_supplements(*args)
            finally:
                linking[0] += time.perf_counter() - started

        started = time.perf_counter()
        with mock.patch("services.intake_writing.link_supplements", timed):
            for start in range(0, count, BATCH):
                with write_session(engine) as session:
                    file_batch(session, store, refs[start : start + BATCH], NOW)
        seconds = time.perf_counter() - started
        with write_session(engine) as session:
            linked = session.exec(
                select(func.count(col(ResponseRow.id))).where(
                    col(ResponseRow.supplement_of_id).is_not(None)
                )
            ).one()
        engine.dispose()
        return seconds, linking[0], int(linked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=4000)
    count = parser.parse_args().count
    seconds, linking, linked = _run(count)
    print(f"{count} responses in batches of {BATCH}, SQLite: {linked} supplements linked")
    print(f"filing: {seconds:.1f} s, of which linking supplements {linking:.2f} s")
    print(f"ratio linking / filing: {linking / seconds:.3f}")


if __name__ == "__main__":
    main()
