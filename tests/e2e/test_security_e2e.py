"""Security in the browser: pages a user may not see are not served by typing their
address, and after logout the session's cookie no longer logs anyone in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_login_cookie, wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e

# Pages that 100002 (movements and reports only) may not open.
FORBIDDEN = {
    "usuarios": "Usuários",
    "auditoria": "Trilha de auditoria",
    "faturas": "Faturas",
    "pedidos-lgpd": "Pedidos LGPD",
}


def test_typing_the_address_of_a_page_not_granted_does_not_open_it(page: Page, portal_url: str):
    login(page, "100002")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    wait_for_login_cookie(page)  # each address typed is a new page load, back in by cookie
    for path, title in FORBIDDEN.items():
        page.goto(f"{portal_url}/{path}")
        # A new page load logs back in from the cookie in its first run.
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=30_000)
        wait_idle(page)
        expect(page.get_by_role("heading", name=title, exact=True)).to_have_count(0)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    # A page it may see opens by address, still logged in from the cookie.
    page.goto(f"{portal_url}/beneficiarios-ativos")
    expect(page.get_by_role("heading", name="Beneficiários ativos")).to_be_visible()


def test_an_anonymous_visitor_cannot_open_the_outbox_by_its_address(page: Page, portal_url: str):
    """The demo outbox (on in these tests) holds reset and activation links."""
    menu = page.get_by_test_id("stSidebar").get_by_role("link", name="Caixa de saída")
    expect(menu).to_have_count(0)
    page.goto(f"{portal_url}/caixa-de-saida")
    expect(page.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Caixa de saída")).to_have_count(0)
    expect(page.get_by_test_id("stText")).to_have_count(0)  # no e-mail body
    expect(page.get_by_text("Filtrar por destinatário")).to_have_count(0)


def test_the_cookie_logs_back_in_while_the_session_lives_and_never_after_logout(
    page: Page,
    browser,
    portal_url: str,  # noqa: ANN001
):
    login(page, "100001")
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
    wait_idle(page)
    cookies = wait_for_login_cookie(page)

    def fresh_browser_with(cookies: list) -> Page:  # noqa: ANN001 - Playwright's cookies
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_cookies(cookies)
        other = context.new_page()
        other.goto(portal_url)
        return other

    # Live session: the copied cookie logs a second browser in, in its first run.
    other = fresh_browser_with(cookies)
    expect(other.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=60_000)
    other.context.close()

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sair").click()
    expect(page.get_by_label("Código de usuário")).to_have_count(1)

    # After logout the same cookie is worthless.
    replay = fresh_browser_with(cookies)
    expect(replay.get_by_text("Entrar no Portal Empresa")).to_have_count(1, timeout=60_000)
    wait_idle(replay)
    expect(replay.get_by_role("heading", name="Página inicial")).to_have_count(0)
    expect(replay.get_by_label("Código de usuário")).to_have_count(1)
    replay.context.close()
