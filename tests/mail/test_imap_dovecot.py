"""Importing from a real IMAP server: Dovecot on loopback, started by `.ci/dovecot.sh`.

Messages go in with IMAP APPEND and come back through the import. Each test works in
its own folders (INBOX.t<random> and INBOX.t<random>-done) and removes them afterwards.
Without a reachable Dovecot the tests are skipped locally and fail under CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import re
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import func, select

from domain.errors import UserError
from flows.intake_flows import import_sources
from mail import imap as mail_sources
from mail.imap import UidValidityChanged, uid_key
from mail.shards import ShardSource, plan_ranges, planned_uidvalidity
from mail.sources import PROCESSED_FLAG, ImapSettings, ImapSource, SourceUnavailable
from services.intake_report import ImportReport
from storage.db import read_session
from storage.intake_models import IntakeMessageRow, IntakeSourceItemRow
from tests.cli_helpers import run_hoering
from tests.conftest import service_missing
from tests.intake_helpers import IMPORTED, circulated_hearing, message

IMAP_URL = "imap://hoering-test@127.0.0.1:10143/INBOX"
IMAPS_URL = "imaps://hoering-test@127.0.0.1:10993/INBOX"
PASSWORD = "hoering-test-password"
CA_FILE = "/tmp/hoering-dovecot/cert.pem"

pytestmark = pytest.mark.integration


def _setting(name: str, default: str) -> str:
    import os

    return os.environ.get(name) or default


@dataclass
class Mailbox:
    """One test's folders on the server, and an admin connection to fill them."""

    admin: imaplib.IMAP4
    folder: str
    done: str
    imap_url: str
    imaps_url: str
    password: str
    ca_file: str

    def append(self, raw: bytes) -> None:
        typ, data = self.admin.append(_quote(self.folder), None, None, raw)
        assert typ == "OK", data

    def uids(self, folder: str) -> list[int]:
        self.admin.select(_quote(folder), readonly=True)
        _, data = self.admin.uid("SEARCH", "ALL")
        return [int(n) for n in data[0].split()]

    def fetch_all(self, folder: str) -> list[tuple[bytes, bytes]]:
        """(flags, raw bytes) of every message in `folder`."""
        self.admin.select(_quote(folder), readonly=True)
        _, data = self.admin.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        found = []
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                found.append((flags.group(1) if flags else b"", item[1]))
        return found

    def settings(self, **changes) -> ImapSettings:
        values = {
            "password": self.password,
            "ca_file": Path(self.ca_file),
            "processed_folder": self.done,
            "timeout_s": 10.0,
        }
        return ImapSettings(**{**values, **changes})

    def url(self, base: str) -> str:
        return base.rsplit("/", 1)[0] + "/" + self.folder


def _quote(name: str) -> str:
    return '"' + name + '"'


def _connect(url: str, password: str, ca_file: str) -> imaplib.IMAP4:
    address = mail_sources.parse_imap_url(url)
    context = ssl.create_default_context(cafile=ca_file)
    conn = imaplib.IMAP4(address.host, address.port, timeout=10)
    conn.starttls(ssl_context=context)
    conn.login(address.user, password)
    return conn


@pytest.fixture
def mailbox_() -> Iterator[Mailbox]:
    imap_url = _setting("HOERING_TEST_IMAP_URL", IMAP_URL)
    password = _setting("HOERING_TEST_IMAP_PASSWORD", PASSWORD)
    ca_file = _setting("HOERING_TEST_IMAP_CA_FILE", CA_FILE)
    try:
        admin = _connect(imap_url, password, ca_file)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
        service_missing(f"Dovecot not reachable at {imap_url} ({error}); run .ci/dovecot.sh")
    name = f"INBOX.t{uuid.uuid4().hex[:10]}"
    box = Mailbox(
        admin,
        name,
        f"{name}-done",
        imap_url,
        _setting("HOERING_TEST_IMAPS_URL", IMAPS_URL),
        password,
        ca_file,
    )
    assert admin.create(_quote(name))[0] == "OK"
    yield box
    with contextlib.suppress(Exception):
        admin.unselect()
    for folder in (box.done, box.folder):
        with contextlib.suppress(Exception):
            admin.delete(_quote(folder))
    with contextlib.suppress(Exception):
        admin.logout()


@pytest.fixture
def imap_env(hoering_env, prefect_api, engine, mailbox_) -> Mailbox:
    circulated_hearing(engine)
    return mailbox_


def _responses(count: int, start: int = 0) -> list[bytes]:
    return [
        message(
            sender=f"person{n}@helse-nord.no",
            message_id=f"<{uuid.uuid4().hex}@helse-nord.no>",
            body=f"Svar nummer {n} i sak 24/750.",
        )
        for n in range(start, start + count)
    ]


def _intake_rows(engine) -> int:
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(IntakeMessageRow)).one()


def test_imported_messages_are_moved_with_their_bytes_never_deleted(imap_env, engine):
    box = imap_env
    raws = [*_responses(3), b"\x01\x02\x03\x04\x05 binary", message(message_id="<x@y>")]
    raws.append(message(message_id="<x@y>", date="Thu, 30 May 2024 14:06:00 +0200"))
    for raw in raws:
        box.append(raw)

    source = ImapSource(box.url(box.imaps_url), box.settings())
    report = ImportReport(None)
    totals = import_sources([source], IMPORTED, report)

    assert source.mode == "move"
    assert totals.counts == {"matched": 4, "unmatched": 0, "duplicate": 1, "quarantined": 1}
    assert box.uids(box.folder) == []
    moved = box.fetch_all(box.done)
    assert sorted(raw for _, raw in moved) == sorted(raws)  # the bytes as appended
    assert all(PROCESSED_FLAG.encode() in flags for flags, _ in moved)
    assert all(b"\\Seen" not in flags for flags, _ in moved)  # read with BODY.PEEK
    with read_session(engine) as session:
        sources = session.exec(select(IntakeMessageRow.source)).all()
    assert all(re.search(r";UIDVALIDITY=\d+/;UID=\d+$", s) for s in sources)

    again = import_sources([ImapSource(box.url(box.imaps_url), box.settings())], IMPORTED, report)
    assert again.read == 0


def test_starttls_and_flagging_when_no_folder_is_configured(imap_env, engine):
    box = imap_env
    for raw in _responses(3):
        box.append(raw)
    source = ImapSource(box.url(box.imap_url), box.settings(processed_folder=""))
    totals = import_sources([source], IMPORTED, ImportReport(None))
    assert (source.mode, totals.read, totals.counts["matched"]) == ("flag", 3, 3)
    kept = box.fetch_all(box.folder)
    assert len(kept) == 3  # nothing moved, nothing deleted
    assert all(PROCESSED_FLAG.encode() in flags for flags, _ in kept)
    box.append(_responses(1, start=10)[0])
    later = import_sources(
        [ImapSource(box.url(box.imap_url), box.settings(processed_folder=""))],
        IMPORTED,
        ImportReport(None),
    )
    assert later.read == 1  # only the new one
    assert _intake_rows(engine) == 4


def test_a_message_that_arrives_during_the_import_is_read_in_the_same_run(imap_env, engine):
    box = imap_env
    for raw in _responses(4):
        box.append(raw)
    late_arrival = _responses(1, start=99)[0]

    def deliver(_source: ImapSource, read: int) -> None:
        if read == 2:
            box.append(late_arrival)

    source = ImapSource(box.url(box.imaps_url), box.settings(), on_message=deliver)
    totals = import_sources([source], IMPORTED, ImportReport(None), batch_size=2)
    assert totals.read == 5 and totals.counts["matched"] == 5
    assert box.uids(box.folder) == []
    assert late_arrival in [raw for _, raw in box.fetch_all(box.done)]


@pytest.mark.parametrize("drop_after", [4, 5])
def test_a_dropped_connection_is_resumed_exactly_where_it_stopped(
    imap_env, engine, monkeypatch, drop_after
):
    """Chunks of two messages are fetched, batches of three filed. Dropped after the 4th
    message, the next fetch fails; after the 5th, the move of the second batch does."""
    box = imap_env
    for raw in _responses(7):
        box.append(raw)
    monkeypatch.setattr(mail_sources, "_FETCH_CHUNK_MESSAGES", 2)

    def drop(source: ImapSource, read: int) -> None:
        if read == drop_after:
            source.drop_connection()

    first = ImapSource(box.url(box.imaps_url), box.settings(), on_message=drop)
    with pytest.raises(SourceUnavailable, match="connection lost"):
        import_sources([first], IMPORTED, ImportReport(None), batch_size=3)
    filed_first = _intake_rows(engine)
    assert filed_first == {4: 4, 5: 6}[drop_after]  # what was committed before the drop
    with read_session(engine) as session:
        pending = session.exec(
            select(IntakeSourceItemRow.uid).where(IntakeSourceItemRow.acknowledged_at.is_(None))
        ).all()
    assert len(pending) == filed_first - 3  # filed, not yet moved

    second = import_sources(
        [ImapSource(box.url(box.imaps_url), box.settings())], IMPORTED, ImportReport(None)
    )
    assert second.read == 7 - filed_first  # exactly what was missed, nothing twice
    assert second.counts["duplicate"] == 0
    assert _intake_rows(engine) == 7
    assert box.uids(box.folder) == []
    assert len(box.uids(box.done)) == 7


def test_a_refused_login_is_one_line(imap_env):
    box = imap_env
    source = ImapSource(box.url(box.imaps_url), box.settings(password="feil-passord"))
    with pytest.raises(UserError, match="login refused") as error:
        source.open()
    assert "\n" not in str(error.value) and "feil-passord" not in str(error.value)


def test_the_scheduled_flow_reads_the_configured_mailbox(imap_env, monkeypatch):
    from flows.intake_flows import import_mailbox

    box = imap_env
    for raw in _responses(2):
        box.append(raw)
    monkeypatch.setenv("HOERING_IMAP_URL", box.url(box.imaps_url))
    monkeypatch.setenv("HOERING_IMAP_PASSWORD", box.password)
    monkeypatch.setenv("HOERING_IMAP_CA_FILE", box.ca_file)
    monkeypatch.setenv("HOERING_IMAP_PROCESSED_FOLDER", box.done)
    result = asyncio.run(import_mailbox(as_of="2024-06-03"))
    assert result["read"] == 2 and result["counts"]["matched"] == 2
    assert len(box.uids(box.done)) == 2


def test_the_cli_imports_from_imap_with_the_password_from_a_file(imap_env, flow_env, tmp_path):
    box = imap_env
    for raw in _responses(2):
        box.append(raw)
    secret = tmp_path / "imap-passord"
    secret.write_text(box.password + "\n")
    env = {
        **flow_env,
        "HOERING_IMAP_PASSWORD_FILE": str(secret),
        "HOERING_IMAP_PASSWORD": "",
        "HOERING_IMAP_CA_FILE": box.ca_file,
        "HOERING_IMAP_PROCESSED_FOLDER": box.done,
    }
    url = box.url(box.imap_url)
    result = run_hoering("responses", "import", url, "--as-of", "2024-06-03", "--json", env=env)
    assert result.code == 0, result.stderr
    assert result.json()["counts"]["matched"] == 2
    assert all(m["source"].startswith(url) for m in result.json()["messages"])
    assert box.password not in result.stdout + result.stderr


def _shard_uids(source: ShardSource) -> list[int]:
    source.open()
    try:
        return [m.uid for m in source.messages() if m.uid is not None]
    finally:
        source.close()


def test_the_uid_ranges_of_a_folder_cover_every_message_once(mailbox_):
    box = mailbox_
    for raw in _responses(12):  # UIDs 1..12: the ranges cross from one digit to two
        box.append(raw)
    uids = box.uids(box.folder)
    url = box.url(box.imaps_url)
    planner = ImapSource(url, box.settings())
    ranges = plan_ranges(planner, 4)
    assert ranges == [
        (None, uid_key(uids[3])),
        (uid_key(uids[3]), uid_key(uids[6])),
        (uid_key(uids[6]), uid_key(uids[9])),
        (uid_key(uids[9]), None),
    ]
    box.append(_responses(1, start=50)[0])  # after planning: the last range is open
    late = max(box.uids(box.folder))

    def shard(lower: str | None, upper: str | None) -> ShardSource:
        source = ImapSource(url, box.settings())
        return ShardSource(source, lower, upper, planned_uidvalidity(planner))

    parts = [_shard_uids(shard(lower, upper)) for lower, upper in ranges]
    assert parts == [uids[0:3], uids[3:6], uids[6:9], [*uids[9:], late]]
    counted = []
    for lower, upper in ranges:
        source = shard(lower, upper)
        source.open()
        counted.append(source.count())
        source.close()
    assert counted == [3, 3, 3, 4]
    assert len(box.uids(box.folder)) == 13  # reading a shard moves nothing


def test_a_shard_of_a_folder_whose_uidvalidity_changed_is_refused(mailbox_, monkeypatch):
    from flows.intake_shards import _refuse_changed_folder
    from storage.intake_shards import IntakeShardRow

    box = mailbox_
    for raw in _responses(4):
        box.append(raw)
    url = box.url(box.imaps_url)
    planner = ImapSource(url, box.settings())
    lower, upper = plan_ranges(planner, 2)[0]
    planned = planned_uidvalidity(planner)
    assert planned is not None
    # the folder is deleted and made again: new UIDVALIDITY, its UIDs count from 1 again
    with contextlib.suppress(Exception):
        box.admin.unselect()
    assert box.admin.delete(_quote(box.folder))[0] == "OK"
    assert box.admin.create(_quote(box.folder))[0] == "OK"
    for raw in _responses(4, start=20):
        box.append(raw)

    shard = ShardSource(ImapSource(url, box.settings()), lower, upper, planned)
    with pytest.raises(UidValidityChanged, match=f"UIDVALIDITY changed from {planned} to") as error:
        shard.open()
    assert "\n" not in str(error.value) and "--shards again" in str(error.value)
    fresh = ShardSource(ImapSource(url, box.settings()), lower, upper, None)
    assert len(_shard_uids(fresh)) == 2  # the same range, planned anew, is read

    # the planning run stops instead of handing the shard to runs that refuse it
    monkeypatch.setenv("HOERING_IMAP_PASSWORD", box.password)
    monkeypatch.setenv("HOERING_IMAP_CA_FILE", box.ca_file)
    monkeypatch.setenv("HOERING_IMAP_PROCESSED_FOLDER", box.done)
    row = IntakeShardRow(
        plan_key="plan", position=0, source=url, lower=lower, upper=upper, planned_at=IMPORTED
    )
    for uidvalidity, refused in ((planned, True), (fresh.uidvalidity, False)):
        row.uidvalidity = uidvalidity
        if refused:
            with pytest.raises(UidValidityChanged):
                _refuse_changed_folder(row)
        else:
            _refuse_changed_folder(row)  # unchanged: the shard may be retried
