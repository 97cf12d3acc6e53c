"""Bank files in a real browser: the account manager uploads a CNAB 240 retorno (built
here, as the bank would, for an open demo invoice's boleto) and sees the invoice paid."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from data.db import make_engine, make_session_factory
from data.models import Company, Invoice, Operator
from data.uow import UnitOfWork
from services.access.accounts import actor_for_user
from services.billing import payments
from services.rules.cnab240 import bank_title_id
from tests.cnab_support import Paid, account_of, retorno_file
from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_finance_e2e import open_page

pytestmark = pytest.mark.e2e
CODE = "10006"  # a company no other journey pays or updates


def _retorno_for_open_invoice(database_url: str) -> tuple[str, str, bytes]:
    """The latest open invoice of CODE gets its boleto (as the account manager would
    issue it), and a retorno paying it in full on its due date."""
    engine = make_engine(database_url)
    uow = UnitOfWork(make_session_factory(engine))
    now = datetime.now(UTC)
    actor = actor_for_user(uow=uow, user_code="900001", now=now)
    assert actor is not None
    with uow:
        company_id = uow.session.scalars(select(Company.id).where(Company.code == CODE)).one()
        inv = uow.session.scalars(
            select(Invoice)
            .where(Invoice.company_id == company_id, Invoice.status == "open")
            .order_by(Invoice.billing_month.desc())
        ).first()
        assert inv is not None
        invoice_id, month = inv.id, inv.billing_month
        account = account_of(uow.session.scalars(select(Operator)).first())
    boleto = payments.boleto_issue(
        uow=uow.for_company(company_id), actor=actor, invoice_id=invoice_id, now=now
    )
    paid = Paid(
        bank_title_id(account, boleto.our_number), boleto.amount, boleto.amount, boleto.due_date
    )
    engine.dispose()
    title_id = bank_title_id(account, boleto.our_number)
    return f"{month:%m/%Y}", title_id, retorno_file(account, [paid])


def log_in(page: Page, user_code: str) -> None:
    """Log in and wait for the home page's run to end (not for its network map: this
    journey does not use the home page)."""
    page.get_by_label("Código de usuário").fill(user_code)
    page.get_by_label("Senha", exact=True).fill("Sorriso@2026")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=30_000)
    wait_idle(page)


def test_account_manager_uploads_a_retorno_and_sees_the_invoice_paid(
    page: Page, demo_db: str, tmp_path: Path
):
    month, title_id, content = _retorno_for_open_invoice(demo_db)
    file = tmp_path / "retorno_banco.ret"
    file.write_bytes(content)
    log_in(page, "900001")
    open_page(page, "Arquivos bancários", "Arquivos bancários")

    # The remessa registers the boleto with the bank: generated, then downloaded.
    page.get_by_role("button", name="Gerar remessa").click()
    expect(page.get_by_text(re.compile(r"Remessa nº \d+ gerada com \d+ boleto"))).to_be_visible(
        timeout=60_000
    )
    wait_idle(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Baixar remessa").click()
    remessa = Path(info.value.path()).read_bytes().decode("ascii").split("\r\n")[:-1]
    assert remessa and all(len(line) == 240 for line in remessa)
    assert any(line[13] == "P" and line[37:57].strip() == title_id for line in remessa)

    page.get_by_role("tab", name="Retorno").click()
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(file)
    expect(page.get_by_text("retorno_banco.ret").first).to_be_visible()
    wait_idle(page)
    page.get_by_role("button", name="Ler retorno").click()
    expect(page.get_by_text("Retorno lido: 1 pagamento(s) registrado(s).")).to_be_visible(
        timeout=60_000
    )
    paid = page.get_by_test_id("stMetric").filter(has_text="Pagos")
    expect(paid).to_contain_text("1")
    shot(page, "bank_files")

    wait_idle(page)
    switcher = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Empresa em contexto")
    switcher.scroll_into_view_if_needed()
    switcher.click()
    page.keyboard.type(CODE)
    page.get_by_role("option", name=re.compile(rf"^{CODE} · ")).click()
    wait_idle(page)
    open_page(page, "Faturas", "Faturas")
    expect(page.get_by_text(re.compile(rf"^{CODE} · ")).first).to_be_visible()
    expect(
        page.get_by_text(re.compile(rf"Competência {re.escape(month)} · vencimento .* · Paga em"))
    ).to_be_visible(timeout=60_000)
