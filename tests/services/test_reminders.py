"""Reminders before the deadline: who gets one, when, and never twice."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import select

from config.settings import load_settings
from domain.calendar import OSLO
from domain.errors import UserError
from domain.lifecycle import Action
from domain.reminder_policy import ReminderPolicy
from services import reminders
from services.intake import RawRef, answered_stakeholder_keys, file_batch
from services.outbox import send_pending
from services.reminders import default_policy, plan_reminders, queue_reminders
from storage.blobs import BlobStore
from storage.db import read_session, write_session
from storage.hearing_models import HearingRecipientRow, HearingRow, LetterRow
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import CIRCULATED, act
from tests.services.test_outbox_sender import (
    SENDER,
    circulate_24_750,
    folder_transport,
    install_fake_intake,
    outbox_rows,
)

FOURTEEN_DAYS = datetime(2024, 5, 16, 7, 0, tzinfo=OSLO)  # 17 May is a holiday
THREE_DAYS = datetime(2024, 5, 28, 7, 0, tzinfo=OSLO)
RUN_TIMES = (time(7, 0), time(12, 0), time(16, 30))

# Responses filed during the hearing: stakeholder -> (sender address, when filed).
# Legeforeningen and UiO answer from another address of theirs than the one the
# hearing went to; that still counts as their answer.
RESPONSES = {
    "helse-vest-rhf": ("post@helse-vest.no", datetime(2024, 4, 2, 9, 0, tzinfo=OSLO)),
    # after the 07:00 run on 16 May: it got the 14-day reminder
    "legeforeningen": ("anne.lege@legeforeningen.no", datetime(2024, 5, 16, 10, 0, tzinfo=OSLO)),
    # between the two reminders
    "uio-medisin": ("dekan@medisin.uio.no", datetime(2024, 5, 20, 14, 0, tzinfo=OSLO)),
    # after both
    "spesialitetskomite-bls": (
        "spesialitetskomite-bls@legeforeningen.no",
        datetime(2024, 5, 29, 8, 0, tzinfo=OSLO),
    ),
}


def file_response(engine, store: BlobStore, sender: str, moment: datetime) -> str:
    """Import one stakeholder e-mail answering 24/750 through the intake; its outcome."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = "postmottak@helsedir.no"
    email["Subject"] = "SV: Høring – kliniske studier (Vår ref. 24/750)"
    email["Date"] = format_datetime(moment)
    email["Message-ID"] = f"<svar-{sender.replace('@', '.')}@test>"
    email.set_content("Vi støtter forslaget.\n")
    raw = email.as_bytes()
    ref = RawRef(source_id=f"test:{sender}", raw_sha256=store.put(raw), size=len(raw))
    with write_session(engine) as session:
        (outcome,) = file_batch(session, store, [ref], moment)
    return outcome.outcome


@pytest.fixture
def intake(monkeypatch):
    return install_fake_intake(monkeypatch)


@pytest.fixture
def hearing(engine, tmp_path) -> list[str]:
    """24/750 circulated on 22 March 2024; its recipients' stakeholder keys."""
    circulate_24_750(engine, tmp_path / "letters")
    with read_session(engine) as session:
        return list(session.exec(select(HearingRecipientRow.stakeholder_key)).all())


def _remind(engine, tmp_path: Path, moment: datetime, **kwargs):
    return queue_reminders(
        engine,
        now=moment,
        letters_dir=tmp_path / "letters",
        default=kwargs.pop("default", ReminderPolicy()),
        **kwargs,
    )


def _send(engine, tmp_path: Path, moment: datetime):
    data_dir = tmp_path / "var"
    return send_pending(
        engine, folder_transport(data_dir), now=moment, data_dir=data_dir, sender=SENDER
    )


def _reminder_rows(engine) -> list:
    return outbox_rows(engine, "paaminnelse")


def _moments(first: date, last: date):
    day = first
    while day <= last:
        for at in RUN_TIMES:
            yield datetime.combine(day, at, tzinfo=OSLO)
        day += timedelta(days=1)


def test_24_750_every_day_several_times(engine, tmp_path, hearing):
    """The 'done when' run: 22 March - 3 June 2024, three runs a day, responses imported
    through the intake as they arrive."""
    store = BlobStore(tmp_path / "var" / "blobs", durable=False)
    waiting = sorted(RESPONSES.items(), key=lambda item: item[1][1])
    for moment in _moments(date(2024, 3, 22), date(2024, 6, 3)):
        while waiting and waiting[0][1][1] <= moment:
            _key, (sender, filed) = waiting.pop(0)
            assert file_response(engine, store, sender, filed) == "matched"
        _remind(engine, tmp_path, moment)
        _send(engine, tmp_path, moment)
    assert not waiting
    with read_session(engine) as session:
        hearing_id = session.exec(select(HearingRow.id)).one()
        assert answered_stakeholder_keys(session, hearing_id) == set(RESPONSES)

    rows = _reminder_rows(engine)
    got = Counter((r.stakeholder_key, r.queued_at) for r in rows)
    expected_14 = set(hearing) - {"helse-vest-rhf"}
    expected_3 = set(hearing) - {"helse-vest-rhf", "legeforeningen", "uio-medisin"}
    assert got == Counter(
        [(k, FOURTEEN_DAYS) for k in expected_14] + [(k, THREE_DAYS) for k in expected_3]
    )
    assert len(rows) == 28 + 26
    assert all(r.status == "sent" and r.sent_at == r.queued_at for r in rows)
    assert FOURTEEN_DAYS.weekday() == 3 and THREE_DAYS.weekday() == 1

    receipts = outbox_rows(engine, "kvittering")
    assert sorted(r.to_address for r in receipts) == sorted(s for s, _ in RESPONSES.values())
    assert all(r.status == "sent" for r in receipts)
    sent_files = list((tmp_path / "var" / "outbox-sent").glob("*.eml"))
    # the hearing letters, the reminders and the receipts, each once
    assert len(sent_files) == 29 + len(rows) + len(receipts)
    with read_session(engine) as session:
        letters = session.exec(select(LetterRow).where(LetterRow.kind == "paaminnelse")).all()
    assert len(letters) == len(rows)


def test_reminder_letter_and_message(engine, tmp_path, intake, hearing):
    _remind(engine, tmp_path, FOURTEEN_DAYS)
    _send(engine, tmp_path, FOURTEEN_DAYS)
    row = next(r for r in _reminder_rows(engine) if r.stakeholder_key == "helse-vest-rhf")
    assert row.dedupe_key == "paaminnelse:24/750:helse-vest-rhf:2024-05-16"
    eml = tmp_path / "var" / "outbox-sent" / f"{row.message_id.strip('<>')}.eml"
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Påminnelse om høring med frist 31. mai 2024 – Vår ref. 24/750"
    assert message["To"].addresses[0].addr_spec == "post@helse-vest.no"
    assert "høringsfristen er 31. mai 2024" in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "paaminnelse-2024-05-16-helse-vest-rhf.docx"
    path = tmp_path / "letters" / "24-750" / attachment.get_filename()
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "Påminnelse om høring" in text
    assert "Vår ref.: 24/750" in text
    assert "fristen for høringsinnspill er 31. mai 2024" in text
    assert "sendte 22. mars 2024 på høring" in text
    assert "Helse Vest RHF" in text
    assert "marie.thoresen@helsedir.no" in text


def test_runs_in_any_order_give_one_reminder_per_recipient_and_day(
    engine, tmp_path, intake, hearing
):
    moments = list(_moments(date(2024, 5, 10), date(2024, 6, 3)))
    random.Random(750).shuffle(moments)
    for moment in moments:
        _remind(engine, tmp_path, moment)
    rows = _reminder_rows(engine)
    per_key = Counter((r.stakeholder_key, r.dedupe_key.rsplit(":", 1)[1]) for r in rows)
    assert set(per_key.values()) == {1}
    assert {day for _, day in per_key} == {"2024-05-16", "2024-05-28"}
    assert len(rows) == 2 * len(hearing)
    assert all(r.queued_at.astimezone(OSLO).date() <= date(2024, 5, 31) for r in rows)


def test_answered_recipients_get_none(engine, tmp_path, intake, hearing):
    intake.answered = set(hearing[:10])
    run = _remind(engine, tmp_path, FOURTEEN_DAYS)
    assert {e.stakeholder_key for e in run.entries} == set(hearing[10:])
    assert run.hearings[0].answered == 10
    assert run.counts()["queued"] == len(hearing) - 10


def test_no_reminder_outside_the_reminder_days(engine, tmp_path, intake, hearing):
    for moment in (
        CIRCULATED,
        datetime(2024, 5, 15, 16, 0, tzinfo=OSLO),
        datetime(2024, 6, 1, 7, 0, tzinfo=OSLO),
        datetime(2024, 6, 3, 7, 0, tzinfo=OSLO),
    ):
        run = _remind(engine, tmp_path, moment)
        assert run.entries == [] and run.hearings[0].reminder is None
    assert _reminder_rows(engine) == []


def test_withdrawn_hearing_gets_none_and_queued_ones_are_dropped(engine, tmp_path, intake, hearing):
    _remind(engine, tmp_path, FOURTEEN_DAYS)  # queued, not sent yet
    act(
        engine,
        Action.WITHDRAW,
        FOURTEEN_DAYS + timedelta(hours=1),
        tmp_path / "letters",
        reason="Trukket",
    )
    assert _remind(engine, tmp_path, THREE_DAYS).hearings == []
    # the withdrawal cancelled them (and every other pending letter of the hearing)
    assert {r.status for r in _reminder_rows(engine)} == {"cancelled"}
    report = _send(engine, tmp_path, FOURTEEN_DAYS + timedelta(hours=2))
    assert report.counts()["cancelled"] == 0
    assert {r.kind for r in report.results} == {"tilbaketrekking"}
    assert {r.status for r in _reminder_rows(engine)} == {"cancelled"}
    assert all("the hearing is withdrawn" in r.last_error for r in _reminder_rows(engine))


def test_hearing_overrides_the_policy(engine, tmp_path, intake, hearing, monkeypatch):
    with write_session(engine) as session:
        row = session.exec(select(HearingRow)).one()
        row.spec_json = row.spec_json[:-1] + ', "reminder_days": [7]}'
        session.add(row)
    assert _remind(engine, tmp_path, FOURTEEN_DAYS).entries == []
    run = _remind(engine, tmp_path, datetime(2024, 5, 24, 7, 0, tzinfo=OSLO))
    assert run.counts()["queued"] == len(hearing)
    assert {e.days_before for e in run.entries} == {7}

    with write_session(engine) as session:
        row = session.exec(select(HearingRow)).one()
        row.spec_json = row.spec_json.replace('"reminder_days": [7]', '"reminder_days": ["x"]')
        session.add(row)
    with pytest.raises(UserError, match="hearing 24/750: reminder_days: 'x'"):
        _remind(engine, tmp_path, THREE_DAYS)


def test_policy_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOERING_REMINDER_DAYS", "10, 2")
    assert default_policy(load_settings().reminders).days_before == (10, 2)
    monkeypatch.setenv("HOERING_REMINDER_DAYS", "ti")
    with pytest.raises(UserError, match="HOERING_REMINDER_DAYS: 'ti'"):
        load_settings()  # a malformed value fails when the command loads its settings


def test_dry_run_queues_nothing(engine, tmp_path, intake, hearing):
    run = _remind(engine, tmp_path, FOURTEEN_DAYS, dry_run=True)
    assert run.counts()["would_queue"] == len(hearing)
    assert _reminder_rows(engine) == []
    assert not (
        tmp_path / "letters" / "24-750" / "paaminnelse-2024-05-16-legeforeningen.docx"
    ).exists()


def test_response_filed_while_rendering_stops_that_reminder(
    engine, tmp_path, intake, hearing, monkeypatch
):
    import services.intake as intake_module

    def answered_after_planning(session, hearing_id):
        keys = intake.answered_stakeholder_keys(session, hearing_id)
        return keys | ({"legeforeningen"} if intake.calls > 1 else set())

    monkeypatch.setattr(intake_module, "answered_stakeholder_keys", answered_after_planning)
    run = _remind(engine, tmp_path, FOURTEEN_DAYS)
    outcomes = {e.stakeholder_key: e.outcome for e in run.entries}
    assert outcomes["legeforeningen"] == "answered"
    assert {r.stakeholder_key for r in _reminder_rows(engine)} == set(hearing) - {"legeforeningen"}


def test_crash_while_queuing_leaves_nothing_and_a_rerun_queues_once(
    engine, tmp_path, intake, hearing, monkeypatch
):
    real = reminders.queue_message
    calls = {"n": 0}

    def failing(session, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("process stopped")
        return real(session, **kwargs)

    monkeypatch.setattr(reminders, "queue_message", failing)
    with pytest.raises(RuntimeError):
        _remind(engine, tmp_path, FOURTEEN_DAYS)
    assert _reminder_rows(engine) == []  # one transaction: all or nothing
    monkeypatch.setattr(reminders, "queue_message", real)
    assert _remind(engine, tmp_path, FOURTEEN_DAYS).counts()["queued"] == len(hearing)
    assert _remind(engine, tmp_path, FOURTEEN_DAYS).counts()["already_queued"] == len(hearing)
    assert len(_reminder_rows(engine)) == len(hearing)


def test_plan_reports_already_queued_with_status(engine, tmp_path, intake, hearing):
    _remind(engine, tmp_path, FOURTEEN_DAYS)
    _send(engine, tmp_path, FOURTEEN_DAYS)
    with read_session(engine) as session:
        run = plan_reminders(
            session, now=FOURTEEN_DAYS + timedelta(days=5), default=ReminderPolicy()
        )
    assert {e.outcome for e in run.entries} == {"already_queued"}
    assert {e.status for e in run.entries} == {"sent"}
    assert {e.sent_at for e in run.entries} == {FOURTEEN_DAYS}


# --- the flow and the command line -----------------------------------------------------------


def test_send_reminders_flow(
    engine, tmp_path, intake, hearing, hoering_env, prefect_api, monkeypatch
):
    monkeypatch.setenv("HOERING_MAIL_PDF", "false")
    from flows.outbox_flows import send_reminders

    intake.answered = {"helse-vest-rhf"}
    result = asyncio.run(send_reminders(as_of="2024-05-16T07:00"))
    reminders_run = result["reminders"]
    assert reminders_run["counts"]["queued"] == len(hearing) - 1
    assert {r["status"] for r in reminders_run["reminders"]} == {"sent"}
    assert {r["reminder_date"] for r in reminders_run["reminders"]} == {"2024-05-16"}
    assert result["send"]["counts"]["sent"] == 29 + len(hearing) - 1  # letters were pending

    again = asyncio.run(send_reminders(as_of="2024-05-16T12:00"))
    assert again["reminders"]["counts"]["queued"] == 0
    assert again["reminders"]["counts"]["already_queued"] == len(hearing) - 1
    assert again["send"]["counts"]["sent"] == 0

    dry = asyncio.run(send_reminders(as_of="2024-05-28", dry_run=True))
    assert dry["send"] is None
    assert dry["reminders"]["counts"]["would_queue"] == len(hearing) - 1
    assert len(_reminder_rows(engine)) == len(hearing) - 1


needs_intake = pytest.mark.skipif(
    importlib.util.find_spec("services.intake") is None,
    reason="the CLI runs in its own process and needs the real services.intake",
)


@needs_intake
def test_cli_reminders_send(engine, tmp_path, hearing, flow_env):
    env = {**flow_env, "HOERING_MAIL_PDF": "false"}
    dry = run_hoering("reminders", "send", "--as-of", "2024-05-16", "--dry-run", "--json", env=env)
    assert dry.code == 0, dry.stderr
    assert dry.json()["reminders"]["counts"]["would_queue"] == len(hearing)
    assert _reminder_rows(engine) == []

    sent = run_hoering("reminders", "send", "--as-of", "2024-05-16", "--json", env=env)
    assert sent.code == 0, sent.stderr
    entries = sent.json()["reminders"]["reminders"]
    assert {(e["outcome"], e["status"]) for e in entries} == {("queued", "sent")}
    people = run_hoering(
        "reminders", "send", "--as-of", "2024-05-16", env={**env, "COLUMNS": "250"}
    )
    assert people.code == 0, people.stderr
    assert "reminder day 2024-05-16 (14 days before)" in people.stdout
    assert "already queued" in people.stdout


def test_cli_reminders_bad_date(hoering_env):
    assert_one_line_error(
        run_hoering("reminders", "send", "--as-of", "16.5.2024", env=hoering_env), "--as-of"
    )


def test_missed_reminder_day_is_caught_up_on_the_next_working_day(
    engine, tmp_path, intake, hearing
):
    holiday = datetime(2024, 5, 17, 7, 0, tzinfo=OSLO)  # no run on 16 May
    assert _remind(engine, tmp_path, holiday).entries == []
    tuesday = datetime(2024, 5, 21, 7, 0, tzinfo=OSLO)  # 18-19 weekend, 20 Whit Monday
    run = _remind(engine, tmp_path, tuesday)
    assert run.counts()["queued"] == len(hearing)
    rows = _reminder_rows(engine)
    assert {r.dedupe_key.rsplit(":", 1)[1] for r in rows} == {"2024-05-16"}
    assert {r.queued_at for r in rows} == {tuesday}
