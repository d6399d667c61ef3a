"""A bug's error reaches the user as one line without SQL or parameters; the detail
goes to errors.log in the data dir, which the line names."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError

from storage import ledger
from storage.db import is_busy, short_error
from tests.cli_helpers import run_hoering

STATEMENT = "INSERT INTO outbox_message (to_address, body_text) VALUES (?, ?)"
PARAMS = ("ola.nordmann@gmail.com", "Kjære Ola, fødselsnummer 01010112345")


def _integrity_error() -> IntegrityError:
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: outbox_message.dedupe_key")
    return IntegrityError(STATEMENT, PARAMS, orig)


def test_a_database_error_is_named_without_its_statement_or_parameters():
    text = short_error(_integrity_error())
    assert text == (
        "IntegrityError: IntegrityError (UNIQUE constraint failed: outbox_message.dedupe_key)"
    )
    assert "INSERT" not in text and "gmail" not in text and "Ola" not in text


def test_other_errors_are_named_with_a_short_reason():
    assert short_error(KeyError("x" * 500)) == "KeyError: '" + "x" * 119
    assert short_error(RuntimeError()) == "RuntimeError"


def test_sqlite_busy_is_recognised():
    assert is_busy(OperationalError("BEGIN", (), sqlite3.OperationalError("database is locked")))
    assert not is_busy(_integrity_error())


def test_an_internal_error_is_one_line_and_the_detail_is_logged(hoering_env, monkeypatch):
    def broken(*_args, **_kwargs):
        raise _integrity_error()

    monkeypatch.setattr(ledger, "reserve", broken)
    result = run_hoering("ids", "reserve", "BLS", "--key", "k", env=hoering_env)
    assert result.code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    log = Path(hoering_env["HOERING_DATA_DIR"]) / "errors.log"
    assert "internal error: IntegrityError" in lines[0] and str(log) in lines[0]
    for secret in ("INSERT", "gmail", "fødselsnummer", "Traceback"):
        assert secret not in result.stderr
    detail = log.read_text(encoding="utf-8")
    assert "Traceback" in detail and "INSERT INTO outbox_message" in detail
