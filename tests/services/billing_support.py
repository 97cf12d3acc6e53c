"""Test helpers for billing: contracts with their price tables, coverage periods, and
the pure ledger reference read back from a database.

- `contract(session, company_id, plan_id, tables)`: a ContractedPlan with its price
  tables (each (valid_from, valid_to, prices): ten band prices, or one for "single").
- `cover(session, beneficiary_id, company_id, plan_id, start, end=None, kind=...)`: a
  coverage_period row (end is the first day NOT covered).
- `reference(session, company_id, month)`: the lines `services.rules.ledger` says the
  invoice of ``month`` must carry, from what the database holds now.
- `invoice_lines(session, company_id, month)` / `ledger_net(session)`: what the run wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    PriceBand,
    PriceTable,
)
from services.rules.age_bands import AGE_BANDS
from services.rules.ledger import ChargedLine, Line, Period, Table, reference_lines

PriceSpec = tuple[date, date | None, Sequence[Decimal]]


def band_prices(base: Decimal, step: Decimal) -> list[Decimal]:
    """Ten legal band prices: base, base + step, ..."""
    return [base + step * k for k in range(len(AGE_BANDS))]


def contract(
    session: Session,
    company_id: int,
    plan_id: int,
    tables: Sequence[PriceSpec],
    start: date = date(2020, 1, 1),
) -> ContractedPlan:
    """The company's contracted plan with its price tables (one price: a single table)."""
    cp = session.scalars(
        select(ContractedPlan).where(
            ContractedPlan.company_id == company_id, ContractedPlan.plan_id == plan_id
        )
    ).one_or_none()
    if cp is None:
        cp = ContractedPlan(company_id=company_id, plan_id=plan_id, start_date=start)
        session.add(cp)
        session.flush()
    for valid_from, valid_to, prices in tables:
        single = len(prices) == 1
        table = PriceTable(
            plan_id=plan_id,
            contracted_plan_id=cp.id,
            kind="single" if single else "bands",
            valid_from=valid_from,
            valid_to=valid_to,
        )
        if single:
            table.bands.append(PriceBand(band=1, min_age=0, max_age=None, price=prices[0]))
        else:
            for band, ((low, high), price) in enumerate(zip(AGE_BANDS, prices, strict=True), 1):
                table.bands.append(PriceBand(band=band, min_age=low, max_age=high, price=price))
        session.add(table)
    session.flush()
    return cp


def cover(
    session: Session,
    beneficiary_id: int,
    company_id: int,
    plan_id: int,
    start: date,
    end: date | None = None,
    kind: str = "regular",
    movement_id: int | None = None,
) -> CoveragePeriod:
    period = CoveragePeriod(
        beneficiary_id=beneficiary_id,
        company_id=company_id,
        plan_id=plan_id,
        start_date=start,
        end_date=end,
        kind=kind,
        movement_id=movement_id,
    )
    session.add(period)
    session.flush()
    return period


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def reference(session: Session, company_id: int, month: date) -> list[Line]:
    """What `services.rules.ledger.reference_lines` says invoice ``month`` must carry."""
    company = session.get(Company, company_id)
    assert company is not None
    periods = [
        Period(p.beneficiary_id, p.company_id, p.plan_id, p.start_date, p.end_date, p.kind, p.id)
        for p in session.scalars(select(CoveragePeriod))
    ]
    tables = [
        Table(
            cp_company,
            cp_plan,
            t.valid_from,
            t.valid_to,
            tuple(_cents(b.price) for b in t.bands),
            t.kind,
        )
        for t, cp_company, cp_plan in session.execute(
            select(PriceTable, ContractedPlan.company_id, ContractedPlan.plan_id).join(
                ContractedPlan, ContractedPlan.id == PriceTable.contracted_plan_id
            )
        ).all()
    ]
    births = dict(session.execute(select(Beneficiary.id, Beneficiary.birth_date)).all())
    lines = [
        ChargedLine(
            ln.beneficiary_id,
            inv_company,
            ln.reference_month,
            ln.plan_id,
            ln.age_band,
            ln.kind,
            _cents(ln.amount),
            ln.id,
        )
        for ln, inv_company in session.execute(
            select(InvoiceLine, Invoice.company_id)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.status != "cancelled")
        ).all()
    ]
    start = company.billing_start or company.contract_start.replace(day=1)
    return reference_lines(
        periods=periods,
        tables=tables,
        births=births,
        lines=lines,
        company_id=company_id,
        billing_start=start,
        band_change=company.band_change,
        invoice_month=month,
    )


def invoice_lines(session: Session, company_id: int, month: date) -> list[Line]:
    """The lines the run wrote on the company's invoice of ``month``, sorted like
    `reference_lines` (beneficiary, reference month)."""
    rows = session.execute(
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.company_id == company_id, Invoice.billing_month == month)
    ).scalars()
    return sorted(
        (
            Line(
                r.beneficiary_id, r.reference_month, r.plan_id, r.age_band, r.kind, _cents(r.amount)
            )
            for r in rows
        ),
        key=lambda ln: (ln.beneficiary_id, ln.reference_month),
    )


def ledger_net(session: Session) -> dict[tuple[int, date], int]:
    """Net cents per (beneficiary, reference month) over every invoice not cancelled."""
    net: dict[tuple[int, date], int] = {}
    for bid, month, amount in session.execute(
        select(InvoiceLine.beneficiary_id, InvoiceLine.reference_month, InvoiceLine.amount)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status != "cancelled")
    ).all():
        net[(bid, month)] = net.get((bid, month), 0) + _cents(amount)
    return net
