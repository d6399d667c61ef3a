"""The reminder rule: which reminder is due on a day, given the deadline and the policy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.calendar import is_working_day
from domain.errors import UserError
from domain.reminder_policy import (
    ReminderPolicy,
    ScheduledReminder,
    describe_reminder_nb,
    due_reminder,
    parse_reminder_days,
    reminder_expired,
    reminder_schedule,
)

DEADLINE = date(2024, 5, 31)  # 24/750
CIRCULATED = date(2024, 3, 22)
DEFAULT = ReminderPolicy()


def test_default_policy_is_14_and_3_days():
    assert DEFAULT.days_before == (14, 3)


def test_schedule_of_24_750_moves_17_may_to_thursday_16_may():
    schedule = reminder_schedule(DEADLINE, DEFAULT)
    assert schedule == (
        ScheduledReminder(days_before=14, nominal=date(2024, 5, 17), on=date(2024, 5, 16)),
        ScheduledReminder(days_before=3, nominal=date(2024, 5, 28), on=date(2024, 5, 28)),
    )
    assert schedule[0].moved and not schedule[1].moved
    assert schedule[0].on.weekday() == 3  # Thursday


def test_reminder_day_on_weekend_moves_to_friday():
    # 2024-06-30 is a Sunday; 14 days before is Sunday 16 June -> Friday 14 June.
    (reminder,) = reminder_schedule(date(2024, 6, 30), ReminderPolicy((14,)))
    assert reminder.nominal == date(2024, 6, 16)
    assert reminder.on == date(2024, 6, 14)


def test_reminder_day_moves_over_easter():
    # 3 days before 21 April 2025 (Easter Monday) is Good Friday 18 April; Maundy
    # Thursday 17 April is a holiday too, so the reminder goes on Wednesday 16 April.
    (reminder,) = reminder_schedule(date(2025, 4, 21), ReminderPolicy((3,)))
    assert reminder.on == date(2025, 4, 16)
    assert is_working_day(reminder.on)


def test_two_days_landing_on_one_working_day_give_one_reminder():
    # Deadline Monday 3 June 2024: 1 and 2 days before are Sunday and Saturday -> Friday.
    schedule = reminder_schedule(date(2024, 6, 3), ReminderPolicy((2, 1)))
    assert schedule == (
        ScheduledReminder(days_before=2, nominal=date(2024, 6, 1), on=date(2024, 5, 31)),
    )


def test_due_reminder_on_each_day_of_24_750():
    due_days: dict[date, int] = {}
    day = CIRCULATED
    while day <= date(2024, 6, 3):
        reminder = due_reminder(day, deadline=DEADLINE, circulated_on=CIRCULATED, policy=DEFAULT)
        if reminder is not None:
            due_days[day] = reminder.days_before
        day += timedelta(days=1)
    assert min(due_days) == date(2024, 5, 16)
    assert max(due_days) == DEADLINE
    # Catch-up days for a missed run are working days only: not 17 May (holiday),
    # not the weekends 18-19 and 25-26 May.
    assert {d for d, days in due_days.items() if days == 14} == {
        date(2024, 5, day) for day in (16, 21, 22, 23, 24, 27)
    }
    assert date(2024, 5, 20) not in due_days  # Whit Monday
    assert {d for d, days in due_days.items() if days == 3} == {
        date(2024, 5, 28),
        date(2024, 5, 29),
        date(2024, 5, 30),
        date(2024, 5, 31),
    }


def test_nothing_due_after_the_deadline_or_before_the_first_day():
    args = {"deadline": DEADLINE, "circulated_on": CIRCULATED, "policy": DEFAULT}
    assert due_reminder(date(2024, 5, 15), **args) is None
    assert due_reminder(date(2024, 6, 1), **args) is None
    assert due_reminder(date(2024, 5, 31), **args).days_before == 3


def test_reminder_days_on_or_before_circulation_are_skipped():
    # Circulated on 20 May with deadline 31 May: the 14-day reminder (16 May) never comes.
    late = date(2024, 5, 20)
    args = {"deadline": DEADLINE, "circulated_on": late, "policy": DEFAULT}
    assert due_reminder(date(2024, 5, 21), **args) is None
    assert due_reminder(date(2024, 5, 28), **args).days_before == 3
    # Circulated on the reminder day itself: not that same day either.
    args["circulated_on"] = date(2024, 5, 28)
    assert due_reminder(date(2024, 5, 28), **args) is None


def test_empty_policy_never_reminds():
    assert (
        due_reminder(
            date(2024, 5, 28),
            deadline=DEADLINE,
            circulated_on=CIRCULATED,
            policy=ReminderPolicy(()),
        )
        is None
    )


def test_policy_sorts_and_deduplicates():
    assert ReminderPolicy((3, 14, 3)).days_before == (14, 3)


def test_parse_reminder_days():
    assert parse_reminder_days("14,3").days_before == (14, 3)
    assert parse_reminder_days(" 7 ; 1 ").days_before == (7, 1)
    assert parse_reminder_days("").days_before == ()


@pytest.mark.parametrize("text", ["14,x", "-3", "1.5", "400"])
def test_parse_reminder_days_refuses_bad_values(text):
    with pytest.raises(UserError) as caught:
        parse_reminder_days(text, "HOERING_REMINDER_DAYS")
    message = str(caught.value)
    assert message.startswith("HOERING_REMINDER_DAYS:")
    assert "\n" not in message
    assert "e.g. 14,3" in message


def test_policy_refuses_non_integers():
    with pytest.raises(TypeError):
        ReminderPolicy((True,))
    with pytest.raises(ValueError):
        ReminderPolicy((-1,))


def test_describe_reminder_nb():
    schedule = reminder_schedule(DEADLINE, ReminderPolicy((14, 1, 0)))
    assert [describe_reminder_nb(r) for r in schedule] == [
        "14 dager før fristen",
        "1 dag før fristen",
        "på fristdagen",
    ]


def test_reminder_expired():
    assert reminder_expired(DEADLINE, deadline=DEADLINE, hearing_state="circulated") is None
    assert "has passed" in reminder_expired(
        date(2024, 6, 1), deadline=DEADLINE, hearing_state="circulated"
    )
    assert "withdrawn" in reminder_expired(
        date(2024, 5, 16), deadline=DEADLINE, hearing_state="withdrawn"
    )
