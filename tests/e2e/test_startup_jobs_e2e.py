"""A served portal starts its embedded task queue with the first page anyone opens: a
batch that a killed process left half applied is finished by the periodic resume, though
nobody logs in nor opens a batch page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import demo.generator
import services.batch.processing
from data.models import BatchFile, Beneficiary
from services.batch.processing import batch_apply
from tests.e2e.conftest import serve_portal
from tests.services.movements_support import NOW, World, make_world, new_cpf
from tests.services.test_batch import count, holder_line, receive, xlsx

pytestmark = pytest.mark.e2e


class Killed(Exception):
    pass


@pytest.fixture
def half_applied(
    sqlite_engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, int, int]]:
    """A batch of 5 holders whose application died after its first chunk of 2 (no
    heartbeat left: its process was killed): (world, batch id, beneficiaries before)."""
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    w = make_world(sqlite_engine)
    monkeypatch.setattr(services.batch.processing, "CHUNK", 2)
    check = receive(w, xlsx([holder_line(w, new_cpf()) for _ in range(5)]))
    before = count(w, Beneficiary)

    def die(done: int, total: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW, progress=die)
    assert count(w, Beneficiary) == before + 2
    yield w, check.batch.id, before


def _status(w: World, batch_id: int) -> str:
    with w.factory() as s:
        return s.scalars(select(BatchFile.status).where(BatchFile.id == batch_id)).one()


def test_the_first_page_opened_starts_the_queue_that_finishes_a_killed_batch(
    half_applied, browser, tmp_path: Path
):
    w, batch_id, before = half_applied
    url = w.engine.url.render_as_string(hide_password=False)
    env = {"PORTAL_QUEUE_URL": "", "PORTAL_QUEUE_PATH": str(tmp_path / "queue.db")}
    with serve_portal(url, tmp_path, env=env) as (base, _):
        assert _status(w, batch_id) == "applying"  # serving alone starts nothing yet
        context = browser.new_context(locale="pt-BR")
        try:
            page = context.new_page()
            page.goto(base)  # the login page: no login, no batch page
            expect(page.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
            deadline = time.monotonic() + 60
            while _status(w, batch_id) != "done" and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            context.close()
    assert _status(w, batch_id) == "done", (tmp_path / "streamlit.log").read_text()
    assert count(w, Beneficiary) == before + 5  # the 3 left, each line once
