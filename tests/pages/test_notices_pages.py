"""Avisos: the sidebar's bell with the unread count, the page listing the notices of the
company in context (unread first), marking read, the link to each notice's page, and the
e-mail preference; notices generated when the page is drawn (no task queue runs here)."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, select, update
from streamlit.testing.v1 import AppTest

from components import notices_bell
from data.models import Company, Notice, NoticePreference, User
from tests.pages.conftest import by_label, log_in


@pytest.fixture(autouse=True)
def _fresh_memory():
    """Each test's database is new: forget the companies generated in earlier tests."""
    notices_bell._generated.clear()
    yield
    notices_bell._generated.clear()


def _db(url: str):  # noqa: ANN202
    return create_engine(url)


def _bell(at: AppTest):  # noqa: ANN202
    links = [e for e in at.sidebar.get("page_link") if "não lido" in e.proto.label]
    assert len(links) == 1, [e.proto.label for e in at.sidebar.get("page_link")]
    return links[0].proto


def _label(unread: int) -> str:
    plural = "s" if unread != 1 else ""
    return f"{unread} aviso{plural} não lido{plural}" if unread else "Nenhum aviso não lido"


def _add(url: str, user_code: str, **values: object) -> None:
    """A notice of the user's company, as the generation writes one."""
    with _db(url).begin() as conn:
        user_id, company_id = conn.execute(
            select(User.id, User.company_id).where(User.user_code == user_code)
        ).one()
        conn.execute(
            Notice.__table__.insert(),
            [
                {
                    "user_id": user_id,
                    "company_id": company_id,
                    "kind": "cutoff",
                    "audience": "movements",
                    "title": "Data de corte em 20/12/2026",
                    "body": "O corte das movimentações é em 3 dia(s) útil(eis).",
                    "link": "pages/movements_individual.py",
                    "created_at": datetime.now(UTC),
                    "read_at": None,
                    **values,
                }
            ],
        )


def _open_notices(at: AppTest) -> AppTest:
    at.switch_page("pages/notices.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_bell_counts_the_unread_notices_generated_when_the_page_is_drawn(app, portal_db):
    at = log_in(app(), "100001")  # master of 10001: finance and movements
    engine = _db(portal_db)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.user_code == "100001"))
        mine = conn.execute(
            select(Notice.kind, Notice.read_at).where(Notice.user_id == user_id)
        ).all()
    assert mine, "the seeded company has overdue invoices: their notices were generated"
    assert {k for k, _ in mine} >= {"invoice_overdue"}
    assert _bell(at).label == _label(len(mine))
    assert _bell(at).page.endswith("avisos")


def test_the_page_lists_unread_first_and_marks_one_and_then_all_read(app, portal_db):
    _add(portal_db, "100001", dedupe_key="cutoff:test:1")
    _add(portal_db, "100001", dedupe_key="cutoff:test:2", title="Data de corte em 20/01/2027")
    at = _open_notices(log_in(app(), "100001"))
    assert at.title[0].value == "Avisos"
    engine = _db(portal_db)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.user_code == "100001"))
        total = len(conn.execute(select(Notice.id).where(Notice.user_id == user_id)).all())
    read_buttons = [b for b in at.button if b.key and b.key.startswith("notice_read_")]
    assert len(read_buttons) == total > 1
    first_id = int(read_buttons[0].key.removeprefix("notice_read_"))
    read_buttons[0].click()
    at.run()
    assert not at.exception, at.exception
    with engine.connect() as conn:
        assert conn.scalar(select(Notice.read_at).where(Notice.id == first_id)) is not None
    assert _bell(at).label == _label(total - 1)
    # the one read goes last, without its button
    keys = [b.key for b in at.button if b.key and b.key.startswith("notice_read_")]
    assert f"notice_read_{first_id}" not in keys and len(keys) == total - 1
    by_label(at.button, "Marcar todos como lidos").click()
    at.run()
    assert not at.exception, at.exception
    assert _bell(at).label == "Nenhum aviso não lido"
    assert not [b for b in at.button if b.key and b.key.startswith("notice_read_")]
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(Notice.id).where(Notice.user_id == user_id, Notice.read_at.is_(None))
            )
            is None
        )


def test_links_go_only_to_pages_the_user_may_open_and_hostile_text_stays_text(app, portal_db):
    engine = _db(portal_db)
    with engine.begin() as conn:
        user_id = conn.scalar(select(User.id).where(User.user_code == "100002"))
        company_id = conn.scalar(select(User.company_id).where(User.user_code == "100002"))
        conn.execute(
            Notice.__table__.insert(),
            [
                {
                    "user_id": user_id,
                    "company_id": company_id,
                    "kind": "batch_finished",
                    "audience": "movements",
                    "dedupe_key": "batch_finished:x:1",
                    "title": "Lote concluído: **x**[y](http://evil)",
                    "body": "<b>arquivo</b> [clique](http://evil)",
                    "link": "pages/batch_track.py",
                    "created_at": datetime.now(UTC),
                    "read_at": None,
                },
                {  # a finance notice: 100002 has movements and reports only
                    "user_id": user_id,
                    "company_id": company_id,
                    "kind": "invoice_overdue",
                    "audience": "finance",
                    "dedupe_key": "invoice_overdue:x:2",
                    "title": "Fatura secreta",
                    "body": "nada",
                    "link": "pages/overdue_update.py",
                    "created_at": datetime.now(UTC),
                    "read_at": None,
                },
            ],
        )
    at = _open_notices(log_in(app(), "100002"))
    titles = [m.value for m in at.markdown if "Lote concluído" in m.value]
    assert titles and all("\\*\\*x\\*\\*\\[y\\]" in t for t in titles), titles
    assert not [m for m in at.markdown if "Fatura secreta" in m.value]
    links = [e.proto for e in at.main.get("page_link")]
    assert [link.label for link in links] == ["Abrir a página"]
    assert links[0].page.endswith("acompanhar-lotes")


def test_the_e_mail_preference_is_saved_and_refused_without_an_address(app, portal_db):
    at = _open_notices(log_in(app(), "100001"))
    toggle = at.toggle(key="notices_email")
    assert toggle.value is False
    toggle.set_value(True)
    at.run()
    assert not at.exception, at.exception
    assert any("também por e-mail" in s.value for s in at.success)
    engine = _db(portal_db)
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.user_code == "100001"))
        assert conn.scalar(
            select(NoticePreference.email).where(NoticePreference.user_id == user_id)
        )
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(email=""))
        conn.execute(update(NoticePreference).values(email=False))
    at = _open_notices(log_in(app(), "100001"))
    at.toggle(key="notices_email").set_value(True)
    at.run()
    assert any("não tem e-mail cadastrado" in e.value for e in at.error)
    assert at.toggle(key="notices_email").value is False  # back to what is saved
    at.run()
    assert not at.error  # said once, not on every run
    with engine.connect() as conn:
        assert not conn.scalar(
            select(NoticePreference.email).where(NoticePreference.user_id == user_id)
        )


def test_an_account_manager_sees_the_notices_of_the_company_in_context_only(app, portal_db):
    engine = _db(portal_db)
    with engine.begin() as conn:
        manager = conn.scalar(select(User.id).where(User.user_code == "900001"))
        first, second = conn.scalars(select(Company.id).order_by(Company.code).limit(2)).all()
        conn.execute(
            Notice.__table__.insert(),
            [
                {
                    "user_id": manager,
                    "company_id": cid,
                    "kind": "batch_finished",
                    "audience": "movements",
                    "dedupe_key": f"batch_finished:{cid}:9",
                    "title": f"Lote concluído: lote-{cid}.csv",
                    "body": "1 linha(s) aplicada(s), 0 recusada(s).",
                    "link": "pages/batch_track.py",
                    "created_at": datetime.now(UTC),
                    "read_at": None,
                }
                for cid in (first, second)
            ],
        )
    at = _open_notices(log_in(app(), "900001"))
    assert _bell(at).label == "1 aviso não lido"
    shown = [m.value for m in at.markdown if "Lote concluído" in m.value]
    assert len(shown) == 1 and f"lote-{first}" in shown[0].replace("\\", "")
    # The account manager's page draw generates nothing for the companies' users.
    with engine.connect() as conn:
        assert conn.scalar(select(Notice.id).where(Notice.user_id != manager)) is None


def test_e_mails_of_notices_generated_by_a_page_go_through_the_queue(
    app, portal_db, monkeypatch: pytest.MonkeyPatch
):
    """With SMTP set, the page records the e-mail and hands its delivery to the task queue
    (here `immediate`: the job runs at once); without SMTP the outbox is the delivery."""
    from config import get_settings
    from services.mail import outbox
    from tests.fake_smtp import FakeSMTPServer

    engine = _db(portal_db)
    with engine.begin() as conn:
        user_id, email = conn.execute(
            select(User.id, User.email).where(User.user_code == "100001")
        ).one()
        conn.execute(
            NoticePreference.__table__.insert(),
            [{"user_id": user_id, "email": True, "updated_at": datetime.now(UTC)}],
        )
    server = FakeSMTPServer()
    try:
        monkeypatch.setattr(outbox.smtplib, "SMTP", smtplib.SMTP)
        monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PORTAL_SMTP_PORT", str(server.port))
        monkeypatch.setenv("PORTAL_SMTP_STARTTLS", "false")
        monkeypatch.setenv("PORTAL_SMTP_USER", "")
        monkeypatch.setenv("PORTAL_QUEUE_URL", "immediate")
        get_settings.cache_clear()
        log_in(app(), "100001")
        assert [m["To"] for m in server.messages] == [email]
        assert "novo(s) aviso(s)" in str(server.messages[0]["Subject"])
    finally:
        server.close()
        get_settings.cache_clear()


def test_a_page_generates_the_company_s_notices_at_most_once_a_day(
    app, portal_db, monkeypatch: pytest.MonkeyPatch
):
    calls: list[tuple[int, ...]] = []
    real = notices_bell.notices_generate

    def counted(**kwargs):  # noqa: ANN003, ANN202
        calls.append(tuple(kwargs["company_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(notices_bell, "notices_generate", counted)
    at = log_in(app(), "100001")
    for _ in range(3):
        at.run()
        assert not at.exception, at.exception
    _open_notices(at)
    assert len(calls) == 1  # the company in context, once
    # Another day: generated again.
    notices_bell._generated.update({k: date(2000, 1, 1) for k in notices_bell._generated})
    at.run()
    assert len(calls) == 2 and calls[0] == calls[1]
    # An account manager's pages generate nothing.
    log_in(app(), "900001")
    assert len(calls) == 2
