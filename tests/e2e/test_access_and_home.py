"""The portal in a real browser: login, home, network search, company switch, logout,
and a new company's first access."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e


def login(page: Page, user_code: str, password: str = "Sorriso@2026") -> None:
    wait_idle(page)  # no rerun may arrive between typing and submitting
    field = page.get_by_label("Código de usuário")
    expect(field).to_have_count(1)  # stale elements of the previous run are gone
    field.fill(user_code)
    secret = page.get_by_label("Senha", exact=True)
    secret.fill(password)
    expect(field).to_have_value(user_code)
    expect(secret).to_have_value(password)
    before = _login_cookie(page)
    page.get_by_role("button", name="Entrar").click()
    # Settle: a login writes the login cookie from a component whose answer reruns the
    # page; a click that lands in that rerun would be lost. Wait for the cookie (or the
    # refusal), then for the app to be idle.
    refused = page.get_by_role("alert")
    for _ in range(120):
        if _login_cookie(page) not in (None, before) or refused.count():
            break
        page.wait_for_timeout(250)
    wait_idle(page)


def _login_cookie(page: Page) -> str | None:
    for cookie in page.context.cookies():
        if cookie["name"] == "portal_empresa_auth":
            return cookie["value"]
    return None


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    box = page.get_by_role("combobox", name=label)
    expect(box).to_be_enabled()
    box.click()
    # Long option lists are virtualised: typing filters them down to the one wanted.
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def test_master_logs_in_sees_dates_searches_network_switches_company_and_logs_out(page: Page):
    expect(page.get_by_text("Entrar no Portal Empresa")).to_have_count(1)
    shot(page, "login")
    login(page, "100001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^10001 · "))).to_be_visible()
    expect(page.get_by_text("Data de corte deste mês")).to_be_visible()
    expect(page.get_by_text("Datas retroativas abertas hoje")).to_be_visible()
    shot(page, "home")

    choose(page, "Estado (UF)", "SP")
    choose(page, "Cidade", "São Paulo")
    expect(page.get_by_text(re.compile(r"\d+ prestador\(es\) encontrado\(s\)"))).to_be_visible()
    page.get_by_role("tab", name="Mapa").click()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shot(page, "network_search")

    sidebar = page.get_by_test_id("stSidebar")
    switcher = sidebar.get_by_role("combobox", name="Empresa em contexto")
    switcher.scroll_into_view_if_needed()
    switcher.click()
    page.keyboard.type("10002")
    page.get_by_role("option", name=re.compile(r"^10002 · ")).click()
    expect(page.get_by_text(re.compile(r"^10002 · .*(CNPJ|CAEPF)"))).to_be_visible()

    sidebar.get_by_role("button", name="Sair").click()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)  # the cookie is gone


def test_wrong_password_shows_the_neutral_message(page: Page):
    login(page, "100001", "Errada@2026")
    expect(page.get_by_text("Código de usuário ou senha inválidos")).to_be_visible()


def test_a_new_company_does_its_first_access_and_logs_in_with_the_new_user_code(
    page: Page, demo_company_without_master: tuple[str, str]
):
    code, cnpj = demo_company_without_master
    page.get_by_role("link", name="Meu primeiro acesso").first.click()
    expect(page.get_by_role("heading", name="Meu primeiro acesso")).to_be_visible()
    page.get_by_role("textbox", name="Código da empresa *", exact=True).fill(code)
    page.get_by_role("textbox", name="E-mail *", exact=True).fill("rh@padaria.example.com.br")
    page.get_by_role("textbox", name="CNPJ / CAEPF *", exact=True).fill("00.000.000/0000-00")
    page.get_by_role("textbox", name="Senha *", exact=True).fill("Nova@Senha1")
    page.get_by_role("textbox", name="Confirme sua senha *", exact=True).fill("Nova@Senha1")
    page.get_by_role("button", name="Cadastrar").click()
    expect(page.get_by_text("CNPJ inválido").first).to_be_visible()
    shot(page, "first_access")

    page.get_by_role("textbox", name="CNPJ / CAEPF *", exact=True).fill(cnpj)
    page.get_by_role("button", name="Cadastrar").click()
    success = page.get_by_text(re.compile(r"Seu código de usuário é \d+"))
    expect(success).to_be_visible()
    new_code = re.search(r"é (\d+)", success.inner_text()).group(1)
    page.get_by_role("button", name="Ir para o login").click()
    login(page, new_code, "Nova@Senha1")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^{code} · "))).to_be_visible()
