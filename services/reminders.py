"""Queuing påminnelser: who gets a reminder today, rendered and put in the outbox.

The rule for days is `domain.reminder_policy`; this module applies it to the stored
hearings. A recipient gets a reminder when its hearing is `circulated`, a reminder
is due today (`due_reminder`), and no response has been filed for the recipient's
organisation (`services.intake.answered_stakeholder_keys`, which counts a response
from any address of the organisation).

At most one reminder per recipient per reminder day, whatever runs and crashes: the
outbox row's dedupe key is `paaminnelse:<case>:<stakeholder>:<reminder day>`, where
the reminder day is the scheduled working day, not the day of the run. The letter is
rendered before the transaction (a crash leaves at most an unreferenced file that
the next run overwrites); the row, its letter record and the re-check of the
hearing's state and of the answers are one transaction.

Policy: HOERING_REMINDER_DAYS (default "14,3"); a hearing overrides it with
`reminder_days: [7, 2]` in its spec (an empty list turns reminders off).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.settings import ReminderSettings
from domain.calendar import format_date_nb, oslo_date
from domain.letter_context import HELSEDIREKTORATET, Contact, LetterKind, ReminderContext
from domain.reminder_policy import (
    CIRCULATED_STATE,
    ReminderPolicy,
    ScheduledReminder,
    describe_reminder_nb,
    due_reminder,
)
from rendering.letters import render_docx
from services.hearing_records import outbox_case_key
from storage.db import read_session, write_session
from storage.hearing_models import HearingRecipientRow, HearingRow, LetterRow, OutboxMessageRow
from storage.outbox_queue import queue_message
from storage.rows import row_id

REMINDER_KIND = LetterKind.PAAMINNELSE.value


def default_policy(settings: ReminderSettings) -> ReminderPolicy:
    """The policy of HOERING_REMINDER_DAYS (checked when the settings were loaded)."""
    return settings.policy()


def hearing_policy(hearing: HearingRow, default: ReminderPolicy) -> ReminderPolicy:
    """The hearing's own `reminder_days` from its spec, else `default`."""
    spec = json.loads(hearing.spec_json or "{}")
    days = spec.get("reminder_days") if isinstance(spec, dict) else None
    if days is None:
        return default
    if not isinstance(days, list):
        days = [days]
    return ReminderPolicy.from_values(days, f"hearing {hearing.case_number}: reminder_days")


def reminder_dedupe_key(case_number: str, stakeholder_key: str, day: date) -> str:
    return f"{REMINDER_KIND}:{case_number}:{stakeholder_key}:{day.isoformat()}"


def answered_keys(session: Session, hearing_id: int) -> set[str]:
    """Stakeholders with a filed response to the hearing (any address of theirs)."""
    from services.intake import answered_stakeholder_keys  # the intake's rule, not ours

    return set(answered_stakeholder_keys(session, hearing_id))


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderEntry:
    """One recipient's reminder for one reminder day.

    `outcome`: would_queue (dry run), queued (this run), already_queued (an earlier
    run), answered / hearing_not_circulated (a response was filed, or the hearing
    changed state, while this run was rendering: nothing queued).
    """

    hearing_id: int
    case_number: str
    stakeholder_key: str
    organisation: str
    to_address: str
    days_before: int
    reminder_date: date
    dedupe_key: str
    outcome: str
    message_id: str | None = None
    status: str | None = None  # the outbox status, once known
    sent_at: datetime | None = None

    @property
    def reminder_nb(self) -> str:
        return describe_reminder_nb(
            ScheduledReminder(self.days_before, self.reminder_date, self.reminder_date)
        )

    def as_json(self) -> dict:
        return {
            "case": self.case_number,
            "stakeholder": self.stakeholder_key,
            "organisation": self.organisation,
            "to": self.to_address,
            "reminder": self.reminder_nb,
            "days_before": self.days_before,
            "reminder_date": self.reminder_date.isoformat(),
            "outcome": self.outcome,
            "status": self.status,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "message_id": self.message_id,
            "dedupe_key": self.dedupe_key,
        }


@dataclass(frozen=True)
class HearingReminderDay:
    """For one circulated hearing: the reminder due today (if any) and who answered."""

    hearing_id: int
    case_number: str
    deadline: date
    reminder: ScheduledReminder | None
    recipients: int
    answered: int


@dataclass
class ReminderRun:
    as_of: datetime
    dry_run: bool
    hearings: list[HearingReminderDay] = field(default_factory=list)
    entries: list[ReminderEntry] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        names = ("would_queue", "queued", "already_queued", "answered", "hearing_not_circulated")
        return {name: sum(1 for e in self.entries if e.outcome == name) for name in names}

    def as_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "hearings": [
                {
                    "case": h.case_number,
                    "deadline": h.deadline.isoformat(),
                    "reminder_date": h.reminder.on.isoformat() if h.reminder else None,
                    "days_before": h.reminder.days_before if h.reminder else None,
                    "recipients": h.recipients,
                    "answered": h.answered,
                }
                for h in self.hearings
            ],
            "reminders": [entry.as_json() for entry in self.entries],
        }


def _circulated(session: Session) -> list[HearingRow]:
    return list(
        session.exec(
            select(HearingRow)
            .where(HearingRow.state == CIRCULATED_STATE)
            .order_by(col(HearingRow.case_number))
        ).all()
    )


def _recipients(session: Session, hearing_id: int) -> list[HearingRecipientRow]:
    return list(
        session.exec(
            select(HearingRecipientRow)
            .where(HearingRecipientRow.hearing_id == hearing_id)
            .order_by(col(HearingRecipientRow.position), col(HearingRecipientRow.id))
        ).all()
    )


def _queued(session: Session, keys: Iterable[str]) -> dict[str, OutboxMessageRow]:
    keys = list(keys)
    if not keys:
        return {}
    rows = session.exec(
        select(OutboxMessageRow).where(col(OutboxMessageRow.dedupe_key).in_(keys))
    ).all()
    return {row.dedupe_key: row for row in rows}


def plan_reminders(session: Session, *, now: datetime, default: ReminderPolicy) -> ReminderRun:
    """Who is due a reminder on the day of `now` (outcome would_queue or already_queued)."""
    today = oslo_date(now)
    run = ReminderRun(as_of=now, dry_run=True)
    for hearing in _circulated(session):
        assert hearing.id is not None
        reminder = due_reminder(
            today,
            deadline=hearing.deadline,
            circulated_on=hearing.circulated_on,
            policy=hearing_policy(hearing, default),
        )
        recipients = _recipients(session, hearing.id)
        answered = answered_keys(session, hearing.id) if reminder else set()
        run.hearings.append(
            HearingReminderDay(
                hearing_id=hearing.id,
                case_number=hearing.case_number,
                deadline=hearing.deadline,
                reminder=reminder,
                recipients=len(recipients),
                answered=sum(1 for r in recipients if r.stakeholder_key in answered),
            )
        )
        if reminder is None:
            continue
        waiting = [r for r in recipients if r.stakeholder_key not in answered]
        case_key = outbox_case_key(session, hearing)  # a reused case number: its own keys
        keys = {
            r.stakeholder_key: reminder_dedupe_key(case_key, r.stakeholder_key, reminder.on)
            for r in waiting
        }
        existing = _queued(session, keys.values())
        for recipient in waiting:
            key = keys[recipient.stakeholder_key]
            row = existing.get(key)
            run.entries.append(
                ReminderEntry(
                    hearing_id=hearing.id,
                    case_number=hearing.case_number,
                    stakeholder_key=recipient.stakeholder_key,
                    organisation=recipient.name,
                    to_address=row.to_address if row else recipient.email.lower(),
                    days_before=reminder.days_before,
                    reminder_date=reminder.on,
                    dedupe_key=key,
                    outcome="already_queued" if row else "would_queue",
                    message_id=row.message_id if row else None,
                    status=row.status if row else None,
                    sent_at=row.sent_at if row else None,
                )
            )
    return run


# --- the letter and the message -------------------------------------------------------------


def reminder_subject(case_number: str, deadline: date) -> str:
    return f"Påminnelse om høring med frist {format_date_nb(deadline)} – Vår ref. {case_number}"


def reminder_body_nb(hearing: HearingRow, recipient_name: str) -> str:
    response_email = HELSEDIREKTORATET.response_email
    circulated = format_date_nb(hearing.circulated_on) if hearing.circulated_on else "tidligere"
    return (
        f"Til {recipient_name}\n\n"
        f"Helsedirektoratet sendte {circulated} på høring sak {hearing.case_number}: "
        f"{' '.join(hearing.title.split())}.\n\n"
        f"Vi minner om at høringsfristen er {format_date_nb(hearing.deadline)}. "
        "Påminnelsen ligger vedlagt.\n\n"
        f"Innspill kan sendes som svar på denne e-posten eller til {response_email}, "
        f"merket Vår ref. {hearing.case_number}. Har dere allerede sendt innspill, kan dere "
        "se bort fra denne påminnelsen.\n\n"
        "Vennlig hilsen\nHelsedirektoratet\n"
    )


def reminder_context(
    hearing: HearingRow, recipient: HearingRecipientRow, letter_date: date
) -> ReminderContext:
    # Read as plain JSON: a spec with `reminder_days` validates only once HearingSpec
    # has that field.
    spec = json.loads(hearing.spec_json or "{}")
    contact, officer = spec.get("contact") or {}, spec.get("case_officer") or {}
    return ReminderContext(
        case_number=hearing.case_number,
        letter_date=letter_date,
        title=" ".join(hearing.title.split()),
        circulated_date=hearing.circulated_on or letter_date,
        deadline=hearing.deadline,
        recipient_name=recipient.name,
        recipient_address=recipient.email,
        case_officer=officer.get("name") or contact.get("name", ""),
        contact=Contact(
            title=contact.get("title", ""),
            name=contact.get("name", ""),
            email=contact.get("email", ""),
        ),
    )


def reminder_letter_path(letters_dir: Path, case_number: str, stakeholder: str, day: date) -> Path:
    case_folder = case_number.replace("/", "-")
    return letters_dir / case_folder / f"{REMINDER_KIND}-{day.isoformat()}-{stakeholder}.docx"


def queue_reminders(
    engine: Engine,
    *,
    now: datetime,
    letters_dir: Path,
    default: ReminderPolicy,
    dry_run: bool = False,
) -> ReminderRun:
    """Queue today's reminders (or, with `dry_run`, only say who would get one)."""
    today = oslo_date(now)
    with read_session(engine) as session:
        plan = plan_reminders(session, now=now, default=default)
    plan.dry_run = dry_run
    todo = [e for e in plan.entries if e.outcome == "would_queue"]
    if dry_run or not todo:
        return plan

    recipients, rendered = _render_letters(engine, todo, letters_dir, today)

    outcomes: dict[str, ReminderEntry] = {}
    with write_session(engine) as session:
        for hearing_id in {e.hearing_id for e in todo}:
            hearing = session.get(HearingRow, hearing_id)
            still_open = hearing is not None and hearing.state == CIRCULATED_STATE
            answered = answered_keys(session, hearing_id) if still_open else set()
            for entry in (e for e in todo if e.hearing_id == hearing_id):
                if not still_open or entry.stakeholder_key in answered:
                    outcome = "answered" if still_open else "hearing_not_circulated"
                    outcomes[entry.dedupe_key] = replace(entry, outcome=outcome)
                    continue
                assert hearing is not None
                recipient = recipients[(hearing_id, entry.stakeholder_key)]
                path, sha256 = rendered[entry.dedupe_key]
                outcomes[entry.dedupe_key] = _queue_one(
                    session, hearing, recipient, entry, path, sha256, now
                )
    plan.entries = [outcomes.get(e.dedupe_key, e) for e in plan.entries]
    return plan


def _render_letters(
    engine: Engine, todo: list[ReminderEntry], letters_dir: Path, today: date
) -> tuple[dict[tuple[int, str], HearingRecipientRow], dict[str, tuple[Path, str]]]:
    """Render each reminder letter before the write transaction; returns the recipients
    by (hearing, stakeholder) and dedupe key -> (letter path, sha256)."""
    with read_session(engine) as session:
        hearings = {e.hearing_id: session.get_one(HearingRow, e.hearing_id) for e in todo}
        recipients = {
            (r.hearing_id, r.stakeholder_key): r
            for hearing_id in hearings
            for r in _recipients(session, hearing_id)
        }
        session.expunge_all()
    rendered: dict[str, tuple[Path, str]] = {}
    for entry in todo:
        hearing = hearings[entry.hearing_id]
        recipient = recipients[(entry.hearing_id, entry.stakeholder_key)]
        path = reminder_letter_path(
            letters_dir, entry.case_number, entry.stakeholder_key, entry.reminder_date
        )
        context = reminder_context(hearing, recipient, today)
        rendered[entry.dedupe_key] = (path, render_docx(REMINDER_KIND, context, path))
    return recipients, rendered


def _queue_one(
    session: Session,
    hearing: HearingRow,
    recipient: HearingRecipientRow,
    entry: ReminderEntry,
    path: Path,
    sha256: str,
    now: datetime,
) -> ReminderEntry:
    """Queue one reminder (once per dedupe key) and record its letter."""
    row, created = queue_message(
        session,
        kind=REMINDER_KIND,
        dedupe_key=entry.dedupe_key,
        to_address=recipient.email,
        to_name=recipient.name,
        subject=reminder_subject(hearing.case_number, hearing.deadline),
        body_text=reminder_body_nb(hearing, recipient.name),
        now=now,
        hearing_id=hearing.id,
        organisation=recipient.name,
        stakeholder_key=recipient.stakeholder_key,
        attachments=[path],
    )
    if created:
        _record_letter(session, row_id(hearing), entry, path, sha256, now)
    return replace(
        entry,
        outcome="queued" if created else "already_queued",
        message_id=row.message_id,
        status=row.status,
        sent_at=row.sent_at,
    )


def _record_letter(
    session: Session, hearing_id: int, entry: ReminderEntry, path: Path, sha256: str, now: datetime
) -> None:
    variant = f"{entry.stakeholder_key}:{entry.reminder_date.isoformat()}"
    exists = session.exec(
        select(LetterRow.id).where(
            LetterRow.hearing_id == hearing_id,
            LetterRow.kind == REMINDER_KIND,
            LetterRow.variant == variant,
        )
    ).first()
    if exists is None:
        session.add(
            LetterRow(
                hearing_id=hearing_id,
                kind=REMINDER_KIND,
                variant=variant,
                path=str(path),
                sha256=sha256,
                created_at=now,
            )
        )


def outbox_status(engine: Engine, dedupe_keys: Iterable[str]) -> dict[str, dict]:
    """The outbox status of reminders by dedupe key (after a send)."""
    with read_session(engine) as session:
        rows = _queued(session, dedupe_keys)
    return {
        key: {
            "status": row.status,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "message_id": row.message_id,
            "last_error": row.last_error,
        }
        for key, row in rows.items()
    }
