"""When changed learning goals take effect.

Kompetanseportalen switches learning goals on 1 March or 1 September. By default a
change takes effect about one year after it is codified (24/750: codified September
2024, in effect 1.9.2025), to give the training institutions time to adapt plans.
"""

from __future__ import annotations

import calendar
from datetime import date

STANDARD_DAYS: tuple[tuple[int, int], ...] = ((3, 1), (9, 1))  # (month, day): 1 March, 1 September


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month (31.1 + 1 -> 28/29.2)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def is_standard_effective_date(day: date) -> bool:
    """True for 1 March and 1 September, the days Kompetanseportalen switches goals."""
    return (day.month, day.day) in STANDARD_DAYS


def default_effective_date(codified_on: date) -> date:
    """The latest 1 March or 1 September on or before one year after `codified_on`.

    Codified 2024-09-15 -> 2025-09-01; 2024-08-31 -> 2025-03-01; 2024-09-01 -> 2025-09-01.
    """
    limit = add_months(codified_on, 12)
    candidates = [
        date(year, month, day)
        for year in (limit.year - 1, limit.year)
        for month, day in STANDARD_DAYS
        if date(year, month, day) <= limit
    ]
    return max(candidates)
