"""Contract price tables: yearly readjustment, the pool of small contracts, kinds of table.

Sources: prices belong to the contract (each contracted plan of a collective business
plan), readjusted once a year on the contract's anniversary month (Lei 9.656/1998 and
RN 565/2022, which replaced RN 195/2009 art. 19 and RN 309/2012 on readjustment of
collective plans). Contracts with fewer than 30 lives are pooled ("agrupamento de
contratos", RN 565/2022 arts. 19-23, formerly RN 309/2012): every contract of the pool
gets the same percentage in the year. Each price is rounded half-up to the cent (money
rule of docs/domain/money-and-billing.md). A single-price table ("preço único") has one
price for every age (RN 63/2003 leaves the operator free not to vary by age), so no band
check applies.

Explained in docs/domain/prices-and-age-bands.md, "Yearly readjustment".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.rules.age_bands import AGE_BANDS, check_price_table, check_single_price
from services.rules.billing import add_months
from services.rules.errors import DomainError
from services.rules.formats import MONTHS, format_date, format_month_numeric

CENT = Decimal("0.01")
POOL_MAX_LIVES = 29  # fewer than 30 lives: the pool (RN 565/2022)
POOL_LIVES_LIMIT = POOL_MAX_LIVES + 1
BANDS, SINGLE = "bands", "single"
TABLE_KIND_LABELS = {BANDS: "Por faixa etária", SINGLE: "Preço único"}
BAND_CHANGE_LABELS = {
    "next_month": "No mês seguinte ao aniversário",
    "birthday_month": "No mês do aniversário",
}
# A readjustment percentage is stored with 2 places; -100% or less would zero a price.
MIN_PCT = Decimal("-99.99")
MAX_PCT = Decimal("999.99")


def readjusted_price(price: Decimal, pct: Decimal) -> Decimal:
    """``price`` raised (or lowered) by ``pct`` percent, rounded half-up to the cent."""
    return (Decimal(price) * (1 + Decimal(pct) / 100)).quantize(CENT, rounding=ROUND_HALF_UP)


def readjusted_prices(prices: Sequence[Decimal], pct: Decimal) -> list[Decimal]:
    """Every price of a table readjusted by ``pct`` percent, each rounded on its own."""
    check_pct(pct)
    return [readjusted_price(p, pct) for p in prices]


def check_pct(pct: Decimal) -> Decimal:
    """The readjustment percentage, refused unless it has at most 2 places and lies in
    -99,99 .. 999,99."""
    value = Decimal(pct)
    if not value.is_finite() or value != value.quantize(CENT):
        raise DomainError("Informe o percentual de reajuste com até duas casas decimais.", "pct")
    if not MIN_PCT <= value <= MAX_PCT:
        raise DomainError("O percentual de reajuste deve estar entre -99,99% e 999,99%.", "pct")
    return value


def check_table(kind: str, prices: Sequence[Decimal]) -> list[str]:
    """What makes a table of ``kind`` illegal (empty if legal): a "bands" table is held
    to RN 63/2003; a "single" table needs exactly one positive price."""
    if kind == BANDS:
        return check_price_table(prices)
    if kind == SINGLE:
        if len(prices) != 1:
            return [f"A tabela de preço único tem um só preço; foram informados {len(prices)}."]
        return check_single_price(prices[0])
    return [f"Tipo de tabela desconhecido: {kind}. Use faixa etária ou preço único."]


def band_rows(kind: str) -> list[tuple[int, int, int | None]]:
    """(band, min_age, max_age) of each row a table of ``kind`` is stored with: the ten
    RN 63 bands, or one row band 1, ages 0 and up, for a single price."""
    if kind == SINGLE:
        return [(1, 0, None)]
    return [(n, lo, hi) for n, (lo, hi) in enumerate(AGE_BANDS, start=1)]


def is_anniversary_month(contract_start: date, month: date) -> bool:
    """True when ``month`` is an anniversary of the contract: same calendar month, in a
    later year (the first year runs at the prices contracted)."""
    return month.month == contract_start.month and month.year > contract_start.year


def check_anniversary(contract_start: date, month: date) -> None:
    """Refuse a readjustment outside the contract's anniversary month (RN 565/2022)."""
    if month.day != 1:
        raise DomainError("O reajuste vale a partir do primeiro dia do mês.", "month")
    if not is_anniversary_month(contract_start, month):
        first = date(contract_start.year + 1, contract_start.month, 1)
        raise DomainError(
            f"O reajuste deste contrato só pode ser aplicado no mês de aniversário "
            f"({MONTHS[contract_start.month - 1]}, a partir de {format_month_numeric(first)}); "
            f"contrato iniciado em {format_date(contract_start)}, "
            f"mês pedido {format_month_numeric(month)}.",
            "month",
        )


def in_pool(lives: int) -> bool:
    """Contracts with fewer than 30 lives on the reference date share the pool's
    percentage (RN 565/2022)."""
    return lives < POOL_LIVES_LIMIT


def parse_decimal(text: str, field: str, what: str) -> Decimal:
    """A number typed the Brazilian way ("1.234,56", "R$ 89,90", "7,35%") or with a
    decimal point ("89.90"); refused with a message naming ``what`` if it is not one."""
    clean = text.strip().replace("R$", "").replace("%", "").replace(" ", "")
    if "," in clean:
        clean = clean.replace(".", "").replace(",", ".")
    try:
        value = Decimal(clean)
    except ArithmeticError:
        value = Decimal("NaN")
    if not clean or not value.is_finite():
        raise DomainError(f"{what}: informe um número, como 89,90.", field)
    return value


def month_options(today: date, back: int, ahead: int) -> list[date]:
    """First days of the months from ``back`` months before ``today``'s to ``ahead`` after."""
    first = date(today.year, today.month, 1)
    return [add_months(first, n) for n in range(-back, ahead + 1)]


def anniversary_months(contract_start: date, today: date) -> list[date]:
    """The contract's anniversary months of last year, this year and next year (those
    after the contract's first year)."""
    return [
        date(year, contract_start.month, 1)
        for year in (today.year - 1, today.year, today.year + 1)
        if year > contract_start.year
    ]


def next_anniversary(contract_start: date, today: date) -> date:
    """The anniversary month in force or coming: this year's if it is this month or
    later, else next year's (never the contract's own first month)."""
    this_month = date(today.year, today.month, 1)
    return next(m for m in anniversary_months(contract_start, today) if m >= this_month)
