"""Splitting a mail source into shards (`mail.shards`): the key ranges cover every
message exactly once, also one delivered after the plan was made."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from mail.file_sources import key_within
from mail.imap import uid_key, uid_range
from mail.shards import ShardSource, plan_ranges
from mail.sources import EmlFileSource, EmlFolderSource, MaildirSource, MboxSource
from tests.sample_files import message


def _raw(n: int) -> bytes:
    return message(message_id=f"<{n}@x.no>", body=f"Svar {n} i sak 24/750.")


def _maildir(folder: Path, numbers: range) -> MaildirSource:
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / "new" / f"{1717000000 + n}.M{n}P1.host").write_bytes(_raw(n))
    return MaildirSource(folder)


def _eml_folder(folder: Path, numbers: range) -> EmlFolderSource:
    for n in numbers:
        target = folder / (f"sub{n % 3}" if n % 2 else "") / f"svar-{n:03d}.eml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_raw(n))
    return EmlFolderSource(folder)


def _mbox(path: Path, numbers: range) -> MboxSource:
    box = mailbox.mbox(path)
    for n in numbers:
        box.add(_raw(n))
    box.close()
    return MboxSource(path)


def _ids(source: ShardSource) -> list[str]:
    source.open()
    try:
        return [m.source_id for m in source.messages()]
    finally:
        source.close()


@pytest.mark.parametrize("make", [_maildir, _eml_folder, _mbox])
def test_shards_cover_every_message_once_in_about_equal_parts(tmp_path, make):
    source = make(tmp_path / "box", range(23))
    ranges = plan_ranges(source, 4)
    assert len(ranges) == 4
    assert ranges[0][0] is None and ranges[-1][1] is None
    parts = [_ids(ShardSource(source, lower, upper)) for lower, upper in ranges]
    everything = [m.source_id for m in source.messages()]
    together = sorted(m for part in parts for m in part)
    assert together == sorted(everything)  # none twice, none left out
    assert all(5 <= len(part) <= 6 for part in parts), [len(p) for p in parts]
    counted = [ShardSource(source, lo, up).count() for lo, up in ranges]
    assert counted == [len(part) for part in parts]


def test_a_message_delivered_after_planning_lands_in_exactly_one_shard(tmp_path):
    source = _maildir(tmp_path / "box", range(0, 20, 2))
    ranges = plan_ranges(source, 3)
    _maildir(tmp_path / "box", range(1, 21, 2))  # later deliveries, between and after
    parts = [_ids(ShardSource(source, lower, upper)) for lower, upper in ranges]
    together = sorted(m for part in parts for m in part)
    assert together == sorted(m.source_id for m in source.messages())
    assert sum(len(part) for part in parts) == 20


def test_one_file_is_one_shard(tmp_path):
    path = tmp_path / "svar.eml"
    path.write_bytes(_raw(1))
    assert plan_ranges(EmlFileSource(path), 4) == [(None, None)]
    assert len(_ids(ShardSource(EmlFileSource(path), None, None))) == 1


def test_uid_keys_sort_and_compare_as_numbers():
    uids = [1, 2, 9, 10, 11, 99, 100, 4294967295]
    keys = [uid_key(uid) for uid in uids]
    assert sorted(keys) == keys  # as text, 10 would sort before 9 without the padding
    assert key_within(uid_key(9), uid_key(2), uid_key(10))
    assert not key_within(uid_key(10), uid_key(2), uid_key(10))  # upper is exclusive
    assert not key_within(uid_key(100), uid_key(2), uid_key(10))


def test_a_key_range_is_the_uid_range_the_server_is_asked_for():
    assert uid_range(None, None) == (1, None)  # the whole folder
    assert uid_range(None, uid_key(10)) == (1, 9)  # the first shard: 1:9
    assert uid_range(uid_key(10), uid_key(25)) == (10, 24)
    assert uid_range(uid_key(25), None) == (25, None)  # the last shard: 25:*
