"""Commands run at the same moment on PostgreSQL: the race ends as "already done" for
every process, never as an error, and nothing happens twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from domain.lifecycle import Action
from storage.db import read_session
from storage.hearing_models import AuditEventRow, HearingRecipientRow, OutboxMessageRow
from storage.intake_models import ResponseRow
from storage.models import IdReservationRow
from tests.hearing_helpers import create
from tests.intake_helpers import DOCX_TYPE, circulated_hearing, docx_bytes, message
from tests.services.test_outbox_sender import circulate_24_750

RACE_WINDOW = Path(__file__).parents[1] / "race_window.py"
on_postgres = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def _at_once(commands: list[list[str]], env: dict[str, str], timeout: float = 300):
    """Start every `hoering` command (with its race windows held open, see
    tests/race_window.py) before waiting for any; (exit code, out, err) each."""
    processes = [
        subprocess.Popen(
            [sys.executable, str(RACE_WINDOW), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for args in commands
    ]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


@on_postgres
def test_eight_concurrent_same_key_reservations_get_one_id(engine, hoering_env):
    command = ["ids", "reserve", "BLS", "--key", "same", "--json"]
    results = _at_once([command] * 8, hoering_env)
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    replies = [json.loads(out) for _, out, _ in results]
    assert len({reply["id"] for reply in replies}) == 1, replies
    assert sorted(reply["new"] for reply in replies) == [False] * 7 + [True]
    with read_session(engine) as session:
        rows = session.exec(select(IdReservationRow).where(IdReservationRow.key == "same")).all()
    assert len(rows) == 1


@on_postgres
def test_three_concurrent_reminder_runs_send_one_reminder_per_recipient(engine, tmp_path, flow_env):
    circulate_24_750(engine, tmp_path / "letters")
    with read_session(engine) as session:
        recipients = session.exec(select(HearingRecipientRow.email)).all()
    env = {**flow_env, "HOERING_MAIL_PDF": "false"}
    results = _at_once([["reminders", "send", "--as-of", "2024-05-16"]] * 3, env)
    assert [code for code, _, _ in results] == [0] * 3, [err for _, _, err in results]
    for _, _, err in results:
        assert "IntegrityError" not in err and "internal error" not in err
    with read_session(engine) as session:
        rows = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "paaminnelse")
        ).all()
    assert Counter(row.to_address for row in rows) == Counter(a.lower() for a in recipients)
    assert {row.status for row in rows} == {"sent"}
    sent = Path(env["HOERING_DATA_DIR"]) / "outbox-sent"
    assert all((sent / f"{row.message_id.strip('<>')}.eml").exists() for row in rows)


@on_postgres
def test_three_concurrent_circulations_circulate_once(engine, flow_env):
    create(engine)
    env = {**flow_env, "HOERING_MAIL_PDF": "false"}
    command = ["hearing", "circulate", "24/750", "--as-of", "2024-03-22", "--json"]
    results = _at_once([command] * 3, env)
    assert [code for code, _, _ in results] == [0] * 3, [err for _, _, err in results]
    done = sorted(json.loads(out).get("already_done", False) for _, out, _ in results)
    assert done == [False, True, True], [out for _, out, _ in results]
    with read_session(engine) as session:
        events = session.exec(
            select(AuditEventRow.action).where(AuditEventRow.action == Action.CIRCULATE.value)
        ).all()
        letters = session.exec(
            select(OutboxMessageRow.to_address).where(OutboxMessageRow.kind != "paaminnelse")
        ).all()
    assert len(events) == 1
    assert len(letters) == len(set(letters)) > 0


@on_postgres
def test_three_concurrent_imports_of_one_mailbox_file_each_message_once(engine, tmp_path, flow_env):
    circulated_hearing(engine)
    folder = tmp_path / "innboks"
    folder.mkdir()
    for number in range(12):
        (folder / f"{number:02d}.eml").write_bytes(
            message(
                sender=f"svar{number}@helse-vest.no",
                message_id=f"<svar-{number}@helse-vest.no>",
                body=f"Svar nummer {number}.",
                attachments=[("svar.docx", docx_bytes(f"Svar {number}."), DOCX_TYPE)],
            )
        )
    env = {**flow_env, "HOERING_INTAKE_BATCH_SIZE": "4"}
    command = ["responses", "import", str(folder), "--as-of", "2024-06-03", "--json"]
    results = _at_once([command] * 3, env)
    assert [code for code, _, _ in results] == [0] * 3, [err for _, _, err in results]
    counts = Counter()
    for _, out, _ in results:
        counts.update(json.loads(out)["counts"])
    assert counts["matched"] == 12 and counts["duplicate"] == 24, counts
    with read_session(engine) as session:
        numbers = session.exec(select(ResponseRow.tracking_number)).all()
        receipts = session.exec(
            select(OutboxMessageRow.to_address).where(OutboxMessageRow.kind == "kvittering")
        ).all()
    assert sorted(numbers) == sorted(f"24/750-{n}" for n in range(2, 14))
    assert len(receipts) == len(set(receipts)) == 12


@on_postgres
def test_three_concurrent_outbox_sends_send_each_letter_once(engine, tmp_path, flow_env):
    circulate_24_750(engine, tmp_path / "letters")
    env = {**flow_env, "HOERING_MAIL_PDF": "false"}
    results = _at_once([["outbox", "send", "--as-of", "2024-03-22"]] * 3, env)
    assert [code for code, _, _ in results] == [0] * 3, [err for _, _, err in results]
    with read_session(engine) as session:
        rows = session.exec(select(OutboxMessageRow)).all()
    assert rows and {row.status for row in rows} == {"sent"}
    journal = Path(env["HOERING_DATA_DIR"]) / "outbox" / "journal-folder.jsonl"
    delivered = Counter(
        json.loads(line)["message_id"] for line in journal.read_text().splitlines() if line
    )
    assert set(delivered) == {row.message_id for row in rows}
    assert set(delivered.values()) == {1}
