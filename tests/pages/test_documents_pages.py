"""Documentos and Validar documento through the frame with AppTest: issue each document,
the open-invoice case of the discharge declaration, refusals by permission, and the
public validation (typed code, the code of the printed address, unknown code)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.db import make_engine, make_session_factory
from data.models import (
    Beneficiary,
    Company,
    Invoice,
    IssuedDocument,
    User,
)
from data.uow import UnitOfWork
from services.access import accounts as access
from services.movements import service as movements
from services.movements.service import ExclusionRequest
from tests.pages.conftest import by_label, log_in

CODE = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}")


def _open(at, page: str):  # noqa: ANN001, ANN202
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _documents(url: str) -> list[IssuedDocument]:
    engine = make_engine(url)
    with Session(engine) as s:
        rows = list(s.scalars(select(IssuedDocument).order_by(IssuedDocument.id)))
    engine.dispose()
    return rows


def _issued_code(at) -> str:  # noqa: ANN001
    found = [m for s in at.success if (m := CODE.search(s.value))]
    assert found, [s.value for s in at.success]
    return found[0].group(0)


def _choose(at, label: str):  # noqa: ANN001, ANN202
    radio = by_label(at.radio, "Documento")
    radio.set_value(next(o for o in radio.options if o == label)).run()
    assert not at.exception, at.exception
    return at


def test_the_master_issues_an_income_tax_statement_and_the_public_page_validates_it(
    app, portal_db: str
):
    at = _open(log_in(app(), "100001"), "pages/documents.py")
    assert at.title[0].value == "Documentos"
    year = by_label(at.selectbox, "Ano-calendário").value
    holder = [s for s in at.selectbox if s.label.startswith("Titular")][0]
    assert holder.options, "holders with amounts paid"
    by_label(at.button, "Emitir demonstrativo do titular").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    code = _issued_code(at)
    assert [b.label for b in at.get("download_button")] == ["Baixar PDF"]
    [doc] = _documents(portal_db)
    assert (doc.kind, doc.year, len(doc.content_sha256)) == ("income_tax", year, 64)
    assert doc.code == code.replace("-", "")

    # A visitor (no login) types it in lower case, without hyphens.
    visitor = app()
    _open(visitor, "pages/validate_document.py")
    assert visitor.title[0].value == "Validar documento"
    by_label(visitor.text_input, "Código de verificação *").input(code.replace("-", " ").lower())
    visitor.button[0].click().run()
    assert not visitor.exception and not visitor.error, [e.value for e in visitor.error]
    assert "Documento autêntico" in visitor.success[0].value
    table = visitor.dataframe[0].value
    facts = dict(zip(table["Informação"], table["Valor"], strict=True))
    assert facts["Código"] == code and facts["Ano-calendário"] == str(year)
    assert facts["CPF do titular"].startswith("***.")  # masked

    # The master finds it again in the list of documents issued.
    at.run()
    listed = at.dataframe[-1].value
    assert code in list(listed["Código"])


def test_the_printed_address_validates_its_code_at_once(app, portal_db: str):
    at = _open(log_in(app(), "100001"), "pages/documents.py")
    by_label(at.button, "Emitir demonstrativo do titular").click().run()
    code = _issued_code(at)
    visitor = app(codigo=code)
    _open(visitor, "pages/validate_document.py")
    assert by_label(visitor.text_input, "Código de verificação *").value == code
    assert "Documento autêntico" in visitor.success[0].value


def test_an_unknown_or_mistyped_code_is_told_plainly(app):
    visitor = _open(app(), "pages/validate_document.py")
    field = "Código de verificação *"
    by_label(visitor.text_input, field).input("2222-2222-2222")  # well formed, never issued
    visitor.button[0].click().run()
    assert not visitor.exception
    assert any("Nenhum documento" in e.value for e in visitor.error), [
        e.value for e in visitor.error
    ]
    by_label(visitor.text_input, field).input("2222-2222-2223")  # the check character is off
    visitor.button[0].click().run()
    assert any("não confere" in e.value for e in visitor.error)
    by_label(visitor.text_input, field).input("abc")
    visitor.button[0].click().run()
    assert any("12 letras e números" in e.value for e in visitor.error)


def test_the_login_page_links_to_the_validation(app):
    at = app()
    assert "validar-documento" in [link.proto.page for link in at.get("page_link")]


def test_the_discharge_declaration_lists_the_open_invoices_of_the_year(app, portal_db: str):
    last_year = date.today().year - 1
    engine = make_engine(portal_db)
    with Session(engine) as s:
        company_id = s.scalars(select(Company.id).where(Company.code == "10001")).one()
        invoice = s.scalars(
            select(Invoice)
            .where(Invoice.company_id == company_id, Invoice.due_date >= date(last_year, 3, 1))
            .order_by(Invoice.due_date)
            .limit(1)
        ).one()
        s.execute(
            update(Invoice).where(Invoice.id == invoice.id).values(status="open", paid_on=None)
        )
        s.commit()
        month = invoice.billing_month
    engine.dispose()
    at = _choose(
        _open(log_in(app(), "100001"), "pages/documents.py"),
        "Declaração anual de quitação de débitos",
    )
    by_label(at.selectbox, "Ano").select(last_year).run()
    assert not at.exception
    assert any("em aberto" in w.value for w in at.warning), [w.value for w in at.warning]
    table = at.dataframe[0].value
    assert f"{month:%m/%Y}" in list(table["Competência"])
    assert not [b for b in at.button if b.label == "Emitir declaração de quitação"]


def test_the_discharge_declaration_of_a_paid_year_is_issued(app, portal_db: str):
    last_year = date.today().year - 1  # every invoice of the last year is paid in the demo
    at = _choose(
        _open(log_in(app(), "100001"), "pages/documents.py"),
        "Declaração anual de quitação de débitos",
    )
    by_label(at.selectbox, "Ano").select(last_year).run()
    by_label(at.button, "Emitir declaração de quitação").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _issued_code(at)
    assert [d.kind for d in _documents(portal_db)] == ["discharge"]


def test_the_permanence_letter_by_card_and_a_bad_term(app, portal_db: str):
    engine = make_engine(portal_db)
    with Session(engine) as s:
        card = s.scalars(
            select(Beneficiary.card_number)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(Company.code == "10001", Beneficiary.status == "active")
            .limit(1)
        ).one()
    engine.dispose()
    at = _choose(_open(log_in(app(), "100001"), "pages/documents.py"), "Carta de permanência")
    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input("123")
    at.button[0].click().run()
    assert any("CPF (11 dígitos)" in e.value for e in at.error)
    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input(card)
    at.button[0].click().run()
    assert not at.exception
    _issued_code(at)
    [doc] = _documents(portal_db)
    assert doc.kind == "permanence"


def test_a_user_without_the_permissions_is_told_why_and_issues_nothing(app, portal_db: str):
    at = _open(log_in(app(), "100002"), "pages/documents.py")  # movements and reports only
    assert at.title[0].value == "Documentos"
    assert any("Financeiro" in w.value for w in at.warning), [w.value for w in at.warning]
    _choose(at, "Carta de permanência")
    assert any("Dados pessoais" in w.value for w in at.warning), [w.value for w in at.warning]
    assert _documents(portal_db) == []


def test_the_account_manager_issues_for_the_company_in_context(app, portal_db: str):
    at = _open(log_in(app(), "900001"), "pages/documents.py")
    by_label(at.button, "Emitir demonstrativo do titular").click().run()
    assert not at.exception and not at.error
    [doc] = _documents(portal_db)
    engine = make_engine(portal_db)
    with Session(engine) as s:
        manager = s.scalars(select(User.id).where(User.user_code == "900001")).one()
    engine.dispose()
    assert doc.issued_by_user_id == manager
    assert doc.issued_at <= datetime.now(UTC)


def test_the_proof_of_exclusion_by_protocol(app, portal_db: str):
    factory = make_session_factory(make_engine(portal_db))
    uow = UnitOfWork(factory)
    master = access.actor_for_user(uow=uow, user_code="100001", now=datetime.now(UTC))
    assert master is not None
    with factory() as s:
        company_id = s.scalars(select(Company.id).where(Company.code == "10001")).one()
        card = s.scalars(
            select(Beneficiary.card_number)
            .where(
                Beneficiary.company_id == company_id,
                Beneficiary.status == "active",
                Beneficiary.relationship_code == 1,
            )
            .limit(1)
        ).one()
    number = movements.movement_apply(
        uow=uow.for_company(company_id),
        actor=master,
        request=ExclusionRequest(
            card_number=card, reason="pedido", effective_date=None, dependents_confirmed=True
        ),
        now=datetime.now(UTC),
    ).protocol_number
    at = _choose(_open(log_in(app(), "100002"), "pages/documents.py"), "Comprovante de exclusão")
    by_label(at.text_input, "Protocolo da exclusão *").input(number)
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _issued_code(at)
    assert [d.kind for d in _documents(portal_db)] == ["exclusion_proof"]
