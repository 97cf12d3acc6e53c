"""Outgoing e-mail: outbox without SMTP, delivery through SMTP, failures kept."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from data.models import OutboxEmail
from data.uow import UnitOfWork
from services import mail

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


class FakeSMTP:
    """Records what the service asks of an SMTP server."""

    instances: list[FakeSMTP] = []

    def __init__(self, host: str, port: int, timeout: float | None = None) -> None:
        self.host, self.port = host, port
        self.calls: list[str] = []
        self.sent: list[EmailMessage] = []
        FakeSMTP.instances.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.calls.append("quit")

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login:{user}:{password}")

    def send_message(self, message: EmailMessage) -> None:
        self.calls.append("send")
        self.sent.append(message)


class BrokenSMTP(FakeSMTP):
    def __init__(self, host: str, port: int, timeout: float | None = None) -> None:
        raise ConnectionRefusedError("connection refused")


def _smtp_settings(**kw: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "smtp.example.com",
        "smtp_port": 2525,
        "smtp_user": "portal",
        "smtp_password": "segredo",
        "smtp_sender": "portal@sorriso.example",
    }
    values.update(kw)
    return Settings(**{"_env_file": None, **values})


def _outbox_settings() -> Settings:
    values: dict[str, Any] = {"_env_file": None, "smtp_host": ""}
    return Settings(**values)


def _send(
    uow: UnitOfWork, settings: Settings, to: str = "rh@empresa.com.br", now: datetime = NOW
) -> None:
    with uow:
        mail.send_email(
            uow.session,
            to=to,
            subject="Assunto",
            body="Corpo da mensagem",
            now=now,
            settings=settings,
        )
        uow.commit()


def _stored(uow: UnitOfWork) -> list[OutboxEmail]:
    with uow:
        rows = list(uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        uow.session.expunge_all()
        return rows


@pytest.fixture(autouse=True)
def _no_real_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeSMTP.instances = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)


def test_without_smtp_the_mail_goes_to_the_outbox(uow: UnitOfWork) -> None:
    _send(uow, _outbox_settings())
    [row] = _stored(uow)
    assert (row.to_address, row.subject, row.status, row.sent_at) == (
        "rh@empresa.com.br",
        "Assunto",
        "outbox",
        None,
    )
    assert FakeSMTP.instances == []


def test_with_smtp_the_mail_is_sent_with_starttls_and_login_and_marked_sent(
    uow: UnitOfWork,
) -> None:
    _send(uow, _smtp_settings())
    [server] = FakeSMTP.instances
    assert (server.host, server.port) == ("smtp.example.com", 2525)
    assert server.calls == ["starttls", "login:portal:segredo", "send", "quit"]
    message = server.sent[0]
    assert (message["To"], message["From"], message["Subject"]) == (
        "rh@empresa.com.br",
        "portal@sorriso.example",
        "Assunto",
    )
    assert "Corpo da mensagem" in message.get_content()
    [row] = _stored(uow)
    assert (row.status, row.sent_at) == ("sent", NOW)


def test_smtp_without_user_and_starttls_only_sends(uow: UnitOfWork) -> None:
    _send(uow, _smtp_settings(smtp_user="", smtp_starttls=False))
    assert FakeSMTP.instances[0].calls == ["send", "quit"]
    assert _stored(uow)[0].status == "sent"


def test_a_failing_smtp_server_marks_the_mail_failed_without_raising(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", BrokenSMTP)
    with caplog.at_level(logging.ERROR, logger="services.mail"):
        _send(uow, _smtp_settings())
    [row] = _stored(uow)
    assert (row.status, row.sent_at) == ("failed", None)
    assert "connection refused" in caplog.text


def test_an_smtp_refusal_during_send_also_marks_the_mail_failed(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    class RefusingSMTP(FakeSMTP):
        def send_message(self, message: EmailMessage) -> None:
            raise smtplib.SMTPRecipientsRefused({"rh@empresa.com.br": (550, b"no such user")})

    monkeypatch.setattr(mail.smtplib, "SMTP", RefusingSMTP)
    _send(uow, _smtp_settings())
    assert _stored(uow)[0].status == "failed"


def test_a_mail_is_only_stored_when_the_caller_commits(uow: UnitOfWork) -> None:
    with uow:
        mail.send_email(
            uow.session,
            to="a@b.com.br",
            subject="s",
            body="b",
            now=NOW,
            settings=_outbox_settings(),
        )
    assert _stored(uow) == []


def test_outbox_list_shows_the_newest_first_and_filters_by_recipient(uow: UnitOfWork) -> None:
    settings = _outbox_settings()
    _send(uow, settings, to="a@empresa.com.br", now=NOW)
    _send(uow, settings, to="b@empresa.com.br", now=NOW + timedelta(minutes=1))
    _send(uow, settings, to="A@Empresa.com.br", now=NOW + timedelta(minutes=2))

    everything = mail.outbox_list(uow=uow)
    assert [m.created_at for m in everything] == [
        NOW + timedelta(minutes=2),
        NOW + timedelta(minutes=1),
        NOW,
    ]
    assert isinstance(everything[0], mail.OutboxMessage)
    only_a = mail.outbox_list(uow=uow, to="a@empresa.com.br")
    assert [m.to_address for m in only_a] == ["A@Empresa.com.br", "a@empresa.com.br"]
    assert len(mail.outbox_list(uow=uow, limit=1)) == 1
