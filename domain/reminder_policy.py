"""When reminders (påminnelser) go out before a hearing's deadline.

A policy is a list of "days before the deadline" (default 14 and 3). Each gives a
reminder day: the deadline minus that many days, moved back to the previous working
day when it falls on a weekend or a Norwegian public holiday (31 May 2024 - 14 days is
17 May, Constitution Day, so that reminder goes on Thursday 16 May).

On a given working day at most one reminder is due: the latest reminder day that
has come, as long as the deadline has not passed and the reminder day is after
circulation. A reminder day that was missed (no run that day) is therefore caught up
by the next run on a working day, until a later reminder day takes over. The
reminder day itself, not the day of the run, names the reminder, so a recipient gets
at most one reminder per reminder day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import is_working_day, previous_working_day
from domain.errors import UserError

DEFAULT_REMINDER_DAYS: tuple[int, ...] = (14, 3)
MAX_DAYS_BEFORE = 365


@dataclass(frozen=True)
class ReminderPolicy:
    """Days before the deadline on which reminders go, largest first, each once."""

    days_before: tuple[int, ...] = DEFAULT_REMINDER_DAYS

    def __post_init__(self) -> None:
        for days in self.days_before:
            if isinstance(days, bool) or not isinstance(days, int):
                raise TypeError(f"days before the deadline must be whole numbers, got {days!r}")
            if not 0 <= days <= MAX_DAYS_BEFORE:
                raise ValueError(f"{days} days before the deadline is out of range")
        object.__setattr__(self, "days_before", tuple(sorted(set(self.days_before), reverse=True)))

    @classmethod
    def from_values(cls, values: Iterable[object], where: str) -> ReminderPolicy:
        """A policy from user-given values (settings, a hearing spec), or one UserError line."""
        days: list[int] = []
        for value in values:
            text = str(value).strip()
            if not text.isdigit() or int(text) > MAX_DAYS_BEFORE:
                raise UserError(
                    f"{where}: '{value}' is not a number of days before the deadline; give "
                    f"whole numbers from 0 to {MAX_DAYS_BEFORE}, e.g. 14,3"
                )
            days.append(int(text))
        return cls(tuple(days))


def parse_reminder_days(text: str, where: str = "HOERING_REMINDER_DAYS") -> ReminderPolicy:
    """'14,3' -> ReminderPolicy((14, 3)); an empty text means no reminders."""
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    return ReminderPolicy.from_values(parts, where)


@dataclass(frozen=True)
class ScheduledReminder:
    """One reminder day of a hearing: `days_before` as configured, `on` the working day
    it goes out (`nominal` moved back over weekends and public holidays)."""

    days_before: int
    nominal: date
    on: date

    @property
    def moved(self) -> bool:
        return self.on != self.nominal


def reminder_schedule(deadline: date, policy: ReminderPolicy) -> tuple[ScheduledReminder, ...]:
    """The reminder days for a deadline, earliest first.

    Two configured days that land on the same working day give one reminder (the one
    further from the deadline names it).
    """
    by_day: dict[date, ScheduledReminder] = {}
    for days in policy.days_before:  # largest first, so the first one per day wins
        nominal = deadline - timedelta(days=days)
        on = previous_working_day(nominal)
        by_day.setdefault(on, ScheduledReminder(days_before=days, nominal=nominal, on=on))
    return tuple(sorted(by_day.values(), key=lambda reminder: reminder.on))


def due_reminder(
    today: date, *, deadline: date, circulated_on: date | None, policy: ReminderPolicy
) -> ScheduledReminder | None:
    """The reminder due on `today`, or None.

    None after the deadline, before any reminder day, on days that are not working
    days (a missed reminder waits for the next working day), and for reminder days on
    or before the circulation day (a short hearing skips the reminders it is too late
    for).
    """
    if today > deadline or not is_working_day(today):
        return None
    due = [
        reminder
        for reminder in reminder_schedule(deadline, policy)
        if reminder.on <= today and (circulated_on is None or reminder.on > circulated_on)
    ]
    return due[-1] if due else None


def describe_reminder_nb(reminder: ScheduledReminder) -> str:
    """'14 dager før fristen' / '1 dag før fristen' / 'på fristdagen'."""
    if reminder.days_before == 0:
        return "på fristdagen"
    unit = "dag" if reminder.days_before == 1 else "dager"
    return f"{reminder.days_before} {unit} før fristen"


CIRCULATED_STATE = "circulated"


def reminder_expired(today: date, *, deadline: date, hearing_state: str) -> str | None:
    """Why a queued reminder must no longer go out on `today`, or None if it still may.

    A reminder that could not be delivered before the deadline, or whose hearing was
    withdrawn or closed meanwhile, is dropped instead of sent late.
    """
    if hearing_state != CIRCULATED_STATE:
        return f"the hearing is {hearing_state}, not {CIRCULATED_STATE}"
    if today > deadline:
        return f"the deadline {deadline.isoformat()} has passed"
    return None
