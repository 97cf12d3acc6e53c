"""Contract price tables: readjustment, pool of small contracts, anniversary month
(RN 565/2022), table kinds (RN 63/2003, preço único)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rules.errors import DomainError
from services.rules.prices import (
    anniversary_months,
    band_rows,
    check_anniversary,
    check_pct,
    check_table,
    in_pool,
    is_anniversary_month,
    month_options,
    next_anniversary,
    parse_decimal,
    readjusted_price,
    readjusted_prices,
)

SPEC_VECTOR = [
    Decimal(v) for v in ("100", "120", "140", "160", "180", "200", "300", "400", "500", "600")
]


@pytest.mark.parametrize(
    ("price", "pct", "expected"),
    [
        ("100.00", "10", "110.00"),
        ("89.90", "7.35", "96.51"),  # 96.50765 -> 96.51
        ("10.10", "5", "10.61"),  # 10.605 exactly: half-up, not banker's (10.60)
        ("10.30", "5", "10.82"),  # 10.815 -> 10.82
        ("0.01", "49.99", "0.01"),  # 0.014999 -> 0.01
        ("0.01", "50", "0.02"),  # 0.015 -> 0.02
        ("200.00", "-8.19", "183.62"),  # a negative readjustment lowers the price
        ("123.45", "0", "123.45"),
    ],
)
def test_a_price_is_readjusted_and_rounded_half_up_to_the_cent(
    price: str, pct: str, expected: str
) -> None:
    assert readjusted_price(Decimal(price), Decimal(pct)) == Decimal(expected)


def test_each_price_of_a_table_is_rounded_on_its_own() -> None:
    assert readjusted_prices(
        [Decimal("10.10"), Decimal("10.30"), Decimal("1.00")], Decimal("5")
    ) == [Decimal("10.61"), Decimal("10.82"), Decimal("1.05")]


def test_readjusting_a_legal_table_keeps_it_legal() -> None:
    new = readjusted_prices(SPEC_VECTOR, Decimal("12.5"))
    assert new[0] == Decimal("112.50") and new[-1] == Decimal("675.00")
    assert check_table("bands", new) == []


@pytest.mark.parametrize("pct", ["1.234", "100000", "-100", "NaN"])
def test_a_percentage_with_more_than_two_places_or_out_of_range_is_refused(pct: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_pct(Decimal(pct))
    assert refused.value.field == "pct"


@pytest.mark.parametrize(
    ("lives", "pooled"), [(0, True), (1, True), (29, True), (30, False), (31, False), (1000, False)]
)
def test_contracts_with_fewer_than_30_lives_are_pooled(lives: int, pooled: bool) -> None:
    assert in_pool(lives) is pooled


@pytest.mark.parametrize(
    ("start", "month", "ok"),
    [
        (date(2023, 3, 15), date(2024, 3, 1), True),
        (date(2023, 3, 15), date(2026, 3, 1), True),
        (date(2023, 3, 15), date(2023, 3, 1), False),  # the contract's own first month
        (date(2023, 3, 15), date(2024, 4, 1), False),
        (date(2023, 3, 15), date(2024, 2, 1), False),
        (date(2023, 12, 1), date(2024, 12, 1), True),
    ],
)
def test_the_anniversary_month_is_the_contract_start_month_in_a_later_year(
    start: date, month: date, ok: bool
) -> None:
    assert is_anniversary_month(start, month) is ok
    if ok:
        check_anniversary(start, month)
    else:
        with pytest.raises(DomainError) as refused:
            check_anniversary(start, month)
        assert "aniversário (março, a partir de 03/2024)" in refused.value.message
        assert f"mês pedido {month:%m/%Y}" in refused.value.message


def test_a_readjustment_starts_on_the_first_day_of_a_month() -> None:
    with pytest.raises(DomainError, match="primeiro dia"):
        check_anniversary(date(2023, 3, 15), date(2024, 3, 15))


def test_a_single_price_table_has_one_positive_price_and_no_band_rule() -> None:
    assert check_table("single", [Decimal("39.90")]) == []
    assert check_table("single", [Decimal("0")]) == ["O preço único deve ser maior que zero."]
    assert "um só preço" in check_table("single", SPEC_VECTOR)[0]


def test_a_bands_table_is_held_to_rn_63() -> None:
    assert check_table("bands", SPEC_VECTOR) == []
    assert check_table("bands", [*SPEC_VECTOR[:9], Decimal("601")])
    assert "Tipo de tabela" in check_table("other", SPEC_VECTOR)[0]


def test_band_rows_of_each_kind() -> None:
    assert band_rows("single") == [(1, 0, None)]
    rows = band_rows("bands")
    assert len(rows) == 10 and rows[0] == (1, 0, 18) and rows[-1] == (10, 59, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("89,90", "89.90"),
        ("1.234,56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("89.90", "89.90"),
        ("7,35%", "7.35"),
        (" 100 ", "100"),
        ("-8,19", "-8.19"),
    ],
)
def test_numbers_are_read_the_brazilian_way_or_with_a_point(text: str, value: str) -> None:
    assert parse_decimal(text, "pct", "Percentual") == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "R$", "inf", "NaN"])
def test_what_is_not_a_number_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_decimal(text, "pct", "Percentual")
    assert refused.value.field == "pct" and refused.value.message.startswith("Percentual:")


def test_month_options_and_anniversaries() -> None:
    assert month_options(date(2026, 1, 15), 1, 2) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert anniversary_months(date(2024, 3, 20), date(2026, 7, 1)) == [
        date(2025, 3, 1),
        date(2026, 3, 1),
        date(2027, 3, 1),
    ]
    assert anniversary_months(date(2026, 3, 20), date(2026, 7, 1)) == [date(2027, 3, 1)]


@pytest.mark.parametrize(
    ("start", "today", "expected"),
    [
        (date(2024, 3, 20), date(2026, 2, 28), date(2026, 3, 1)),
        (date(2024, 3, 20), date(2026, 3, 31), date(2026, 3, 1)),
        (date(2024, 3, 20), date(2026, 4, 1), date(2027, 3, 1)),
        (date(2026, 3, 20), date(2026, 3, 25), date(2027, 3, 1)),  # not its first month
    ],
)
def test_the_next_anniversary_is_this_month_or_the_coming_one(
    start: date, today: date, expected: date
) -> None:
    assert next_anniversary(start, today) == expected


_cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100)


@given(st.lists(_cents, min_size=10, max_size=10).map(sorted))
def test_the_rn_63_limits_agree_with_exact_fractions(values: list[Decimal]) -> None:
    """Non-decreasing tables: the check reports a limit exactly when the rational
    arithmetic of RN 63 art. 3 (I: P10 <= 6 P1; II compounded: P10/P7 <= P7/P1) says so."""
    p1, p7, p10 = (Fraction(values[i]) for i in (0, 6, 9))
    problems = check_table("bands", values)
    assert any("art. 3º, I:" in p for p in problems) is (p10 > 6 * p1)
    assert any("art. 3º, II" in p for p in problems) is (p10 / p7 > p7 / p1)
    assert len(problems) == (p10 > 6 * p1) + (p10 / p7 > p7 / p1)


@given(_cents, st.integers(min_value=-9999, max_value=99999).map(lambda c: Decimal(c) / 100))
def test_readjustment_is_the_exact_product_rounded_half_up(price: Decimal, pct: Decimal) -> None:
    exact = Fraction(price) * (1 + Fraction(pct) / 100)
    got = Fraction(readjusted_price(price, pct))
    assert abs(got - exact) <= Fraction(1, 200)  # within half a cent
    if abs(got - exact) == Fraction(1, 200):
        assert got > exact  # ties go up (half-up, prices are positive)
