"""Billing months, cut-off dates, due dates and retroactive movement dates.

Source: contractual rules of the collective plan (RN 557/2022 leaves billing
to the contract; defaults in docs/domain/money-and-billing.md): a movement received
up to the cut-off day (default 20) lands on next month's invoice, after it on
the one after; months are charged whole; a retroactive inclusion or
reactivation may take effect on the first day of the current month or of the
months before it (default: 3 months including the current one). Exclusions
are never retroactive (RN 412/2016, now RN 561/2022): they are not handled
here. Day numbers beyond a month's length (cut-off or due day 29-31) are
clamped to the month's last day.

Explained in docs/domain/money-and-billing.md ("Months, cut-off and due dates",
"Retroactive movements").
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date

from services.rules.billing import add_months
from services.rules.errors import DomainError

DEFAULT_CUTOFF_DAY = 20
DEFAULT_RETROACTIVE_MONTHS = 3


def _clamped(year: int, month: int, day: int) -> date:
    if not 1 <= day <= 31:
        raise DomainError("O dia deve estar entre 1 e 31.", "day")
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def retroactive_dates(today: date, months: int = DEFAULT_RETROACTIVE_MONTHS) -> list[date]:
    """Effective dates allowed for a retroactive movement, newest first.

    The first day of the current month and of the ``months - 1`` months before.
    """
    if months < 1:
        raise DomainError("O número de meses retroativos deve ser pelo menos 1.", "months")
    current = today.replace(day=1)
    return [add_months(current, -i) for i in range(months)]


def cutoff_date(year: int, month: int, cutoff_day: int) -> date:
    """The cut-off date of ``month``: ``cutoff_day`` clamped to the month's last day."""
    return _clamped(year, month, cutoff_day)


def movement_billing_month(received: date, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> date:
    """First day of the invoice month a movement received on ``received`` is billed in."""
    cutoff = cutoff_date(received.year, received.month, cutoff_day)
    months_ahead = 1 if received <= cutoff else 2
    return add_months(received.replace(day=1), months_ahead)


def next_due_date(today: date, due_day: int) -> date:
    """The next due date on or after ``today`` for a monthly ``due_day``.

    This month's due date (clamped to the month's length) if it is not before
    ``today``, otherwise next month's (clamped too).
    """
    this_month = _clamped(today.year, today.month, due_day)
    if this_month >= today:
        return this_month
    following = add_months(today.replace(day=1), 1)
    return _clamped(following.year, following.month, due_day)
