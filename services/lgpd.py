"""LGPD: the record of who saw a beneficiary's personal data, and the data subject's
access request ("tudo o que a operadora guarda sobre mim", Lei 13.709/2018, art. 18, II).

The account manager answers access requests: `beneficiary_dossier` gathers everything
held about one beneficiary (registration, links, movements with before/after, protocols,
invoice lines, utilization, audit records, the record of accesses) and is itself
recorded as an access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    Movement,
    PersonalDataAccess,
    Plan,
    Protocol,
    User,
    UtilizationEvent,
)
from data.uow import UnitOfWork
from services.actors import Actor, Role
from services.rules.documents import only_digits
from services.rules.errors import DomainError
from services.rules.formats import format_card, format_cpf

REPEAT_WINDOW = timedelta(minutes=10)
PURPOSE_LABELS = {
    "consulta": "Consulta do cadastro",
    "listagem": "Relatório com dados pessoais",
    "exportacao": "Exportação com dados pessoais",
    "lgpd": "Atendimento ao titular (LGPD)",
}


def personal_data_access_record(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    beneficiary_id: int | None,
    purpose: str,
    detail: str,
    now: datetime,
) -> None:
    """Add to the caller's transaction that `actor` saw personal data.

    A screen is redrawn at every click: the same user seeing the same beneficiary for
    the same purpose within `REPEAT_WINDOW` is one access, recorded once."""
    if beneficiary_id is not None:
        recent = session.scalar(
            select(PersonalDataAccess.id)
            .where(
                PersonalDataAccess.user_id == actor.user_id,
                PersonalDataAccess.beneficiary_id == beneficiary_id,
                PersonalDataAccess.purpose == purpose,
                PersonalDataAccess.at > now - REPEAT_WINDOW,
            )
            .limit(1)
        )
        if recent is not None:
            return
    session.add(
        PersonalDataAccess(
            at=now,
            user_id=actor.user_id,
            company_id=company_id,
            beneficiary_id=beneficiary_id,
            purpose=purpose,
            detail=detail[:200],
        )
    )


def personal_data_listing_record(
    *, uow: UnitOfWork, actor: Actor, purpose: str, detail: str, now: datetime
) -> None:
    """Record a listing or export of many beneficiaries with personal data (own transaction)."""
    company_id = uow.require_company()
    actor.require(None, company_id)
    with uow:
        personal_data_access_record(
            uow.session,
            actor=actor,
            company_id=company_id,
            beneficiary_id=None,
            purpose=purpose,
            detail=detail,
            now=now,
        )
        uow.commit()


# ---------------------------------------------------------------- access request


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    user_code: str | None
    user_name: str | None
    purpose: str
    detail: str
    direct: bool  # this beneficiary alone (False: a listing of the company)

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS.get(self.purpose, self.purpose)


@dataclass(frozen=True)
class Dossier:
    """Everything the portal holds about one beneficiary, section by section."""

    beneficiary_id: int
    name: str
    card_number: str
    company_label: str
    generated_at: datetime
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    accesses: list[AccessEntry] = field(default_factory=list)


def _require_manager(actor: Actor, company_id: int) -> None:
    actor.require(None, company_id)
    if actor.role is not Role.ACCOUNT_MANAGER:
        raise DomainError(
            "O atendimento de pedidos do titular (LGPD) é feito pelo gestor de contas."
        )


def _find(session: Session, company_id: int, term: str) -> Beneficiary:
    digits = only_digits(term or "")
    if len(digits) not in (11, 16):
        raise DomainError(
            "Informe o CPF (11 dígitos) ou o número da carteirinha (16 dígitos) do beneficiário.",
            "term",
        )
    column = Beneficiary.cpf if len(digits) == 11 else Beneficiary.card_number
    found = session.scalars(
        select(Beneficiary)
        .where(Beneficiary.company_id == company_id, column == digits)
        .order_by(Beneficiary.id)
    ).all()
    if not found:
        raise DomainError("Nenhum beneficiário desta empresa com este CPF ou carteirinha.", "term")
    return found[0]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, columns: Sequence[str]) -> dict[str, Any]:
    return {c: _plain(getattr(obj, c)) for c in columns}


PERSON_COLUMNS = (
    "card_number",
    "name",
    "cpf",
    "cns",
    "birth_date",
    "sex",
    "mother_name",
    "marital_status",
    "is_student",
    "email",
    "phone",
    "cep",
    "street",
    "number",
    "complement",
    "neighbourhood",
    "municipality",
    "municipality_ibge",
    "state",
    "admission_date",
    "effective_date",
    "status",
    "exclusion_date",
    "exclusion_reason",
    "stay_until",
    "relationship_code",
    "created_at",
    "updated_at",
)


def _accesses(
    session: Session, company_id: int, beneficiary_id: int, limit: int
) -> list[AccessEntry]:
    who = aliased(User)
    rows = session.execute(
        select(PersonalDataAccess, who.user_code, who.name)
        .outerjoin(who, who.id == PersonalDataAccess.user_id)
        .where(
            PersonalDataAccess.company_id == company_id,
            or_(
                PersonalDataAccess.beneficiary_id == beneficiary_id,
                PersonalDataAccess.beneficiary_id.is_(None),
            ),
        )
        .order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc())
        .limit(limit)
    ).all()
    return [
        AccessEntry(a.at, code, name, a.purpose, a.detail, a.beneficiary_id is not None)
        for a, code, name in rows
    ]


def beneficiary_dossier(*, uow: UnitOfWork, actor: Actor, term: str, now: datetime) -> Dossier:
    """Everything held about the beneficiary with this CPF or card number in the company
    (account managers only); the request itself is recorded as an access."""
    company_id = uow.require_company()
    _require_manager(actor, company_id)
    with uow:
        s = uow.session
        b = _find(s, company_id, term)
        company = s.get(Company, company_id)
        assert company is not None
        plan = s.get(Plan, b.plan_id)
        person = _row(b, PERSON_COLUMNS)
        person["cpf"] = format_cpf(b.cpf) or None
        person["card_number"] = format_card(b.card_number)
        person["plan"] = plan.name if plan else None
        # Dependents, movements, protocols, utilization and audit records of this company
        # only (as the invoice lines): a beneficiary transferred within the group left its
        # earlier history, and a dependent excluded before the move, in the other company.
        holder = s.get(Beneficiary, b.holder_id) if b.holder_id else None
        links: list[dict[str, Any]] = []
        if holder is not None:
            links.append(
                {
                    "vinculo": "titular",
                    "nome": holder.name,
                    "carteirinha": format_card(holder.card_number),
                }
            )
        for dep in s.scalars(
            select(Beneficiary).where(
                Beneficiary.holder_id == b.id, Beneficiary.company_id == company_id
            )
        ):
            links.append(
                {
                    "vinculo": "dependente",
                    "nome": dep.name,
                    "carteirinha": format_card(dep.card_number),
                }
            )
        movements = s.scalars(
            select(Movement)
            .where(Movement.beneficiary_id == b.id, Movement.company_id == company_id)
            .order_by(Movement.id)
        ).all()
        protocol_ids = {m.protocol_id for m in movements if m.protocol_id}
        protocols = (
            s.scalars(
                select(Protocol)
                .where(Protocol.id.in_(protocol_ids), Protocol.company_id == company_id)
                .order_by(Protocol.id)
            ).all()
            if protocol_ids
            else []
        )
        invoice_lines = s.execute(
            select(InvoiceLine, Invoice.billing_month)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.beneficiary_id == b.id, Invoice.company_id == company_id)
            .order_by(Invoice.billing_month, InvoiceLine.id)
        ).all()
        events = s.scalars(
            select(UtilizationEvent)
            .where(
                UtilizationEvent.beneficiary_id == b.id, UtilizationEvent.company_id == company_id
            )
            .order_by(UtilizationEvent.event_date, UtilizationEvent.id)
        ).all()
        audits = s.scalars(
            select(AuditRecord)
            .where(
                AuditRecord.entity == "beneficiary",
                AuditRecord.entity_id == str(b.id),
                AuditRecord.company_id == company_id,
            )
            .order_by(AuditRecord.at, AuditRecord.id)
        ).all()
        periods = s.scalars(
            select(CoveragePeriod)
            .where(CoveragePeriod.beneficiary_id == b.id, CoveragePeriod.company_id == company_id)
            .order_by(CoveragePeriod.start_date, CoveragePeriod.id)
        ).all()
        sections: dict[str, list[dict[str, Any]]] = {
            "Cadastro": [person],
            "Vínculos": links,
            "Cobertura": [_row(p, ("start_date", "end_date", "plan_id", "kind")) for p in periods],
            "Movimentações": [
                {
                    **_row(
                        m,
                        (
                            "kind",
                            "channel",
                            "effective_date",
                            "received_at",
                            "billing_month",
                            "is_retroactive",
                            "reason",
                            "before",
                            "after",
                        ),
                    ),
                    "estado": m.state,
                }
                for m in movements
            ],
            "Protocolos": [
                _row(p, ("number", "kind", "subject", "status", "opened_at", "deadline"))
                for p in protocols
            ],
            "Faturamento": [
                {
                    "competencia": _plain(month),
                    **_row(line, ("reference_month", "age_band", "kind", "amount")),
                }
                for line, month in invoice_lines
            ],
            "Utilização": [
                _row(e, ("event_date", "tuss_code", "procedure_name", "procedure_group", "amount"))
                for e in events
            ],
            "Auditoria": [_row(a, ("at", "action", "before", "after")) for a in audits],
        }
        accesses = _accesses(s, company_id, b.id, 500)
        personal_data_access_record(
            s,
            actor=actor,
            company_id=company_id,
            beneficiary_id=b.id,
            purpose="lgpd",
            detail="Relatório completo do titular (pedido de acesso)",
            now=now,
        )
        uow.commit()
        return Dossier(
            beneficiary_id=b.id,
            name=b.name,
            card_number=b.card_number,
            company_label=f"{company.code} · {company.name}",
            generated_at=now,
            sections=sections,
            accesses=accesses,
        )
