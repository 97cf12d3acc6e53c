"""Page tests: Streamlit's AppTest over a small seeded demo database."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from config import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from data.db import make_engine
    from demo.generator import seed_demo

    path = tmp_path_factory.mktemp("pages-seed") / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    seed_demo(engine, companies=8, beneficiaries=400)
    engine.dispose()
    return path


@pytest.fixture
def portal_db(
    seeded_db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A private copy of the seeded database for one test; the app points at it."""
    copy = tmp_path / "portal.db"
    shutil.copy(seeded_db_file, copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_SHOW_OUTBOX", "true")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def app(portal_db: str) -> Callable[..., AppTest]:
    def make(**query_params: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        at.query_params.update(query_params)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


def by_label(elements, label: str):  # noqa: ANN001, ANN201 - AppTest element lists
    for element in elements:
        if element.label == label:
            return element
    raise AssertionError(f"no element labelled {label!r}: {[e.label for e in elements]}")


def log_in(at: AppTest, user_code: str, password: str = "Sorriso@2026") -> AppTest:
    by_label(at.text_input, "Código de usuário").input(user_code)
    by_label(at.text_input, "Senha").input(password)
    by_label(at.button, "Entrar").click()
    at.run()
    assert not at.exception, at.exception
    return at
