"""Billing months, invoice due dates and statuses.

Sources:
- Billing is contractual in a collective business plan (ANS RN 557/2022 leaves
  the invoice to the contract); the contract defaults are in
  docs/domain/money-and-billing.md: months are charged whole (no pro rata), so
  billing counts in months (``month_index``) and the catch-up of a movement is a
  range of whole months (applied set-based in ``services.billing``).
- The invoice is due on the contract's due day of its billing month, clamped to
  the month's last day (same convention as ``services.rules.retroactive``).
- Payment status: "paid" and "cancelled" are recorded; an open invoice whose
  due date has passed is "overdue" (Lei 7.089/1983 only matters to the charge,
  see ``services.rules.money``).

The spreadsheet formula guard is in ``services.exports``, with the file writers.

Explained in docs/domain/money-and-billing.md.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date

INVOICE_STATUS_LABELS = {
    "paid": "Paga",
    "open": "Em aberto",
    "overdue": "Vencida",
    "cancelled": "Cancelada",
}
LINE_KIND_LABELS = {
    "monthly": "Mensalidade",
    "retroactive": "Retroativo",
    "plan_change_difference": "Diferença de plano",
    "credit": "Crédito",
    "stay": "Art. 30/31",
}
PAYMENT_METHOD_LABELS = {"boleto": "Boleto", "pix": "PIX", "transfer": "Transferência"}


def month_start(d: date) -> date:
    """The first day of ``d``'s month."""
    return d.replace(day=1)


def month_index(d: date) -> int:
    """Months since year 0 (consecutive months differ by 1)."""
    return d.year * 12 + d.month - 1


def month_from_index(index: int) -> date:
    """The first day of the month ``index`` (inverse of ``month_index``)."""
    return date(index // 12, index % 12 + 1, 1)


def add_months(d: date, months: int) -> date:
    """The first day of the month ``months`` after ``d``'s month (negative: before)."""
    return month_from_index(month_index(d) + months)


def month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return d.replace(day=_calendar.monthrange(d.year, d.month)[1])


def invoice_due_date(billing_month: date, due_day: int) -> date:
    """The due date of the invoice of ``billing_month``: ``due_day`` clamped to the month."""
    if not 1 <= due_day <= 31:
        raise ValueError(f"Dia de vencimento inválido: {due_day}.")
    last = _calendar.monthrange(billing_month.year, billing_month.month)[1]
    return billing_month.replace(day=min(due_day, last))


def invoice_status(status: str, due_date: date, today: date) -> str:
    """The status shown: paid, cancelled, overdue (open and past its due date) or open."""
    if status in ("paid", "cancelled"):
        return status
    return "overdue" if due_date < today else "open"
