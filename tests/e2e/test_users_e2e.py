"""Empresa > Usuários in the browser: the master adds a user, who gets the invitation,
does the first access, sees only what was granted, and is refused once inactivated."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import read_outbox, shot, wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Convite#2026"
EMAIL = "beatriz.souza@horizontelog.com.br"


def _menu(page: Page, title: str) -> None:
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible()
    wait_idle(page)


def _logout(page: Page) -> None:
    _menu(page, "Página inicial")  # from a public page (the outbox) "Sair" stays there
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sair").click()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)
    wait_idle(page)


# A long journey (two browser contexts) on a loaded machine: more than the default 300 s.
@pytest.mark.timeout(900)
def test_master_invites_a_user_who_activates_sees_only_its_areas_and_is_inactivated(
    page: Page,
    demo_company_without_master: tuple[str, str],
    demo_db: str,
    browser,
    portal_url: str,  # noqa: ANN001 - Playwright's Browser
):
    # The master adds the user with the reports permission only.
    login(page, "100001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _menu(page, "Usuários")
    expect(page.get_by_text(re.compile(r"^\d+ usuário\(s\) · \d+ ativo\(s\)$"))).to_be_visible()
    shot(page, "users")
    page.get_by_role("tab", name="Novo usuário").click()
    page.get_by_role("textbox", name="Nome completo *").fill("Beatriz Souza Martins")
    page.get_by_role("textbox", name="CPF *").fill("390.533.447-05")
    page.get_by_role("textbox", name="E-mail *").fill(EMAIL)
    page.get_by_test_id("stForm").get_by_text("Relatórios", exact=True).click()
    page.get_by_role("button", name="Criar usuário e enviar convite").click()
    created = page.get_by_text(re.compile(r"Usuário \d{6} criado para Beatriz"))
    expect(created).to_be_visible()
    code = re.search(r"Usuário (\d{6})", created.inner_text()).group(1)

    # The invitation is in the outbox, with the user code: the account manager reads it
    # (the master sees only the e-mails to its own address).
    invitation = read_outbox(browser, portal_url, to=EMAIL, subject="convite para o seu primeiro")
    assert f"Seu código de usuário: {code}" in invitation
    _logout(page)

    # The new user opens the invitation's single-use link, sets its password, logs in.
    link = re.search(r"(\S+/\?convite=[\w-]+)", invitation).group(1)
    assert link.startswith(f"{portal_url}/?convite=")
    page.goto(link)
    expect(page.get_by_role("heading", name="Ativar acesso")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(rf"ativar o usuário {code}"))).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="Senha *", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="Confirme sua senha *", exact=True).fill(NEW_PASSWORD)
    expect(page.get_by_role("textbox", name="Senha *", exact=True)).to_have_value(NEW_PASSWORD)
    page.get_by_role("button", name="Ativar acesso").click()
    expect(page.get_by_text(re.compile(rf"Seu código de usuário é {code}"))).to_be_visible()
    page.get_by_role("link", name="Ir para o login").click()
    login(page, code, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()

    # Only the areas granted: reports yes; movements, finance, users no.
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="Beneficiários ativos")).to_be_visible()
    for hidden in ("Cadastro individual", "Faturas", "Usuários", "Protocolos"):
        expect(sidebar.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    _logout(page)

    # The master inactivates the user; its login is refused.
    login(page, "100001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    _menu(page, "Usuários")
    page.get_by_role("tab", name="Alterar ou inativar").click()
    box = page.get_by_role("combobox", name="Usuário")
    box.click()
    page.keyboard.type(code)
    page.get_by_role("option", name=re.compile(rf"^{code} · ")).click()
    page.get_by_text(f"Confirmo a inativação do usuário {code}").click()
    page.get_by_role("button", name="Inativar usuário").click()
    expect(page.get_by_text(f"Usuário {code} inativado.")).to_be_visible()
    _logout(page)

    login(page, code, NEW_PASSWORD)
    expect(page.get_by_text("Código de usuário ou senha inválidos")).to_be_visible()
