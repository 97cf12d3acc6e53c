"""Page loads, end to end: while the app starts, logs in and reruns, the sidebar never
lists the pages/ folder's file names and no empty box is shown (an iframe, a grey
loading skeleton, or the hidden container of the login cookie's script); the provider
map draws the shipped state outlines with no internet (this machine has none).

A fresh server is started here: Streamlit's page-folder navigation shows up only in the
first run of a server process, which the session's shared server has long done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from components.page_load import COOKIE_CONTAINER
from tests.e2e.conftest import ROOT, _free_port, serve_portal, wait_for_login_cookie, wait_idle
from tests.e2e.test_access_and_home import login

FILE_NAMES = sorted(
    p.stem.replace("_", " ") for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__"
) + ["streamlit app"]

# Runs in the page from its first script on, every 50 ms, and keeps what it saw.
WATCH = """
(() => {
  const fileNames = %(files)s;
  const cookieKey = "st-key-" + %(key)s;
  window.__seen = {nav: [], boxes: [], checks: 0};
  const check = () => {
    window.__seen.checks += 1;
    for (const link of document.querySelectorAll('[data-testid="stSidebarNav"] a')) {
      const text = link.innerText.trim().split("\\n").pop().trim().toLowerCase();
      if (fileNames.includes(text) && !window.__seen.nav.includes(text)) {
        window.__seen.nav.push(text);
      }
    }
    for (const box of document.querySelectorAll('[data-testid="stElementContainer"]')) {
      const component = box.querySelector("iframe") !== null
        || box.classList.contains(cookieKey)
        || box.closest("." + cookieKey) !== null;
      if (!component) continue;
      const height = box.getBoundingClientRect().height;
      if (height > 0 && box.checkVisibility()) {
        const label = [...box.classList].filter(c => c.startsWith("st-key-")).join(".")
          + " " + Math.round(height) + "px";
        if (!window.__seen.boxes.includes(label)) window.__seen.boxes.push(label);
      }
    }
  };
  setInterval(check, 50);
})();
"""


@pytest.fixture
def fresh_portal(demo_db: str, tmp_path: Path) -> Iterator[str]:
    """A portal server that has not served anybody yet."""
    port = _free_port()
    env = {"PORTAL_SHOW_OUTBOX": "true", "PORTAL_BASE_URL": f"http://127.0.0.1:{port}"}
    with serve_portal(demo_db, tmp_path, env=env, port=port) as (base, _):
        yield base


def _seen(page: Page) -> dict:
    return page.evaluate("() => window.__seen")


def test_no_file_names_and_no_empty_box_while_the_app_starts_logs_in_and_reruns(
    browser, fresh_portal: str
):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    context.add_init_script(
        WATCH % {"files": json.dumps(FILE_NAMES), "key": json.dumps(COOKIE_CONTAINER)}
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        # Start: the fresh server's first run (the slowest: it imports the whole app).
        page.goto(fresh_portal, wait_until="commit")
        expect(page.get_by_text("Entrar no Portal Empresa")).to_have_count(1, timeout=90_000)
        wait_idle(page)
        # The portal's own navigation is there (only the file-name one is hidden).
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Meu primeiro acesso")).to_be_visible()

        # Log in: the run the click starts draws the home page and writes the cookie.
        login(page, "100001")
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=60_000)
        wait_for_login_cookie(page)
        wait_idle(page)
        expect(nav.get_by_role("link", name="Página inicial")).to_be_visible()

        # A rerun (a filter of the network search), and another page and back.
        page.get_by_label("Estado (UF)").click()
        page.get_by_role("option", name="SP", exact=True).click()
        expect(page.get_by_role("combobox", name="Cidade")).to_be_enabled()  # the rerun's
        wait_idle(page)
        nav.get_by_role("link", name="Meus dados", exact=True).click()
        expect(page.get_by_role("heading", name="Meus dados")).to_be_visible()
        wait_idle(page)
        nav.get_by_role("link", name="Página inicial", exact=True).click()
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
        wait_idle(page)

        seen = _seen(page)
        assert seen["checks"] > 50  # the watch ran all along
        assert seen["nav"] == [], f"file names in the sidebar: {seen['nav']}"
        assert seen["boxes"] == [], f"empty component boxes shown: {seen['boxes']}"
    finally:
        context.close()


def test_the_provider_map_draws_the_state_outlines_with_no_internet(page: Page):
    login(page, "100001")
    expect(page.get_by_role("heading", name="Busca de rede")).to_be_visible(timeout=60_000)
    wait_for_login_cookie(page)
    wait_idle(page)
    page.get_by_role("tab", name="Mapa").click()
    expect(
        page.get_by_text("Mapa simplificado: o servidor de mapas não está acessível.")
    ).to_be_visible()
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart).to_be_visible()
    # The plotly SVG holds one filled path per state and a marker per provider.
    fills = chart.locator("g.trace.scatter path.js-fill")
    expect(fills).to_have_count(27)
    assert chart.locator("g.trace.scatter path.point").count() > 0
    box = chart.bounding_box()
    assert box is not None and box["height"] > 300 and box["width"] > 300
    assert min(fills.nth(i).bounding_box()["width"] for i in range(27)) > 0
    # No tile map and no topojson-based geo map was drawn.
    assert chart.locator(".maplibregl-map, .geo").count() == 0
