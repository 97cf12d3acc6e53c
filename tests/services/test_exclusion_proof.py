"""Proof of exclusion (RN 561/2022), on both databases: what it states, one page per
excluded person of the protocol, the PDF's text, and the company scope."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from components.document_pdf import exclusion_proof_pdf
from data.models import Movement
from services import documents
from services.actors import Permission
from services.movements import ageing, coverage
from services.movements import service as movements
from services.movements.exclusion_proof import exclusion_proof_view
from services.movements.service import ExclusionRequest, UpdateRequest
from services.rules.card_numbers import format_card_number
from services.rules.documents import mask_cpf
from services.rules.errors import DomainError
from tests.services.movements_support import NOW, TODAY, World, make_world
from tests.services.test_ageing import people  # noqa: F401 - the fixture


def _proof_pdf(world: World, protocol_number: str) -> bytes:
    """What the pages' "Baixar comprovante de exclusão" gives: the proof issued as a
    document with its verification code."""
    issued = documents.exclusion_proof_issue(
        uow=world.uow(),
        actor=world.master,
        protocol_number=protocol_number,
        now=NOW,
        base_url="http://localhost:8501",
        render=exclusion_proof_pdf,
    )
    [code] = issued.codes
    assert code in _text(issued.content)[0]  # every page carries it
    return issued.content


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    return make_world(engine)


def _exclude_holder(world: World) -> tuple[str, list[int]]:
    holder = world.holder("10001", dependents=True)
    deps = [d.id for d in world.dependents(holder.id)]
    result = movements.movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder.card_number,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    return result.protocol_number, [holder.id, *deps]


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_proof_of_a_holders_exclusion_names_everyone_it_took(world):
    number, ids = _exclude_holder(world)
    view = exclusion_proof_view(
        uow=world.uow(), actor=world.master, today=TODAY, protocol_number=number
    )
    assert view.protocol_number == number
    assert view.file_name == f"comprovante_exclusao_{number}.pdf"
    assert [p.card_number for p in view.people] == [world.get(i).card_number for i in ids]
    holder = world.get(ids[0])
    first = view.people[0]
    assert first.name == holder.name and first.effective_date == TODAY
    assert first.reason_label == "A pedido do beneficiário"
    assert all(p.reason == "perda_elegibilidade" for p in view.people[1:])
    assert first.cpf_masked == mask_cpf(holder.cpf)
    assert view.operator_ans and view.company_name

    pdf = _proof_pdf(world, number)
    assert pdf.startswith(b"%PDF")
    pages = _text(pdf)
    assert len(pages) == len(ids)
    assert number in pages[0] and format_card_number(holder.card_number) in pages[0]
    assert first.cpf_masked in pages[0] and "A pedido do benefici" in pages[0]
    assert f"Registro ANS nº {view.operator_ans}" in pages[0]
    assert "Perda de elegibilidade" in pages[-1]
    assert holder.cpf not in "".join(pages)  # the full CPF never


def test_a_movement_gives_the_proof_of_that_one_exclusion(world):
    number, ids = _exclude_holder(world)
    mid = world.all(
        select(Movement.id).where(Movement.beneficiary_id == ids[-1], Movement.kind == "exclusion")
    )[0]
    view = exclusion_proof_view(uow=world.uow(), actor=world.user, today=TODAY, movement_id=mid)
    assert view.protocol_number == number
    assert [p.card_number for p in view.people] == [world.get(ids[-1]).card_number]


def test_the_proof_stays_in_the_company_in_context(world):
    number, _ = _exclude_holder(world)
    with pytest.raises(DomainError, match="não encontrada"):  # a company of the same group
        exclusion_proof_view(
            uow=world.uow("10002"), actor=world.master, today=TODAY, protocol_number=number
        )
    with pytest.raises(DomainError, match="acesso"):  # outside the master's companies
        exclusion_proof_view(
            uow=world.uow("10004"), actor=world.master, today=TODAY, protocol_number=number
        )
    neither = replace(
        world.master,
        permissions=world.master.permissions - {Permission.MOVEMENTS, Permission.PROTOCOLS},
    )
    with pytest.raises(DomainError, match="permissão"):
        exclusion_proof_view(uow=world.uow(), actor=neither, today=TODAY, protocol_number=number)


def test_only_exclusions_have_a_proof(world):
    holder = world.holder("10001")
    result = movements.movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=UpdateRequest(card_number=holder.card_number, changes={"phone": "(11) 91234-5678"}),
        now=NOW,
    )
    with pytest.raises(DomainError, match="não encontrada"):
        exclusion_proof_view(
            uow=world.uow(), actor=world.master, today=TODAY, protocol_number=result.protocol_number
        )
    with pytest.raises(DomainError, match="protocolo"):
        exclusion_proof_view(uow=world.uow(), actor=world.master, today=TODAY, protocol_number="  ")


def test_a_scheduled_exclusion_has_its_proof_until_it_is_cancelled(world, people):  # noqa: F811
    result = ageing.exclude_aged_out(
        uow=world.uow(), actor=world.master, beneficiary_id=people["soon"], now=NOW
    )
    view = exclusion_proof_view(
        uow=world.uow(), actor=world.master, today=TODAY, protocol_number=result.protocol_number
    )
    [person] = view.people
    assert person.scheduled and person.effective_date == result.effective_date > TODAY
    assert person.reason_label == "Perda de elegibilidade"
    text = _text(_proof_pdf(world, result.protocol_number))[0]
    assert "agendada" in text and result.protocol_number in text

    coverage.scheduled_cancel(
        uow=world.uow(), actor=world.master, protocol_number=result.protocol_number, now=NOW
    )
    with pytest.raises(DomainError, match="cancelada"):
        exclusion_proof_view(
            uow=world.uow(), actor=world.master, today=TODAY, protocol_number=result.protocol_number
        )


def test_a_movement_s_view_and_the_proof_of_its_protocol(world):
    number, ids = _exclude_holder(world)
    mid = world.all(
        select(Movement.id).where(Movement.beneficiary_id == ids[0], Movement.kind == "exclusion")
    )[0]
    # One movement's view holds its person; the pages' button issues the protocol's proof.
    view = exclusion_proof_view(uow=world.uow(), actor=world.master, today=TODAY, movement_id=mid)
    assert view.file_name == f"comprovante_exclusao_{number}.pdf"
    assert [p.card_number for p in view.people] == [world.get(ids[0]).card_number]
    pdf = _proof_pdf(world, view.protocol_number)
    assert len(_text(pdf)) == len(ids) and all(number in page for page in _text(pdf))
    with pytest.raises(DomainError):
        exclusion_proof_view(
            uow=world.uow("10002"), actor=world.master, today=TODAY, movement_id=mid
        )
