"""Free text through the services, on both databases: company contact fields and user
names refuse control and bidi format characters and text over their column's length,
with the field's Portuguese message, and nothing is written (issue 11, item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from data.db import make_session_factory
from data.models import AuditRecord, Company, User
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services import companies
from services.access import accounts as access
from services.access import users
from services.rules.errors import FieldErrors

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
CONTROL = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Ana \u202eatsoC" reads "Ana Costa"
CONTROL_MESSAGE = "use só letras, números e pontuação (sem caracteres de controle)."


@pytest.fixture
def world(engine):
    seed_demo(engine, companies=8, beneficiaries=150, today=TODAY)
    factory = make_session_factory(engine)
    with factory() as s:
        company_id = s.scalar(select(Company.id).where(Company.code == "10001"))
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    return factory, company_id, actor


def _state(factory, company_id):  # noqa: ANN001, ANN202
    with factory() as s:
        company = s.get(Company, company_id)
        row = tuple(getattr(company, f) for f in companies.CONTACT_FIELDS)
        return (
            row,
            s.scalar(select(func.count()).select_from(AuditRecord)),
            s.scalar(select(func.count()).select_from(User)),
        )


def _contact(factory, company_id, actor, **changes):  # noqa: ANN001, ANN003, ANN202
    details = companies.company_details(uow=UnitOfWork(factory, company_id), actor=actor)
    values = {**{k: v or "" for k, v in details.contact.items()}, **changes}
    return companies.company_contact_update(
        uow=UnitOfWork(factory, company_id).for_company(company_id),
        actor=actor,
        values=values,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("street", "Logradouro"),
        ("number", "Número"),
        ("complement", "Complemento"),
        ("neighbourhood", "Bairro"),
        ("city", "Cidade"),
        ("contact_name", "Nome do contato"),
        ("contact_email", "E-mail do contato"),
    ],
)
@pytest.mark.parametrize("char", [CONTROL, "\x00", "\x1b", "\u2066", "\u200b"])
def test_company_contact_refuses_control_and_bidi_characters(world, field, label, char):
    factory, company_id, actor = world
    before = _state(factory, company_id)
    with pytest.raises(FieldErrors) as refused:
        _contact(factory, company_id, actor, **{field: f"Ana {char}atsoC"})
    assert refused.value.errors == {field: f"{label}: {CONTROL_MESSAGE}"}
    assert _state(factory, company_id) == before


def test_company_contact_refuses_text_longer_than_its_column(world):
    factory, company_id, actor = world
    before = _state(factory, company_id)
    with pytest.raises(FieldErrors) as refused:
        _contact(factory, company_id, actor, street="R" * 201, contact_name="N" * 201)
    assert refused.value.errors == {
        "street": "Logradouro: no máximo 200 caracteres (informados 201).",
        "contact_name": "Nome do contato: no máximo 200 caracteres (informados 201).",
    }
    assert _state(factory, company_id) == before
    changed = _contact(factory, company_id, actor, street="R" * 200)
    assert changed["street"][1] == "R" * 200


def test_a_user_name_with_a_bidi_override_is_refused_and_nothing_is_written(world):
    factory, company_id, actor = world
    before = _state(factory, company_id)
    with pytest.raises(FieldErrors) as refused:
        users.user_add(
            uow=UnitOfWork(factory, company_id).for_company(company_id),
            actor=actor,
            name=f"Ana {CONTROL}atsoC",
            cpf="52998224725",
            email="ana.bidi@empresa.com.br",
            permissions=[],
            now=NOW,
        )
    assert refused.value.errors == {"name": f"Nome: {CONTROL_MESSAGE}"}
    assert _state(factory, company_id) == before
