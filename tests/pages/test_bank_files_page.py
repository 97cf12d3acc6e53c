"""Financeiro > Arquivos bancários through the frame with AppTest: only the account
manager has it; the remessa lists what goes in it before it is generated, then is
listed to download again; a retorno paying a boleto shows the line paid and the summary;
a malformed retorno says which line is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from components.navigation import pages_for
from data.db import make_engine, make_session_factory
from data.models import Company, Invoice, Operator
from data.uow import UnitOfWork
from services.access.accounts import actor_for_user
from services.billing import payments
from services.rules.cnab240 import bank_title_id
from tests.cnab_support import Paid, account_of, retorno_file
from tests.pages.conftest import by_label, log_in

PAGE = "pages/bank_files.py"


def _open(at):  # noqa: ANN001, ANN202
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _issue_boleto(url: str) -> tuple[int, bytes]:
    """A boleto for an open invoice of the demo (by the account manager), and a retorno
    that pays it in full on its due date."""
    engine = make_engine(url)
    uow = UnitOfWork(make_session_factory(engine))
    now = datetime.now(UTC)
    actor = actor_for_user(uow=uow, user_code="900001", now=now)
    assert actor is not None
    with uow:
        inv = uow.session.scalars(  # of 10001, the manager's first company in context
            select(Invoice)
            .join(Company, Company.id == Invoice.company_id)
            .where(Invoice.status == "open", Company.code == "10001")
            .order_by(Invoice.id)
        ).first()
        assert inv is not None
        invoice_id, company_id = inv.id, inv.company_id
        op = uow.session.scalars(select(Operator)).first()
        account = account_of(op)
    view = payments.boleto_issue(
        uow=uow.for_company(company_id), actor=actor, invoice_id=invoice_id, now=now
    )
    paid = Paid(bank_title_id(account, view.our_number), view.amount, view.amount, view.due_date)
    engine.dispose()
    return invoice_id, retorno_file(account, [paid])


def test_only_the_account_manager_has_the_bank_files_page(app):
    master = log_in(app(), "100001")
    assert "Arquivos bancários" not in [p.title for p in pages_for(master.session_state["actor"])]
    with pytest.raises(ValueError, match="bank_files"):
        master.switch_page(PAGE)
    manager = log_in(app(), "900001")
    assert "Arquivos bancários" in [p.title for p in pages_for(manager.session_state["actor"])]


def test_remessa_preview_generate_and_download_again(app, portal_db: str):
    _issue_boleto(portal_db)
    at = _open(log_in(app(), "900001"))
    assert at.title[0].value == "Arquivos bancários"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Entradas (boletos novos)"] == "1"
    assert [c for c in at.dataframe[0].value.columns][:3] == [
        "Empresa",
        "Competência",
        "Nosso número",
    ]
    assert len(at.dataframe[0].value) == 1
    by_label(at.button, "Gerar remessa").click().run()
    assert not at.exception, at.exception
    assert any("Remessa nº 1 gerada com 1 boleto" in s.value for s in at.success)
    past = at.dataframe[-1].value
    assert list(past["NSA"]) == [1] and list(past["Boletos"]) == [1]
    assert by_label(at.button, "Gerar remessa").disabled  # nothing new since


def test_a_retorno_pays_the_invoice_and_shows_the_summary(app, portal_db: str):
    invoice_id, content = _issue_boleto(portal_db)
    at = _open(log_in(app(), "900001"))
    at.file_uploader[0].upload("retorno.ret", content).run()
    by_label(at.button, "Ler retorno").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Pagos"], metrics["Divergentes"], metrics["Desconhecidos"]) == ("1", "0", "0")
    tables = [d.value for d in at.dataframe]
    [lines] = [t for t in tables if "Situação" in t.columns]
    assert list(lines["Situação"]) == ["Pago: fatura quitada"]
    [read_before] = [t for t in tables if "Lido em" in t.columns]
    assert (list(read_before["Arquivo"]), list(read_before["Pagos"])) == (["retorno.ret"], [1])
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        status = conn.execute(select(Invoice.status).where(Invoice.id == invoice_id)).scalar_one()
    engine.dispose()
    assert status == "paid"
    # the same file again: nothing new
    by_label(at.button, "Ler retorno").click().run()
    assert any("já tinha sido lido" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["Pagos"] == "1"
    # Situação de pagamentos shows it, with the fine and interest the bank reported
    at.switch_page("pages/payment_status.py").run()
    assert not at.exception, at.exception
    paid = at.dataframe[-1].value
    from_retorno = paid[paid["Multa e juros"] != "—"]
    assert list(from_retorno["Multa e juros"]) == ["R$ 0,00"]
    assert list(from_retorno["Meio"]) == ["Boleto"]


def test_a_malformed_retorno_says_which_line(app, portal_db: str):
    at = _open(log_in(app(), "900001"))
    at.file_uploader[0].upload("retorno.ret", b"0" * 239 + b"\r\n").run()
    by_label(at.button, "Ler retorno").click().run()
    assert not at.exception, at.exception
    assert any("linha 1: tem 239 caracteres" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert not [d for d in at.dataframe if "Situação" in d.value.columns]
