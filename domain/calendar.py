"""Dates as Helsedirektoratet uses them: Europe/Oslo, Norwegian public holidays, bokmål.

Nothing here reads a clock: every function takes the date or time it works on.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OSLO = ZoneInfo("Europe/Oslo")

MONTHS_NB = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


@lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    # Sundays are not holidays here: weekends are handled by `is_working_day`.
    return holidays.country_holidays("NO", years=year, include_sundays=False, language="no")


def holiday_name(day: date) -> str | None:
    """The name of the Norwegian public holiday on `day`, or None."""
    return _norwegian_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Norwegian public holiday."""
    return day.weekday() < 5 and holiday_name(day) is None


def next_working_day(day: date) -> date:
    """The first working day on or after `day`."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """The last working day on or before `day`."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Europe/Oslo (exclusive end of the day)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=OSLO)


def oslo_date(moment: datetime) -> date:
    """The calendar date of an aware `moment` in Europe/Oslo."""
    if moment.tzinfo is None:
        raise ValueError("oslo_date needs an aware datetime")
    return moment.astimezone(OSLO).date()


def format_date_nb(day: date) -> str:
    """A date as written in Norwegian bokmål letters: '31. mai 2024'."""
    return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"


def format_month_nb(day: date) -> str:
    """A month as written in bokmål: 'september 2024'."""
    return f"{MONTHS_NB[day.month - 1]} {day.year}"


def format_date_short_nb(day: date) -> str:
    """The short form used in letters and tables: '1.9.2025'."""
    return f"{day.day}.{day.month}.{day.year}"


def describe_day_nb(day: date) -> str:
    """Why a day is not a working day, in bokmål, or '' if it is one."""
    name = holiday_name(day)
    if name:
        return name
    if day.weekday() == 5:
        return "lørdag"
    if day.weekday() == 6:
        return "søndag"
    return ""


def parse_date(text: str, where: str) -> date:
    """Parse a user-given ISO date; `where` names the option or field for the message."""
    from domain.errors import UserError

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{where}: '{text}' is not a valid date; write it as YYYY-MM-DD, e.g. 2024-05-31"
        ) from None
