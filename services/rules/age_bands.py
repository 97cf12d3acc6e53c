"""Age bands for pricing and the legality of a price table.

Source: ANS, Resolução Normativa RN 63/2003 (plans contracted from 2004-01-01,
after the Estatuto do Idoso, Lei 10.741/2003): ten age bands 0-18, 19-23,
24-28, 29-33, 34-38, 39-43, 44-48, 49-53, 54-58 and 59+. Art. 3: the price of
the last band may not exceed six times the price of the first (I), and the
accumulated variation between bands 7 and 10 may not exceed the accumulated
variation between bands 1 and 7 (II). "Accumulated" is read as compounded
variation (STJ, Tema 1016, 2022): P10/P7 <= P7/P1, compared exactly (cross
products of Decimals, no float). So 100, 120, 140, 160, 180, 200, 300, 400, 500,
600 is legal: P10/P7 = 2 <= P7/P1 = 3. Prices never fall with age (art. 3, III
only allows non-negative variations). Same prices for new and existing members
(RN 195/2009, art. 21, now RN 557/2022). A single-price table ("preço único",
common in dental plans) has one price for every age and so no band to check.

Explained, with worked vectors, in docs/domain/prices-and-age-bands.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.rules.errors import DomainError
from services.rules.formats import decimal_comma, format_money

AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 18),
    (19, 23),
    (24, 28),
    (29, 33),
    (34, 38),
    (39, 43),
    (44, 48),
    (49, 53),
    (54, 58),
    (59, None),
]
BAND_COUNT = len(AGE_BANDS)
MAX_LAST_TO_FIRST_RATIO = 6


def age_on(birth: date, on: date) -> int:
    """Age in whole years on ``on``; someone born on Feb 29 ages on Mar 1 in common years."""
    if on < birth:
        raise DomainError(
            "A data de nascimento não pode ser posterior à data de referência.", "birth_date"
        )
    before_birthday = (on.month, on.day) < (birth.month, birth.day)
    return on.year - birth.year - int(before_birthday)


def age_band(age: int) -> int:
    """The band (1 to 10) of ``age`` under RN 63/2003."""
    if age < 0:
        raise DomainError("A idade não pode ser negativa.", "birth_date")
    for number, (_, upper) in enumerate(AGE_BANDS, start=1):
        if upper is None or age <= upper:
            return number
    raise AssertionError("unreachable: the last band is open-ended")  # pragma: no cover


def age_band_label(band: int) -> str:
    """Portuguese label of a band: ``"0 a 18"``, ..., ``"59 ou mais"``."""
    if not 1 <= band <= BAND_COUNT:
        raise ValueError(f"Faixa etária inexistente: {band} (use 1 a {BAND_COUNT}).")
    lower, upper = AGE_BANDS[band - 1]
    return f"{lower} ou mais" if upper is None else f"{lower} a {upper}"


def _ratio(numerator: Decimal, denominator: Decimal, other: Fraction | None = None) -> str:
    """``numerator / denominator`` in Portuguese with 4 places, or more when 4 would hide
    its difference from ``other`` (so a message never reads "1,5000 > 1,5000")."""
    exact = Fraction(numerator) / Fraction(denominator)
    places = 4
    while (
        places < 12
        and other is not None
        and exact != other
        and (_rounded(exact, places) == _rounded(other, places))
    ):
        places += 2
    return decimal_comma(_rounded(exact, places), places)


def _rounded(value: Fraction, places: int) -> Decimal:
    quotient = Decimal(value.numerator) / Decimal(value.denominator)
    return quotient.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def check_price_table(prices: Sequence[Decimal]) -> list[str]:
    """Portuguese descriptions of what makes ``prices`` (band 1 to 10) illegal under RN
    63/2003, each naming the rule and the figures; empty if legal."""
    if len(prices) != BAND_COUNT:
        return [
            f"A tabela deve ter {BAND_COUNT} preços, um por faixa etária; "
            f"foram informados {len(prices)}."
        ]
    problems: list[str] = []
    for band, price in enumerate(prices, start=1):
        if price <= 0:
            problems.append(f"O preço da faixa {age_band_label(band)} deve ser maior que zero.")
    if problems:
        return problems  # the ratios below need positive prices
    first, seventh, last = (Decimal(p) for p in (prices[0], prices[6], prices[9]))
    if last > MAX_LAST_TO_FIRST_RATIO * first:
        problems.append(
            "RN 63/2003, art. 3º, I: o preço da 10ª faixa (59 ou mais) não pode passar de "
            f"seis vezes o da 1ª faixa (0 a 18). Informado: {format_money(last)}, limite "
            f"6 × {format_money(first)} = {format_money(MAX_LAST_TO_FIRST_RATIO * first)}."
        )
    # P10/P7 <= P7/P1  <=>  P10 * P1 <= P7 * P7 (all positive): exact, no division.
    if last * first > seventh * seventh:
        low = Fraction(seventh) / Fraction(first)
        problems.append(
            "RN 63/2003, art. 3º, II (variação acumulada, STJ Tema 1016): a variação da 7ª "
            f"à 10ª faixa ({format_money(last)} / {format_money(seventh)} = "
            f"{_ratio(last, seventh, low)}) não pode ser maior que a da 1ª à 7ª faixa "
            f"({format_money(seventh)} / {format_money(first)} = {_ratio(seventh, first)})."
        )
    for band in range(1, BAND_COUNT):
        if prices[band] < prices[band - 1]:
            problems.append(
                f"O preço da faixa {age_band_label(band + 1)} não pode ser menor que "
                f"o da faixa {age_band_label(band)}."
            )
    return problems


def check_single_price(price: Decimal) -> list[str]:
    """A single-price table ("preço único") has no band to compare: only a positive price."""
    return [] if price > 0 else ["O preço único deve ser maior que zero."]
