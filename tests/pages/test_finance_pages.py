"""Finance pages through the frame with AppTest: invoices, duplicate boleto, overdue
update, payment status, billing reports and the monthly billing run."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from data.db import make_engine
from data.models import Boleto, Invoice, OutboxEmail, Protocol
from services.rules.billing import add_months
from services.rules.boleto import is_valid_typed_line
from services.rules.pix import is_valid_pix_payload
from tests.pages.conftest import by_label, log_in

FINANCE_PAGES = {
    "pages/invoices.py": "Faturas",
    "pages/boleto.py": "2ª via de boleto",
    "pages/overdue_update.py": "Atualização de faturas vencidas",
    "pages/payment_status.py": "Situação de pagamentos",
    "pages/billing_reports.py": "Relatórios de faturamento",
}


def _open(at, page: str):  # noqa: ANN001, ANN202
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _scalar(url: str, query):  # noqa: ANN001, ANN202
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(query).scalar_one()
    engine.dispose()
    return value


@pytest.mark.parametrize("user", ["100001", "900001"])
def test_every_finance_page_renders_for_the_master_and_the_account_manager(app, user: str):
    at = log_in(app(), user)
    for page, title in FINANCE_PAGES.items():
        _open(at, page)
        assert at.title[0].value == title, page
        assert not at.error, (page, [e.value for e in at.error])


def test_monthly_billing_is_only_in_the_account_managers_menu(app):
    master = log_in(app(), "100001")
    with pytest.raises(ValueError, match="billing_run"):
        master.switch_page("pages/billing_run.py")
    manager = _open(log_in(app(), "900001"), "pages/billing_run.py")
    assert manager.title[0].value == "Faturamento mensal"


def test_a_user_without_finance_permission_has_no_finance_page(app):
    at = log_in(app(), "100002")  # movements and reports only
    with pytest.raises(ValueError, match="invoices"):
        at.switch_page("pages/invoices.py")


def test_invoices_of_last_year_list_twelve_months_with_chart_and_detail(app):
    at = _open(log_in(app(), "100001"), "pages/invoices.py")
    last_year = date.today().year - 1
    by_label(at.selectbox, "Ano").select(last_year).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Competência"]) == [f"{m:02d}/{last_year}" for m in range(1, 13)]
    assert set(table["Situação"]) <= {"Paga", "Em aberto", "Vencida", "Cancelada"}
    assert all(v.startswith("R$ ") for v in table["Valor"])
    assert len(at.get("plotly_chart")) == 1
    detail = by_label(at.selectbox, "Fatura")
    assert detail.options[0].startswith(f"dezembro/{last_year}")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Valor da fatura"].startswith("R$ ")
    lines = at.dataframe[1].value
    assert list(lines.columns) == [
        "Beneficiário",
        "Carteirinha",
        "Centro de custo",  # the demo companies keep cost centres
        "Plano",
        "Faixa etária",
        "Tipo",
        "Competência de referência",
        "Valor",
    ]
    # The ledger: December's own lines, and catch-up of earlier months (each with its
    # reference month, never a later one, at most 15 months back).
    refs = {date(int(r[3:]), int(r[:2]), 1) for r in lines["Competência de referência"]}
    december = date(last_year, 12, 1)
    assert len(lines) > 0 and december in refs
    assert all(add_months(december, -15) <= r <= december for r in refs)
    assert [b.label for b in at.get("download_button")] == ["Baixar planilha (xlsx)", "Baixar CSV"]


def test_the_duplicate_boleto_shows_a_valid_typed_line_and_pix_code_and_goes_by_email(
    app, portal_db: str
):
    at = _open(log_in(app(), "100001"), "pages/boleto.py")
    typed, pix = (c.value for c in at.code)
    assert is_valid_typed_line(typed)
    assert is_valid_pix_payload(pix)
    assert len(at.get("image")) == 1
    assert [b.label for b in at.get("download_button")] == ["Baixar boleto em PDF"]
    assert _scalar(portal_db, select(func.count()).select_from(Boleto)) == 1

    by_label(at.text_input, "E-mail").input("financeiro@horizonte.example.com.br")
    by_label(at.button, "Enviar por e-mail").click().run()
    assert not at.exception
    # As the user reads it: the address is user text, Markdown-escaped on screen.
    assert [s.value.replace("\\", "").replace("\u2060", "") for s in at.success] == [
        "Boleto enviado para financeiro@horizonte.example.com.br."
    ]
    name = _scalar(
        portal_db,
        select(OutboxEmail.attachment_name).where(
            OutboxEmail.to_address == "financeiro@horizonte.example.com.br"
        ),
    )
    assert name.endswith(".pdf")
    # Opening the page again reuses the same boleto.
    _open(at, "pages/boleto.py")
    assert _scalar(portal_db, select(func.count()).select_from(Boleto)) == 1


def test_a_wrong_email_address_gets_a_message_next_to_the_form(app):
    at = _open(log_in(app(), "100001"), "pages/boleto.py")
    by_label(at.text_input, "E-mail").input("financeiro@")
    by_label(at.button, "Enviar por e-mail").click().run()
    assert any("e-mail válido" in e.value for e in at.error)


def test_overdue_update_shows_fine_interest_and_issues_a_new_boleto(app, portal_db: str):
    at = _open(log_in(app(), "100001"), "pages/overdue_update.py")
    dates = by_label(at.selectbox, "Nova data de pagamento")
    dates.select(dates.options[-1]).run()
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Valor original", "Multa", "Juros", "Novo total"}
    assert metrics["Novo total"] != metrics["Valor original"]
    by_label(at.button, "Emitir novo boleto").click().run()
    assert not at.exception
    [success] = at.success
    assert re.search(
        rf"Novo boleto emitido: {re.escape(metrics['Novo total'])} com vencimento", success.value
    )
    assert "Protocolo nº" in success.value
    typed, pix = (c.value for c in at.code)
    assert is_valid_typed_line(typed) and is_valid_pix_payload(pix)
    assert (
        _scalar(
            portal_db,
            select(func.count()).select_from(Protocol).where(Protocol.kind == "overdue_update"),
        )
        == 1
    )


def test_payment_status_shows_totals_and_the_three_lists(app):
    at = _open(log_in(app(), "100001"), "pages/payment_status.py")
    assert [m.label for m in at.metric] == ["Pago", "A vencer", "Vencido"]
    assert all(m.value.startswith("R$ ") for m in at.metric)
    assert [s.value for s in at.subheader] == ["Vencidas", "Em aberto", "Pagas"]
    paid = at.dataframe[-1].value
    assert set(paid["Meio"]) <= {"Boleto", "PIX", "Transferência"}


def test_billing_reports_filter_by_plan_and_period(app):
    at = _open(log_in(app(), "100001"), "pages/billing_reports.py")
    total = at.metric[0].value
    assert total.startswith("R$ ")
    assert [t.label for t in at.tabs] == [
        "Por mês",
        "Por plano",
        "Por beneficiário",
        "Por centro de custo",  # the demo companies keep cost centres
    ]
    plans = by_label(at.multiselect, "Planos")
    plans.select(plans.options[0]).run()
    assert not at.exception
    assert at.metric[0].value != total
    last = by_label(at.selectbox, "Até (competência)").value
    by_label(at.selectbox, "De (competência)").set_value(last).run()
    assert not at.error
    by_label(at.selectbox, "Até (competência)").select_index(0).run()
    assert any("mês final" in e.value for e in at.error)


def test_the_account_manager_bills_next_month_for_the_portfolio_and_again_skips_all(
    app, portal_db: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PORTAL_QUEUE_URL", "immediate")  # the queued run runs at once
    at = _open(log_in(app(), "900001"), "pages/billing_run.py")
    month = by_label(at.selectbox, "Competência")
    assert month.value == add_months(date.today(), 1)
    by_label(at.radio, "Empresas").set_value("Toda a carteira").run()
    by_label(at.button, "Faturar").click().run()
    assert not at.exception
    [success] = at.success
    assert "8 fatura(s) emitida(s)" in success.value
    assert (
        _scalar(
            portal_db,
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.billing_month == add_months(date.today(), 1)),
        )
        == 8
    )
    by_label(at.button, "Faturar").click().run()
    assert "0 fatura(s) emitida(s)" in at.success[0].value
    assert "8 empresa(s) não faturada(s)" in at.warning[0].value


def test_the_boleto_pdf_carries_the_typed_line_and_the_barcode(app, portal_db: str):
    from components.boleto_pdf import boleto_pdf
    from data.db import make_session_factory
    from data.uow import UnitOfWork
    from services import billing
    from services.access import accounts as access
    from services.billing import payments

    engine = make_engine(portal_db)
    uow = UnitOfWork(make_session_factory(engine))
    actor = access.actor_for_user(uow=uow, user_code="100001")
    company_uow = uow.for_company(actor.home_company_id)
    [first, *_] = billing.invoice_list(
        uow=company_uow, actor=actor, today=date.today(), statuses=("open", "overdue")
    )
    from components.context import now_utc

    view = payments.boleto_issue(uow=company_uow, actor=actor, invoice_id=first.id, now=now_utc())
    engine.dispose()
    text = PdfReader(io.BytesIO(boleto_pdf(view))).pages[0].extract_text()
    assert view.typed_line_formatted in text
    assert "R$ " in text and view.payer_name in text
    found = re.findall(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}", text)
    assert found and all(is_valid_typed_line(line) for line in found)
