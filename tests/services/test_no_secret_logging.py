"""Passwords and reset tokens never reach a log, even with every logger at DEBUG
(SQLAlchemy then logs each statement with its parameters)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import Settings
from data.models import OutboxEmail
from data.uow import UnitOfWork
from services.access import accounts as access
from services.mail import outbox as mail
from tests.services.test_users_and_company import (  # noqa: F401 - fixtures
    PASSWORD,
    World,
    fast_hashes_and_no_smtp,
    world,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
WRONG = "Errada#Secreta1"
NEW = "Nova#Secreta22"
RESET_TO = "Reset#Secreta33"


def test_no_password_or_token_is_logged_or_kept(
    uow: UnitOfWork,
    world: World,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    delivered: list[str] = []
    settings = Settings(_env_file=None, smtp_host="smtp.example", base_url="https://p.example")
    monkeypatch.setattr(mail, "get_settings", lambda: settings)
    monkeypatch.setattr(
        mail, "_deliver", lambda _s, _to, _subject, body, _attachment: delivered.append(body)
    )
    caplog.set_level(logging.DEBUG)
    for logger in ("sqlalchemy.engine", "portal", "streamlit"):
        logging.getLogger(logger).setLevel(logging.DEBUG)
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the neutral DomainError
            access.auth_login(uow=uow, user_code="100002", password=WRONG, now=NOW)
        actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
        actor = access.password_change(
            uow=uow, actor=actor, current=PASSWORD, new=NEW, confirmation=NEW, now=NOW
        )
        cookie, _ = access.session_cookie_value(actor, NOW)
        access.password_reset_request(
            uow=uow,
            user_code="100002",
            document=_company_document(uow, actor),
            now=NOW,
            base_url="https://portal.example",
        )
        token = re.search(r"reset=([\w-]+)", delivered[-1]).group(1)
        with uow:
            kept = uow.session.scalars(
                select(OutboxEmail.body).order_by(OutboxEmail.id.desc())
            ).first()
        assert kept is not None and token not in kept and "reset=[omitido]" in kept
        access.password_reset_confirm(
            uow=uow,
            token=token,
            password=RESET_TO,
            confirmation=RESET_TO,
            now=NOW + timedelta(minutes=1),
        )
    finally:
        for logger in ("sqlalchemy.engine", "portal", "streamlit"):
            logging.getLogger(logger).setLevel(logging.NOTSET)
    logged = caplog.text + "".join(capsys.readouterr())
    assert "SELECT" in logged or "INSERT" in logged  # the statements were logged
    for secret in (PASSWORD, WRONG, NEW, RESET_TO, token):
        assert secret not in logged, secret
    assert actor.session_id not in logged
    assert cookie not in logged


def _company_document(uow: UnitOfWork, actor) -> str:  # noqa: ANN001
    from data.models import Company

    with uow:
        return uow.session.scalar(
            select(Company.document).where(Company.id == actor.home_company_id)
        )
