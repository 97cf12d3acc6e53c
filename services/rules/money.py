"""Money rounding and the update of an overdue invoice (fine and late interest).

Sources:
- Money is ``Decimal`` with 2 places, each component rounded half-up to the
  cent, never ``float`` (docs/domain/money-and-billing.md, "Money").
- Overdue update (docs/domain/money-and-billing.md, "Overdue invoices"): a fine
  charged once on the original amount (default 2%, the ceiling for consumer
  contracts in Lei 8.078/1990 art. 52 §1º, as changed by Lei 9.298/1996) and late
  interest (default 1% a month), simple, pro rata die over a 30-day month, on the
  original amount and never on the fine, counted in calendar days from the
  original due date. Both rates are contract settings (the defaults are the
  company columns' own, data/models.py).
- Lei 7.089/1983: nothing may be added to a bill whose due date fell on a
  Saturday, Sunday or holiday when it is paid on the next business day. Paid
  later, interest runs from the original due date.

Explained, with worked vectors, in docs/domain/money-and-billing.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.rules.calendar import is_business_day, next_business_day

CENT = Decimal("0.01")
DAYS_IN_MONTH = 30  # commercial month of the pro rata die interest
_HUNDRED = Decimal(100)


def round_money(x: Decimal | int | str) -> Decimal:
    """``x`` rounded half-up to 2 places; ``float`` is refused (it is never exact money)."""
    if isinstance(x, float):
        raise TypeError("Valores monetários não podem ser float: use Decimal ou str.")
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class OverdueCharge:
    """An invoice amount updated for late payment.

    ``days_late`` is the number of calendar days the interest was charged for
    (0 when nothing is added: paid on time or within the Lei 7.089/1983 grace).
    """

    amount: Decimal
    fine: Decimal
    interest: Decimal
    total: Decimal
    days_late: int


def _whole_cents(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError("O valor deve ser Decimal.")
    value = Decimal(amount)
    if not value.is_finite() or value != value.quantize(CENT) or value < 0:
        raise ValueError(f"Valor inválido: {amount} (use centavos inteiros, não negativo).")
    return value.quantize(CENT)


def _rate(pct: Decimal, name: str) -> Decimal:
    if isinstance(pct, float):
        raise TypeError(f"{name} não pode ser float: use Decimal.")
    rate = Decimal(pct)
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"{name} inválido: {pct}.")
    return rate


def overdue_update(
    amount: Decimal,
    due_date: date,
    pay_date: date,
    fine_pct: Decimal,
    monthly_interest_pct: Decimal,
    holidays: Collection[date] | None = None,
) -> OverdueCharge:
    """Fine and interest due when ``amount``, due on ``due_date``, is paid on ``pay_date``.

    Rates are percentages (``Decimal("2")`` is 2%). ``holidays=None`` means the
    national holidays of each date's own year.
    """
    value = _whole_cents(amount)
    fine_rate = _rate(fine_pct, "Percentual de multa")
    interest_rate = _rate(monthly_interest_pct, "Percentual de juros")
    nothing = OverdueCharge(value, Decimal("0.00"), Decimal("0.00"), value, 0)
    if pay_date <= due_date:
        return nothing
    if not is_business_day(due_date, holidays) and pay_date <= next_business_day(
        due_date, holidays
    ):
        return nothing  # Lei 7.089/1983
    days = (pay_date - due_date).days
    fine = round_money(value * fine_rate / _HUNDRED)
    interest = round_money(value * interest_rate * days / (_HUNDRED * DAYS_IN_MONTH))
    return OverdueCharge(value, fine, interest, value + fine + interest, days)


def overdue_payment_dates(
    due_date: date,
    today: date,
    limit_days: int,
    holidays: Collection[date] | None = None,
) -> list[date]:
    """Business days offered as the new payment date of an overdue invoice.

    From ``today`` (included when it is a business day) up to
    ``due_date + limit_days`` (included); empty when that limit has passed.
    """
    if limit_days < 0:
        raise ValueError("O prazo em dias deve ser zero ou positivo.")
    last = due_date + timedelta(days=limit_days)
    days: list[date] = []
    day = today
    while day <= last:
        if is_business_day(day, holidays):
            days.append(day)
        day += timedelta(days=1)
    return days
