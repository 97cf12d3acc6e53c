"""End-to-end fixtures: the portal served on a free port over a fresh demo database,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
# A page's script may take a few seconds on a loaded 2-core machine: assertions wait up
# to 15 s for what they expect (a failing one still fails, only later).
expect.set_options(timeout=15_000)
# Tests never modify tracked files: screenshots go to a temporary folder unless
# PORTAL_SCREENSHOTS names one (`PORTAL_SCREENSHOTS=docs/screenshots make test` refreshes
# the README's).
SCREENSHOTS = (
    Path(os.environ["PORTAL_SCREENSHOTS"]).resolve()
    if os.environ.get("PORTAL_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "portal-e2e-screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return (
        os.environ.get("PORTAL_CHROMIUM")
        or shutil.which("chromium")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from data.db import make_engine
    from demo.generator import seed_demo

    path = tmp_path_factory.mktemp("e2e") / "portal.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    seed_demo(engine, companies=8, beneficiaries=600)
    _add_spare_user(engine)
    engine.dispose()
    return url


LOGIN_COOKIE = "portal_empresa_auth"  # PORTAL_COOKIE_NAME's default
SPARE_USER = "100009"  # an active user of 10001 that only the password journey uses


def _add_spare_user(engine) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from sqlalchemy import select

    from data.models import Company, User
    from services.access.accounts import hash_password

    with engine.begin() as conn:
        company_id = conn.execute(select(Company.id).where(Company.code == "10001")).scalar_one()
        conn.execute(
            User.__table__.insert().values(
                user_code=SPARE_USER,
                name="Sofia Reserva Lima",
                cpf="11144477735",
                email="sofia.lima@horizontelog.com.br",
                role="user",
                permissions=["reports"],
                company_id=company_id,
                status="active",
                password_hash=hash_password("Sorriso@2026"),
                failed_attempts=0,
                created_at=datetime.now(UTC),
                session_epoch=0,
                password_history=[],
            )
        )


@contextmanager
def serve_portal(
    database_url: str,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    without: tuple[str, ...] = (),
    cwd: Path = ROOT,
    start_seconds: float = 90,
    port: int | None = None,
) -> Iterator[tuple[str, int]]:
    """The portal served on a free port over `database_url`: yields (base URL, port).

    `env` adds variables, `without` removes some of the test run's own (a server that
    must find its address by itself runs without PORTAL_BASE_URL)."""
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if k not in without}
    environment.update(PORTAL_DATABASE_URL=database_url, **(env or {}))
    log = (log_dir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "components.serve",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + start_seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"the portal did not start: see {log.name}")
        yield base, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def portal_url(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_dir = tmp_path_factory.mktemp("e2e-log")
    port = _free_port()
    with serve_portal(
        demo_db,
        log_dir,
        env={"PORTAL_SHOW_OUTBOX": "true", "PORTAL_BASE_URL": f"http://127.0.0.1:{port}"},
        port=port,
    ) as (base, _):
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    if executable is None:
        pytest.fail("Chromium not found: install Debian's 'chromium' package (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, portal_url: str):  # noqa: ANN001 - Playwright's Browser
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.goto(portal_url)
    # A fresh server's first run imports the whole app (several seconds under load):
    # wait for the login form before the test starts counting its own timeouts.
    expect(pg.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
    wait_idle(pg)
    yield pg
    context.close()


IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page, timeout_ms: int = 60_000) -> None:  # noqa: ANN001
    """Wait until the app's script is not running (Streamlit marks its root element with
    the run state). Call it once the page shows what an action leads to: then no run of
    the app is left to replace what the test types or clicks next. The login no longer
    reruns the page by itself (no cookie component answers after mounting), so nothing
    else needs a pause."""
    expect(page.locator(IDLE)).to_have_count(1, timeout=timeout_ms)


def wait_for_login_cookie(page, timeout_ms: int = 20_000) -> list:  # noqa: ANN001
    """The browser's cookies once the login cookie is there: the run that draws the page
    after the login writes it (a script, so the page's `document.cookie` shows it)."""
    page.wait_for_function(
        "name => document.cookie.split('; ').some(c => c.startsWith(name + '='))",
        arg=LOGIN_COOKIE,
        timeout=timeout_ms,
    )
    return page.context.cookies()


def shot(page, name: str) -> None:  # noqa: ANN001
    """Save a README screenshot of the current page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wait_idle(page)
    page.evaluate("document.fonts.ready.then(() => true)")  # icons and text drawn
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="session")
def demo_company_without_master(demo_db: str) -> tuple[str, str]:
    """Company 10004 of the demo has no users: code and CNPJ for its first access."""
    from sqlalchemy import select

    from data.db import make_engine
    from data.models import Company

    engine = make_engine(demo_db)
    with engine.connect() as conn:
        doc = conn.execute(select(Company.document).where(Company.code == "10004")).scalar_one()
    engine.dispose()
    return "10004", doc


def addressed(address: str) -> re.Pattern[str]:
    """An e-mail address as the outbox shows it: `plain()` puts an invisible word joiner
    (U+2060) before the @ so that Markdown does not turn it into a link."""
    local, _, domain = address.partition("@")
    return re.compile(re.escape(local) + "\u2060?@" + re.escape(domain))


def read_outbox(browser, portal_url: str, to: str, subject: str = "") -> str:  # noqa: ANN001
    """The text of the newest e-mail to `to` (whose subject contains `subject`) in the
    demo outbox, read as the account manager 900001 in a browser context of its own.

    The Caixa de saída is served to logged-in users only, and a company user sees only
    the e-mails to its own address: the account manager sees them all. The caller's own
    page and session are left as they are."""
    from tests.e2e.test_access_and_home import login

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    context.set_default_timeout(30_000)
    try:
        reader = context.new_page()
        reader.goto(portal_url)
        expect(reader.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
        login(reader, "900001")
        expect(reader.get_by_role("heading", name="Página inicial")).to_be_visible()
        reader.get_by_test_id("stSidebar").get_by_role("link", name="Caixa de saída").click()
        expect(reader.get_by_role("heading", name="Caixa de saída")).to_be_visible()
        wait_idle(reader)
        reader.get_by_placeholder("nome@empresa.com.br").fill(to)
        reader.keyboard.press("Enter")
        # Filtered: the newest e-mail (first) is one to `to` (its title shows the address).
        expect(reader.get_by_test_id("stExpander").first).to_contain_text(addressed(to))
        wait_idle(reader)
        title = (
            reader.get_by_test_id("stExpander")
            .filter(has_text=re.compile(re.escape(subject)) if subject else re.compile("."))
            .first
        )
        expect(title).to_be_visible()
        title.click()
        body = title.get_by_test_id("stText")
        expect(body).to_be_visible()
        return body.inner_text()
    finally:
        context.close()
