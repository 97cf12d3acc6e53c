"""Billing rules: months, due dates and statuses (the spreadsheet guard: test_exports.py)."""

from datetime import date

import pytest

from services.rules.billing import (
    INVOICE_STATUS_LABELS,
    add_months,
    invoice_due_date,
    invoice_status,
    month_end,
    month_from_index,
    month_index,
    month_start,
)


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 1)),
        (date(2025, 12, 15), 1, date(2026, 1, 1)),
        (date(2025, 1, 1), -1, date(2024, 12, 1)),
        (date(2025, 3, 9), -15, date(2023, 12, 1)),
        (date(2025, 3, 9), 0, date(2025, 3, 1)),
    ],
)
def test_add_months_lands_on_the_first_day(d: date, months: int, expected: date) -> None:
    assert add_months(d, months) == expected


def test_month_index_counts_months_and_round_trips() -> None:
    assert month_index(date(2025, 2, 1)) - month_index(date(2024, 11, 30)) == 3
    for d in (date(1999, 12, 31), date(2000, 1, 1), date(2025, 7, 19)):
        assert month_from_index(month_index(d)) == month_start(d)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 2, 10), date(2024, 2, 29)),
        (date(2025, 2, 10), date(2025, 2, 28)),
        (date(2025, 4, 1), date(2025, 4, 30)),
        (date(2025, 12, 31), date(2025, 12, 31)),
    ],
)
def test_month_end(d: date, expected: date) -> None:
    assert month_end(d) == expected


@pytest.mark.parametrize(
    ("month", "due_day", "expected"),
    [
        (date(2025, 7, 1), 10, date(2025, 7, 10)),
        (date(2025, 2, 1), 31, date(2025, 2, 28)),
        (date(2024, 2, 1), 30, date(2024, 2, 29)),
        (date(2025, 4, 1), 31, date(2025, 4, 30)),
        (date(2025, 1, 1), 1, date(2025, 1, 1)),
    ],
)
def test_invoice_due_date_is_the_due_day_clamped_to_the_month(
    month: date, due_day: int, expected: date
) -> None:
    assert invoice_due_date(month, due_day) == expected


@pytest.mark.parametrize("due_day", [0, 32, -1])
def test_invoice_due_date_refuses_impossible_days(due_day: int) -> None:
    with pytest.raises(ValueError):
        invoice_due_date(date(2025, 1, 1), due_day)


@pytest.mark.parametrize(
    ("status", "due", "today", "expected"),
    [
        ("paid", date(2025, 1, 10), date(2025, 3, 1), "paid"),
        ("cancelled", date(2025, 1, 10), date(2025, 3, 1), "cancelled"),
        ("open", date(2025, 1, 10), date(2025, 1, 10), "open"),
        ("open", date(2025, 1, 10), date(2025, 1, 11), "overdue"),
        ("open", date(2025, 1, 10), date(2025, 1, 9), "open"),
    ],
)
def test_an_open_invoice_past_its_due_date_is_overdue(
    status: str, due: date, today: date, expected: str
) -> None:
    assert invoice_status(status, due, today) == expected
    assert INVOICE_STATUS_LABELS[expected]
