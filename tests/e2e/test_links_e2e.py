"""Links in e-mails use the address the portal is served at (issue 11, item 8).

A server of its own, started like `make run PORT=…` (no PORTAL_BASE_URL): the reset link
e-mailed points at http://localhost:<that port>, and it opens the reset form there."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import serve_portal, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def portal_on_its_own_port(
    demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """A copy of the demo database served on a free port, without PORTAL_BASE_URL."""
    folder = tmp_path_factory.mktemp("links")
    source = Path(demo_db.removeprefix("sqlite:///"))
    copy = folder / "portal.db"
    shutil.copy(source, copy)
    url = f"sqlite:///{copy}"
    env = {"PORTAL_SHOW_OUTBOX": "true"}
    with serve_portal(url, folder, env=env, without=("PORTAL_BASE_URL",), cwd=folder) as (
        _,
        port,
    ):
        yield url, port


@pytest.mark.timeout(600)  # a server of its own to start on a loaded machine
def test_a_reset_link_points_at_the_port_the_portal_is_served_on(
    browser,
    portal_on_its_own_port: tuple[str, int],  # noqa: ANN001 - Playwright's Browser
):
    from data.db import make_engine
    from data.models import Company, OutboxEmail

    url, port = portal_on_its_own_port
    engine = make_engine(url)
    with engine.connect() as conn:
        cnpj = conn.execute(select(Company.document).where(Company.code == "10001")).scalar_one()
    engine.dispose()

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    try:
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        # As the suite's own page fixture: a fresh server's first run is slow.
        expect(page.get_by_text("Entrar no Portal Empresa")).to_have_count(1, timeout=90_000)
        wait_idle(page)
        page.get_by_role("link", name="Esqueci minha senha").first.click()
        expect(page.get_by_role("heading", name="Esqueci minha senha")).to_be_visible()
        wait_idle(page)
        page.get_by_role("textbox", name="Código de usuário *").fill("100001")
        page.get_by_role("textbox", name="CNPJ / CAEPF *").fill(cnpj)
        page.get_by_role("button", name="Enviar link").click()
        expect(page.get_by_text("Se os dados conferirem")).to_be_visible()

        engine = make_engine(url)
        with engine.connect() as conn:
            body = conn.execute(
                select(OutboxEmail.body).order_by(OutboxEmail.id.desc()).limit(1)
            ).scalar_one()
        engine.dispose()
        link = re.search(r"\S+\?reset=[\w-]+", body).group(0)
        assert link.startswith(f"http://localhost:{port}/?reset="), link

        page.goto(link)  # localhost: the same server, its reset form
        expect(page.get_by_role("heading", name="Redefinir senha")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Salvar nova senha")).to_be_visible()
        expect(page.get_by_label("Nova senha *", exact=True)).to_have_count(1, timeout=60_000)
    finally:
        context.close()
