"""Age bands and price table legality (ANS RN 63/2003)."""

from datetime import date
from decimal import Decimal

import pytest

from services.rules.age_bands import (
    AGE_BANDS,
    age_band,
    age_band_label,
    age_on,
    check_price_table,
)
from services.rules.errors import DomainError


def test_there_are_ten_bands_covering_every_age_without_gaps() -> None:
    assert len(AGE_BANDS) == 10
    assert AGE_BANDS[0] == (0, 18)
    assert AGE_BANDS[-1] == (59, None)
    for (_, upper), (lower, _) in zip(AGE_BANDS, AGE_BANDS[1:], strict=False):
        assert upper is not None and lower == upper + 1


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1990, 5, 10), date(2026, 5, 9), 35),
        (date(1990, 5, 10), date(2026, 5, 10), 36),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
        (date(2000, 2, 29), date(2001, 2, 28), 0),  # a leap-day birth ages on Mar 1
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
    ],
)
def test_age_on_counts_whole_years(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_on_refuses_a_birth_after_the_reference_date() -> None:
    with pytest.raises(DomainError) as refused:
        age_on(date(2026, 5, 2), date(2026, 5, 1))
    assert refused.value.field == "birth_date"


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, 1),
        (18, 1),
        (19, 2),
        (23, 2),
        (24, 3),
        (33, 4),
        (34, 5),
        (43, 6),
        (44, 7),
        (48, 7),
        (53, 8),
        (54, 9),
        (58, 9),
        (59, 10),
        (120, 10),
    ],
)
def test_age_band_of_each_boundary(age: int, band: int) -> None:
    assert age_band(age) == band


def test_negative_age_has_no_band() -> None:
    with pytest.raises(DomainError):
        age_band(-1)


@pytest.mark.parametrize(
    ("band", "label"), [(1, "0 a 18"), (2, "19 a 23"), (9, "54 a 58"), (10, "59 ou mais")]
)
def test_age_band_labels(band: int, label: str) -> None:
    assert age_band_label(band) == label


@pytest.mark.parametrize("band", [0, 11])
def test_age_band_label_of_a_band_that_does_not_exist_is_an_error(band: int) -> None:
    with pytest.raises(ValueError):
        age_band_label(band)


def _prices(*values: str) -> list[Decimal]:
    return [Decimal(v) for v in values]


LEGAL = _prices("100", "120", "150", "180", "220", "280", "350", "420", "500", "600")
# The vector of docs/domain/prices-and-age-bands.md: P10/P7 = 600/300 = 2 <= P7/P1 =
# 300/100 = 3. Legal read as compounded variation (STJ Tema 1016), illegal under the old
# absolute reading (600 - 300 > 300 - 100), which this module no longer applies.
SPEC_VECTOR = _prices("100", "120", "140", "160", "180", "200", "300", "400", "500", "600")


@pytest.mark.parametrize(
    "prices",
    [
        LEGAL,  # 600 = 6 x 100 exactly; 600/350 <= 350/100
        SPEC_VECTOR,
        # The ratio limit reached exactly: 400/200 = 200/100.
        _prices("100", "110", "120", "130", "140", "150", "200", "250", "300", "400"),
        _prices(*["89.90"] * 10),  # a flat table
        _prices("50", "55", "60", "65", "70", "75", "80", "85", "90", "95"),
    ],
)
def test_legal_price_table_has_no_violation(prices: list[Decimal]) -> None:
    assert check_price_table(prices) == []


@pytest.mark.parametrize(
    ("prices", "fragment"),
    [
        (LEGAL[:9], "10 preços"),
        ([*LEGAL, Decimal("700")], "10 preços"),
        (_prices("100", "120", "150", "180", "220", "280", "350", "420", "500", "600.01"), "seis"),
        (_prices("100", "110", "120", "130", "140", "150", "160", "200", "250", "300"), "7ª"),
        # One cent above P7^2 / P1 = 400.00: the compounded limit, compared exactly.
        (_prices("100", "110", "120", "130", "140", "150", "200", "250", "300", "400.01"), "7ª"),
        (_prices("100", "120", "150", "140", "220", "280", "350", "420", "500", "600"), "menor"),
        (_prices("0", "0", "0", "0", "0", "0", "0", "0", "0", "0"), "maior que zero"),
    ],
)
def test_illegal_price_table_is_explained(prices: list[Decimal], fragment: str) -> None:
    problems = check_price_table(prices)
    assert problems
    assert any(fragment in problem for problem in problems)


def test_decreasing_price_names_the_bands() -> None:
    prices = _prices("100", "120", "150", "140", "220", "280", "350", "420", "500", "600")
    assert check_price_table(prices) == [
        "O preço da faixa 29 a 33 não pode ser menor que o da faixa 24 a 28."
    ]


def test_the_ratio_rule_is_the_compounded_variation_and_names_the_figures() -> None:
    assert check_price_table(SPEC_VECTOR) == []
    [problem] = check_price_table(
        _prices("100", "110", "120", "130", "140", "150", "160", "200", "250", "300")
    )
    assert problem == (
        "RN 63/2003, art. 3º, II (variação acumulada, STJ Tema 1016): a variação da 7ª à "
        "10ª faixa (R$ 300,00 / R$ 160,00 = 1,8750) não pode ser maior que a da 1ª à 7ª "
        "faixa (R$ 160,00 / R$ 100,00 = 1,6000)."
    )


def test_the_ratio_rule_is_exact_where_a_float_would_round() -> None:
    # P10 x P1 = 1000.01 x 1000 > P7^2 = 1000^2 by a hundredth: shown with enough places.
    [problem] = check_price_table(_prices(*["1000"] * 9, "1000.01"))
    assert "= 1,000010)" in problem and "= 1,0000)" in problem


def test_the_six_times_rule_names_the_figures() -> None:
    [problem] = check_price_table(
        _prices("100", "120", "150", "180", "220", "280", "350", "420", "500", "600.01")
    )
    assert problem == (
        "RN 63/2003, art. 3º, I: o preço da 10ª faixa (59 ou mais) não pode passar de seis "
        "vezes o da 1ª faixa (0 a 18). Informado: R$ 600,01, limite 6 × R$ 100,00 = "
        "R$ 600,00."
    )
