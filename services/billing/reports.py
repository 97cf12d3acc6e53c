"""Billing reports: what a company was billed over a period, by month, plan and beneficiary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, or_, select

from data.models import Beneficiary, ContractedPlan, Invoice, InvoiceLine, Plan
from data.uow import UnitOfWork
from services.actors import Actor
from services.billing.exports import table_download
from services.billing.frames import _cents_of, _company_scope, money
from services.billing.invoices import MONTHLY_KINDS
from services.cost_centres import cost_centre_labels, effective_cost_centre_id
from services.rules.billing import add_months, month_from_index, month_index, month_start
from services.rules.card_numbers import format_card_number
from services.rules.cost_centres import NO_COST_CENTRE, NO_COST_CENTRE_LABEL
from services.rules.errors import DomainError
from services.rules.formats import decimal_comma, format_datetime, format_month_numeric


@dataclass(frozen=True)
class PlanOption:
    id: int
    name: str


@dataclass(frozen=True)
class ReportOptions:
    plans: list[PlanOption]
    months: list[date]  # billing months with invoices, oldest first (none: empty)
    # id -> label, NO_COST_CENTRE last; empty when the company keeps no cost centres.
    cost_centres: dict[int, str] = field(default_factory=dict)

    @property
    def default_start(self) -> date | None:
        """Twelve months back from the last one (or the first, if later)."""
        if not self.months:
            return None
        return max(self.months[0], add_months(self.months[-1], -11))


@dataclass(frozen=True)
class BillingReport:
    """Billing of a period: by month, by plan and by beneficiary (money as Decimal)."""

    start: date
    end: date
    plan_filter: str
    total: Decimal
    by_month: pd.DataFrame
    by_plan: pd.DataFrame
    by_beneficiary: pd.DataFrame
    # When the company keeps cost centres (a line is in its holder's cost centre today):
    # totals per cost centre, and by_beneficiary gets a "Centro de custo" column.
    by_cost_centre: pd.DataFrame | None = None
    cost_centre_filter: str = "Todos"


def billing_report_options(*, uow: UnitOfWork, actor: Actor) -> ReportOptions:
    """The plans and the months that the company's billing reports can cover."""
    company_id = _company_scope(uow, actor)
    with uow:
        plans = uow.session.execute(
            select(Plan.id, Plan.name)
            .where(
                or_(
                    Plan.id.in_(
                        select(ContractedPlan.plan_id).where(
                            ContractedPlan.company_id == company_id
                        )
                    ),
                    Plan.id.in_(
                        select(InvoiceLine.plan_id)
                        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                        .where(Invoice.company_id == company_id)
                        .distinct()
                    ),
                )
            )
            .order_by(Plan.name)
        ).all()
        first, last = uow.session.execute(
            select(func.min(Invoice.billing_month), func.max(Invoice.billing_month)).where(
                Invoice.company_id == company_id
            )
        ).one()
        centres = cost_centre_labels(uow.session, company_id)
    months = (
        [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]
        if first is not None and last is not None
        else []
    )
    return ReportOptions(
        [PlanOption(i, n) for i, n in plans],
        months,
        {**centres, NO_COST_CENTRE: NO_COST_CENTRE_LABEL} if centres else {},
    )


def billing_report(
    *,
    uow: UnitOfWork,
    actor: Actor,
    start: date,
    end: date,
    plan_ids: Sequence[int] | None = None,
    cost_centre_ids: Sequence[int] | None = None,
) -> BillingReport:
    """What the company was billed from ``start`` to ``end`` (billing months), by month,
    plan, beneficiary and cost centre; cancelled invoices left out. ``cost_centre_ids``
    keeps the lines of those cost centres' families (NO_COST_CENTRE: holders without)."""
    company_id = _company_scope(uow, actor)
    start, end = month_start(start), month_start(end)
    if end < start:
        raise DomainError("O mês final deve ser igual ou posterior ao inicial.", "end")
    conditions = [
        Invoice.company_id == company_id,
        Invoice.status != "cancelled",
        Invoice.billing_month >= start,
        Invoice.billing_month <= end,
    ]
    if plan_ids:
        conditions.append(InvoiceLine.plan_id.in_(list(plan_ids)))
    if cost_centre_ids:
        centre = effective_cost_centre_id(Beneficiary)
        wanted = [i for i in cost_centre_ids if i != NO_COST_CENTRE]
        either = [centre.in_(wanted)] if wanted else []
        if NO_COST_CENTRE in cost_centre_ids:
            either.append(centre.is_(None))
        conditions.append(
            InvoiceLine.beneficiary_id.in_(
                select(Beneficiary.id).where(Beneficiary.company_id == company_id, or_(*either))
            )
        )
    cents = func.sum(_cents_of(InvoiceLine.amount))
    base = select().select_from(InvoiceLine).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
    with uow:
        session = uow.session
        plan_names = dict(session.execute(select(Plan.id, Plan.name)).all())
        month_rows = session.execute(
            base.add_columns(
                Invoice.billing_month,
                InvoiceLine.kind,
                cents,
                func.count(func.distinct(InvoiceLine.beneficiary_id)),
            )
            .where(*conditions)
            .group_by(Invoice.billing_month, InvoiceLine.kind)
        ).all()
        month_people: dict[date, int] = dict(
            session.execute(
                base.add_columns(
                    Invoice.billing_month, func.count(func.distinct(InvoiceLine.beneficiary_id))
                )
                .where(*conditions)
                .group_by(Invoice.billing_month)
            ).all()
        )
        plan_rows = session.execute(
            base.add_columns(
                InvoiceLine.plan_id,
                cents,
                func.count(func.distinct(InvoiceLine.beneficiary_id)),
                func.count(),
            )
            .where(*conditions)
            .group_by(InvoiceLine.plan_id)
        ).all()
        person_rows = session.execute(
            base.add_columns(
                InvoiceLine.beneficiary_id,
                cents,
                func.count(func.distinct(InvoiceLine.reference_month)),
                func.count(),
            )
            .where(*conditions)
            .group_by(InvoiceLine.beneficiary_id)
        ).all()
        centres = cost_centre_labels(session, company_id)
        people = {
            bid: (name, card, plan_names.get(plan_id, ""), centre)
            for bid, name, card, plan_id, centre in session.execute(
                select(
                    Beneficiary.id,
                    Beneficiary.name,
                    Beneficiary.card_number,
                    Beneficiary.plan_id,
                    effective_cost_centre_id(Beneficiary),
                ).where(
                    Beneficiary.id.in_(
                        base.add_columns(InvoiceLine.beneficiary_id).where(*conditions).distinct()
                    )
                )
            ).all()
        }
    by_kind: dict[date, dict[str, int]] = {}
    for month, kind, total, _people in month_rows:
        by_kind.setdefault(month, {})[kind] = int(total or 0)
    by_month = pd.DataFrame(
        [
            {
                "Competência": month,
                "Beneficiários": int(month_people.get(month, 0)),
                "Mensalidades": money(sum(kinds.get(k, 0) for k in MONTHLY_KINDS)),
                # Every adjustment: catch-up, credits (negative) and plan differences.
                "Retroativos e diferenças": money(
                    sum(c for k, c in kinds.items() if k not in MONTHLY_KINDS)
                ),
                "Total": money(sum(kinds.values())),
            }
            for month, kinds in sorted(by_kind.items())
        ],
        columns=[
            "Competência",
            "Beneficiários",
            "Mensalidades",
            "Retroativos e diferenças",
            "Total",
        ],
    )
    by_plan = pd.DataFrame(
        [
            {
                "Plano": plan_names.get(plan_id, str(plan_id)),
                "Beneficiários": int(n_people),
                "Lançamentos": int(n_lines),
                "Total": money(int(total or 0)),
            }
            for plan_id, total, n_people, n_lines in sorted(
                plan_rows, key=lambda r: -int(r[1] or 0)
            )
        ],
        columns=["Plano", "Beneficiários", "Lançamentos", "Total"],
    )
    unknown = ("", "", "", None)
    person_columns = ["Beneficiário", "Carteirinha", "Plano atual", "Meses cobrados", "Total"]
    if centres:
        person_columns.insert(3, "Centro de custo")
    by_beneficiary = pd.DataFrame(
        [
            {
                "Beneficiário": people.get(bid, unknown)[0],
                "Carteirinha": format_card_number(people.get(bid, unknown)[1]),
                "Plano atual": people.get(bid, unknown)[2],
                "Centro de custo": centres.get(people.get(bid, unknown)[3], NO_COST_CENTRE_LABEL),
                "Meses cobrados": int(n_months),
                "Total": money(int(total or 0)),
            }
            for bid, total, n_months, _n_lines in sorted(
                person_rows, key=lambda r: (-int(r[1] or 0), r[0])
            )
        ],
        columns=person_columns,
    )
    by_cost_centre = None
    if centres:
        split: dict[int | None, list[int]] = {}  # cost centre -> people, lines, cents
        for bid, total, _n_months, n_lines in person_rows:
            entry = split.setdefault(people.get(bid, unknown)[3], [0, 0, 0])
            entry[0] += 1
            entry[1] += int(n_lines)
            entry[2] += int(total or 0)
        order: list[int | None] = [*centres, None]
        by_cost_centre = pd.DataFrame(
            [
                {
                    "Centro de custo": centres.get(c or NO_COST_CENTRE, NO_COST_CENTRE_LABEL),
                    "Beneficiários": split[c][0],
                    "Lançamentos": split[c][1],
                    "Total": money(split[c][2]),
                }
                for c in sorted(split, key=lambda c: order.index(c) if c in order else len(order))
            ],
            columns=["Centro de custo", "Beneficiários", "Lançamentos", "Total"],
        )
    total_cents = sum(sum(k.values()) for k in by_kind.values())
    chosen = [plan_names[p] for p in plan_ids or [] if p in plan_names]
    named = {**centres, NO_COST_CENTRE: NO_COST_CENTRE_LABEL}
    chosen_centres = [named[c] for c in cost_centre_ids or [] if c in named]
    return BillingReport(
        start=start,
        end=end,
        plan_filter=", ".join(sorted(chosen)) if chosen else "Todos",
        total=money(total_cents),
        by_month=by_month,
        by_plan=by_plan,
        by_beneficiary=by_beneficiary,
        by_cost_centre=by_cost_centre,
        cost_centre_filter=", ".join(chosen_centres) if chosen_centres else "Todos",
    )


REPORT_VIEWS = {
    "month": ("Por mês", "by_month"),
    "plan": ("Por plano", "by_plan"),
    "beneficiary": ("Por beneficiário", "by_beneficiary"),
    "cost_centre": ("Por centro de custo", "by_cost_centre"),  # only with cost centres
}


def billing_report_download(
    report: BillingReport,
    fmt: str,
    *,
    company_label: str,
    generated_at: datetime,
    view: str = "month",
) -> bytes:
    """The report as xlsx (a sheet per view) or csv (one view), headed by period and filters."""
    heading = [
        ("Relatório de faturamento", company_label),
        (
            "Período (competência)",
            f"{format_month_numeric(report.start)} a {format_month_numeric(report.end)}",
        ),
        ("Planos", report.plan_filter),
        *(
            [("Centros de custo", report.cost_centre_filter)]
            if report.by_cost_centre is not None
            else []
        ),
        ("Total faturado", decimal_comma(report.total)),
        ("Gerado em", format_datetime(generated_at)),  # Brasília time, not UTC
    ]
    order = [view, *[v for v in REPORT_VIEWS if v != view]] if fmt == "csv" else list(REPORT_VIEWS)
    sheets = [
        (REPORT_VIEWS[v][0], getattr(report, REPORT_VIEWS[v][1]))
        for v in order
        if getattr(report, REPORT_VIEWS[v][1]) is not None
    ]
    if fmt == "csv":
        heading.insert(3, ("Visão", REPORT_VIEWS[view][0]))
    return table_download(heading, sheets, fmt, month_columns=["Competência"])
