"""The billing ledger's pure reference (services/rules/ledger.py), with worked examples."""

from __future__ import annotations

from datetime import date

import pytest

from services.rules.ledger import (
    LEDGER_LOOKBACK_MONTHS,
    ChargedLine,
    Line,
    MissingPrice,
    Period,
    Table,
    charge,
    month_band,
    month_coverage,
    month_price,
    reference_lines,
    window,
)

C1, C2 = 1, 2
A, B = 10, 20  # plans
BOB = 100
AUG, SEP, OCT, NOV = date(2025, 8, 1), date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1)
BIRTHS = {BOB: date(1980, 1, 10), 101: date(1990, 6, 15)}  # Bob: 45, band 7


def bands(base: int, step: int) -> tuple[int, ...]:
    return tuple(base + step * k for k in range(10))


TABLES = [
    Table(C1, A, date(2024, 1, 1), None, bands(10_000, 500)),
    Table(C1, B, date(2024, 1, 1), None, bands(15_000, 800)),
    Table(C2, A, date(2024, 1, 1), None, bands(11_000, 500)),
]
PRICE_A7 = 10_000 + 6 * 500  # 130.00
PRICE_B7 = 15_000 + 6 * 800  # 198.00
PRICE_C2_A7 = 11_000 + 6 * 500


def lines_for(
    periods: list[Period],
    charged: list[ChargedLine],
    month: date,
    company: int = C1,
    billing_start: date = date(2025, 1, 1),
    band_change: str = "next_month",
    tables: list[Table] = TABLES,
) -> list[Line]:
    return reference_lines(
        periods=periods,
        tables=tables,
        births=BIRTHS,
        lines=charged,
        company_id=company,
        billing_start=billing_start,
        band_change=band_change,
        invoice_month=month,
    )


def issued(lines: list[Line], company: int = C1, start_id: int = 0) -> list[ChargedLine]:
    return [
        ChargedLine(
            ln.beneficiary_id,
            company,
            ln.reference_month,
            ln.plan_id,
            ln.band,
            ln.kind,
            ln.cents,
            start_id + i,
        )
        for i, ln in enumerate(lines)
    ]


def bill(
    periods: list[Period],
    months: list[date],
    charged: list[ChargedLine] | None = None,
    company: int = C1,
) -> list[ChargedLine]:
    """Issue ``months`` in order; return every line charged so far."""
    charged = list(charged or [])
    for m in months:
        charged += issued(lines_for(periods, charged, m, company), company, len(charged) + 1000)
    return charged


def monthly(months: list[date], plan: int = A, cents: int = PRICE_A7) -> list[ChargedLine]:
    return [ChargedLine(BOB, C1, m, plan, 7, "monthly", cents, i) for i, m in enumerate(months)]


# ---------------------------------------------------------------- the charge rule


@pytest.mark.parametrize(
    ("target", "kind", "charged", "current", "expected"),
    [
        (13_000, "regular", 0, True, ("monthly", 13_000)),
        (13_000, "regular", 0, False, ("retroactive", 13_000)),
        (13_000, "stay", 0, True, ("stay", 13_000)),
        (13_000, "stay", 0, False, ("stay", 13_000)),
        (0, None, 13_000, True, ("credit", -13_000)),
        (0, None, 13_000, False, ("credit", -13_000)),
        (19_800, "regular", 13_000, False, ("plan_change_difference", 6_800)),
        (13_000, "regular", 19_800, False, ("plan_change_difference", -6_800)),
        (13_000, "regular", 13_000, True, None),
        (0, None, 0, False, None),
    ],
)
def test_charge_brings_the_month_to_its_target(target, kind, charged, current, expected):
    assert charge(target, kind, charged, current) == expected


# ---------------------------------------------------------------- attribution and bands


def test_a_month_is_covered_by_any_day_and_belongs_to_its_first_period():
    first = Period(BOB, C1, A, date(2025, 1, 1), date(2025, 8, 15), id=1)
    second = Period(BOB, C2, A, date(2025, 8, 15), None, id=2)
    assert month_coverage([first, second], date(2025, 7, 1)).company_id == C1
    # both overlap August: the first (the month's first covered day) has it
    assert month_coverage([second, first], AUG).company_id == C1
    assert month_coverage([first, second], SEP).company_id == C2
    # a change dated on the 1st takes its month
    on_first = Period(BOB, C2, A, AUG, None, id=2)
    assert month_coverage([Period(BOB, C1, A, date(2025, 1, 1), AUG, id=1), on_first], AUG) == (
        month_coverage([on_first], AUG)
    )
    # end is the first day NOT covered: ending on 1 September leaves September uncovered
    only = Period(BOB, C1, A, date(2025, 1, 1), SEP, id=1)
    assert month_coverage([only], SEP) is None
    assert month_coverage([only], AUG).plan_id == A
    # same start: the smaller id wins
    twin = Period(BOB, C1, B, date(2025, 1, 1), None, id=3)
    assert month_coverage([twin, only], AUG).plan_id == A
    # an inclusion on the month's last day covers the month
    assert month_coverage([Period(BOB, C1, A, date(2025, 8, 31), None)], AUG) is not None


def test_the_band_changes_the_month_after_the_birthday_or_in_it():
    birth = date(1996, 7, 20)  # 29 on 2025-07-20: band 3 (24-28) -> band 4 (29-33)
    assert month_band(birth, date(2025, 7, 1), "next_month") == 3
    assert month_band(birth, AUG, "next_month") == 4
    assert month_band(birth, date(2025, 7, 1), "birthday_month") == 4
    assert month_band(birth, date(2025, 6, 1), "birthday_month") == 3
    # born on the first day of a month: still next month under "next_month"
    assert month_band(date(1996, 8, 1), AUG, "next_month") == 3
    assert month_band(date(1996, 8, 1), SEP, "next_month") == 4
    # 29 February: in a common year the birthday is only reached on 1 March
    assert month_band(date(1996, 2, 29), date(2025, 2, 1), "birthday_month") == 3
    assert month_band(date(1996, 2, 29), date(2025, 3, 1), "birthday_month") == 4
    # born in the month: age 0
    assert month_band(date(2025, 8, 20), AUG, "next_month") == 1
    with pytest.raises(ValueError):
        month_band(birth, AUG, "whenever")


def test_single_tables_charge_one_price_for_every_age_on_band_1():
    single = [Table(C1, A, date(2024, 1, 1), None, (9_900,), kind="single")]
    assert month_price(single, C1, A, AUG, 7) == (9_900, 1)
    assert month_price(TABLES, C1, A, AUG, 7) == (PRICE_A7, 7)
    periods = [Period(BOB, C1, A, date(2025, 1, 1), None)]
    assert lines_for(
        periods, monthly([date(2025, m, 1) for m in range(1, 10)], cents=9_900), OCT, tables=single
    ) == [Line(BOB, OCT, A, 1, "monthly", 9_900)]


def test_the_table_valid_on_the_first_day_prices_the_month():
    tables = [
        Table(C1, A, date(2024, 1, 1), date(2025, 8, 31), bands(10_000, 500)),
        Table(C1, A, date(2025, 9, 1), None, bands(11_000, 500)),
    ]
    assert month_price(tables, C1, A, AUG, 1) == (10_000, 1)
    assert month_price(tables, C1, A, SEP, 1) == (11_000, 1)
    with pytest.raises(MissingPrice):
        month_price(tables, C2, A, SEP, 1)  # another contract's table never prices this one
    with pytest.raises(MissingPrice):
        month_price(tables, C1, A, date(2023, 12, 1), 1)


def test_the_window_is_the_billing_start_or_15_months_back():
    assert window(date(2025, 6, 1), SEP) == [date(2025, 6, 1), date(2025, 7, 1), AUG, SEP]
    assert len(window(date(2020, 1, 1), SEP)) == LEDGER_LOOKBACK_MONTHS + 1
    assert window(date(2020, 1, 1), SEP)[0] == date(2024, 6, 1)
    assert window(OCT, SEP) == []


# ---------------------------------------------------------------- worked examples


def test_a_late_inclusion_is_caught_up_on_the_next_open_invoice():
    """Months up to September invoiced; an inclusion effective 10/08 arrives afterwards:
    October's invoice carries August and September as retroactive lines, and October."""
    other = Period(101, C1, A, date(2025, 1, 1), None, id=1)
    charged = bill([other], [date(2025, m, 1) for m in range(1, 10)])
    assert not [ln for ln in charged if ln.beneficiary_id == BOB]
    late = Period(BOB, C1, A, date(2025, 8, 10), None, id=2)
    assert [ln for ln in lines_for([other, late], charged, OCT) if ln.beneficiary_id == BOB] == [
        Line(BOB, AUG, A, 7, "retroactive", PRICE_A7),
        Line(BOB, SEP, A, 7, "retroactive", PRICE_A7),
        Line(BOB, OCT, A, 7, "monthly", PRICE_A7),
    ]


def test_an_exclusion_reaching_invoiced_months_is_credited():
    charged = monthly([AUG, SEP, OCT])
    # excluded from 15 September: September was covered on some days, October not
    mid = [Period(BOB, C1, A, date(2025, 1, 1), date(2025, 9, 15))]
    assert lines_for(mid, charged, NOV, billing_start=AUG) == [
        Line(BOB, OCT, A, 7, "credit", -PRICE_A7)
    ]
    # excluded from 1 September: September is credited too
    first = [Period(BOB, C1, A, date(2025, 1, 1), SEP)]
    assert lines_for(first, charged, NOV, billing_start=AUG) == [
        Line(BOB, SEP, A, 7, "credit", -PRICE_A7),
        Line(BOB, OCT, A, 7, "credit", -PRICE_A7),
    ]


def test_a_back_dated_plan_change_bills_the_difference_of_each_month():
    charged = monthly([AUG, SEP])
    periods = [
        Period(BOB, C1, A, date(2025, 1, 1), AUG, id=1),
        Period(BOB, C1, B, AUG, None, id=2),
    ]
    assert lines_for(periods, charged, OCT, billing_start=AUG) == [
        Line(BOB, AUG, B, 7, "plan_change_difference", PRICE_B7 - PRICE_A7),
        Line(BOB, SEP, B, 7, "plan_change_difference", PRICE_B7 - PRICE_A7),
        Line(BOB, OCT, B, 7, "monthly", PRICE_B7),
    ]


def test_a_plan_change_in_the_middle_of_a_month_takes_effect_the_month_after():
    charged = monthly([AUG, SEP])
    periods = [
        Period(BOB, C1, A, date(2025, 1, 1), date(2025, 8, 20), id=1),
        Period(BOB, C1, B, date(2025, 8, 20), None, id=2),
    ]
    assert lines_for(periods, charged, OCT, billing_start=AUG) == [
        Line(BOB, SEP, B, 7, "plan_change_difference", PRICE_B7 - PRICE_A7),
        Line(BOB, OCT, B, 7, "monthly", PRICE_B7),
    ]


def test_stay_months_are_billed_on_their_own_lines():
    periods = [
        Period(BOB, C1, A, date(2025, 1, 1), SEP, id=1),
        Period(BOB, C1, A, SEP, date(2026, 3, 1), kind="stay", id=2),
    ]
    charged = monthly([AUG])
    assert lines_for(periods, charged, OCT, billing_start=AUG) == [
        Line(BOB, SEP, A, 7, "stay", PRICE_A7),
        Line(BOB, OCT, A, 7, "stay", PRICE_A7),
    ]


def test_running_again_adds_nothing():
    periods = [
        Period(BOB, C1, A, date(2025, 3, 10), date(2025, 6, 1), id=1),
        Period(BOB, C1, B, date(2025, 6, 1), None, id=2),
    ]
    charged = bill(periods, [date(2025, 4, 1), AUG])
    assert lines_for(periods, charged, AUG) == []
    assert lines_for(periods, charged, date(2025, 4, 1)) == []


def test_months_billed_out_of_order_charge_each_month_once():
    periods = [Period(BOB, C1, A, date(2025, 7, 5), None)]
    charged = bill(periods, [OCT])
    kinds = sorted((ln.reference_month, ln.kind) for ln in charged)
    assert kinds == [
        (date(2025, 7, 1), "retroactive"),
        (AUG, "retroactive"),
        (SEP, "retroactive"),
        (OCT, "monthly"),
    ]
    # September, billed after October, finds every month up to it already charged
    assert lines_for(periods, charged, SEP) == []
    assert lines_for(periods, charged, NOV) == [Line(BOB, NOV, A, 7, "monthly", PRICE_A7)]


def test_a_back_dated_transfer_credits_one_company_and_charges_the_other():
    charged = monthly([AUG, SEP])
    periods = [
        Period(BOB, C1, A, date(2025, 1, 1), AUG, id=1),
        Period(BOB, C2, A, AUG, None, id=2),
    ]
    assert lines_for(periods, charged, OCT, billing_start=AUG) == [
        Line(BOB, AUG, A, 7, "credit", -PRICE_A7),
        Line(BOB, SEP, A, 7, "credit", -PRICE_A7),
    ]
    assert lines_for(periods, charged, OCT, company=C2, billing_start=AUG) == [
        Line(BOB, AUG, A, 7, "retroactive", PRICE_C2_A7),
        Line(BOB, SEP, A, 7, "retroactive", PRICE_C2_A7),
        Line(BOB, OCT, A, 7, "monthly", PRICE_C2_A7),
    ]


def test_a_cancelled_scheduled_change_leaves_nothing_to_bill():
    """A scheduled exclusion writes its period edit at once; cancelling restores it."""
    open_period = [Period(BOB, C1, A, date(2025, 1, 1), None, id=1)]
    scheduled = [Period(BOB, C1, A, date(2025, 1, 1), date(2025, 10, 15), id=1)]
    charged = bill(open_period, [AUG, SEP, OCT])
    assert lines_for(scheduled, charged, OCT) == []  # October is still covered
    charged = bill(scheduled, [NOV], charged)
    assert [ln.kind for ln in charged if ln.reference_month == NOV] == []
    # cancelled: November is charged (retroactively) on December's invoice
    assert lines_for(open_period, charged, date(2025, 12, 1)) == [
        Line(BOB, NOV, A, 7, "retroactive", PRICE_A7),
        Line(BOB, date(2025, 12, 1), A, 7, "monthly", PRICE_A7),
    ]


def test_a_credit_carries_the_plan_and_band_of_the_latest_line():
    charged = [
        ChargedLine(BOB, C1, AUG, A, 7, "monthly", PRICE_A7, 1),
        ChargedLine(BOB, C1, AUG, B, 7, "plan_change_difference", PRICE_B7 - PRICE_A7, 2),
    ]
    assert lines_for([], charged, SEP, billing_start=AUG) == [
        Line(BOB, AUG, B, 7, "credit", -PRICE_B7)
    ]


def test_lines_of_other_companies_and_months_outside_the_window_do_not_count():
    periods = [Period(BOB, C1, A, date(2024, 1, 1), None)]
    other = [ChargedLine(BOB, C2, SEP, A, 7, "monthly", 1, 1)]
    assert lines_for(periods, other, SEP, billing_start=SEP) == [
        Line(BOB, SEP, A, 7, "monthly", PRICE_A7)
    ]
    # 15 months back from September 2025 is June 2024: May 2024 is closed
    lines = lines_for(periods, [], SEP, billing_start=date(2024, 1, 1))
    assert lines[0].reference_month == date(2024, 6, 1)
    assert len(lines) == LEDGER_LOOKBACK_MONTHS + 1


def test_a_missing_table_is_reported_with_its_plan_and_month():
    periods = [Period(BOB, C1, B, date(2025, 1, 1), None)]
    tables = [Table(C1, B, SEP, None, bands(15_000, 800))]
    with pytest.raises(MissingPrice) as caught:
        lines_for(periods, [], SEP, billing_start=AUG, tables=tables)
    assert (caught.value.plan_id, caught.value.month) == (B, AUG)
