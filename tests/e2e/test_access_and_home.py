"""The portal in a real browser: login, home, network search, company switch, logout,
and a new company's first access."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import addressed, shot, wait_idle

pytestmark = pytest.mark.e2e


def login(page: Page, user_code: str, password: str = "Sorriso@2026") -> None:
    """Type the code and password and submit; return once the run the click started is
    over: it draws the home page, or the form again with the refusal. (The login reruns
    nothing by itself: no retyping, no pauses.)"""
    page.get_by_label("Código de usuário").fill(user_code)
    page.get_by_label("Senha", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()
    home = page.get_by_role("heading", name="Página inicial")
    expect(home.or_(page.get_by_role("alert"))).to_be_visible()
    wait_idle(page)
    if home.count():
        home_drawn(page)


def home_drawn(page: Page) -> None:
    """Wait until the browser has drawn the whole home page: its metrics (whose code
    Streamlit loads when a page first shows one) and the providers' list (the map is
    built only when its tab is opened). On a loaded 2-core machine that drawing keeps the
    browser busy well after the run ends, and a click sent meanwhile can wait past its
    timeout."""
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)


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
    # Streamlit loads a metric's code only when a page first draws one: on a loaded
    # machine that comes well after the run (measured up to 30 s, before and after the
    # login changed).
    expect(page.get_by_text("Data de corte deste mês")).to_be_visible(timeout=60_000)
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


def link_from_outbox(page: Page, to: str, subject: str, param: str) -> str:
    """As the account manager 900001 (who sees every e-mail of the demo outbox), the link
    `?param=TOKEN` of the newest e-mail to `to` with `subject`."""
    login(page, "900001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Caixa de saída").click()
    expect(page.get_by_role("heading", name="Caixa de saída")).to_be_visible()
    wait_idle(page)
    page.get_by_placeholder("nome@empresa.com.br").fill(to)
    page.keyboard.press("Enter")
    # Filtered: the newest e-mail (first) is one to `to` (its title shows the address).
    expect(page.get_by_test_id("stExpander").first).to_contain_text(addressed(to))
    wait_idle(page)
    page.get_by_text(re.compile(re.escape(subject))).first.click()
    body = page.get_by_test_id("stText").filter(has_text=f"?{param}=").first
    expect(body).to_be_visible()
    match = re.search(rf"(\S+/\?{param}=[\w-]+)", body.inner_text())
    assert match, body.inner_text()
    return match.group(1)


# A long journey (two browser contexts) on a loaded machine: more than the default 300 s.
@pytest.mark.timeout(900)
def test_a_new_company_does_its_first_access_through_the_activation_e_mail(
    page: Page,
    browser,
    portal_url: str,
    demo_db: str,  # noqa: ANN001 - Playwright's Browser
):
    from sqlalchemy import select

    from data.db import make_engine
    from data.models import Company, User

    engine = make_engine(demo_db)
    with engine.connect() as conn:
        company = conn.execute(select(Company).where(Company.code == "10004")).one()
    engine.dispose()

    # Anonymous: the form asks code, contact e-mail and CNPJ; no password, no account yet.
    page.get_by_role("link", name="Meu primeiro acesso").first.click()
    expect(page.get_by_role("heading", name="Meu primeiro acesso")).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="Código da empresa *", exact=True).fill("10004")
    page.get_by_role("textbox", name="E-mail de contato cadastrado *", exact=True).fill(
        company.contact_email
    )
    page.get_by_role("textbox", name="CNPJ / CAEPF *", exact=True).fill("00.000.000/0000-00")
    expect(page.get_by_role("textbox", name="Senha *", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Enviar link de ativação").click()
    expect(page.get_by_text("CNPJ inválido").first).to_be_visible()
    shot(page, "first_access")
    page.get_by_role("textbox", name="CNPJ / CAEPF *", exact=True).fill(company.document)
    page.get_by_role("button", name="Enviar link de ativação").click()
    expect(page.get_by_text("enviamos para ele um link de ativação")).to_be_visible()
    engine = make_engine(demo_db)
    with engine.connect() as conn:
        users = conn.execute(select(User.id).where(User.company_id == company.id)).all()
    engine.dispose()
    assert users == []  # the form created nothing

    # The account manager reads the e-mail in the Caixa de saída, in a browser of its own.
    other = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    try:
        reader = other.new_page()
        reader.goto(portal_url)
        expect(reader.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
        link = link_from_outbox(
            reader, company.contact_email, "ative o acesso da sua empresa", "ativar"
        )
    finally:
        other.close()
    assert link.startswith(f"{portal_url}/?ativar=")  # PORTAL_BASE_URL of the server

    # The link opens "Ativar acesso": the company, a password, the new user code.
    page.goto(link)
    expect(page.get_by_role("heading", name="Ativar acesso")).to_be_visible(timeout=60_000)
    heading = re.compile(r"Primeiro acesso da empresa 10004 · Padaria")
    expect(page.get_by_text(heading)).to_be_visible()
    wait_idle(page)
    page.get_by_role("textbox", name="Senha *", exact=True).fill("Nova@Senha1")
    page.get_by_role("textbox", name="Confirme sua senha *", exact=True).fill("Nova@Senha1")
    page.get_by_role("button", name="Ativar acesso").click()
    success = page.get_by_text(re.compile(r"Seu código de usuário é \d{6}"))
    expect(success).to_be_visible()
    expect(page.get_by_text("o login é sempre feito com o código de usuário")).to_be_visible()
    shot(page, "access_activated")
    new_code = re.search(r"é (\d{6})", success.inner_text()).group(1)
    page.get_by_role("link", name="Ir para o login").click()
    login(page, new_code, "Nova@Senha1")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^10004 · "))).to_be_visible()

    # The link was single use.
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sair").click()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)
    page.goto(link)
    expect(page.get_by_text(re.compile("já usado")).first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("textbox", name="Senha *", exact=True)).to_have_count(0)
