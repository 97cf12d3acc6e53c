"""Home page: important dates of the contract and the provider network search."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select

from data.models import Company, Invoice, Protocol, Provider
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.movements.ageing import AgeingDependent, ageing_dependents
from services.protocols import STATUS_LABELS
from services.rules.calendar import is_business_day, national_holidays, previous_business_day
from services.rules.retroactive import cutoff_date, next_due_date, retroactive_dates

SOON_DAYS = 10


@dataclass(frozen=True)
class ProtocolDue:
    number: str
    subject: str
    status: str
    deadline: date

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class OverdueItem:
    """An open invoice past its due date, for the link to its update."""

    invoice_id: int
    billing_month: date
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class ImportantDates:
    today: date
    cutoff_day: int
    cutoff: date
    cutoff_passed: bool
    # When the cut-off falls on a weekend or national holiday: the last business day
    # before it, the last day to send movements (None when the cut-off is a business day).
    cutoff_moved_to: date | None
    cutoff_holiday: str | None  # the holiday's name, when the cut-off is one
    next_due: date
    next_open_invoice_due: date | None
    open_invoices: int
    overdue_invoices: int
    retroactive_dates: list[date]
    protocols_due: list[ProtocolDue]
    # Oldest first; only for actors with the finance permission (else empty).
    overdue: list[OverdueItem]
    # Dependents whose eligibility by age ends in the next 60 days (or has ended), earliest
    # first; only for actors who may move beneficiaries or read reports (else empty).
    ageing: list[AgeingDependent] = field(default_factory=list)


def cutoff_deadline(cutoff: date) -> date | None:
    """The last business day before a cut-off that falls on a non-business day.

    The contract's rules (docs/domain/money-and-billing.md, "Months, cut-off and due
    dates") do not say how a cut-off on a weekend or holiday moves. The portal tells
    the company to send its movements by the previous business day: the earlier date,
    so that following the advice never moves a movement to a later invoice, whoever
    processes it (the billing rule itself still compares calendar dates with the
    cut-off day).
    """
    return None if is_business_day(cutoff) else previous_business_day(cutoff)


def important_dates(*, uow: UnitOfWork, actor: Actor, today: date) -> ImportantDates:
    """This month's cut-off (and when it moves), the next due date, the overdue
    invoices, the retroactive dates open today and the protocol deadlines due in the
    next days, and the dependents ageing out, for the company in context."""
    company_id = uow.require_company()
    actor.require(None, company_id)
    ageing: list[AgeingDependent] = []
    if actor.can(Permission.MOVEMENTS) or actor.can(Permission.REPORTS):
        ageing = ageing_dependents(uow=uow, actor=actor, today=today, permission=None)
    with uow:
        company = uow.session.get(Company, company_id)
        assert company is not None
        inv = uow.session.execute(
            select(
                func.min(Invoice.due_date).filter(Invoice.due_date >= today),
                func.count().filter(Invoice.due_date >= today),
                func.count().filter(Invoice.due_date < today),
            ).where(Invoice.company_id == company_id, Invoice.status == "open")
        ).one()
        protocols = uow.session.execute(
            select(Protocol.number, Protocol.subject, Protocol.status, Protocol.deadline)
            .where(
                Protocol.company_id == company_id,
                Protocol.status.in_(("open", "in_analysis")),
                Protocol.deadline <= today + timedelta(days=SOON_DAYS),
            )
            .order_by(Protocol.deadline, Protocol.number)
            .limit(10)
        ).all()
        overdue = []
        if actor.can(Permission.FINANCE):
            overdue = [
                OverdueItem(*row)
                for row in uow.session.execute(
                    select(Invoice.id, Invoice.billing_month, Invoice.due_date, Invoice.amount)
                    .where(
                        Invoice.company_id == company_id,
                        Invoice.status == "open",
                        Invoice.due_date < today,
                    )
                    .order_by(Invoice.billing_month, Invoice.id)
                ).all()
            ]
        cutoff = cutoff_date(today.year, today.month, company.cutoff_day)
        return ImportantDates(
            today=today,
            cutoff_day=company.cutoff_day,
            cutoff=cutoff,
            cutoff_passed=today > cutoff,
            cutoff_moved_to=cutoff_deadline(cutoff),
            cutoff_holiday=national_holidays(cutoff.year).get(cutoff),
            next_due=next_due_date(today, company.due_day),
            next_open_invoice_due=inv[0],
            open_invoices=int(inv[1] or 0),
            overdue_invoices=int(inv[2] or 0),
            retroactive_dates=retroactive_dates(today, company.retroactive_months),
            protocols_due=[ProtocolDue(*row) for row in protocols],
            overdue=overdue,
            ageing=ageing,
        )


@dataclass(frozen=True)
class NetworkOptions:
    states: list[str]
    cities: dict[str, list[str]]
    neighbourhoods: dict[tuple[str, str], list[str]]
    specialties: list[str]


def provider_filter_options(*, uow: UnitOfWork) -> NetworkOptions:
    """The values each network search filter can take."""
    with uow:
        rows = uow.session.execute(
            select(Provider.state, Provider.city, Provider.neighbourhood, Provider.specialties)
        ).all()
    cities: dict[str, set[str]] = {}
    hoods: dict[tuple[str, str], set[str]] = {}
    specialties: set[str] = set()
    for state, city, hood, specs in rows:
        cities.setdefault(state, set()).add(city)
        hoods.setdefault((state, city), set()).add(hood)
        specialties.update(specs or [])
    return NetworkOptions(
        states=sorted(cities),
        cities={k: sorted(v) for k, v in cities.items()},
        neighbourhoods={k: sorted(v) for k, v in hoods.items()},
        specialties=sorted(specialties),
    )


NETWORK_COLUMNS = [
    "Nome",
    "Tipo",
    "CRO",
    "Especialidades",
    "Endereço",
    "Bairro",
    "Cidade",
    "UF",
    "CEP",
    "Telefone",
    "latitude",
    "longitude",
]


def provider_search(
    *,
    uow: UnitOfWork,
    specialty: str | None = None,
    state: str | None = None,
    city: str | None = None,
    neighbourhood: str | None = None,
    name: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Dentists and clinics of the network matching every filter given."""
    query = select(Provider).order_by(Provider.name)
    if state:
        query = query.where(Provider.state == state)
    if city:
        query = query.where(Provider.city == city)
    if neighbourhood:
        query = query.where(Provider.neighbourhood == neighbourhood)
    if name and name.strip():
        query = query.where(func.lower(Provider.name).contains(name.strip().lower()))
    with uow:
        providers = uow.session.scalars(query).all()
        rows = [
            [
                p.name,
                "Clínica" if p.kind == "clinic" else "Dentista",
                f"CRO-{p.cro_state} {p.cro}",
                ", ".join(p.specialties),
                p.street,
                p.neighbourhood,
                p.city,
                p.state,
                f"{p.cep[:5]}-{p.cep[5:]}",
                p.phone or "",
                p.latitude,
                p.longitude,
            ]
            for p in providers
            if not specialty or specialty in (p.specialties or [])
        ][:limit]
    return pd.DataFrame(rows, columns=NETWORK_COLUMNS)
