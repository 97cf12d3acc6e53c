"""Money rounding and overdue invoice update (docs/domain/money-and-billing.md, Lei 7.089/1983)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.money import (
    CENT,
    OverdueCharge,
    overdue_payment_dates,
    overdue_update,
    round_money,
)

PROPERTY = settings(max_examples=200, database=None, derandomize=True)
TWO = Decimal("2")
ONE = Decimal("1")
ZERO = Decimal("0.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.675"), Decimal("2.68")),
        (Decimal("2.665"), Decimal("2.67")),  # half-up, not half-even
        (Decimal("-2.675"), Decimal("-2.68")),
        (Decimal("2.674999"), Decimal("2.67")),
        (Decimal("10"), Decimal("10.00")),
        (7, Decimal("7.00")),
        ("1030.005", Decimal("1030.01")),
    ],
)
def test_round_money_rounds_half_up_to_cents(value: Decimal | int | str, expected: Decimal) -> None:
    rounded = round_money(value)
    assert rounded == expected
    assert rounded.as_tuple().exponent == -2
    assert Decimal("0.01") == CENT


def test_round_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        round_money(2.675)  # type: ignore[arg-type]


def test_spec_example_one_thousand_reais_thirty_days_late() -> None:
    charge = overdue_update(Decimal("1000.00"), date(2026, 3, 10), date(2026, 4, 9), TWO, ONE)
    assert charge == OverdueCharge(
        amount=Decimal("1000.00"),
        fine=Decimal("20.00"),
        interest=Decimal("10.00"),
        total=Decimal("1030.00"),
        days_late=30,
    )


@pytest.mark.parametrize(
    ("due", "paid", "weekday", "fine", "interest", "days"),
    [
        # due on Saturday, paid on Monday: nothing added (Lei 7.089/1983)
        (date(2026, 3, 7), date(2026, 3, 9), 5, ZERO, ZERO, 0),
        # due on Saturday, paid on Tuesday: fine + 3 days from the original date
        (date(2026, 3, 7), date(2026, 3, 10), 5, Decimal("20.00"), Decimal("1.00"), 3),
        # due on Sunday, paid on Monday
        (date(2026, 3, 8), date(2026, 3, 9), 6, ZERO, ZERO, 0),
        # due on Tiradentes (Tuesday), paid on Wednesday
        (date(2026, 4, 21), date(2026, 4, 22), 1, ZERO, ZERO, 0),
        # due on Tiradentes, paid on Thursday: 2 days from the holiday
        (date(2026, 4, 21), date(2026, 4, 23), 1, Decimal("20.00"), Decimal("0.67"), 2),
        # due on Good Friday 2026-04-03: the next business day is Monday 04-06
        (date(2026, 4, 3), date(2026, 4, 6), 4, ZERO, ZERO, 0),
        # due on Carnival Monday 2026-02-16: Tuesday is also closed, Wednesday is free
        (date(2026, 2, 16), date(2026, 2, 18), 0, ZERO, ZERO, 0),
        # due on a business day, paid the next day: one day of interest
        (date(2026, 3, 10), date(2026, 3, 11), 1, Decimal("20.00"), Decimal("0.33"), 1),
    ],
)
def test_due_date_on_a_non_business_day_is_free_until_the_next_business_day(
    due: date, paid: date, weekday: int, fine: Decimal, interest: Decimal, days: int
) -> None:
    assert due.weekday() == weekday
    charge = overdue_update(Decimal("1000.00"), due, paid, TWO, ONE)
    assert (charge.fine, charge.interest, charge.days_late) == (fine, interest, days)
    assert charge.total == Decimal("1000.00") + fine + interest


def test_grace_uses_the_holidays_of_the_next_year() -> None:
    due = date(2028, 12, 31)
    assert due.weekday() == 6  # Sunday; Monday 2029-01-01 is a national holiday
    assert overdue_update(Decimal("100.00"), due, date(2029, 1, 2), TWO, ONE).total == Decimal(
        "100.00"
    )
    late = overdue_update(Decimal("100.00"), due, date(2029, 1, 3), TWO, ONE)
    assert (late.fine, late.interest, late.days_late) == (Decimal("2.00"), Decimal("0.10"), 3)


def test_custom_holidays_replace_the_national_ones() -> None:
    municipal = {date(2026, 3, 19)}  # a Thursday
    free = overdue_update(
        Decimal("100.00"), date(2026, 3, 19), date(2026, 3, 20), TWO, ONE, municipal
    )
    assert free.total == Decimal("100.00")
    charged = overdue_update(Decimal("100.00"), date(2026, 3, 19), date(2026, 3, 20), TWO, ONE)
    assert charged.total == Decimal("102.03")


@pytest.mark.parametrize(
    "paid", [date(2026, 3, 10), date(2026, 3, 9), date(2026, 1, 1)], ids=["on", "before", "early"]
)
def test_paid_on_or_before_the_due_date_adds_nothing(paid: date) -> None:
    charge = overdue_update(Decimal("250.40"), date(2026, 3, 10), paid, TWO, ONE)
    assert charge == OverdueCharge(Decimal("250.40"), ZERO, ZERO, Decimal("250.40"), 0)


@pytest.mark.parametrize(
    ("amount", "days", "fine", "interest", "total"),
    [
        # 6.6666 -> 6.67; 333.33 * 1% * 7/30 = 0.77777 -> 0.78
        (Decimal("333.33"), 7, Decimal("6.67"), Decimal("0.78"), Decimal("340.78")),
        # 2.005 -> 2.01 (half-even would give 2.00); 100.25 * 1%/30 = 0.0334 -> 0.03
        (Decimal("100.25"), 1, Decimal("2.01"), Decimal("0.03"), Decimal("102.29")),
        # 75.00 * 1%/30 = 0.025 -> 0.03 (half-even would give 0.02)
        (Decimal("75.00"), 1, Decimal("1.50"), Decimal("0.03"), Decimal("76.53")),
        # 0.01: fine 0.0002 -> 0.00
        (Decimal("0.01"), 30, ZERO, ZERO, Decimal("0.01")),
        # more than a month: still simple interest, 45 days = 1.5%
        (Decimal("1000.00"), 45, Decimal("20.00"), Decimal("15.00"), Decimal("1035.00")),
        # a year of 365 days: 12.1666...%
        (Decimal("1000.00"), 365, Decimal("20.00"), Decimal("121.67"), Decimal("1141.67")),
    ],
)
def test_each_component_is_rounded_half_up_to_cents(
    amount: Decimal, days: int, fine: Decimal, interest: Decimal, total: Decimal
) -> None:
    due = date(2026, 3, 10)
    paid = date.fromordinal(due.toordinal() + days)
    charge = overdue_update(amount, due, paid, TWO, ONE)
    assert (charge.fine, charge.interest, charge.total, charge.days_late) == (
        fine,
        interest,
        total,
        days,
    )


def test_interest_is_never_charged_on_the_fine() -> None:
    charge = overdue_update(Decimal("1000.00"), date(2026, 3, 10), date(2026, 5, 9), TWO, ONE)
    assert charge.days_late == 60
    assert charge.interest == Decimal("20.00")  # 2% of 1000.00, not of 1020.00 (20.40)
    assert charge.fine == Decimal("20.00")  # charged once, whatever the delay


@pytest.mark.parametrize(
    ("fine_pct", "interest_pct", "fine", "interest"),
    [
        (Decimal("0"), Decimal("2"), ZERO, Decimal("20.00")),
        (Decimal("1.5"), Decimal("0"), Decimal("15.00"), ZERO),
        (Decimal("0"), Decimal("0"), ZERO, ZERO),
        (Decimal("2"), Decimal("0.033"), Decimal("20.00"), Decimal("0.33")),
    ],
)
def test_rates_are_contract_settings(
    fine_pct: Decimal, interest_pct: Decimal, fine: Decimal, interest: Decimal
) -> None:
    charge = overdue_update(
        Decimal("1000.00"), date(2026, 3, 10), date(2026, 4, 9), fine_pct, interest_pct
    )
    assert (charge.fine, charge.interest) == (fine, interest)
    assert charge.total == Decimal("1000.00") + fine + interest


@pytest.mark.parametrize(
    ("amount", "fine_pct", "error"),
    [
        (Decimal("-1.00"), TWO, ValueError),
        (Decimal("10.001"), TWO, ValueError),
        (Decimal("NaN"), TWO, ValueError),
        (Decimal("10.00"), Decimal("-1"), ValueError),
        (10.0, TWO, TypeError),
        (Decimal("10.00"), 2.0, TypeError),
    ],
)
def test_overdue_update_refuses_bad_amounts_and_rates(
    amount: Decimal, fine_pct: Decimal, error: type[Exception]
) -> None:
    with pytest.raises(error):
        overdue_update(amount, date(2026, 3, 10), date(2026, 4, 9), fine_pct, ONE)


@PROPERTY
@given(
    cents=st.integers(min_value=0, max_value=10**10),
    days=st.integers(min_value=1, max_value=2000),
)
def test_overdue_components_add_up_and_follow_the_formula(cents: int, days: int) -> None:
    amount = Decimal(cents) / 100
    due = date(2026, 3, 10)  # a Tuesday, business day
    charge = overdue_update(amount, due, date.fromordinal(due.toordinal() + days), TWO, ONE)
    assert charge.total == charge.amount + charge.fine + charge.interest
    assert charge.days_late == days
    # oracle in integer cents: floor(x + 1/2) is half-up for x >= 0
    assert charge.fine * 100 == (cents * 2 * 2 + 100) // 200
    assert charge.interest * 100 == (cents * days * 2 + 3000) // 6000


def test_new_payment_dates_are_business_days_up_to_the_limit() -> None:
    dates = overdue_payment_dates(date(2026, 3, 10), date(2026, 4, 1), 30)
    # 2026-04-03 is Good Friday, 04-04/05 the weekend; the limit is 04-09
    assert dates == [
        date(2026, 4, 1),
        date(2026, 4, 2),
        date(2026, 4, 6),
        date(2026, 4, 7),
        date(2026, 4, 8),
        date(2026, 4, 9),
    ]


def test_new_payment_dates_start_after_a_non_business_today() -> None:
    dates = overdue_payment_dates(date(2026, 4, 15), date(2026, 4, 18), 7)
    assert date(2026, 4, 18).weekday() == 5
    assert dates == [date(2026, 4, 20), date(2026, 4, 22)]  # 04-21 is Tiradentes


def test_new_payment_dates_accept_custom_holidays() -> None:
    dates = overdue_payment_dates(date(2026, 3, 10), date(2026, 3, 16), 8, {date(2026, 3, 17)})
    assert dates == [date(2026, 3, 16), date(2026, 3, 18)]


def test_no_new_payment_date_after_the_limit() -> None:
    assert overdue_payment_dates(date(2026, 3, 10), date(2026, 4, 10), 30) == []


def test_new_payment_dates_refuse_a_negative_limit() -> None:
    with pytest.raises(ValueError):
        overdue_payment_dates(date(2026, 3, 10), date(2026, 3, 10), -1)
