"""Retroactive dates, cut-off, billing month and due dates (contract defaults)."""

from datetime import date

import pytest

from services.rules.errors import DomainError
from services.rules.retroactive import (
    cutoff_date,
    movement_billing_month,
    next_due_date,
    retroactive_dates,
)


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (date(2026, 3, 15), 3, [date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)]),
        (date(2026, 1, 31), 3, [date(2026, 1, 1), date(2025, 12, 1), date(2025, 11, 1)]),
        (date(2026, 3, 1), 1, [date(2026, 3, 1)]),
        (
            date(2026, 2, 10),
            14,
            [date(2026, 2, 1), date(2026, 1, 1)] + [date(2025, m, 1) for m in range(12, 0, -1)],
        ),
    ],
)
def test_retroactive_dates_are_first_days_of_the_recent_months_newest_first(
    today: date, months: int, expected: list[date]
) -> None:
    assert retroactive_dates(today, months) == expected


def test_retroactive_dates_default_to_three_months() -> None:
    assert len(retroactive_dates(date(2026, 3, 15))) == 3


def test_retroactive_dates_need_at_least_one_month() -> None:
    with pytest.raises(DomainError):
        retroactive_dates(date(2026, 3, 15), 0)


@pytest.mark.parametrize(
    ("year", "month", "cutoff_day", "expected"),
    [
        (2026, 3, 20, date(2026, 3, 20)),
        (2026, 2, 31, date(2026, 2, 28)),
        (2024, 2, 30, date(2024, 2, 29)),
        (2026, 4, 31, date(2026, 4, 30)),
    ],
)
def test_cutoff_date_is_clamped_to_the_end_of_the_month(
    year: int, month: int, cutoff_day: int, expected: date
) -> None:
    assert cutoff_date(year, month, cutoff_day) == expected


@pytest.mark.parametrize("cutoff_day", [0, 32])
def test_cutoff_day_must_be_a_day_of_the_month(cutoff_day: int) -> None:
    with pytest.raises(DomainError):
        cutoff_date(2026, 3, cutoff_day)


@pytest.mark.parametrize(
    ("received", "cutoff_day", "expected"),
    [
        (date(2026, 3, 1), 20, date(2026, 4, 1)),
        (date(2026, 3, 20), 20, date(2026, 4, 1)),  # on the cut-off day: next month
        (date(2026, 3, 21), 20, date(2026, 5, 1)),  # after it: the month after
        (date(2026, 11, 21), 20, date(2027, 1, 1)),
        (date(2026, 12, 20), 20, date(2027, 1, 1)),
        (date(2026, 12, 21), 20, date(2027, 2, 1)),
        (date(2026, 2, 28), 31, date(2026, 3, 1)),  # cut-off clamped to Feb 28
        (date(2026, 3, 10), 10, date(2026, 4, 1)),
    ],
)
def test_movement_is_billed_next_month_up_to_the_cutoff_and_after_that_the_month_after(
    received: date, cutoff_day: int, expected: date
) -> None:
    assert movement_billing_month(received, cutoff_day) == expected


def test_movement_billing_month_defaults_to_cutoff_day_twenty() -> None:
    assert movement_billing_month(date(2026, 3, 20)) == date(2026, 4, 1)
    assert movement_billing_month(date(2026, 3, 21)) == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("today", "due_day", "expected"),
    [
        (date(2026, 3, 10), 10, date(2026, 3, 10)),
        (date(2026, 3, 9), 10, date(2026, 3, 10)),
        (date(2026, 3, 11), 10, date(2026, 4, 10)),
        (date(2026, 12, 11), 10, date(2027, 1, 10)),
        (date(2026, 1, 30), 31, date(2026, 1, 31)),
        (date(2026, 2, 1), 31, date(2026, 2, 28)),
        (date(2026, 3, 31), 30, date(2026, 4, 30)),
        (date(2026, 1, 31), 30, date(2026, 2, 28)),
    ],
)
def test_next_due_date_is_this_month_unless_already_past(
    today: date, due_day: int, expected: date
) -> None:
    assert next_due_date(today, due_day) == expected


def test_due_day_must_be_a_day_of_the_month() -> None:
    with pytest.raises(DomainError):
        next_due_date(date(2026, 3, 1), 0)
