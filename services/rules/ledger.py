"""The billing ledger: which lines invoice X of a company must carry (pure reference).

Sources: docs/domain/money-and-billing.md, "The ledger" (billing is a ledger; ANS RN
557/2022 leaves billing to the contract), prices by age band (RN 63/2003,
``age_bands``), stays of arts. 30 and 31 of Lei 9.656/1998 billed on their own lines.
This module is the reference the set-based run (``services.billing.run``) must equal,
line for line; it works on plain values, never on the database.

- Month attribution: month m is covered iff some coverage period overlaps it
  (start <= last day of m and (end is None or end > first day of m); ``end`` is the
  first day NOT covered). The month's company, plan and kind are those of the FIRST
  such period (smallest start, then smallest id): the period of the month's first
  covered day, so a transfer, plan change or stay starting mid-month takes effect
  from the next month's charge, and one dated on the 1st from that month. Months are
  charged whole.
- Age band of month m: contract setting ``band_change`` "next_month" (default): the
  age on the last day of month m-1, so the band changes in the month after the
  birthday; "birthday_month": the age on the last day of m. Before birth: age 0.
- Price of month m: the contract's table (company, plan) valid on m's first day
  (valid_from <= first day, valid_to None or >= first day; the latest valid_from if
  several); a "single" table has one price (band 1) for every age.
- Target of (beneficiary b, month m, company c): the price if b is covered in m and c
  is the month's company, else 0. Charged: the net sum of b's lines for reference
  month m on c's invoices that are not cancelled.
- Invoice X of c: for every b and every m with max(billing_start, X - 15 months) <= m
  <= X whose target differs from what is charged, one line of target - charged, of kind
  "stay" (nothing charged, art. 30/31 stay), "monthly" (nothing charged, m == X),
  "retroactive" (nothing charged, m < X), "credit" (target 0) or
  "plan_change_difference" (both non-zero). Months older than the window are closed.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from services.rules.age_bands import age_band

LEDGER_LOOKBACK_MONTHS = 15
BAND_CHANGE_RULES = ("next_month", "birthday_month")


@dataclass(frozen=True)
class Period:
    """A coverage period; ``end`` is the first day not covered (None: open)."""

    beneficiary_id: int
    company_id: int
    plan_id: int
    start: date
    end: date | None
    kind: str = "regular"  # or "stay" (arts. 30/31)
    id: int = 0


@dataclass(frozen=True)
class MonthCoverage:
    """Who covers a month: the first period overlapping it."""

    company_id: int
    plan_id: int
    kind: str
    period_id: int


@dataclass(frozen=True)
class Table:
    """A contract price table: ``prices`` in cents by band 1..10 (one price if single)."""

    company_id: int
    plan_id: int
    valid_from: date
    valid_to: date | None
    prices: tuple[int, ...]
    kind: str = "bands"  # or "single"


@dataclass(frozen=True)
class ChargedLine:
    """A line already on an invoice of ``company_id`` (not cancelled)."""

    beneficiary_id: int
    company_id: int
    reference_month: date
    plan_id: int
    band: int
    kind: str
    cents: int
    id: int = 0


@dataclass(frozen=True)
class Line:
    """A line invoice X must carry."""

    beneficiary_id: int
    reference_month: date
    plan_id: int
    band: int
    kind: str
    cents: int


class MissingPrice(LookupError):
    """No contract table of (company, plan) is valid on the first day of a month."""

    def __init__(self, company_id: int, plan_id: int, month: date) -> None:
        super().__init__(f"no price table for company {company_id} plan {plan_id} in {month}")
        self.company_id, self.plan_id, self.month = company_id, plan_id, month


# ---------------------------------------------------------------- months


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def last_day(month: date) -> date:
    return month.replace(day=_calendar.monthrange(month.year, month.month)[1])


def window(billing_start: date, invoice_month: date) -> list[date]:
    """The months invoice X looks at: max(billing_start, X - 15 months) .. X."""
    x = month_index(invoice_month)
    first = max(month_index(billing_start), x - LEDGER_LOOKBACK_MONTHS)
    return [month_of(i) for i in range(first, x + 1)]


def overlaps(period: Period, month: date) -> bool:
    first = month.replace(day=1)
    return period.start <= last_day(first) and (period.end is None or period.end > first)


def month_coverage(periods: Iterable[Period], month: date) -> MonthCoverage | None:
    """The first period (smallest start, then id) of one beneficiary overlapping ``month``."""
    covering = [p for p in periods if overlaps(p, month)]
    if not covering:
        return None
    first = min(covering, key=lambda p: (p.start, p.id))
    return MonthCoverage(first.company_id, first.plan_id, first.kind, first.id)


# ---------------------------------------------------------------- bands and prices


def band_day(month: date, band_change: str) -> date:
    """The day whose age prices ``month`` (RN 63/2003 bands, contract's band_change)."""
    first = month.replace(day=1)
    if band_change == "next_month":
        return last_day(month_of(month_index(first) - 1))
    if band_change == "birthday_month":
        return last_day(first)
    raise ValueError(f"unknown band_change {band_change!r}")


def month_band(birth: date, month: date, band_change: str) -> int:
    """Age band (1..10) of ``month`` for someone born on ``birth``; before birth: band 1."""
    on = band_day(month, band_change)
    if on < birth:
        return age_band(0)
    before_birthday = (on.month, on.day) < (birth.month, birth.day)
    return age_band(on.year - birth.year - int(before_birthday))


def table_for(tables: Iterable[Table], company_id: int, plan_id: int, month: date) -> Table | None:
    """The contract table valid on ``month``'s first day (latest valid_from if several)."""
    first = month.replace(day=1)
    valid = [
        t
        for t in tables
        if t.company_id == company_id
        and t.plan_id == plan_id
        and t.valid_from <= first
        and (t.valid_to is None or t.valid_to >= first)
    ]
    return max(valid, key=lambda t: t.valid_from) if valid else None


def month_price(
    tables: Iterable[Table], company_id: int, plan_id: int, month: date, band: int
) -> tuple[int, int]:
    """(cents, band written on the line) of ``month``: a single table charges band 1."""
    table = table_for(tables, company_id, plan_id, month)
    if table is None:
        raise MissingPrice(company_id, plan_id, month)
    if table.kind == "single":
        return table.prices[0], 1
    return table.prices[band - 1], band


# ---------------------------------------------------------------- the charge rule


def charge(
    target: int, period_kind: str | None, charged: int, is_invoice_month: bool
) -> tuple[str, int] | None:
    """The line (kind, cents) that brings a beneficiary-month from ``charged`` to
    ``target`` (0 when not covered by this company), or None when they are equal."""
    if target == charged:
        return None
    amount = target - charged
    if charged == 0:
        if period_kind == "stay":
            return "stay", amount
        return ("monthly" if is_invoice_month else "retroactive"), amount
    if target == 0:
        return "credit", amount
    return "plan_change_difference", amount


def reference_lines(
    *,
    periods: Iterable[Period],
    tables: Sequence[Table],
    births: Mapping[int, date],
    lines: Iterable[ChargedLine],
    company_id: int,
    billing_start: date,
    band_change: str,
    invoice_month: date,
) -> list[Line]:
    """Every line invoice ``invoice_month`` of ``company_id`` must carry, sorted by
    (beneficiary, reference month).

    ``periods``: every coverage period (all companies: the month's company may be
    another); ``lines``: the lines of invoices that are not cancelled (any company;
    only ``company_id``'s count). Credits carry the plan and band of the latest line
    (greatest id) they cancel. Raises MissingPrice when a month to charge has no table.
    """
    months = window(billing_start, invoice_month)
    if not months:
        return []
    x = months[-1]
    by_person: dict[int, list[Period]] = {}
    for p in periods:
        by_person.setdefault(p.beneficiary_id, []).append(p)
    charged: dict[tuple[int, date], int] = {}
    latest: dict[tuple[int, date], ChargedLine] = {}
    for line in lines:
        if line.company_id != company_id:
            continue
        key = (line.beneficiary_id, line.reference_month)
        charged[key] = charged.get(key, 0) + line.cents
        if key not in latest or line.id >= latest[key].id:
            latest[key] = line
    people = {b for b, _ in charged} | set(by_person)
    out: list[Line] = []
    for bid in sorted(people):
        for m in months:
            cover = month_coverage(by_person.get(bid, []), m)
            mine = cover is not None and cover.company_id == company_id
            target, plan, band = 0, 0, 0
            if mine:
                assert cover is not None
                band_of_age = month_band(births[bid], m, band_change)
                target, band = month_price(tables, company_id, cover.plan_id, m, band_of_age)
                plan = cover.plan_id
            already = charged.get((bid, m), 0)
            due = charge(target, cover.kind if mine and cover else None, already, m == x)
            if due is None:
                continue
            kind, cents = due
            if kind == "credit":
                last = latest[(bid, m)]
                plan, band = last.plan_id, last.band
            out.append(Line(bid, m, plan, band, kind, cents))
    return out
