"""Proof of exclusion (comprovante de exclusão, ANS RN 561/2022): what the PDF states.

The operator must give the beneficiary proof of the exclusion: who, the card, the date
it takes effect, the reason and the protocol. One proof per exclusion protocol (a
holder's exclusion lists the dependents it took with it), or per movement.

Layers: this service returns the data (`ExclusionProofView`); the PDF is drawn by
`components.exclusion_pdf` (services never import the interface). The view is read
only inside the company in context: a company user never gets another company's proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from data.models import Beneficiary, Company, Movement, Operator, Protocol
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.rules.card_numbers import format_card_number
from services.rules.documents import format_cnpj, format_company_document, only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import mask_cpf
from services.rules.movements import EXCLUSION_REASONS

NOT_FOUND = "Exclusão não encontrada nesta empresa: confira o número do protocolo."


@dataclass(frozen=True)
class ExcludedPerson:
    name: str
    card_number: str
    cpf_masked: str  # "" when the register has no CPF (children under 18)
    relationship_label: str
    effective_date: date
    reason: str
    scheduled: bool  # the exclusion takes effect on a later date

    @property
    def card_formatted(self) -> str:
        return format_card_number(self.card_number)

    @property
    def reason_label(self) -> str:
        return EXCLUSION_REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class ExclusionProofView:
    protocol_number: str
    requested_at: datetime
    company_name: str
    company_document: str  # formatted, with its type ("CNPJ 12.345.678/0001-90")
    operator_name: str
    operator_ans: str
    operator_cnpj: str
    issued_on: date
    people: list[ExcludedPerson]

    @property
    def file_name(self) -> str:
        return f"comprovante_exclusao_{self.protocol_number}.pdf"


def _require(actor: Actor, company_id: int | None) -> None:
    actor.require(None, company_id)
    if not (actor.can(Permission.MOVEMENTS) or actor.can(Permission.PROTOCOLS)):
        actor.require(Permission.MOVEMENTS, company_id)  # raises, naming the permission


def exclusion_proof_view(
    *,
    uow: UnitOfWork,
    actor: Actor,
    today: date,
    movement_id: int | None = None,
    protocol_number: str | None = None,
) -> ExclusionProofView:
    """The proof of the exclusion `movement_id`, or of every exclusion of protocol
    `protocol_number`, of the company in context. Cancelled exclusions have none."""
    _require(actor, uow.company_id)
    if movement_id is None and not (protocol_number and only_digits(protocol_number)):
        raise DomainError("Informe o protocolo da exclusão.", "protocol_number")
    query = (
        select(Movement, Beneficiary, Protocol)
        .join(Beneficiary, Beneficiary.id == Movement.beneficiary_id)
        .join(Protocol, Protocol.id == Movement.protocol_id)
        .where(
            Movement.company_id == uow.company_id,
            Protocol.company_id == uow.company_id,
            Movement.kind == "exclusion",
        )
        .order_by(Beneficiary.relationship_code, Movement.id)
    )
    if movement_id is not None:
        query = query.where(Movement.id == movement_id)
    else:
        query = query.where(Protocol.number == only_digits(protocol_number or ""))
    with uow:
        rows = uow.session.execute(query).all()
        if not rows:
            raise DomainError(NOT_FOUND, "protocol_number")
        live = [r for r in rows if r[0].state != "cancelled"]
        if not live:
            raise DomainError(
                "Esta exclusão foi cancelada antes de valer: não há comprovante.",
                "protocol_number",
            )
        company = uow.session.get(Company, uow.company_id)
        assert company is not None
        operator = uow.session.get(Operator, company.operator_id)
        assert operator is not None
        protocol = live[0][2]
        people = [
            ExcludedPerson(
                name=b.name,
                card_number=b.card_number,
                cpf_masked=mask_cpf(b.cpf),
                relationship_label=Relationship(b.relationship_code).label,
                effective_date=m.effective_date,
                reason=m.reason or "outros",
                scheduled=m.state == "scheduled" and m.effective_date > today,
            )
            for m, b, _p in live
        ]
        return ExclusionProofView(
            protocol_number=protocol.number,
            requested_at=protocol.opened_at,
            company_name=company.name,
            company_document=(
                f"{company.document_type} "
                f"{format_company_document(company.document, company.document_type)}"
            ),
            operator_name=operator.name,
            operator_ans=operator.ans_registration,
            operator_cnpj=format_cnpj(operator.cnpj),
            issued_on=today,
            people=people,
        )
