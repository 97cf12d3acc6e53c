"""The portal refuses to serve with demo settings in production, and says so clearly
when the database does not answer; it starts the embedded task queue's consumer once per
process (never in a page test, nor when the queue is served elsewhere)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import startup
from components.startup import DATABASE_DOWN_MESSAGE
from config import Settings, get_settings
from services.jobs import consumer
from services.jobs.consumer import queue_close
from services.jobs.queue import queue_for
from tests.pages.conftest import ROOT


def _run() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def env(portal_db: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    def set_(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"PORTAL_{key.upper()}", value)
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


def test_production_without_a_cookie_key_of_its_own_refuses_to_serve(env):
    env(environment="production", show_outbox="false", base_url="https://portal.example")
    at = _run()
    assert "PORTAL_COOKIE_KEY não foi definida" in at.error[0].value
    assert not at.text_input  # no login form


def test_production_refuses_a_short_key_the_outbox_and_plain_http(env):
    env(
        environment="production",
        cookie_key="curta",
        show_outbox="true",
        base_url="http://portal.example",
    )
    message = _run().error[0].value
    assert "menos de 32 bytes" in message
    assert "PORTAL_SHOW_OUTBOX" in message
    assert "https://" in message


def test_production_with_proper_settings_serves_the_login(env):
    env(
        environment="production",
        cookie_key="k" * 48,
        show_outbox="false",
        base_url="https://portal.example",
    )
    at = _run()
    assert not at.error
    assert [t.label for t in at.text_input] == ["Código de usuário", "Senha"]


def test_development_accepts_the_demo_key():
    assert Settings(_env_file=None).production_problems() == []  # type: ignore[call-arg]


def test_an_unreachable_database_gets_a_clear_message_not_a_traceback(env):
    env(database_url="postgresql+psycopg://portal@127.0.0.1:9/portal?connect_timeout=2")
    at = _run()
    assert at.error[0].value == DATABASE_DOWN_MESSAGE
    assert not at.text_input


@pytest.fixture
def queue_env(
    portal_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[pytest.MonkeyPatch]:
    """The embedded queue in the test's folder; whatever consumer a test started is
    stopped afterwards, and the start-once cache is emptied before and after."""
    monkeypatch.setenv("PORTAL_QUEUE_URL", "")
    monkeypatch.setenv("PORTAL_QUEUE_PATH", str(tmp_path / "queue.db"))
    started_before = set(consumer._started)
    startup._start_jobs.clear()
    yield monkeypatch
    startup._start_jobs.clear()
    for key in set(consumer._started) - started_before:
        found = next(q for q in _queues() if id(q) == key)
        queue_close(found)


def _queues() -> list:  # noqa: ANN202 - the queue registry's values
    from services.jobs import queue

    return list(queue._queues.values())


def _queue_threads() -> set[threading.Thread]:
    """The live threads of Huey consumers (its scheduler and workers)."""
    return {
        t
        for t in threading.enumerate()
        if t.is_alive() and (t.name == "Scheduler" or t.name.startswith("Worker-"))
    }


def test_the_portal_starts_the_embedded_queue_s_consumer_once_per_process(queue_env):
    before = _queue_threads()
    startup.start_jobs()
    jobs = queue_for()
    started = consumer._started.get(id(jobs))
    assert started is not None, "no consumer for the portal's embedded queue"
    threads = _queue_threads() - before
    assert started.scheduler in threads
    assert {worker for _, worker in started.worker_threads} <= threads
    startup.start_jobs()  # the next run (any session) starts nothing more
    startup._start_jobs.clear()
    startup.start_jobs()  # even past the start-once cache: one consumer per queue
    assert consumer._started.get(id(jobs)) is started


@pytest.mark.parametrize("queue_url", ["immediate", "redis://127.0.0.1:9/0"])
def test_no_consumer_when_jobs_run_at_once_or_portal_worker_serves_them(queue_env, queue_url: str):
    queue_env.setenv("PORTAL_QUEUE_URL", queue_url)
    before = dict(consumer._started)
    startup.start_jobs()
    assert consumer._started == before


def test_a_bad_queue_address_is_logged_and_the_portal_still_serves(
    queue_env, caplog: pytest.LogCaptureFixture
):
    queue_env.setenv("PORTAL_QUEUE_URL", "amqp://fila")
    with caplog.at_level(logging.ERROR, logger="portal"):
        startup.start_jobs()
    assert "task queue not started" in caplog.text


def test_a_page_test_starts_no_queue_threads(queue_env, app):
    before_threads, before = _queue_threads(), dict(consumer._started)
    at = app()
    assert [t.label for t in at.text_input] == ["Código de usuário", "Senha"]
    assert consumer._started == before
    assert _queue_threads() <= before_threads
