"""Protocol services on both databases: numbers, deadlines, filters, requests, scope."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from data.db import make_session_factory
from data.models import Company, Protocol, ProtocolEvent
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services import protocols
from services.access import accounts as access
from services.actors import Actor, Permission, Role
from services.rules.errors import DomainError, FieldErrors

TODAY = date(2026, 11, 26)
# Friday 2026-11-13: 7 business days later, skipping the weekends and Nov 15 (Sunday)
# and Nov 20 (Consciência Negra, a Friday), is Wednesday 2026-11-25.
OPENED = datetime(2026, 11, 13, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(engine):
    seed_demo(engine, companies=8, beneficiaries=150, today=TODAY)
    factory = make_session_factory(engine)
    with factory() as s:
        ids = dict(s.execute(select(Company.code, Company.id)).all())
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    return factory, ids, actor


def _count(factory, model) -> int:  # noqa: ANN001
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_request_gets_a_number_a_deadline_in_business_days_and_a_history(world):
    factory, ids, actor = world
    row = protocols.protocol_request_open(
        uow=UnitOfWork(factory, ids["10001"]),
        actor=actor,
        kind="invoice_question",
        subject="Dúvida sobre a fatura de outubro",
        description="O valor veio diferente.",
        now=OPENED,
    )
    assert row.number.startswith("42183920261113") and len(row.number) == 20
    assert row.deadline == date(2026, 11, 25)
    assert row.status == "open"
    detail = protocols.protocol_detail(
        uow=UnitOfWork(factory, ids["10001"]), actor=actor, protocol_id=row.id, today=TODAY
    )
    assert [e.status_label for e in detail.events] == ["Aberto"]
    assert detail.protocol.late  # deadline passed, still open


def test_two_requests_the_same_day_get_consecutive_numbers(world):
    factory, ids, actor = world
    numbers = [
        protocols.protocol_request_open(
            uow=UnitOfWork(factory, ids["10001"]),
            actor=actor,
            kind="other",
            subject=f"Assunto {i}",
            description="Descrição suficiente.",
            now=OPENED,
        ).number
        for i in range(2)
    ]
    assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1


def test_a_refused_request_says_which_fields_and_writes_nothing(world):
    factory, ids, actor = world
    before = _count(factory, Protocol), _count(factory, ProtocolEvent)
    with pytest.raises(FieldErrors) as refused:
        protocols.protocol_request_open(
            uow=UnitOfWork(factory, ids["10001"]),
            actor=actor,
            kind="nonsense",
            subject="x",
            description="",
            now=OPENED,
        )
    assert set(refused.value.errors) == {"kind", "subject", "description"}
    assert (_count(factory, Protocol), _count(factory, ProtocolEvent)) == before


def test_the_list_filters_by_type_status_period_and_number(world):
    factory, ids, actor = world
    uow = UnitOfWork(factory, ids["10001"])
    row = protocols.protocol_request_open(
        uow=uow,
        actor=actor,
        kind="card_copy",
        subject="Segunda via da carteirinha",
        description="Perdeu a carteirinha.",
        now=OPENED,
    )
    found = protocols.protocol_list(
        uow=uow,
        actor=actor,
        today=TODAY,
        kinds=["card_copy"],
        statuses=["open"],
        start=date(2026, 11, 13),
        end=date(2026, 11, 13),
        number=row.number[-6:],
    )
    assert [r.number for r in found] == [row.number]
    everything = protocols.protocol_list(uow=uow, actor=actor, today=TODAY)
    assert all(r.kind == "card_copy" for r in found) and len(everything) > len(found)
    with factory() as s:
        expected = s.scalar(select(func.count()).where(Protocol.company_id == ids["10001"]))
    assert len(everything) == expected


def test_a_note_is_added_to_an_open_protocol_but_not_to_a_closed_one(world):
    factory, ids, actor = world
    uow = UnitOfWork(factory, ids["10001"])
    row = protocols.protocol_request_open(
        uow=uow,
        actor=actor,
        kind="contract",
        subject="Inclusão de plano",
        description="Queremos contratar o plano Orto.",
        now=OPENED,
    )
    protocols.protocol_add_note(
        uow=uow, actor=actor, protocol_id=row.id, note="Segue a proposta assinada.", now=OPENED
    )
    detail = protocols.protocol_detail(uow=uow, actor=actor, protocol_id=row.id, today=TODAY)
    assert detail.events[-1].note == "Segue a proposta assinada."
    with factory() as s:
        closed = s.scalars(
            select(Protocol.id).where(
                Protocol.company_id == ids["10001"], Protocol.status == "closed"
            )
        ).first()
    with pytest.raises(DomainError, match="encerrado"):
        protocols.protocol_add_note(
            uow=uow, actor=actor, protocol_id=closed, note="Mais uma coisa.", now=OPENED
        )


def test_a_company_user_never_sees_another_companys_protocols(world):
    factory, ids, actor = world
    with factory() as s:
        foreign = s.scalars(select(Protocol.id).where(Protocol.company_id == ids["10005"])).first()
    with pytest.raises(DomainError):
        protocols.protocol_list(uow=UnitOfWork(factory, ids["10005"]), actor=actor, today=TODAY)
    with pytest.raises(DomainError, match="não encontrado"):
        protocols.protocol_detail(
            uow=UnitOfWork(factory, ids["10001"]), actor=actor, protocol_id=foreign, today=TODAY
        )


def test_protocols_need_the_protocols_permission(world):
    factory, ids, _ = world
    limited = Actor(
        99,
        "199999",
        "Sem protocolos",
        Role.USER,
        frozenset({Permission.MOVEMENTS}),
        frozenset({ids["10001"]}),
    )
    with pytest.raises(DomainError, match="permissão"):
        protocols.protocol_list(uow=UnitOfWork(factory, ids["10001"]), actor=limited, today=TODAY)


def test_a_description_of_4000_characters_is_kept_and_one_more_is_refused(world):
    factory, ids, actor = world
    uow = UnitOfWork(factory, ids["10001"])
    longest = "Linha com texto.\n" * 235 + "x" * 5  # 4,000 characters with line breaks
    assert len(longest) == 4000
    row = protocols.protocol_request_open(
        uow=uow,
        actor=actor,
        kind="other",
        subject="Assunto longo",
        description=longest,
        now=OPENED,
    )
    detail = protocols.protocol_detail(uow=uow, actor=actor, protocol_id=row.id, today=TODAY)
    assert detail.description == longest
    before = _count(factory, Protocol), _count(factory, ProtocolEvent)
    with pytest.raises(FieldErrors) as refused:
        protocols.protocol_request_open(
            uow=uow,
            actor=actor,
            kind="other",
            subject="S" * 201,
            description=longest + "!",
            now=OPENED,
        )
    assert refused.value.errors == {
        "subject": "Assunto: no máximo 200 caracteres (informados 201).",
        "description": "Descrição: no máximo 4.000 caracteres (informados 4.001).",
    }
    assert (_count(factory, Protocol), _count(factory, ProtocolEvent)) == before


def test_control_and_bidi_characters_are_refused_in_a_request_and_a_note(world):
    factory, ids, actor = world
    uow = UnitOfWork(factory, ids["10001"])
    with pytest.raises(FieldErrors) as refused:
        protocols.protocol_request_open(
            uow=uow,
            actor=actor,
            kind="other",
            subject="Fatura \u202efdp.exe",
            description="Texto com escape \x1b[2J no meio.",
            now=OPENED,
        )
    assert set(refused.value.errors) == {"subject", "description"}
    assert "caracteres de controle" in refused.value.errors["subject"]
    row = protocols.protocol_request_open(
        uow=uow,
        actor=actor,
        kind="other",
        subject="Assunto normal",
        description="Primeira linha.\nSegunda linha.",
        now=OPENED,
    )
    events = _count(factory, ProtocolEvent)
    with pytest.raises(DomainError, match="caracteres de controle") as bad_note:
        protocols.protocol_add_note(
            uow=uow, actor=actor, protocol_id=row.id, note="Nota com \x00 nulo.", now=OPENED
        )
    assert bad_note.value.field == "note"
    with pytest.raises(DomainError, match="no máximo 4.000 caracteres") as long_note:
        protocols.protocol_add_note(
            uow=uow, actor=actor, protocol_id=row.id, note="n" * 4001, now=OPENED
        )
    assert long_note.value.field == "note"
    assert _count(factory, ProtocolEvent) == events
