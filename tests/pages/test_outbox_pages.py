"""The demo outbox by who asks (anonymous: not served; company user: its own e-mails;
account manager: all, with the retry), and the boleto e-mail when SMTP is down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from config import get_settings
from data.db import make_engine
from data.models import OutboxEmail, User
from services.mail.outbox import MAIL_FAILED_MESSAGE
from tests.fake_smtp import FakeSMTPServer, closed_port
from tests.pages.conftest import by_label, log_in

OWN = "corpo-do-proprio-usuario"
OTHER = "corpo-de-outro-destinatario"


def _add_mail(url: str, to: str, body: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(OutboxEmail).values(
                to_address=to,
                subject="Teste",
                body=body,
                created_at=datetime.now(UTC),
                status="outbox",
                attempts=0,
            )
        )
    engine.dispose()


def _email_of(url: str, code: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        email = conn.execute(select(User.email).where(User.user_code == code)).scalar_one()
    engine.dispose()
    return email


def _texts(at) -> list[str]:  # noqa: ANN001
    return [t.value for t in at.text]


def _outbox(at):  # noqa: ANN001, ANN202
    at.switch_page("pages/outbox.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Caixa de saída"
    return at


@pytest.fixture
def two_mails(portal_db: str) -> str:
    _add_mail(portal_db, _email_of(portal_db, "100001").upper(), OWN)
    _add_mail(portal_db, "alguem.de.fora@example.com.br", OTHER)
    return portal_db


def test_anonymous_visitors_are_not_served_the_outbox(app, two_mails: str):
    at = app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/outbox.py")
    assert not any(OWN in t or OTHER in t for t in _texts(at))


def test_a_company_user_sees_only_the_mail_sent_to_its_own_address(app, two_mails: str):
    at = _outbox(log_in(app(), "100001"))
    texts = _texts(at)
    assert any(OWN in t for t in texts)
    assert not any(OTHER in t for t in texts)
    assert not [b for b in at.button if b.label == "Reenviar e-mails com falha"]
    # Filtering by someone else's address shows nothing either.
    by_label(at.text_input, "Filtrar por destinatário").input("alguem.de.fora@example.com.br")
    at.run()
    assert not any(OTHER in t for t in _texts(at))


def test_an_account_manager_sees_every_mail(app, two_mails: str):
    at = _outbox(log_in(app(), "900001"))
    texts = _texts(at)
    assert any(OWN in t for t in texts) and any(OTHER in t for t in texts)
    assert [b for b in at.button if b.label == "Reenviar e-mails com falha"]


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch, portal_db: str) -> int:
    """SMTP configured on a local port where nothing listens (yet)."""
    port = closed_port()
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(port))
    monkeypatch.setenv("PORTAL_SMTP_STARTTLS", "false")
    monkeypatch.setenv("PORTAL_SMTP_USER", "")
    get_settings.cache_clear()
    return port


def test_with_smtp_down_the_boleto_page_says_it_failed_and_the_manager_retries_it(
    app, portal_db: str, smtp_down: int
):
    at = log_in(app(), "100001")
    at.switch_page("pages/boleto.py").run()
    assert not at.exception, at.exception
    by_label(at.text_input, "E-mail").input("financeiro@horizonte.example.com.br")
    by_label(at.button, "Enviar por e-mail").click().run()
    assert not at.exception, at.exception
    assert not at.success
    assert MAIL_FAILED_MESSAGE in [e.value for e in at.error]
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        row = conn.execute(
            select(OutboxEmail).where(
                OutboxEmail.to_address == "financeiro@horizonte.example.com.br"
            )
        ).one()
    engine.dispose()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.attachment_content.startswith(b"%PDF")

    # The server is back: the account manager sends it again from the outbox.
    with FakeSMTPServer(port=smtp_down) as server:
        manager = _outbox(log_in(app(), "900001"))
        by_label(manager.button, "Reenviar e-mails com falha").click().run()
        assert not manager.exception, manager.exception
        assert [s.value for s in manager.success] == ["1 e-mail(s) reenviado(s)."]
        [message] = server.messages
    assert message["To"] == "financeiro@horizonte.example.com.br"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")
