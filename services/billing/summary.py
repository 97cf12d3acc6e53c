"""What a billing run issued, read back from its invoices: per invoice the number of
lines of each kind, and the adjustment lines themselves with their reference months
(catch-up of months never charged, credits, plan differences, art. 30/31 stays), for
the monthly billing page to show after a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import case, func, select

from data.models import Beneficiary, Company, Invoice, InvoiceLine
from data.uow import UnitOfWork, across_companies
from services.actors import Actor, Permission
from services.billing.frames import _KIND_ORDER, MAX_IN_IDS, _cents_of, money
from services.rules.billing import LINE_KIND_LABELS, month_start
from services.rules.card_numbers import format_card_number

ADJUSTMENT_COLUMNS = [
    "Empresa",
    "Beneficiário",
    "Carteirinha",
    "Tipo",
    "Competência de referência",
    "Valor",
]
MAX_ADJUSTMENT_ROWS = 2_000


@dataclass(frozen=True)
class RunSummary:
    """``kinds``: invoice id -> {kind: lines}. ``adjustments``: every line that is not a
    "monthly" one (ADJUSTMENT_COLUMNS; "Valor" as Decimal), at most
    MAX_ADJUSTMENT_ROWS of them, of ``adjustment_lines`` in all."""

    kinds: dict[int, dict[str, int]]
    adjustments: pd.DataFrame
    adjustment_lines: int


def run_summary(
    *, uow: UnitOfWork, actor: Actor, billing_month: date, invoice_ids: Sequence[int]
) -> RunSummary:
    """The lines by kind of the invoices ``invoice_ids`` of ``billing_month``, and their
    adjustment lines, ordered by company, kind, beneficiary and reference month."""
    month = month_start(billing_month)
    ids = list(dict.fromkeys(int(i) for i in invoice_ids))
    chunks = [ids[i : i + MAX_IN_IDS] for i in range(0, len(ids), MAX_IN_IDS)]
    kinds: dict[int, dict[str, int]] = {}
    rows: list[tuple] = []
    total_adjustments = 0
    # A run's invoices may be of many companies (each one checked below), on purpose.
    with uow, across_companies(uow.session):
        session = uow.session
        for chunk in chunks:
            scope = (Invoice.id.in_(chunk), Invoice.billing_month == month)
            for company_id in session.scalars(select(Invoice.company_id).where(*scope)):
                actor.require(Permission.FINANCE, company_id)
            for invoice_id, kind, n in session.execute(
                select(InvoiceLine.invoice_id, InvoiceLine.kind, func.count())
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(*scope)
                .group_by(InvoiceLine.invoice_id, InvoiceLine.kind)
            ):
                kinds.setdefault(int(invoice_id), {})[kind] = int(n)
                if kind != "monthly":
                    total_adjustments += int(n)
            room = MAX_ADJUSTMENT_ROWS - len(rows)
            if room <= 0:
                continue
            rows.extend(
                session.execute(
                    select(
                        Company.code,
                        Beneficiary.name,
                        Beneficiary.card_number,
                        InvoiceLine.kind,
                        InvoiceLine.reference_month,
                        _cents_of(InvoiceLine.amount),
                    )
                    .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                    .join(Company, Company.id == Invoice.company_id)
                    .join(Beneficiary, Beneficiary.id == InvoiceLine.beneficiary_id)
                    .where(*scope, InvoiceLine.kind != "monthly")
                    .order_by(
                        Company.code,
                        case(_KIND_ORDER, value=InvoiceLine.kind),
                        Beneficiary.name,
                        InvoiceLine.reference_month,
                        InvoiceLine.id,
                    )
                    .limit(room)
                ).all()
            )
    rows.sort(key=lambda r: (r[0], _KIND_ORDER.get(r[3], 9), r[1], r[4]))
    adjustments = pd.DataFrame(
        [
            (code, name, format_card_number(card), LINE_KIND_LABELS[kind], ref, money(cents))
            for code, name, card, kind, ref, cents in rows
        ],
        columns=ADJUSTMENT_COLUMNS,
    )
    return RunSummary(kinds, adjustments, total_adjustments)
