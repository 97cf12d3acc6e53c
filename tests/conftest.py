"""Shared fixtures: a fresh migrated database on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from data.db import make_engine, make_session_factory, upgrade_to_head
from data.uow import UnitOfWork

POSTGRES_URL = os.environ.get(
    "PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_reason: str | None = None


def _postgres_available() -> str | None:
    """None when the server answers, else the reason to skip."""
    global _pg_reason
    if _pg_reason is None:
        try:
            engine = create_engine(POSTGRES_URL)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_reason = ""
        except OperationalError as exc:
            _pg_reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}"
    return _pg_reason or None


def _fresh_postgres() -> Iterator[Engine]:
    """A new schema of its own in the test database, dropped afterwards."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=20
    )
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _fresh_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`make test` runs two processes (pytest-xdist): test files go to whichever is free,
    and the whole tests/e2e folder goes to one of them, so the end-to-end tests run one
    after the other over the session's one served portal and browser."""
    from xdist.scheduler import LoadScopeScheduling

    class E2ETogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return E2E if nodeid.startswith(E2E) else nodeid.split("::", 1)[0]

    return E2ETogether(config, log)  # type: ignore[arg-type]


E2E = "tests/e2e/"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A fresh, migrated, empty database; the test runs once per database."""
    if request.param == "sqlite":
        yield from _fresh_sqlite(tmp_path_factory)
    else:
        yield from _fresh_postgres()


@pytest.fixture
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory):
    yield from _fresh_sqlite(tmp_path_factory)


@pytest.fixture
def postgres_engine():
    yield from _fresh_postgres()


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine))
