"""Empresa in the browser: Meus dados, Planos contratados, Trilha de auditoria, Alterar
senha; and the account manager's LGPD access request and portfolio analysis."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SPARE_USER, shot, wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e


def _menu(page: Page, title: str) -> None:
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible()
    wait_idle(page)


def test_master_edits_company_data_reads_its_plans_and_finds_the_change_audited(page: Page):
    login(page, "100001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _menu(page, "Meus dados")
    phone = page.get_by_role("textbox", name="Telefone *")
    phone.fill("(20) 3333-4444")
    page.get_by_role("button", name="Salvar alterações").click()
    expect(page.get_by_text("o DDD 20 não existe").first).to_be_visible()
    phone.fill("(11) 3222-1100")
    page.get_by_role("button", name="Salvar alterações").click()
    expect(page.get_by_text(re.compile(r"Dados alterados: .*Telefone"))).to_be_visible()
    shot(page, "company_data")

    _menu(page, "Planos contratados")
    expect(page.get_by_text("Registro ANS").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"Preço por faixa etária")).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Baixar condições gerais (PDF)").first.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    shot(page, "plans")

    _menu(page, "Trilha de auditoria")
    expect(page.get_by_text(re.compile(r"^\d+ registro\(s\) de "))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Baixar CSV").click()
    csv = download.value.path().read_text(encoding="utf-8-sig")
    assert "Dados da empresa alterados" in csv and "3222" in csv
    shot(page, "audit_trail")


def test_changing_the_password_ends_the_other_session_and_the_new_one_works(
    page: Page,
    browser,
    portal_url: str,  # noqa: ANN001
):
    # Another browser is logged in as the same user.
    other_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = other_context.new_page()
    other.goto(portal_url)
    expect(other.get_by_text("Entrar no Portal Empresa")).to_have_count(1, timeout=60_000)
    wait_idle(other)
    login(other, SPARE_USER)
    expect(other.get_by_role("heading", name="Página inicial")).to_be_visible()

    login(page, SPARE_USER)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _menu(page, "Alterar senha")
    expect(page.get_by_text("diferente das suas últimas 3 senhas")).to_be_visible()
    page.get_by_label("Senha atual *", exact=True).fill("Sorriso@2026")
    page.get_by_label("Nova senha *", exact=True).fill("Sorriso@2026")
    page.get_by_label("Confirme a nova senha *", exact=True).fill("Sorriso@2026")
    page.get_by_role("button", name="Alterar senha").click()
    expect(page.get_by_text("últimas 3 senhas").nth(1)).to_be_visible()
    page.get_by_label("Senha atual *", exact=True).fill("Sorriso@2026")
    page.get_by_label("Nova senha *", exact=True).fill("Outra#Senha27")
    page.get_by_label("Confirme a nova senha *", exact=True).fill("Outra#Senha27")
    page.get_by_role("button", name="Alterar senha").click()
    expect(page.get_by_text("Senha alterada.")).to_be_visible()
    shot(page, "change_password")

    # The other browser's next step ends its session.
    other.get_by_test_id("stSidebar").get_by_role("link", name="Beneficiários ativos").click()
    expect(other.get_by_text("Sua sessão foi encerrada")).to_be_visible()
    other_context.close()

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sair").click()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)
    login(page, SPARE_USER, "Outra#Senha27")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()


def test_account_manager_answers_an_lgpd_request_and_opens_the_portfolio(page: Page, demo_db: str):
    from sqlalchemy import select

    from data.db import make_engine
    from data.models import Beneficiary, Company

    engine = make_engine(demo_db)
    with engine.connect() as conn:
        cpf = conn.execute(
            select(Beneficiary.cpf)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(Company.code == "10001", Beneficiary.cpf.is_not(None))
            .order_by(Beneficiary.id)
            .limit(1)
        ).scalar_one()
    engine.dispose()

    login(page, "900001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _menu(page, "Pedidos LGPD")
    page.get_by_role("textbox", name="CPF ou carteirinha do beneficiário *").fill(cpf)
    page.get_by_role("button", name="Gerar relatório do titular").click()
    expect(page.get_by_text(re.compile(r"Relatório de .* gerado em"))).to_be_visible()
    expect(page.get_by_role("heading", name="Quem acessou os dados")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Baixar JSON (completo)").click()
    assert cpf[:3] in download.value.path().read_text(encoding="utf-8")
    shot(page, "lgpd_request")

    _menu(page, "Análise da carteira")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shot(page, "portfolio_analysis")
