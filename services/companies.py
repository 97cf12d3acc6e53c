"""Companies the actor may see, and the company in context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from data.models import Company, EconomicGroup, Operator
from data.uow import UnitOfWork
from services.actors import Actor
from services.rules.documents import format_company_document
from services.rules.errors import DomainError


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


@dataclass(frozen=True)
class CompanyContract:
    """The contract settings that drive dates and billing."""

    id: int
    code: str
    name: str
    contract_start: date
    cutoff_day: int
    due_day: int
    retroactive_months: int
    operator_name: str
    operator_ans: str


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


def company_contract(*, uow: UnitOfWork, actor: Actor, company_id: int) -> CompanyContract:
    """The contract settings of a company the actor may see."""
    actor.require(None, company_id)
    with uow:
        row = uow.session.execute(
            select(Company, Operator)
            .join(Operator, Company.operator_id == Operator.id)
            .where(Company.id == company_id)
        ).one_or_none()
        if row is None:
            raise DomainError("Empresa não encontrada.")
        c, op = row
        return CompanyContract(
            c.id, c.code, c.name, c.contract_start, c.cutoff_day, c.due_day,
            c.retroactive_months, op.name, op.ans_registration,
        )
