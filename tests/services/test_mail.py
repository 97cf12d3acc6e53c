"""Outgoing e-mail: recorded in the caller's transaction, delivered after its commit with
no transaction open; failures kept and retried; the outbox shown by who asks."""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from config import Settings
from data.db import make_session_factory
from data.models import OutboxEmail, User
from data.uow import UnitOfWork
from services.access import accounts as access
from services.mail import cli as mail_cli
from services.mail import outbox as mail
from services.rules.errors import DomainError
from tests.fake_smtp import FakeSMTPServer, closed_port
from tests.services.test_users_and_company import (  # noqa: F401 - fixtures
    CNPJ_A,
    World,
    _actor,
    fast_hashes_and_no_smtp,
    world,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4 boleto de teste"
REAL_SMTP = smtplib.SMTP  # before any test patches the module


class FakeSMTP:
    """Records what the service asks of an SMTP server (no socket)."""

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


def _local_smtp(port: int) -> Settings:
    """Settings for the fake server on 127.0.0.1 (no STARTTLS, no login)."""
    return _smtp_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_user="", smtp_starttls=False)


def _outbox_settings() -> Settings:
    values: dict[str, Any] = {"_env_file": None, "smtp_host": ""}
    return Settings(**values)


def _send(
    uow: UnitOfWork,
    settings: Settings,
    to: str = "rh@empresa.com.br",
    now: datetime = NOW,
    **kw: Any,
) -> mail.Delivery:
    with uow:
        queued = mail.mail_queue(
            uow.session,
            to=to,
            subject="Assunto",
            body=kw.pop("body", "Corpo da mensagem"),
            now=now,
            settings=settings,
            **kw,
        )
        uow.commit()
    [delivery] = mail.mail_deliver(uow=uow, ids=[queued], now=now, settings=settings)
    return delivery


def _stored(uow: UnitOfWork) -> list[OutboxEmail]:
    with uow:
        rows = list(uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        uow.session.expunge_all()
        return rows


@pytest.fixture(autouse=True)
def _no_real_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeSMTP.instances = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)


@pytest.fixture
def real_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """smtplib's own client, talking to the fake server over a socket."""
    monkeypatch.setattr(mail.smtplib, "SMTP", REAL_SMTP)


# ---------------------------------------------------------------- record and deliver


def test_without_smtp_the_mail_goes_to_the_outbox(uow: UnitOfWork) -> None:
    delivery = _send(uow, _outbox_settings())
    assert (delivery.status, delivery.delivered) == ("outbox", True)
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
    delivery = _send(uow, _smtp_settings())
    assert (delivery.status, delivery.delivered) == ("sent", True)
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
    assert (row.status, row.sent_at, row.attempts, row.last_error) == ("sent", NOW, 1, None)


def test_smtp_without_user_and_starttls_only_sends(uow: UnitOfWork) -> None:
    _send(uow, _smtp_settings(smtp_user="", smtp_starttls=False))
    assert FakeSMTP.instances[0].calls == ["send", "quit"]
    assert _stored(uow)[0].status == "sent"


def test_recording_talks_no_smtp_until_the_delivery(uow: UnitOfWork) -> None:
    with uow:
        queued = mail.mail_queue(
            uow.session, to="a@b.com.br", subject="s", body="b", now=NOW, settings=_smtp_settings()
        )
        assert FakeSMTP.instances == []
        uow.commit()
    assert [r.status for r in _stored(uow)] == ["pending"]
    mail.mail_deliver(uow=uow, ids=[queued], now=NOW, settings=_smtp_settings())
    assert [r.status for r in _stored(uow)] == ["sent"]


def test_a_failing_smtp_server_marks_the_mail_failed_without_raising(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", BrokenSMTP)
    with caplog.at_level(logging.ERROR, logger="services.mail.outbox"):
        delivery = _send(uow, _smtp_settings())
    assert (delivery.status, delivery.delivered) == ("failed", False)
    assert "connection refused" in (delivery.error or "")
    [row] = _stored(uow)
    assert (row.status, row.sent_at, row.attempts) == ("failed", None, 1)
    assert "connection refused" in (row.last_error or "")
    assert "connection refused" in caplog.text


def test_an_smtp_refusal_during_send_also_marks_the_mail_failed(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    class RefusingSMTP(FakeSMTP):
        def send_message(self, message: EmailMessage) -> None:
            raise smtplib.SMTPRecipientsRefused({"rh@empresa.com.br": (550, b"no such user")})

    monkeypatch.setattr(mail.smtplib, "SMTP", RefusingSMTP)
    assert not _send(uow, _smtp_settings()).delivered
    assert _stored(uow)[0].status == "failed"


def test_a_mail_is_only_stored_when_the_caller_commits(uow: UnitOfWork) -> None:
    with uow:
        mail.mail_queue(
            uow.session,
            to="a@b.com.br",
            subject="s",
            body="b",
            now=NOW,
            settings=_outbox_settings(),
        )
    assert _stored(uow) == []


def test_a_message_is_delivered_once_even_when_asked_twice(uow: UnitOfWork) -> None:
    settings = _smtp_settings()
    delivery = _send(uow, settings)
    again = mail.mail_deliver(uow=uow, ids=[delivery.id], now=NOW, settings=settings)
    assert [d.status for d in again] == ["sent"]
    assert len(FakeSMTP.instances) == 1


# ---------------------------------------------------------------- secrets and attachments


def test_with_smtp_a_secret_never_reaches_the_table_and_the_sent_mail_has_it(
    uow: UnitOfWork,
) -> None:
    settings = _smtp_settings()
    token = "tok-SECRETO-123456789"
    with uow:
        queued = mail.mail_queue(
            uow.session,
            to="a@b.com.br",
            subject="s",
            body=f"Link: https://p.example/?reset={token}\n",
            now=NOW,
            settings=settings,
            secret=token,
        )
        uow.commit()
    [pending] = _stored(uow)
    assert token not in pending.body and "reset=[omitido]" in pending.body
    assert pending.sealed_body and token not in pending.sealed_body
    mail.mail_deliver(uow=uow, ids=[queued], now=NOW, settings=settings)
    assert token in FakeSMTP.instances[0].sent[0].get_content()
    [sent] = _stored(uow)
    assert (sent.status, sent.sealed_body) == ("sent", None)
    assert token not in sent.body


def test_without_smtp_the_outbox_keeps_the_secret_it_delivers(uow: UnitOfWork) -> None:
    _send(uow, _outbox_settings(), body="reset=abc123", secret="abc123")
    [row] = _stored(uow)
    assert (row.body, row.sealed_body) == ("reset=abc123", None)


def test_the_attachment_is_kept_until_the_server_takes_it(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _smtp_settings()
    monkeypatch.setattr(mail.smtplib, "SMTP", BrokenSMTP)
    delivery = _send(uow, settings, attachment=("boleto.pdf", PDF, "application/pdf"))
    assert delivery.status == "failed"
    [failed] = _stored(uow)
    assert (failed.attachment_name, failed.attachment_content) == ("boleto.pdf", PDF)
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    [again] = mail.mail_retry_failed(uow=uow, now=NOW + timedelta(minutes=5), settings=settings)
    assert again.status == "sent"
    [attachment] = list(FakeSMTP.instances[-1].sent[0].iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("boleto.pdf", PDF)
    [sent] = _stored(uow)
    assert (sent.attachment_name, sent.attachment_content, sent.attempts) == (
        "boleto.pdf",
        None,
        2,
    )


# ---------------------------------------------------------------- a real socket server


def test_smtp_down_marks_failed_and_the_retry_delivers_once_the_server_is_back(
    uow: UnitOfWork, real_smtp: None
) -> None:
    port = closed_port()
    settings = _local_smtp(port)
    token = "tok-RETRY-abcdefghijkl"
    delivery = _send(uow, settings, body=f"reset={token}", secret=token)
    assert (delivery.status, delivery.delivered) == ("failed", False)
    assert "Connection" in (delivery.error or "") or "refused" in (delivery.error or "")
    # Nothing to retry while it is down.
    assert [d.status for d in mail.mail_retry_failed(uow=uow, now=NOW, settings=settings)] == [
        "failed"
    ]
    with FakeSMTPServer(port=port) as server:
        done = mail.mail_retry_failed(uow=uow, now=NOW + timedelta(minutes=1), settings=settings)
        assert [d.status for d in done] == ["sent"]
        [message] = server.messages
        assert message["To"] == "rh@empresa.com.br"
        assert f"reset={token}" in message.get_content()
        # Sent messages are not sent again.
        assert (
            mail.mail_retry_failed(uow=uow, now=NOW + timedelta(minutes=2), settings=settings) == []
        )
        assert len(server.messages) == 1
    [row] = _stored(uow)
    assert (row.status, row.attempts, row.last_error, row.sealed_body) == ("sent", 3, None, None)
    assert token not in row.body


def test_a_stalled_smtp_server_holds_no_database_lock(
    engine: Engine,
    world: World,  # noqa: F811
    real_smtp: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the forgotten-password request waits for a hanging SMTP server, another
    transaction writes the very user row the request read (on SQLite: any write needs
    the database's write lock). Before e-mail left the transaction, it waited up to the
    SMTP timeout (15 s) for the lock."""
    factory = make_session_factory(engine)
    with FakeSMTPServer(stall=True) as server:
        settings = _local_smtp(server.port)
        monkeypatch.setattr(mail, "get_settings", lambda: settings)
        monkeypatch.setattr(mail, "SMTP_TIMEOUT_SECONDS", 30)
        failures: list[BaseException] = []

        def request() -> None:
            try:
                access.password_reset_request(
                    uow=UnitOfWork(factory),
                    user_code="100002",
                    document=CNPJ_A,
                    now=NOW,
                    base_url="https://portal.example",
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        wrote = threading.Event()

        def write() -> None:
            with UnitOfWork(factory) as other:
                other.session.execute(
                    update(User).where(User.user_code == "100002").values(failed_attempts=2)
                )
                other.commit()
            wrote.set()

        requester = threading.Thread(target=request, daemon=True)
        requester.start()
        assert server.connected.wait(30), "the request never reached the SMTP server"
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        free = wrote.wait(8)
        server.release()  # the server hangs up: the delivery fails
        requester.join(60)
        writer.join(60)
    assert free, "another transaction waited for the SMTP conversation"
    assert not failures, failures
    [row] = _stored(UnitOfWork(factory))
    assert (row.status, row.attempts) == ("failed", 1)
    assert "reset=[omitido]" in row.body


# ---------------------------------------------------------------- retry


def test_the_retry_skips_old_failures_and_picks_up_messages_a_dead_process_left(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _smtp_settings()
    monkeypatch.setattr(mail.smtplib, "SMTP", BrokenSMTP)
    _send(uow, settings, to="velho@b.com.br", now=NOW - timedelta(days=3))
    with uow:
        # Recorded and committed, but the process died before delivering.
        mail.mail_queue(
            uow.session, to="orfao@b.com.br", subject="s", body="b", now=NOW, settings=settings
        )
        uow.commit()
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    assert mail.mail_retry_failed(uow=uow, now=NOW + timedelta(minutes=1), settings=settings) == []
    done = mail.mail_retry_failed(uow=uow, now=NOW + timedelta(minutes=11), settings=settings)
    assert [(d.to_address, d.status) for d in done] == [("orfao@b.com.br", "sent")]


def test_only_an_account_manager_retries_from_the_outbox_page(
    uow: UnitOfWork,
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _smtp_settings()
    monkeypatch.setattr(mail, "get_settings", lambda: settings)
    monkeypatch.setattr(mail.smtplib, "SMTP", BrokenSMTP)
    _send(uow, settings)
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    with pytest.raises(DomainError, match="gestor de contas"):
        mail.mail_retry_failed(uow=uow, now=NOW, actor=_actor(uow, "100001"))
    assert _stored(uow)[0].status == "failed"
    done = mail.mail_retry_failed(uow=uow, now=NOW, actor=_actor(uow, "900001"))
    assert [d.status for d in done] == ["sent"]


def test_portal_mail_retry_command(
    sqlite_engine: Engine,
    real_smtp: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The scheduler's entry point (a thin wrapper: the retry itself runs on both
    databases above)."""
    uow = UnitOfWork(make_session_factory(sqlite_engine))
    port = closed_port()
    settings = _local_smtp(port)
    assert not _send(uow, settings, now=datetime.now(UTC)).delivered  # the command's "now"
    url = sqlite_engine.url.render_as_string(hide_password=False)
    command_settings = settings.model_copy(update={"database_url": url})
    monkeypatch.setattr(mail_cli, "get_settings", lambda: command_settings)
    assert mail_cli.main(["retry"]) == 1
    assert "sent=0 failed=1" in capsys.readouterr().out
    with FakeSMTPServer(port=port) as server:
        assert mail_cli.main(["retry"]) == 0
        assert len(server.messages) == 1
    assert "sent=1 failed=0" in capsys.readouterr().out


# ---------------------------------------------------------------- who reads the outbox


def test_the_outbox_shows_a_company_user_only_its_own_mail_and_a_manager_everything(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    settings = _outbox_settings()
    master = _actor(uow, "100001")
    _send(uow, settings, to=master.email.upper(), now=NOW)
    _send(uow, settings, to="outra@empresa.com.br", now=NOW + timedelta(minutes=1))
    _send(uow, settings, to="u100002@example.com.br", now=NOW + timedelta(minutes=2))

    manager = _actor(uow, "900001")
    everything = mail.outbox_list(uow=uow, actor=manager)
    assert [m.created_at for m in everything] == [
        NOW + timedelta(minutes=2),
        NOW + timedelta(minutes=1),
        NOW,
    ]
    assert isinstance(everything[0], mail.OutboxMessage)
    assert [
        m.to_address for m in mail.outbox_list(uow=uow, actor=manager, to="OUTRA@empresa.com.br")
    ] == ["outra@empresa.com.br"]
    assert len(mail.outbox_list(uow=uow, actor=manager, limit=1)) == 1

    own = mail.outbox_list(uow=uow, actor=master)
    assert [m.to_address.lower() for m in own] == [master.email.lower()]
    # Asking for someone else's address gives nothing.
    assert mail.outbox_list(uow=uow, actor=master, to="outra@empresa.com.br") == []
    # The address is the one registered now, not the one the session started with.
    with uow:
        uow.session.execute(
            update(User).where(User.id == master.user_id).values(email="nova@empresa.com.br")
        )
        uow.commit()
    assert mail.outbox_list(uow=uow, actor=master) == []
