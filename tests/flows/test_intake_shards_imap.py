"""A sharded import of a real IMAP folder (Dovecot) over two real Prefect workers on
PostgreSQL: every message is filed exactly once, the tracking numbers have no gap, and
every message is moved and flagged as in an import without shards.

`hoering server start`, `hoering deploy` and two `hoering worker --limit 1` processes,
all started and stopped here, as in `test_intake_shards.py`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from sqlalchemy import text

from mail.sources import PROCESSED_FLAG
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
from tests.mail import test_imap_dovecot as dovecot

pytestmark = [pytest.mark.integration, pytest.mark.prefect, pytest.mark.postgres]

mailbox_ = dovecot.mailbox_  # the test's own folders on the server
MESSAGES = 30


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_sharded_import_of_an_imap_folder_files_and_moves_every_message_once(
    db_url, tmp_path, mailbox_
):
    box = mailbox_
    raws = dovecot._responses(MESSAGES)
    for raw in raws:
        box.append(raw)
    box.admin.select(f'"{box.folder}"', readonly=True)
    uidvalidity = int(box.admin.response("UIDVALIDITY")[1][0])
    engine = create_db_engine(db_url)
    circulated_hearing(engine)

    env = installation_env(
        tmp_path / "var",
        db_url,
        HOERING_MAIL_PDF="false",
        HOERING_INTAKE_BATCH_SIZE="4",
        HOERING_INTAKE_PARSE_WORKERS="1",
        HOERING_IMAP_PASSWORD=box.password,
        HOERING_IMAP_CA_FILE=box.ca_file,
        HOERING_IMAP_PROCESSED_FOLDER=box.done,
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="1",
    )
    url = box.url(box.imaps_url)
    logs = [(tmp_path / f"worker-{n}.log").open("ab") for n in (1, 2)]
    workers: list[subprocess.Popen] = []
    try:
        hoering(env, "server", "start")
        hoering(env, "deploy")
        for log in logs:
            workers.append(start_worker(env, log, "--limit", "1"))
        out = hoering(
            env, "responses", "import", url, "--shards", "2", "--as-of", "2024-06-03", "--json"
        )
        result = json.loads(out)
    finally:
        for worker in workers:
            stop_group(worker)
        for log in logs:
            log.close()
        subprocess.run([*HOERING, "server", "stop"], env=env, cwd=ROOT, timeout=60)

    assert result["shards"] == 2 and result["read"] == MESSAGES
    assert result["counts"]["matched"] == MESSAGES
    with engine.connect() as connection:
        shards = connection.execute(
            text("SELECT lower, upper, uidvalidity, read, done_at FROM intake_shard")
        ).all()
        filed = [r[0] for r in connection.execute(text("SELECT raw_sha256 FROM intake_message"))]
        numbers = [
            r[0]
            for r in connection.execute(
                text("SELECT tracking_number FROM response WHERE tracking_number IS NOT NULL")
            )
        ]
        unacknowledged = connection.execute(
            text("SELECT count(*) FROM intake_source_item WHERE acknowledged_at IS NULL")
        ).scalar_one()
        items = connection.execute(text("SELECT count(*) FROM intake_source_item")).scalar_one()
    engine.dispose()

    assert [(s.uidvalidity, s.done_at is not None) for s in shards] == [(uidvalidity, True)] * 2
    assert sorted(s.read for s in shards) == [MESSAGES // 2] * 2  # about equal UID ranges
    assert sorted(filed) == sorted(hashlib.sha256(raw).hexdigest() for raw in raws)
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(2, 2 + MESSAGES))  # unique, no gap (1: the letter)
    # acknowledged as without shards: moved to the processed folder, flagged, none left
    assert box.uids(box.folder) == []
    moved = box.fetch_all(box.done)
    assert sorted(raw for _, raw in moved) == sorted(raws)
    assert all(PROCESSED_FLAG.encode() in flags for flags, _ in moved)
    assert (items, unacknowledged) == (MESSAGES, 0)
