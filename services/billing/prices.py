"""Price tables of the contract: history, new tables, yearly readjustment, band change.

Prices belong to each contracted plan (`PriceTable.contracted_plan_id`); the plan's own
tables (`contracted_plan_id` NULL) are the operator's reference prices, copied to a new
contract (`copy_reference_tables`). Billing charges the contract's table valid on the
first day of each month (services/billing reads the tables directly). Every table keeps
its validity: a new one closes the previous open table on the day before it starts.

Lives, for the pool of small contracts (RN 565/2022), are counted from the coverage
periods open on the first day of the readjustment month (services/movements/coverage.py), by
company: the people covered there that day, whatever their plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from data.models import BAND_CHANGE_RULES, Company, ContractedPlan, CoveragePeriod, Plan, PriceBand
from data.models import PriceTable as PriceTableRow
from data.uow import UnitOfWork, across_companies
from services.actors import Actor
from services.audit import audit_record, audited_set
from services.rules.billing import month_start
from services.rules.errors import DomainError, problems_joined
from services.rules.prices import (
    BAND_CHANGE_LABELS,
    BANDS,
    CENT,
    SINGLE,
    band_rows,
    check_anniversary,
    check_pct,
    check_table,
    in_pool,
    readjusted_prices,
)

MANAGERS_ONLY = "Só o gestor de contas mantém as tabelas de preço e o reajuste dos contratos."


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class PriceTableView:
    """One table of a contracted plan: its kind, validity and prices (10, or 1 if single)."""

    id: int
    kind: str
    valid_from: date
    valid_to: date | None
    prices: tuple[Decimal, ...]
    readjustment_pct: Decimal | None
    pooled: bool

    @property
    def single(self) -> bool:
        return self.kind == SINGLE

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


@dataclass(frozen=True)
class ContractedPlanPrices:
    """A contracted plan with every table it has had, newest first, and today's."""

    contracted_plan_id: int
    plan_id: int
    plan_code: str
    plan_name: str
    start_date: date
    end_date: date | None
    tables: tuple[PriceTableView, ...]
    current: PriceTableView | None

    @property
    def label(self) -> str:
        return f"{self.plan_code} · {self.plan_name}"


@dataclass(frozen=True)
class CompanyPrices:
    """A contract's price settings: anniversary, band change rule, lives and plans."""

    company_id: int
    code: str
    name: str
    contract_start: date
    band_change: str
    lives: int
    plans: tuple[ContractedPlanPrices, ...]

    @property
    def anniversary_month(self) -> int:
        return self.contract_start.month

    @property
    def pooled(self) -> bool:
        return in_pool(self.lives)

    @property
    def band_change_label(self) -> str:
        return BAND_CHANGE_LABELS[self.band_change]


@dataclass(frozen=True)
class ReadjustedContract:
    company_id: int
    code: str
    name: str
    lives: int
    tables: tuple[PriceTableView, ...]


@dataclass(frozen=True)
class PoolResult:
    """The pool's readjustment: contracts readjusted and those left out, with why."""

    month: date
    pct: Decimal
    readjusted: tuple[ReadjustedContract, ...]
    skipped: tuple[tuple[str, str], ...]  # (company label, reason)


def _view(table: PriceTableRow) -> PriceTableView:
    return PriceTableView(
        id=table.id,
        kind=table.kind,
        valid_from=table.valid_from,
        valid_to=table.valid_to,
        prices=tuple(b.price for b in sorted(table.bands, key=lambda b: b.band)),
        readjustment_pct=table.readjustment_pct,
        pooled=bool(table.pooled),
    )


# ---------------------------------------------------------------- shared steps


def _require_manager(actor: Actor, company_id: int) -> None:
    if not actor.is_account_manager:
        raise DomainError(MANAGERS_ONLY)
    actor.require(None, company_id)


def lives_on(session: Session, company_ids: Sequence[int], day: date) -> dict[int, int]:
    """People covered on ``day`` by company (coverage periods open that day)."""
    if not company_ids:
        return {}
    cp = CoveragePeriod
    rows = session.execute(
        select(cp.company_id, func.count(distinct(cp.beneficiary_id)))
        .where(
            cp.company_id.in_(list(company_ids)),
            cp.start_date <= day,
            or_(cp.end_date.is_(None), cp.end_date > day),
        )
        .group_by(cp.company_id)
    ).all()
    counts = {int(c): int(n) for c, n in rows}
    return {c: counts.get(c, 0) for c in company_ids}


def contract_tables_on(session: Session, company_id: int, day: date) -> dict[int, PriceTableRow]:
    """The contract's table in force on ``day`` for each contracted plan, by plan id (the
    latest start wins if two overlap)."""
    rows = session.scalars(
        select(PriceTableRow)
        .join(ContractedPlan, PriceTableRow.contracted_plan_id == ContractedPlan.id)
        .where(
            ContractedPlan.company_id == company_id,
            PriceTableRow.valid_from <= day,
            or_(PriceTableRow.valid_to.is_(None), PriceTableRow.valid_to >= day),
        )
        .order_by(PriceTableRow.valid_from, PriceTableRow.id)
    )
    return {t.plan_id: t for t in rows}


def _new_table(
    session: Session,
    cp: ContractedPlan,
    *,
    kind: str,
    prices: Sequence[Decimal],
    valid_from: date,
    readjustment_pct: Decimal | None = None,
    pooled: bool = False,
) -> tuple[PriceTableRow, dict[str, object] | None]:
    """Add a table to ``cp`` from ``valid_from`` and close the previous open one the day
    before; refuse a table not later than every table the plan already has. Returns the
    row and what the previous table was (for the audit)."""
    if any(not Decimal(p).is_finite() or Decimal(p) != Decimal(p).quantize(CENT) for p in prices):
        raise DomainError("Informe os preços em reais com até duas casas decimais.", "prices")
    prices = [Decimal(p).quantize(CENT) for p in prices]
    problems = check_table(kind, prices)
    if problems:
        raise DomainError(problems_joined(problems), "prices")
    tables = list(
        session.scalars(
            select(PriceTableRow)
            .where(PriceTableRow.contracted_plan_id == cp.id)
            .order_by(PriceTableRow.valid_from)
        )
    )
    later = [t for t in tables if t.valid_from >= valid_from]
    if later:
        raise DomainError(
            f"O plano {cp.plan.code} deste contrato já tem tabela a partir de "
            f"{later[0].valid_from:%d/%m/%Y}: uma nova tabela deve começar depois da última.",
            "valid_from",
        )
    before: dict[str, object] | None = None
    previous = tables[-1] if tables else None
    if previous is not None and (previous.valid_to is None or previous.valid_to >= valid_from):
        before = {"previous_table_id": previous.id, "previous_valid_to": previous.valid_to}
        previous.valid_to = valid_from - timedelta(days=1)
    table = PriceTableRow(
        plan_id=cp.plan_id,
        contracted_plan_id=cp.id,
        kind=kind,
        valid_from=valid_from,
        valid_to=None,
        readjustment_pct=readjustment_pct,
        pooled=pooled,
    )
    table.bands = [
        PriceBand(band=band, min_age=lo, max_age=hi, price=price)
        for (band, lo, hi), price in zip(band_rows(kind), prices, strict=True)
    ]
    session.add(table)
    session.flush()
    return table, before


def _audit_table(
    session: Session,
    actor: Actor,
    cp: ContractedPlan,
    table: PriceTableRow,
    before: dict[str, object] | None,
    action: str,
    now: datetime,
) -> None:
    audit_record(
        session,
        user_id=actor.user_id,
        company_id=cp.company_id,
        action=action,
        entity="price_table",
        entity_id=table.id,
        before=before,
        after={
            "contracted_plan_id": cp.id,
            "plan": cp.plan.code,
            "kind": table.kind,
            "valid_from": table.valid_from,
            "prices": [b.price for b in table.bands],
            "readjustment_pct": table.readjustment_pct,
            "pooled": table.pooled,
        },
        now=now,
    )


def copy_reference_tables(session: Session, contracted_plan: ContractedPlan) -> int:
    """Give a new contracted plan a copy of its plan's reference tables (the operator's
    prices, `contracted_plan_id` NULL) that are in force on or after the contract's start,
    with their validity; returns how many were copied. Call it where a contracted plan is
    created, in the caller's transaction (the caller audits the contract)."""
    session.flush()  # the contracted plan's id
    start = month_start(contracted_plan.start_date)
    references = session.scalars(
        select(PriceTableRow)
        .where(
            PriceTableRow.plan_id == contracted_plan.plan_id,
            PriceTableRow.contracted_plan_id.is_(None),
            or_(PriceTableRow.valid_to.is_(None), PriceTableRow.valid_to >= start),
        )
        .order_by(PriceTableRow.valid_from)
    ).all()
    for ref in references:
        copy = PriceTableRow(
            plan_id=ref.plan_id,
            contracted_plan_id=contracted_plan.id,
            kind=ref.kind,
            valid_from=ref.valid_from,
            valid_to=ref.valid_to,
        )
        copy.bands = [
            PriceBand(band=b.band, min_age=b.min_age, max_age=b.max_age, price=b.price)
            for b in ref.bands
        ]
        session.add(copy)
    session.flush()
    return len(references)


# ---------------------------------------------------------------- reads


def price_tables_list(*, uow: UnitOfWork, actor: Actor, today: date) -> CompanyPrices:
    """The contract's plans, each with its table history and the table in force today."""
    company_id = uow.require_company()
    _require_manager(actor, company_id)
    with uow:
        session = uow.session
        company = session.get(Company, company_id)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        contracted = session.execute(
            select(ContractedPlan, Plan)
            .join(Plan, ContractedPlan.plan_id == Plan.id)
            .where(ContractedPlan.company_id == company_id)
            .order_by(Plan.code)
        ).all()
        by_cp: dict[int, list[PriceTableView]] = {cp.id: [] for cp, _ in contracted}
        for table in session.scalars(
            select(PriceTableRow)
            .where(PriceTableRow.contracted_plan_id.in_(list(by_cp)))
            .order_by(PriceTableRow.valid_from.desc(), PriceTableRow.id.desc())
        ):
            assert table.contracted_plan_id is not None
            by_cp[table.contracted_plan_id].append(_view(table))
        plans = tuple(
            ContractedPlanPrices(
                contracted_plan_id=cp.id,
                plan_id=plan.id,
                plan_code=plan.code,
                plan_name=plan.name,
                start_date=cp.start_date,
                end_date=cp.end_date,
                tables=tuple(by_cp[cp.id]),
                current=next((t for t in by_cp[cp.id] if t.in_force(today)), None),
            )
            for cp, plan in contracted
        )
        return CompanyPrices(
            company_id=company.id,
            code=company.code,
            name=company.name,
            contract_start=company.contract_start,
            band_change=company.band_change,
            lives=lives_on(session, [company_id], today)[company_id],
            plans=plans,
        )


# ---------------------------------------------------------------- writes


def price_table_save(
    *,
    uow: UnitOfWork,
    actor: Actor,
    contracted_plan_id: int,
    kind: str,
    prices: Sequence[Decimal],
    valid_from: date,
    now: datetime,
) -> PriceTableView:
    """Give a contracted plan a new price table from ``valid_from`` (first day of a month),
    after checking it (RN 63/2003 for a table by age band); the previous table ends the
    day before."""
    company_id = uow.require_company()
    _require_manager(actor, company_id)
    if kind not in (BANDS, SINGLE):
        raise DomainError("Escolha o tipo da tabela: por faixa etária ou preço único.", "kind")
    if valid_from.day != 1:
        raise DomainError("A tabela vale a partir do primeiro dia de um mês.", "valid_from")
    with uow:
        session = uow.session
        cp = session.get(ContractedPlan, contracted_plan_id, with_for_update=True)
        if cp is None or cp.company_id != company_id:
            raise DomainError("Plano contratado não encontrado nesta empresa.", "plan")
        if valid_from < month_start(cp.start_date):
            raise DomainError(
                f"A tabela não pode começar antes do início do plano no contrato "
                f"({cp.start_date:%d/%m/%Y}).",
                "valid_from",
            )
        table, before = _new_table(
            session, cp, kind=kind, prices=[Decimal(p) for p in prices], valid_from=valid_from
        )
        _audit_table(session, actor, cp, table, before, "price_table_save", now)
        view = _view(table)
        uow.commit()
        return view


def _readjust(
    session: Session,
    actor: Actor,
    company: Company,
    pct: Decimal,
    month: date,
    pooled: bool,
    now: datetime,
) -> list[PriceTableView]:
    """Readjust every plan the contract holds in ``month`` (refusing if any cannot be)."""
    check_anniversary(company.contract_start, month)
    plans = session.scalars(
        select(ContractedPlan)
        .where(
            ContractedPlan.company_id == company.id,
            ContractedPlan.start_date < month,
            or_(ContractedPlan.end_date.is_(None), ContractedPlan.end_date >= month),
        )
        .order_by(ContractedPlan.plan_id)
        .with_for_update()
    ).all()
    if not plans:
        raise DomainError(f"O contrato {company.code} não tem planos vigentes em {month:%m/%Y}.")
    current = contract_tables_on(session, company.id, month)
    out: list[PriceTableView] = []
    for cp in plans:
        table = current.get(cp.plan_id)
        if table is None:
            raise DomainError(
                f"O plano {cp.plan.code} do contrato {company.code} não tem tabela vigente em "
                f"{month:%d/%m/%Y}: cadastre a tabela antes de reajustar."
            )
        if table.valid_from == month:
            raise DomainError(
                f"O plano {cp.plan.code} do contrato {company.code} já tem tabela a partir de "
                f"{month:%m/%Y}: o reajuste deste aniversário já foi aplicado.",
                "month",
            )
        old = [b.price for b in sorted(table.bands, key=lambda b: b.band)]
        new, before = _new_table(
            session,
            cp,
            kind=table.kind,
            prices=readjusted_prices(old, pct),
            valid_from=month,
            readjustment_pct=pct,
            pooled=pooled,
        )
        _audit_table(
            session,
            actor,
            cp,
            new,
            {**(before or {}), "prices": old},
            "price_table_readjust_pool" if pooled else "price_table_readjust",
            now,
        )
        out.append(_view(new))
    return out


def readjust_contract(
    *,
    uow: UnitOfWork,
    actor: Actor,
    pct: Decimal,
    month: date,
    now: datetime,
) -> ReadjustedContract:
    """Readjust the contract's tables (all its plans) by ``pct`` from ``month``, which must
    be its anniversary month. A contract with fewer than 30 lives that day is refused: it
    takes the pool's common percentage (RN 565/2022, `readjust_pool`)."""
    company_id = uow.require_company()
    _require_manager(actor, company_id)
    pct = check_pct(pct)
    with uow:
        session = uow.session
        company = session.get(Company, company_id, with_for_update=True)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        check_anniversary(company.contract_start, month)
        lives = lives_on(session, [company_id], month)[company_id]
        if in_pool(lives):
            raise DomainError(
                f"O contrato {company.code} tem {lives} vida(s) em {month:%d/%m/%Y}, menos de "
                "30: recebe o percentual único do agrupamento de contratos (RN 565/2022). "
                "Use o reajuste do agrupamento.",
                "pct",
            )
        tables = _readjust(session, actor, company, pct, month, False, now)
        result = ReadjustedContract(company.id, company.code, company.name, lives, tuple(tables))
        uow.commit()
        return result


def readjust_pool(
    *, uow: UnitOfWork, actor: Actor, pct: Decimal, month: date, now: datetime
) -> PoolResult:
    """Readjust by one common ``pct`` every contract of the actor's portfolio with fewer
    than 30 lives on the first day of ``month`` whose anniversary is that month (RN
    565/2022). A contract that cannot be readjusted (already readjusted, no table) is
    left out with the reason; the others are written."""
    if not actor.is_account_manager:
        raise DomainError(MANAGERS_ONLY)
    pct = check_pct(pct)
    if month.day != 1:
        raise DomainError("O reajuste vale a partir do primeiro dia do mês.", "month")
    # The whole portfolio, on purpose, whatever company the unit of work has in context.
    with uow, across_companies(uow.session):
        session = uow.session
        companies = session.scalars(
            select(Company)
            .where(
                Company.id.in_(sorted(actor.company_ids)),
                Company.status == "active",
                Company.contract_start < month,
            )
            .order_by(Company.code)
        ).all()
        due = [c for c in companies if c.contract_start.month == month.month]
        lives = lives_on(session, [c.id for c in due], month)
        pool = [c for c in due if in_pool(lives[c.id])]
        if not pool:
            raise DomainError(
                f"Nenhum contrato da sua carteira com menos de 30 vidas faz aniversário em "
                f"{month:%m/%Y}.",
                "month",
            )
        done: list[ReadjustedContract] = []
        skipped: list[tuple[str, str]] = []
        for company in pool:
            actor.require(None, company.id)
            savepoint = session.begin_nested()
            try:
                tables = _readjust(session, actor, company, pct, month, True, now)
            except DomainError as refused:
                savepoint.rollback()
                skipped.append((f"{company.code} · {company.name}", refused.message))
                continue
            savepoint.commit()
            done.append(
                ReadjustedContract(
                    company.id, company.code, company.name, lives[company.id], tuple(tables)
                )
            )
        uow.commit()
        return PoolResult(month, pct, tuple(done), tuple(skipped))


def band_change_set(*, uow: UnitOfWork, actor: Actor, rule: str, now: datetime) -> str:
    """Set when the contract's age band changes: the month after the birthday (default)
    or the birthday's month. Returns the rule now in force."""
    company_id = uow.require_company()
    _require_manager(actor, company_id)
    if rule not in BAND_CHANGE_RULES:
        raise DomainError("Escolha quando muda a faixa etária.", "band_change")
    with uow:
        company = uow.session.get(Company, company_id, with_for_update=True)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        if company.band_change == rule:
            return rule
        audited_set(
            uow.session,
            company,
            field="band_change",
            value=rule,
            action="company_band_change",
            user_id=actor.user_id,
            now=now,
        )
        uow.commit()
        return rule
