"""Reading invoices: a company's invoices by year and one invoice with its lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import case, select

from data.models import (
    Beneficiary,
    Company,
    ContractedPlan,
    Invoice,
    InvoiceLine,
    Plan,
    PriceTable,
)
from data.uow import UnitOfWork
from services.actors import Actor
from services.billing.frames import _KIND_ORDER, _cents_of, _company_scope, money
from services.cost_centres import cost_centre_labels, effective_cost_centre_id
from services.rules.age_bands import AGE_BANDS, age_band_label
from services.rules.billing import INVOICE_STATUS_LABELS, LINE_KIND_LABELS, invoice_status
from services.rules.card_numbers import format_card_number
from services.rules.cost_centres import NO_COST_CENTRE_LABEL
from services.rules.documents import format_company_document
from services.rules.errors import DomainError


@dataclass(frozen=True)
class InvoiceRow:
    """An invoice as the company sees it; ``status`` is paid, open, overdue or cancelled."""

    id: int
    billing_month: date
    due_date: date
    amount: Decimal
    status: str
    paid_on: date | None

    @property
    def status_label(self) -> str:
        return INVOICE_STATUS_LABELS[self.status]

    @property
    def payable(self) -> bool:
        return self.status in ("open", "overdue")


@dataclass(frozen=True)
class InvoiceDetail:
    """An invoice with every line: the month's charges and the ledger's adjustments.

    ``monthly_total`` is the mensalidades (kinds monthly and stay, art. 30/31);
    ``adjustments_total`` the rest: catch-up of months never charged (retroativo),
    credits of months charged but not covered, plan differences. ``by_kind`` has one
    row per kind present (KIND_COLUMNS), in the invoice's order.
    """

    invoice: InvoiceRow
    company_code: str
    company_name: str
    company_document: str
    monthly_total: Decimal
    adjustments_total: Decimal
    beneficiaries: int
    lines: pd.DataFrame  # LINE_COLUMNS; "Valor" as Decimal
    by_kind: pd.DataFrame  # KIND_COLUMNS; "Valor" as Decimal
    # When the company keeps cost centres: the lines get a "Centro de custo" column (the
    # holder's cost centre today) and this split, one row per cost centre with lines
    # (COST_CENTRE_COLUMNS); None otherwise.
    by_cost_centre: pd.DataFrame | None = None


LINE_COLUMNS = [
    "Beneficiário",
    "Carteirinha",
    "Plano",
    "Faixa etária",
    "Tipo",
    "Competência de referência",
    "Valor",
]
KIND_COLUMNS = ["Tipo", "Lançamentos", "Competências de referência", "Valor"]
COST_CENTRE_COLUMN = "Centro de custo"
COST_CENTRE_COLUMNS = [COST_CENTRE_COLUMN, "Beneficiários", "Lançamentos", "Valor"]
# Kinds that are the month's own charge; every other kind is an adjustment.
MONTHLY_KINDS = ("monthly", "stay")
SINGLE_PRICE_LABEL = "Preço único"  # a single-price table has no age band


def kind_totals(kinds: list[str], refs: list[date], cents: list[int]) -> pd.DataFrame:
    """Lines, reference months (mm/aaaa, first to last) and total of each kind present."""
    seen: dict[str, list[Any]] = {}
    for kind, ref, amount in zip(kinds, refs, cents, strict=True):
        entry = seen.setdefault(kind, [0, ref, ref, 0])
        entry[0] += 1
        entry[1], entry[2] = min(entry[1], ref), max(entry[2], ref)
        entry[3] += amount
    rows = []
    for kind in sorted(seen, key=lambda k: _KIND_ORDER.get(k, len(_KIND_ORDER))):
        n, first, last, total = seen[kind]
        months = f"{first:%m/%Y}" if first == last else f"{first:%m/%Y} a {last:%m/%Y}"
        rows.append((LINE_KIND_LABELS.get(kind, kind), n, months, money(total)))
    return pd.DataFrame(rows, columns=KIND_COLUMNS)


def invoice_row_of(inv: Invoice, today: date) -> InvoiceRow:
    return InvoiceRow(
        inv.id,
        inv.billing_month,
        inv.due_date,
        inv.amount,
        invoice_status(inv.status, inv.due_date, today),
        inv.paid_on,
    )


def invoice_years(*, uow: UnitOfWork, actor: Actor) -> list[int]:
    """The years that have invoices for the company in context, newest first."""
    company_id = _company_scope(uow, actor)
    with uow:
        months = uow.session.scalars(
            select(Invoice.billing_month).where(Invoice.company_id == company_id)
        ).all()
    return sorted({m.year for m in months}, reverse=True)


def invoice_list(
    *,
    uow: UnitOfWork,
    actor: Actor,
    today: date,
    year: int | None = None,
    statuses: Sequence[str] | None = None,
) -> list[InvoiceRow]:
    """The company's invoices (of one year, or all), oldest billing month first."""
    company_id = _company_scope(uow, actor)
    query = select(Invoice).where(Invoice.company_id == company_id)
    if year is not None:
        query = query.where(
            Invoice.billing_month >= date(year, 1, 1), Invoice.billing_month <= date(year, 12, 1)
        )
    with uow:
        rows = [
            invoice_row_of(inv, today)
            for inv in uow.session.scalars(query.order_by(Invoice.billing_month))
        ]
    if statuses is not None:
        rows = [r for r in rows if r.status in statuses]
    return rows


def invoice_detail(*, uow: UnitOfWork, actor: Actor, invoice_id: int, today: date) -> InvoiceDetail:
    """One invoice of the company with each beneficiary's charge and adjustment."""
    company_id = _company_scope(uow, actor)
    with uow:
        inv = uow.session.scalars(
            select(Invoice).where(Invoice.id == invoice_id, Invoice.company_id == company_id)
        ).one_or_none()
        if inv is None:
            raise DomainError("Fatura não encontrada nesta empresa.")
        company = uow.session.get(Company, company_id)
        assert company is not None
        rows = uow.session.execute(
            select(
                Beneficiary.name,
                Beneficiary.card_number,
                Plan.name,
                InvoiceLine.age_band,
                InvoiceLine.kind,
                InvoiceLine.reference_month,
                _cents_of(InvoiceLine.amount),
                InvoiceLine.beneficiary_id,
                InvoiceLine.plan_id,
                effective_cost_centre_id(Beneficiary),
            )
            .join(Beneficiary, Beneficiary.id == InvoiceLine.beneficiary_id)
            .join(Plan, Plan.id == InvoiceLine.plan_id)
            .where(InvoiceLine.invoice_id == inv.id)
            .order_by(
                case(_KIND_ORDER, value=InvoiceLine.kind),
                Beneficiary.name,
                InvoiceLine.reference_month,
            )
        ).all()
        # Single-price tables (preço único) of the contract: their lines show no band.
        single: dict[int, list[tuple[date, date | None]]] = {}
        for plan_id, valid_from, valid_to in uow.session.execute(
            select(PriceTable.plan_id, PriceTable.valid_from, PriceTable.valid_to)
            .join(ContractedPlan, ContractedPlan.id == PriceTable.contracted_plan_id)
            .where(ContractedPlan.company_id == company_id, PriceTable.kind == "single")
        ):
            single.setdefault(plan_id, []).append((valid_from, valid_to))
        centres = cost_centre_labels(uow.session, company_id)
        row = invoice_row_of(inv, today)
        code, name = company.code, company.name
        document = format_company_document(company.document, company.document_type)
    # Plain lists, already sorted by SQL: a page shows thousands of lines on every run.
    labels = {band: age_band_label(band) for band in range(1, len(AGE_BANDS) + 1)}
    names, cards, plans, bands, kinds, refs, cents, bids, plan_ids, centre_ids = (
        list(c) for c in (zip(*rows, strict=True) if rows else [()] * 10)
    )

    def band_label(band: int, plan_id: int, month: date) -> str:
        for start, end in single.get(plan_id, ()):
            if start <= month and (end is None or end >= month):
                return SINGLE_PRICE_LABEL
        return labels[band]

    monthly_cents = sum(c for c, k in zip(cents, kinds, strict=True) if k in MONTHLY_KINDS)
    lines = pd.DataFrame(
        {
            "Beneficiário": names,
            "Carteirinha": [format_card_number(c) for c in cards],
            "Plano": plans,
            "Faixa etária": [
                band_label(b, p, m) for b, p, m in zip(bands, plan_ids, refs, strict=True)
            ],
            "Tipo": [LINE_KIND_LABELS[k] for k in kinds],
            "Competência de referência": refs,
            "Valor": [money(c) for c in cents],
        },
        columns=LINE_COLUMNS,
    )
    by_cost_centre = None
    if centres:
        labels_of = [centres.get(c, NO_COST_CENTRE_LABEL) for c in centre_ids]
        lines.insert(2, COST_CENTRE_COLUMN, labels_of)
        by_cost_centre = cost_centre_totals(labels_of, bids, cents, list(centres.values()))
    return InvoiceDetail(
        invoice=row,
        company_code=code,
        company_name=name,
        company_document=document,
        monthly_total=money(monthly_cents),
        adjustments_total=money(sum(cents) - monthly_cents),
        beneficiaries=len(set(bids)),
        lines=lines,
        by_kind=kind_totals(kinds, refs, cents),
        by_cost_centre=by_cost_centre,
    )


def cost_centre_totals(
    labels: list[str], bids: list[int], cents: list[int], order: list[str]
) -> pd.DataFrame:
    """Beneficiaries, lines and total (exact, from cents) of each cost centre with lines,
    in the company's code order, those without a cost centre last."""
    seen: dict[str, tuple[set[int], list[int]]] = {}
    for label, bid, amount in zip(labels, bids, cents, strict=True):
        people, amounts = seen.setdefault(label, (set(), []))
        people.add(bid)
        amounts.append(amount)
    rank = {label: i for i, label in enumerate([*order, NO_COST_CENTRE_LABEL])}
    return pd.DataFrame(
        [
            (label, len(people), len(amounts), money(sum(amounts)))
            for label, (people, amounts) in sorted(seen.items(), key=lambda kv: rank[kv[0]])
        ],
        columns=COST_CENTRE_COLUMNS,
    )
