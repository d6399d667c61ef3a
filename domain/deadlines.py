"""The rules on a hearing's deadline (høringsfrist), in one place.

- the six-week rule: the deadline is at least six weeks after circulation, unless the
  spec gives `short_deadline_reason`; under three months gives a warning
  (utredningsinstruksen 3-3); the deadline is a working day (`check_deadline`);
- the deadline day ends at midnight Europe/Oslo (`deadline_ends`): a hearing closes
  from then on, and a response received from then on is late (`is_late`).

Reminder days before the deadline are in `domain.reminder_policy`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.calendar import describe_day_nb, end_of_day, is_working_day, next_working_day
from domain.effective_date import add_months

MIN_DEADLINE = timedelta(weeks=6)
RECOMMENDED_DEADLINE_MONTHS = 3


def deadline_ends(deadline: date) -> datetime:
    """The moment the deadline day is over: the next midnight in Europe/Oslo."""
    return end_of_day(deadline)


def is_late(received: datetime, deadline: date) -> bool:
    """Late when received at or after the end of the deadline day in Europe/Oslo."""
    if received.tzinfo is None:
        raise ValueError("is_late needs an aware datetime")
    return received >= deadline_ends(deadline)


def check_deadline(
    deadline: date, circulated_on: date, short_deadline_reason: str | None
) -> tuple[list[str], list[str]]:
    """Problems and warnings for a deadline set at circulation.

    At least six weeks unless a reason is given; three months is the norm
    (utredningsinstruksen 3-3), so less gives a warning; the deadline must be a working day.
    """
    problems: list[str] = []
    warnings: list[str] = []
    if deadline <= circulated_on:
        problems.append(
            f"the deadline {deadline.isoformat()} is not after the circulation date "
            f"{circulated_on.isoformat()}; set a later deadline in the spec"
        )
        return problems, warnings
    if not is_working_day(deadline):
        problems.append(
            f"the deadline {deadline.isoformat()} is not a working day "
            f"({describe_day_nb(deadline)}); move it to {next_working_day(deadline).isoformat()}, "
            "the next working day"
        )
    if deadline - circulated_on < MIN_DEADLINE and short_deadline_reason is None:
        problems.append(
            f"the deadline {deadline.isoformat()} is less than six weeks after circulation "
            f"({circulated_on.isoformat()}); set it on or after "
            f"{next_working_day(circulated_on + MIN_DEADLINE).isoformat()} or give "
            "short_deadline_reason in the spec"
        )
    if deadline < add_months(circulated_on, RECOMMENDED_DEADLINE_MONTHS):
        why = f" (reason given: {short_deadline_reason})" if short_deadline_reason else ""
        warnings.append(
            f"the deadline {deadline.isoformat()} is less than three months after circulation "
            f"({circulated_on.isoformat()}); utredningsinstruksen 3-3 asks for three months "
            f"unless the case allows less{why}"
        )
    return problems, warnings
