"""The load test's client (benchmarks/load_ws.py) against a real served portal: it speaks
Streamlit's websocket protocol (cookies, XSRF, BackMsg/ForwardMsg), so a change of the
portal's labels or of Streamlit's protocol shows here, not only when someone runs the
benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from benchmarks.load_ws import Options, Session, Step, StepError, User
from tests.e2e.conftest import serve_portal

pytestmark = pytest.mark.e2e
T = TypeVar("T")


def _run(coroutine: Coroutine[object, object, T]) -> T:
    """The client's coroutine in a thread of its own: the e2e process's Playwright (sync
    API) keeps an event loop running in this one, where asyncio.run() is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _login_and_page(url: str) -> Session:
    session = Session(url, step_timeout=90)
    try:
        await session.open("/")
        session.find("text_input", "Código de usuário")
        assert session.session_id
        assert "_streamlit_xsrf" in session.http.jar

        # A wrong password: the portal's st.error is an error of the step.
        with pytest.raises(StepError) as refused:
            await session.click(
                "Entrar",
                [
                    session.text_value("Código de usuário", "999999"),
                    session.text_value("Senha", "senha-errada"),
                ],
            )
        assert refused.value.kind == "error"

        await session.click(
            "Entrar",
            [
                session.text_value("Código de usuário", "100001"),
                session.text_value("Senha", "Sorriso@2026"),
            ],
        )
        session.expect_title("Página inicial")
        assert "Faturas" in session.pages  # the logged-in menu, from st.navigation
        seconds = await session.go("Beneficiários ativos")
        assert seconds > 0
        with pytest.raises(StepError) as missing:
            session.find("button", "Um botão que não existe")
        assert missing.value.kind == "missing"
        assert session.closed is None  # the websocket stayed open through every step
        return session
    finally:
        await session.close()


def test_client_logs_in_and_opens_a_menu_page(portal_url: str) -> None:
    session = _run(_login_and_page(portal_url))
    assert session.elements  # the last run's elements were read


def test_one_simulated_user_does_the_whole_visit(tmp_path: Path) -> None:
    """Every step of the mix once (inclusion, template download, upload, check, apply),
    on a portal of its own: the visit adds beneficiaries, which the shared one must not
    get."""
    from data.db import make_engine
    from demo.generator import seed_demo

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = make_engine(url)
    seed_demo(engine, companies=3, beneficiaries=120)
    engine.dispose()
    with serve_portal(url, tmp_path) as (base, _):
        options = Options(
            base=base,
            think=0.0,
            step_timeout=90,
            inclusion_share=1.0,
            batch_share=1.0,
            batch_lines=2,
            accounts=[("100001", 1.0)],
        )
        record: list[Step] = []

        async def visit() -> None:
            user = User(1, options, record, asyncio.Event())
            session = Session(base, options.step_timeout)
            try:
                await user.visit(session)
            finally:
                await session.close()

        _run(visit())
    assert [s.error for s in record if s.error] == []
    ops = [s.op for s in record]
    assert ops == [
        "open",
        "login",
        "report_active",
        "invoices",
        "report_utilization",
        "home",
        "movements_page",
        "inclusion",
        "batch_page",
        "batch_template",
        "batch_upload",
        "batch_check",
        "batch_apply",
        "logout",
    ]


async def _download_after_other_runs(url: str, other_runs: int) -> bytes:
    async def logged_in() -> Session:
        session = Session(url, step_timeout=90)
        await session.open("/")
        await session.click(
            "Entrar",
            [
                session.text_value("Código de usuário", "100001"),
                session.text_value("Senha", "Sorriso@2026"),
            ],
        )
        return session

    mine, other = await logged_in(), await logged_in()
    try:
        await mine.go("Cadastro em lote")

        async def others_click() -> None:
            for title in ("Página inicial", "Faturas", "Página inicial")[:other_runs]:
                await other.go(title)

        return await mine.download("Baixar modelo (xlsx)", between=others_click)
    finally:
        await mine.close()
        await other.close()


def test_a_file_built_on_click_survives_other_users_runs_before_the_browser_fetches_it(
    portal_url: str,
) -> None:
    """Streamlit 1.67 deletes a download built on click after two script runs of any
    session; on a busy portal that came before the browser's request (a 404).
    components/downloads.py keeps it for a minute."""
    content = _run(_download_after_other_runs(portal_url, 3))
    assert content.startswith(b"PK")  # the batch template, an xlsx
