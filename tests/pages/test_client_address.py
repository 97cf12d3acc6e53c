"""The browser's address behind the proxy (PORTAL_BEHIND_PROXY) and without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.context import StreamlitHeaders

from components import context
from config import get_settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """get_settings() read from this environment only (no .env), cleared afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORTAL_BEHIND_PROXY", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _request(
    monkeypatch: pytest.MonkeyPatch, ip_address: str | None, headers: dict[str, str]
) -> None:
    """st.context as a browser request with this connection address and these headers
    (spelt as Tornado hands them over: X-Real-Ip)."""
    received = StreamlitHeaders((name.title(), value) for name, value in headers.items())
    monkeypatch.setattr(
        context.st, "context", SimpleNamespace(ip_address=ip_address, headers=received)
    )


def _behind_proxy(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PORTAL_BEHIND_PROXY", value)
    get_settings.cache_clear()


def test_without_the_proxy_setting_a_browser_s_x_real_ip_is_ignored(settings):
    _request(settings, "203.0.113.7", {"X-Real-IP": "198.51.100.1"})
    assert context.client_address() == "203.0.113.7"


def test_behind_the_proxy_the_address_nginx_sets_is_the_client(settings):
    _behind_proxy(settings, "true")
    _request(settings, "127.0.0.1", {"X-Real-IP": "198.51.100.1"})
    assert context.client_address() == "198.51.100.1"
    _request(settings, "127.0.0.1", {"X-Real-IP": " 2001:db8::1 "})
    assert context.client_address() == "2001:db8::1"


@pytest.mark.parametrize("header", [{}, {"X-Real-IP": ""}, {"X-Real-IP": "a; drop table"}])
def test_behind_the_proxy_a_missing_or_malformed_header_falls_back_to_the_connection(
    settings, header: dict[str, str]
):
    _behind_proxy(settings, "true")
    _request(settings, "10.0.0.5", header)
    assert context.client_address() == "10.0.0.5"


def test_two_browsers_behind_the_proxy_are_two_clients_for_the_rate_limit(settings):
    _behind_proxy(settings, "true")
    seen = set()
    for browser in ("198.51.100.1", "198.51.100.2"):
        _request(settings, "127.0.0.1", {"X-Real-IP": browser})
        seen.add(context.client_address())
    assert seen == {"198.51.100.1", "198.51.100.2"}


def test_outside_a_browser_session_the_client_is_local(settings):
    _behind_proxy(settings, "true")
    _request(settings, None, {})
    assert context.client_address() == "local"
