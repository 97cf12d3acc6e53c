"""Protocols: every request and movement gets a number, a deadline and a history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Protocol, ProtocolEvent, User
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record
from services.numbering import BRT, protocol_number_issue
from services.rules.errors import DomainError, FieldErrors
from services.rules.text import (
    PROTOCOL_DESCRIPTION_MAX,
    PROTOCOL_NOTE_MAX,
    PROTOCOL_SUBJECT_MAX,
    text_problem,
)

STATUS_LABELS = {
    "open": "Aberto",
    "in_analysis": "Em análise",
    "answered": "Respondido",
    "closed": "Encerrado",
}
KIND_LABELS = {
    "inclusion": "Inclusão",
    "exclusion": "Exclusão",
    "update": "Alteração cadastral",
    "reactivation": "Reativação",
    "transfer": "Transferência",
    "plan_change": "Alteração de plano",
    "cancellation": "Cancelamento de movimentação agendada",
    "batch": "Movimentação em lote",
    "invoice_question": "Dúvida sobre fatura",
    "overdue_update": "Atualização de fatura vencida",
    "card_copy": "Segunda via de carteirinha",
    "contract": "Alteração contratual",
    "other": "Outros assuntos",
}
REQUEST_KINDS = ("invoice_question", "card_copy", "contract", "other")


def protocol_open(
    session: Session,
    *,
    company_id: int,
    kind: str,
    subject: str,
    description: str,
    user_id: int | None,
    now: datetime,
    done_note: str | None = None,
) -> Protocol:
    """Give the request its number first (RN 623/2024); with `done_note` it is answered
    at once (movements the portal applies immediately)."""
    number, deadline = protocol_number_issue(session, now)
    protocol = Protocol(
        company_id=company_id,
        number=number,
        kind=kind,
        subject=subject,
        description=description,
        status="open",
        opened_at=now,
        deadline=deadline,
        opened_by_user_id=user_id,
    )
    session.add(protocol)
    session.flush()
    session.add(
        ProtocolEvent(
            protocol_id=protocol.id,
            at=now,
            user_id=user_id,
            status="open",
            note="Protocolo aberto.",
        )
    )
    if done_note is not None:
        protocol.status = "closed"
        protocol.closed_at = now
        session.add(
            ProtocolEvent(
                protocol_id=protocol.id, at=now, user_id=user_id, status="closed", note=done_note
            )
        )
    session.flush()
    return protocol


@dataclass(frozen=True)
class ProtocolRow:
    id: int
    number: str
    kind: str
    kind_label: str
    subject: str
    status: str
    status_label: str
    opened_at: datetime
    deadline: date
    closed_at: datetime | None
    late: bool


@dataclass(frozen=True)
class ProtocolEventRow:
    at: datetime
    status_label: str
    note: str
    user_name: str | None


@dataclass(frozen=True)
class ProtocolDetail:
    protocol: ProtocolRow
    description: str
    events: list[ProtocolEventRow]


def _row(p: Protocol, today: date) -> ProtocolRow:
    finished = p.status in ("answered", "closed")
    return ProtocolRow(
        p.id,
        p.number,
        p.kind,
        KIND_LABELS.get(p.kind, p.kind),
        p.subject,
        p.status,
        STATUS_LABELS[p.status],
        p.opened_at,
        p.deadline,
        p.closed_at,
        late=not finished and p.deadline < today,
    )


def protocol_list(
    *,
    uow: UnitOfWork,
    actor: Actor,
    today: date,
    kinds: list[str] | None = None,
    statuses: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    number: str | None = None,
    limit: int = 1000,
) -> list[ProtocolRow]:
    """The company's protocols, newest first, filtered by type, status and period."""
    actor.require(Permission.PROTOCOLS, uow.company_id)
    query = select(Protocol).where(Protocol.company_id == uow.company_id)
    if kinds:
        query = query.where(Protocol.kind.in_(kinds))
    if statuses:
        query = query.where(Protocol.status.in_(statuses))
    if start:
        query = query.where(Protocol.opened_at >= datetime.combine(start, time(), BRT))
    if end:
        query = query.where(
            Protocol.opened_at < datetime.combine(end + timedelta(days=1), time(), BRT)
        )
    if number and number.strip():
        query = query.where(Protocol.number.contains(number.strip()))
    with uow:
        rows = uow.session.scalars(
            query.order_by(Protocol.opened_at.desc(), Protocol.id.desc()).limit(limit)
        ).all()
        return [_row(p, today) for p in rows]


def protocol_detail(
    *, uow: UnitOfWork, actor: Actor, protocol_id: int, today: date
) -> ProtocolDetail:
    """One protocol of the company with its history."""
    actor.require(Permission.PROTOCOLS, uow.company_id)
    with uow:
        p = uow.session.scalars(
            select(Protocol).where(
                Protocol.id == protocol_id, Protocol.company_id == uow.company_id
            )
        ).one_or_none()
        if p is None:
            raise DomainError("Protocolo não encontrado nesta empresa.")
        events = uow.session.execute(
            select(ProtocolEvent, User.name)
            .outerjoin(User, ProtocolEvent.user_id == User.id)
            .where(ProtocolEvent.protocol_id == p.id)
            .order_by(ProtocolEvent.at, ProtocolEvent.id)
        ).all()
        return ProtocolDetail(
            _row(p, today),
            p.description,
            [ProtocolEventRow(e.at, STATUS_LABELS[e.status], e.note, name) for e, name in events],
        )


def protocol_request_open(
    *,
    uow: UnitOfWork,
    actor: Actor,
    kind: str,
    subject: str,
    description: str,
    now: datetime,
) -> ProtocolRow:
    """Open a new request (question about an invoice, card copy...) with its protocol."""
    actor.require(Permission.PROTOCOLS, uow.company_id)
    errors = {}
    subject, description = subject.strip(), description.strip()
    if kind not in REQUEST_KINDS:
        errors["kind"] = "Escolha o tipo da solicitação."
    if len(subject) < 5:
        errors["subject"] = "Informe um assunto com pelo menos 5 caracteres."
    elif problem := text_problem(subject, "Assunto", PROTOCOL_SUBJECT_MAX):
        errors["subject"] = problem
    if len(description) < 10:
        errors["description"] = "Descreva a solicitação (pelo menos 10 caracteres)."
    elif problem := text_problem(
        description, "Descrição", PROTOCOL_DESCRIPTION_MAX, multiline=True
    ):
        errors["description"] = problem
    if errors:
        raise FieldErrors(errors)
    with uow:
        p = protocol_open(
            uow.session,
            company_id=uow.require_company(),
            kind=kind,
            subject=subject,
            description=description,
            user_id=actor.user_id,
            now=now,
        )
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=uow.company_id,
            action="protocol_open",
            entity="protocol",
            entity_id=p.id,
            before=None,
            after={"number": p.number, "kind": kind, "subject": p.subject},
            now=now,
        )
        uow.commit()
        return _row(p, now.astimezone(BRT).date())


def protocol_add_note(
    *, uow: UnitOfWork, actor: Actor, protocol_id: int, note: str, now: datetime
) -> None:
    """The company adds information to one of its open requests."""
    actor.require(Permission.PROTOCOLS, uow.company_id)
    note = note.strip()
    if len(note) < 3:
        raise DomainError("Escreva a mensagem a acrescentar.", "note")
    if problem := text_problem(note, "Informação", PROTOCOL_NOTE_MAX, multiline=True):
        raise DomainError(problem, "note")
    with uow:
        p = uow.session.scalars(
            select(Protocol).where(
                Protocol.id == protocol_id, Protocol.company_id == uow.company_id
            )
        ).one_or_none()
        if p is None:
            raise DomainError("Protocolo não encontrado nesta empresa.")
        if p.status == "closed":
            raise DomainError("Este protocolo está encerrado: abra uma nova solicitação.")
        uow.session.add(
            ProtocolEvent(
                protocol_id=p.id, at=now, user_id=actor.user_id, status=p.status, note=note
            )
        )
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=uow.company_id,
            action="protocol_note",
            entity="protocol",
            entity_id=p.id,
            before=None,
            after={"note": note},
            now=now,
        )
        uow.commit()
