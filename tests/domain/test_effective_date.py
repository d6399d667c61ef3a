"""Default effective dates: 1 March or 1 September, about a year after codification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.effective_date import add_months, default_effective_date, is_standard_effective_date


@pytest.mark.parametrize(
    ("codified_on", "expected"),
    [
        (date(2024, 9, 15), date(2025, 9, 1)),  # 24/750: codified September 2024
        (date(2024, 8, 31), date(2025, 3, 1)),
        (date(2024, 9, 1), date(2025, 9, 1)),
        (date(2025, 3, 1), date(2026, 3, 1)),
        (date(2025, 2, 28), date(2025, 9, 1)),
        (date(2024, 2, 29), date(2024, 9, 1)),  # one year later is 2025-02-28
        (date(2024, 12, 31), date(2025, 9, 1)),
        (date(2025, 1, 1), date(2025, 9, 1)),
    ],
)
def test_default_effective_date(codified_on: date, expected: date) -> None:
    assert default_effective_date(codified_on) == expected


def test_default_effective_date_holds_its_rule_for_every_day_of_three_years() -> None:
    day = date(2024, 1, 1)
    while day < date(2027, 1, 1):
        result = default_effective_date(day)
        limit = add_months(day, 12)
        assert is_standard_effective_date(result), day
        assert day < result <= limit, day
        # No later 1 March / 1 September fits before the limit.
        assert add_months(result, 6) > limit, day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 4, 12), 3, date(2024, 7, 12)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "standard"),
    [
        (date(2025, 9, 1), True),
        (date(2026, 3, 1), True),
        (date(2025, 9, 2), False),
        (date(2025, 1, 1), False),
        (date(2025, 3, 9), False),
    ],
)
def test_standard_effective_dates(day: date, standard: bool) -> None:
    assert is_standard_effective_date(day) is standard
