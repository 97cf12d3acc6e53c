"""Avisos in the browser: the sidebar's bell counts the unread notices, opens the page,
and "Marcar todos como lidos" brings it to none (README screenshot "notices")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select

from data.models import Notice, User
from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e


def test_the_bell_opens_the_notices_and_reading_them_all_empties_it(page: Page, demo_db: str):
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        user_id, company_id = conn.execute(
            select(User.id, User.company_id).where(User.user_code == "100001")
        ).one()
        conn.execute(
            Notice.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "user_id": user_id,
                    "company_id": company_id,
                    "kind": "batch_finished",
                    "audience": "movements",
                    "dedupe_key": "batch_finished:e2e:1",
                    "title": "Lote concluído: admissoes_dezembro.xlsx",
                    "body": "O arquivo admissoes_dezembro.xlsx terminou de ser aplicado: "
                    "12 linha(s) aplicada(s), 1 recusada(s). Veja cada linha em "
                    "Acompanhar lotes.",
                    "link": "pages/batch_track.py",
                    "created_at": datetime.now(UTC),
                    "read_at": None,
                }
            ],
        )
    engine.dispose()
    login(page, "100001")
    sidebar = page.get_by_test_id("stSidebar")
    bell = sidebar.get_by_role("link", name=re.compile(r"^\d+ avisos? não lidos?$"))
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", name="Avisos").first).to_be_visible()
    expect(page.get_by_text("Lote concluído: admissoes_dezembro.xlsx")).to_be_visible()
    wait_idle(page)
    shot(page, "notices")
    page.get_by_role("button", name="Marcar todos como lidos").click()
    expect(sidebar.get_by_role("link", name="Nenhum aviso não lido")).to_be_visible()
    wait_idle(page)
    # The notice's link opens its page.
    # (other journeys on the shared demo database may have finished batches too)
    opens = page.locator('[data-testid="stMain"] a[href$="acompanhar-lotes"]').first
    expect(opens).to_be_visible()
    opens.click()
    expect(page.get_by_role("heading", name="Acompanhar lotes").first).to_be_visible()
