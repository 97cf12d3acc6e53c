"""The portal refuses to serve with demo settings in production, and says so clearly
when the database does not answer."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.startup import DATABASE_DOWN_MESSAGE
from config import Settings, get_settings
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
