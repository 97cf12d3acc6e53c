"""Age bands for pricing and the legality of a price table.

Source: ANS, Resolução Normativa RN 63/2003 (plans contracted from 2004-01-01,
after the Estatuto do Idoso, Lei 10.741/2003): ten age bands 0-18, 19-23,
24-28, 29-33, 34-38, 39-43, 44-48, 49-53, 54-58 and 59+. Art. 3: the price of
the last band may not exceed six times the price of the first (I), and the
accumulated increase between bands 7 and 10 may not exceed the accumulated
increase between bands 1 and 7 (II). Prices never fall with age (art. 3, III
only allows non-negative variations). Same prices for new and existing members
(RN 195/2009, art. 21, now RN 557/2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from services.rules.errors import DomainError

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


def check_price_table(prices: Sequence[Decimal]) -> list[str]:
    """Portuguese descriptions of what makes ``prices`` (band 1 to 10) illegal; empty if legal."""
    if len(prices) != BAND_COUNT:
        return [
            f"A tabela deve ter {BAND_COUNT} preços, um por faixa etária; "
            f"foram informados {len(prices)}."
        ]
    problems: list[str] = []
    for band, price in enumerate(prices, start=1):
        if price <= 0:
            problems.append(f"O preço da faixa {age_band_label(band)} deve ser maior que zero.")
    first, seventh, last = prices[0], prices[6], prices[9]
    if last > MAX_LAST_TO_FIRST_RATIO * first:
        problems.append(
            "O preço da última faixa (59 ou mais) não pode passar de seis vezes "
            "o da primeira (0 a 18)."
        )
    if last - seventh > seventh - first:
        problems.append(
            "O aumento entre a 7ª e a 10ª faixa não pode ser maior que o aumento "
            "entre a 1ª e a 7ª faixa."
        )
    for band in range(1, BAND_COUNT):
        if prices[band] < prices[band - 1]:
            problems.append(
                f"O preço da faixa {age_band_label(band + 1)} não pode ser menor que "
                f"o da faixa {age_band_label(band)}."
            )
    return problems
