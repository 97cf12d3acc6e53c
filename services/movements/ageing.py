"""Dependents who age out of the contract: who, when, and the one-click exclusion.

The date comes from the pure rule (`services.rules.ageing.eligibility_end`) on the
company's eligibility table. One query reads the company's active dependents (only the
columns the rule needs); a dependent whose exclusion is already scheduled is left out.
The exclusion itself is the ordinary movement entry (`movement_apply` with an
`ExclusionRequest`): same checks, protocol, movement and audit record as the individual
form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from data.models import Beneficiary, Company, Movement, Plan
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.movements.service import ExclusionRequest, MovementResult, movement_apply
from services.numbering import local_date
from services.rules.ageing import (
    AGEING_NOTICE_DAYS,
    AGEING_REASON,
    age_limit,
    eligibility_end,
    exclusion_date_for,
)
from services.rules.card_numbers import format_card_number
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.movements import MAX_FUTURE_DAYS

AGEING_COLUMNS = [
    "Nome",
    "Carteirinha",
    "Parentesco",
    "Estudante",
    "Idade limite",
    "Titular",
    "Plano",
    "Fim da elegibilidade",
    "Exclusão em",
]


@dataclass(frozen=True)
class AgeingDependent:
    """An active dependent and the first day they are no longer eligible by age."""

    beneficiary_id: int
    name: str
    card_number: str
    relationship_code: int
    is_student: bool
    age_limit: int
    holder_name: str
    plan_name: str
    eligibility_end: date
    exclusion_date: date  # the end, or today when it has passed (never retroactive)
    passed: bool  # the end is today or earlier: already not eligible
    can_schedule: bool  # within the furthest date an exclusion may be given

    @property
    def card_formatted(self) -> str:
        return format_card_number(self.card_number)

    @property
    def relationship_label(self) -> str:
        return Relationship(self.relationship_code).label


def ageing_dependents(
    *,
    uow: UnitOfWork,
    actor: Actor,
    today: date,
    start: date | None = None,
    end: date | None = None,
    include_passed: bool = True,
    permission: Permission | None = Permission.REPORTS,
) -> list[AgeingDependent]:
    """Active dependents of the company in context whose eligibility ends between
    `start` and `end` (inclusive; default today to today + 60 days), plus, with
    `include_passed`, those whose eligibility has already ended. Earliest first."""
    actor.require(permission, uow.company_id)
    start = start or today
    end = end or today + timedelta(days=AGEING_NOTICE_DAYS)
    if start > end:
        raise DomainError("A data inicial deve ser anterior ou igual à final.", "period")
    holder = aliased(Beneficiary)
    scheduled = exists().where(
        and_(
            Movement.beneficiary_id == Beneficiary.id,
            Movement.kind == "exclusion",
            Movement.state == "scheduled",
        )
    )
    with uow:
        company = uow.session.get(Company, uow.company_id)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        table = company.eligibility or {}
        limits = [
            limit
            for rel in Relationship
            if (limit := age_limit(rel.value, False, table)) is not None
        ]
        if not limits:
            return []
        # Nobody born after this year reaches the lowest limit by `end` (a student's
        # limit is never below it): the query reads only who may age out.
        born_by = date(end.year - min(limits) - 1, 12, 31)
        rows = uow.session.execute(
            select(
                Beneficiary.id,
                Beneficiary.name,
                Beneficiary.card_number,
                Beneficiary.relationship_code,
                Beneficiary.is_student,
                Beneficiary.birth_date,
                holder.name,
                Plan.name,
            )
            .join(holder, holder.id == Beneficiary.holder_id)
            .join(Plan, Plan.id == Beneficiary.plan_id)
            .where(
                Beneficiary.company_id == company.id,
                Beneficiary.status == "active",
                Beneficiary.relationship_code != Relationship.HOLDER.value,
                Beneficiary.birth_date <= born_by,
                ~scheduled,
            )
        ).all()
    latest = today + timedelta(days=MAX_FUTURE_DAYS)
    found = []
    for bid, name, card, rel, student, birth, holder_name, plan_name in rows:
        stop = eligibility_end(birth, rel, bool(student), table)
        if stop is None:
            continue
        passed = stop <= today
        if not (start <= stop <= end or (include_passed and passed)):
            continue
        when = exclusion_date_for(stop, today)
        found.append(
            AgeingDependent(
                beneficiary_id=bid,
                name=name,
                card_number=card,
                relationship_code=rel,
                is_student=bool(student),
                age_limit=age_limit(rel, bool(student), table) or 0,
                holder_name=holder_name,
                plan_name=plan_name,
                eligibility_end=stop,
                exclusion_date=when,
                passed=passed,
                can_schedule=when <= latest,
            )
        )
    found.sort(key=lambda d: (d.eligibility_end, d.name, d.beneficiary_id))
    return found


def ageing_table(rows: list[AgeingDependent]) -> pd.DataFrame:
    """The report's rows, for the screen and the download."""
    return pd.DataFrame(
        [
            [
                d.name,
                d.card_formatted,
                d.relationship_label,
                d.is_student,
                d.age_limit,
                d.holder_name,
                d.plan_name,
                d.eligibility_end,
                d.exclusion_date,
            ]
            for d in rows
        ],
        columns=AGEING_COLUMNS,
    )


def exclude_aged_out(
    *, uow: UnitOfWork, actor: Actor, beneficiary_id: int, now: datetime
) -> MovementResult:
    """Exclude one dependent for loss of eligibility, effective on their eligibility end
    (today if it has passed), through the ordinary exclusion service."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    today = local_date(now)
    with uow:
        company = uow.session.get(Company, uow.company_id)
        b = uow.session.get(Beneficiary, beneficiary_id)
        if company is None or b is None or b.company_id != company.id:
            raise DomainError("Beneficiário não encontrado nesta empresa.")
        if b.relationship_code == Relationship.HOLDER.value:
            raise DomainError("Só dependentes perdem a elegibilidade por idade.")
        stop = eligibility_end(
            b.birth_date, b.relationship_code, bool(b.is_student), company.eligibility or {}
        )
        card = b.card_number
        name = b.name
    if stop is None:
        raise DomainError(f"{name} não tem limite de idade no contrato.")
    when = exclusion_date_for(stop, today)
    if when > today + timedelta(days=MAX_FUTURE_DAYS):
        raise DomainError(
            f"A elegibilidade de {name} termina em {stop:%d/%m/%Y}: a exclusão pode ser "
            f"informada a partir de {stop - timedelta(days=MAX_FUTURE_DAYS):%d/%m/%Y}."
        )
    return movement_apply(
        uow=uow,
        actor=actor,
        request=ExclusionRequest(card_number=card, reason=AGEING_REASON, effective_date=when),
        now=now,
    )
