"""Companies the actor may see, and the company in context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select

from data.models import (
    Beneficiary,
    Company,
    ContractedPlan,
    EconomicGroup,
    Plan,
)
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record, audited_set
from services.billing.prices import contract_tables_on
from services.rules.documents import format_company_document
from services.rules.errors import DomainError
from services.rules.registration import CONTACT_FIELDS, clean_company_contact
from services.rules.waiting import clean_waiting_days, contract_waiting_days


@dataclass(frozen=True)
class CompanySummary:
    id: int
    code: str
    name: str
    document: str
    document_type: str
    group_name: str | None

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def document_formatted(self) -> str:
        return format_company_document(self.document, self.document_type)


def company_list_for_actor(*, uow: UnitOfWork, actor: Actor) -> list[CompanySummary]:
    """The companies the actor may switch to, ordered by code."""
    if not actor.company_ids:
        return []
    with uow:
        rows = uow.session.execute(
            select(Company, EconomicGroup.name)
            .outerjoin(EconomicGroup, Company.group_id == EconomicGroup.id)
            .where(Company.id.in_(actor.company_ids))
            .order_by(Company.code)
        ).all()
        return [
            CompanySummary(c.id, c.code, c.name, c.document, c.document_type, group)
            for c, group in rows
        ]


# ---------------------------------------------------------------- company data ("Meus dados")


@dataclass(frozen=True)
class CompanyDetails:
    """What "Meus dados" shows: registration (read-only) and contact data (editable)."""

    id: int
    code: str
    name: str
    trade_name: str | None
    document: str
    document_type: str
    group_name: str | None
    contract_start: date
    status: str
    cutoff_day: int
    due_day: int
    contact: dict[str, str | None]
    can_edit: bool
    # The contract's waiting periods (carência): days per procedure group, its own or the
    # defaults (services/rules/waiting.py); only the account manager changes them.
    waiting_days: dict[str, int] = field(default_factory=dict)
    waiting_default: bool = True
    can_edit_waiting: bool = False

    @property
    def document_formatted(self) -> str:
        return format_company_document(self.document, self.document_type)


def _contact_of(company: Company) -> dict[str, str | None]:
    return {key: getattr(company, key) for key in CONTACT_FIELDS}


def company_details(*, uow: UnitOfWork, actor: Actor) -> CompanyDetails:
    """Registration and contact data of the company in context (`uow.for_company(id)`),
    which the actor must be allowed to see."""
    company_id = uow.require_company()
    actor.require(None, company_id)
    with uow:
        row = uow.session.execute(
            select(Company, EconomicGroup.name)
            .outerjoin(EconomicGroup, Company.group_id == EconomicGroup.id)
            .where(Company.id == company_id)
        ).one_or_none()
        if row is None:
            raise DomainError("Empresa não encontrada.")
        c, group = row
        return CompanyDetails(
            id=c.id,
            code=c.code,
            name=c.name,
            trade_name=c.trade_name,
            document=c.document,
            document_type=c.document_type,
            group_name=group,
            contract_start=c.contract_start,
            status=c.status,
            cutoff_day=c.cutoff_day,
            due_day=c.due_day,
            contact=_contact_of(c),
            can_edit=actor.can(Permission.USER_ADMIN),
            waiting_days=contract_waiting_days(c.waiting_periods),
            waiting_default=c.waiting_periods is None,
            can_edit_waiting=actor.is_account_manager,
        )


def company_contact_update(
    *,
    uow: UnitOfWork,
    actor: Actor,
    values: Mapping[str, object],
    now: datetime,
) -> dict[str, tuple[str | None, str | None]]:
    """Change the address, phone and contact of the company in context; returns what
    changed (before, after).

    Only masters, account managers and users with the administration permission; the
    document, code and name are not changed here (that is a request to the operator).
    """
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise DomainError(
            "Documento, código e razão social não são alterados aqui: abra um protocolo "
            "de alteração cadastral."
        )
    clean = clean_company_contact(values)
    with uow:
        company = uow.session.get(Company, company_id, with_for_update=True)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        before = _contact_of(company)
        changed = {k: (before[k], clean[k]) for k in CONTACT_FIELDS if before[k] != clean[k]}
        if not changed:
            return {}
        for key, (_, new) in changed.items():
            setattr(company, key, new)
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=company_id,
            action="company_contact_update",
            entity="company",
            entity_id=company_id,
            before={k: old for k, (old, _) in changed.items()},
            after={k: new for k, (_, new) in changed.items()},
            now=now,
        )
        uow.commit()
        return changed


def company_waiting_periods_update(
    *,
    uow: UnitOfWork,
    actor: Actor,
    days: Mapping[str, object] | None,
    now: datetime,
) -> dict[str, tuple[int | None, int | None]]:
    """Set the waiting periods of the contract in context (procedure group -> days, within
    the legal maxima), or go back to the defaults with `days` None; returns what changed per group
    (before, after). Account managers only. Inclusions from now on use them; periods
    already computed for beneficiaries stay as they were."""
    company_id = uow.require_company()
    actor.require(None, company_id)
    if not actor.is_account_manager:
        raise DomainError("Só o gestor de contas altera os prazos de carência do contrato.")
    clean = None if days is None else clean_waiting_days(days)
    with uow:
        company = uow.session.get(Company, company_id, with_for_update=True)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        before = contract_waiting_days(company.waiting_periods)
        after = contract_waiting_days(clean)
        changed = {
            g: (before.get(g), after.get(g))
            for g in dict.fromkeys([*before, *after])
            if before.get(g) != after.get(g)
        }
        if not changed:
            return {}
        audited_set(
            uow.session,
            company,
            field="waiting_periods",
            value=clean,
            action="company_waiting_periods_update",
            user_id=actor.user_id,
            now=now,
        )
        uow.commit()
        return changed


# ---------------------------------------------------------------- contracted plans


@dataclass(frozen=True)
class PriceBandView:
    band: int
    min_age: int
    max_age: int | None
    price: Decimal

    @property
    def label(self) -> str:
        return (
            f"{self.min_age} anos ou mais"
            if self.max_age is None
            else (f"{self.min_age} a {self.max_age} anos")
        )


@dataclass(frozen=True)
class ContractedPlanView:
    plan_id: int
    code: str
    name: str
    ans_registration: str
    segment: str
    coverage_groups: list[str]
    general_conditions: str
    start_date: date
    end_date: date | None
    price_valid_from: date | None
    bands: list[PriceBandView]
    active_beneficiaries: int
    price_kind: str = "bands"  # "single": one price for every age, no band to show

    @property
    def single_price(self) -> bool:
        return self.price_kind == "single"


def company_plans(*, uow: UnitOfWork, actor: Actor, today: date) -> list[ContractedPlanView]:
    """The plans the company in context contracts, each with the contract's price table in
    force today (by age band or single price) and how many of the company's beneficiaries
    are active in it today."""
    company_id = uow.require_company()
    actor.require(None, company_id)
    with uow:
        session = uow.session
        contracted = session.execute(
            select(ContractedPlan, Plan)
            .join(Plan, ContractedPlan.plan_id == Plan.id)
            .where(ContractedPlan.company_id == company_id)
            .order_by(Plan.code, ContractedPlan.start_date)
        ).all()
        plan_ids = [p.id for _, p in contracted]
        counts: dict[int, int] = {
            plan_id: n
            for plan_id, n in session.execute(
                select(Beneficiary.plan_id, func.count())
                .where(
                    Beneficiary.company_id == company_id,
                    Beneficiary.plan_id.in_(plan_ids),
                    Beneficiary.effective_date <= today,
                    or_(Beneficiary.exclusion_date.is_(None), Beneficiary.exclusion_date > today),
                )
                .group_by(Beneficiary.plan_id)
            )
        }
        # The contract's own table (prices belong to the contract), not the plan's.
        tables = contract_tables_on(session, company_id, today)
        out: list[ContractedPlanView] = []
        for cp, plan in contracted:
            table = tables.get(plan.id)
            bands = (
                [
                    PriceBandView(b.band, b.min_age, b.max_age, b.price)
                    for b in sorted(table.bands, key=lambda b: b.band)
                ]
                if table is not None
                else []
            )
            out.append(
                ContractedPlanView(
                    plan_id=plan.id,
                    code=plan.code,
                    name=plan.name,
                    ans_registration=plan.ans_registration,
                    segment=plan.segment,
                    coverage_groups=list(plan.coverage_groups or []),
                    general_conditions=plan.general_conditions,
                    start_date=cp.start_date,
                    end_date=cp.end_date,
                    price_valid_from=table.valid_from if table is not None else None,
                    price_kind=table.kind if table is not None else "bands",
                    bands=bands,
                    active_beneficiaries=int(counts.get(plan.id, 0)),
                )
            )
        return out
