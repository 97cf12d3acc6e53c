"""Notices on both databases: each kind generated from the data, nothing twice, the
recipients by permission, company isolation, reading, the e-mail preference (e-mail only
when wanted, recorded in the generation's transaction and delivered after it), the
batch's notice when its application ends, and the periodic job through the task queue."""

from __future__ import annotations

import smtplib
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update

import demo.generator
from config import Settings
from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    Invoice,
    Notice,
    OutboxEmail,
    User,
)
from data.uow import UnitOfWork
from services import notices
from services.actors import Permission
from services.batch.processing import batch_apply
from services.jobs.consumer import embedded_worker, queue_close
from services.jobs.notices import notices_job
from services.jobs.queue import queue_for
from services.jobs.settings import QueueSettings
from services.mail import outbox
from services.movements.service import ExclusionRequest, movement_apply
from services.rules.errors import DomainError
from tests.fake_smtp import FakeSMTPServer
from tests.services.movements_support import NOW, TODAY, World, make_world, without_permissions
from tests.services.test_batch import holder_line, receive, xlsx

LIMITED = {"allowed": True, "max_age": 21, "student_max_age": 24}
TABLE = {str(code): LIMITED for code in (3, 4, 6, 8, 10)}
QUIET = Settings(**{"_env_file": None, "smtp_host": "", "base_url": "https://portal.test"})


@pytest.fixture
def world(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    w = make_world(engine)
    # A clean start: no invoice of the seed overdue for months, every cut-off far away.
    with w.factory() as s:
        s.execute(
            update(Invoice)
            .where(Invoice.status == "open")
            .values(due_date=TODAY + timedelta(days=90))
        )
        s.execute(update(Company).values(cutoff_day=15))
        s.commit()
    return w


def generate(w: World, today: date = TODAY, **kwargs: Any) -> notices.NoticeRun:
    kwargs.setdefault("settings", QUIET)
    now = datetime(today.year, today.month, today.day, 15, 0, tzinfo=UTC)
    return notices.notices_generate(uow=UnitOfWork(w.factory), now=now, today=today, **kwargs)


def user_id(w: World, code: str) -> int:
    with w.factory() as s:
        found = s.scalar(select(User.id).where(User.user_code == code))
        assert found is not None
        return found


def rows(w: World, *where: Any) -> list[Notice]:
    with w.factory() as s:
        return list(s.scalars(select(Notice).where(*where).order_by(Notice.id)))


def mine(w: World, code: str, kind: str) -> list[Notice]:
    return rows(w, Notice.user_id == user_id(w, code), Notice.kind == kind)


def overdue_invoice(w: World, code: str = "10001", due: date = TODAY - timedelta(days=3)) -> int:
    with w.factory() as s:
        invoice_id = s.scalar(
            select(Invoice.id)
            .where(Invoice.company_id == w.company[code])
            .order_by(Invoice.billing_month.desc())
            .limit(1)
        )
        assert invoice_id is not None
        s.execute(
            update(Invoice).where(Invoice.id == invoice_id).values(status="open", due_date=due)
        )
        s.commit()
        return invoice_id


# ---------------------------------------------------------------- each kind


def test_an_overdue_invoice_is_notified_once_to_the_company_s_finance_users(world: World):
    w = world
    invoice_id = overdue_invoice(w)
    run = generate(w)
    assert run.created == {"invoice_overdue": 1}  # the master; 100002 has no finance
    [n] = rows(w)
    assert (n.user_id, n.company_id, n.kind, n.audience) == (
        user_id(w, "100001"),
        w.company["10001"],
        "invoice_overdue",
        "finance",
    )
    assert n.dedupe_key == f"invoice_overdue:{w.company['10001']}:{invoice_id}"
    assert n.title.startswith("Fatura ") and n.title.endswith(" vencida")
    assert f"venceu em {TODAY - timedelta(days=3):%d/%m/%Y}" in n.body and "R$" in n.body
    assert n.link == "pages/overdue_update.py" and n.read_at is None
    # Idempotent: the next runs, the same day or later, create nothing.
    assert generate(w).total == 0
    assert generate(w, TODAY + timedelta(days=1)).total == 0
    assert len(rows(w)) == 1
    # Paid: nothing more; a new overdue invoice of another company goes to its master.
    other = overdue_invoice(w, "10005")
    assert generate(w).created == {"invoice_overdue": 1}
    [n2] = rows(w, Notice.dedupe_key.endswith(f":{other}"))
    assert n2.company_id == w.company["10005"] and n2.user_id == user_id(w, "100015")


def test_an_invoice_due_on_a_saturday_is_not_overdue_on_monday(world: World):
    w = world
    saturday = date(2026, 11, 21)
    overdue_invoice(w, due=saturday)
    assert generate(w, date(2026, 11, 23)).total == 0  # paid on Monday: no fine
    assert generate(w, date(2026, 11, 24)).created == {"invoice_overdue": 1}


def test_the_cut_off_is_notified_3_business_days_before_it_to_movements_and_finance(
    world: World,
):
    w = world
    with w.factory() as s:  # 10001's cut-off on Monday 30/11, 10005's on Tuesday 01/12
        s.execute(update(Company).where(Company.code == "10001").values(cutoff_day=30))
        s.commit()
    wed = date(2026, 11, 25)  # Thu 26, Fri 27, Mon 30: 3 business days
    assert generate(w, wed - timedelta(days=1)).total == 0  # 4 business days away
    run = generate(w, wed)
    assert run.created == {"cutoff": 2}  # the master (movements) and 100002 (movements)
    got = {n.user_id: n for n in rows(w, Notice.kind == "cutoff")}
    assert set(got) == {user_id(w, "100001"), user_id(w, "100002")}
    n = got[user_id(w, "100001")]
    assert n.title == "Data de corte em 30/11/2026"
    assert "em 3 dia(s) útil(eis)" in n.body and "competência 12/2026" in n.body
    assert n.audience == "movements" and n.link == "pages/movements_individual.py"
    assert generate(w, TODAY).total == 0  # the same cut-off: once
    assert generate(w, date(2026, 11, 30)).total == 0


def test_an_exclusion_scheduled_within_7_days_is_notified_once_per_request(world: World):
    w = world
    soon = w.holder(dependents=True)
    later = w.holder(dependents=False)
    names = {soon.name}
    for card, days in ((soon.card_number, 5), (later.card_number, 20)):
        movement_apply(
            uow=w.uow(),
            actor=w.master,
            request=ExclusionRequest(
                card_number=card,
                reason="outros",
                effective_date=TODAY + timedelta(days=days),
                dependents_confirmed=True,
            ),
            now=NOW,
        )
    run = generate(w)
    assert run.created == {"exclusion_scheduled": 2}  # master and 100002, one request
    n = mine(w, "100001", "exclusion_scheduled")[0]
    day = TODAY + timedelta(days=5)
    assert n.title == f"Exclusão agendada para {day:%d/%m/%Y}"
    assert any(name in n.body for name in names) and "dependente(s)" in n.body
    assert "protocolo" in n.body
    assert generate(w).total == 0
    # Thirteen days later the second one is within 7 days.
    assert generate(w, TODAY + timedelta(days=13)).created == {"exclusion_scheduled": 2}
    assert later.name in mine(w, "100001", "exclusion_scheduled")[1].body


def test_dependents_ageing_out_within_60_days_are_notified_unless_already_scheduled(
    world: World,
):
    w = world
    cid = w.company["10001"]
    with w.factory() as s:
        s.execute(update(Company).where(Company.id == cid).values(eligibility=TABLE))
        s.execute(
            update(Beneficiary)
            .where(Beneficiary.relationship_code != 1)
            .values(birth_date=date(2015, 1, 1), is_student=False)
        )
        deps = s.scalars(
            select(Beneficiary.id)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(
                Beneficiary.company_id == cid,
                Beneficiary.status == "active",
                Beneficiary.relationship_code != 1,
            )
            .order_by(Beneficiary.id)
        ).all()
        soon, far, student = deps[:3]
        for bid, end, is_student in (
            (soon, TODAY + timedelta(days=10), False),
            (far, TODAY + timedelta(days=100), False),
            (student, TODAY + timedelta(days=10), True),  # a student: limit 24
        ):
            s.execute(
                update(Beneficiary)
                .where(Beneficiary.id == bid)
                .values(birth_date=end.replace(year=end.year - 22), is_student=is_student)
            )
        s.commit()
    run = generate(w)
    assert run.created == {"dependent_ageing": 2}  # master and 100002
    [n] = mine(w, "100001", "dependent_ageing")
    end = TODAY + timedelta(days=10)
    assert n.dedupe_key == f"dependent_ageing:{cid}:{soon}:{end.isoformat()}"
    assert n.title == f"Dependente perde a elegibilidade em {end:%d/%m/%Y}"
    assert "(21 anos)" in n.body and n.link == "pages/report_ageing.py"
    assert generate(w).total == 0
    # 100 days: notified once it is within 60; unless its exclusion is already scheduled.
    with w.factory() as s:
        card = s.scalar(select(Beneficiary.card_number).where(Beneficiary.id == far))
    assert card is not None
    movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=ExclusionRequest(
            card_number=card, reason="perda_elegibilidade", effective_date=TODAY + timedelta(30)
        ),
        now=NOW,
    )
    later = TODAY + timedelta(days=45)
    run = generate(w, later)
    assert "dependent_ageing" not in run.created


# ---------------------------------------------------------------- recipients and reading


def test_recipients_are_the_company_s_active_users_with_the_permission(world: World):
    w = world
    overdue_invoice(w)
    with w.factory() as s:  # 100002 gets finance; the master is inactivated
        s.execute(
            update(User)
            .where(User.user_code == "100002")
            .values(permissions=["finance", "movements", "reports"])
        )
        s.execute(update(User).where(User.user_code == "100001").values(status="inactive"))
        s.commit()
    assert generate(w).created == {"invoice_overdue": 1}
    [n] = rows(w)
    assert n.user_id == user_id(w, "100002")
    # Account managers and pending users get no scheduled notice.
    assert not rows(w, Notice.user_id.in_([user_id(w, "900001"), user_id(w, "100003")]))


def test_the_list_shows_the_actor_s_notices_of_the_company_in_context_only(world: World):
    w = world
    overdue_invoice(w)
    overdue_invoice(w, "10002")  # a company of 10001's group: the master sees it too
    with w.factory() as s:
        s.add(
            User(
                user_code="100099",
                name="Master Do Grupo",
                email="master2@example.com.br",
                role="master",
                permissions=[],
                company_id=w.company["10002"],
                status="active",
                created_at=NOW,
                session_epoch=0,
                password_history=[],
            )
        )
        s.commit()
    generate(w)
    master = w.master
    assert w.company["10002"] in master.company_ids
    a = notices.notice_list(uow=w.uow(), actor=master)
    assert len(a) == 1 and a[0].unread and a[0].kind_label == "Fatura vencida"
    # The other company of the group: its notices went to its own master, not to 100001.
    assert notices.notice_list(uow=w.uow("10002"), actor=master) == []
    assert notices.notice_unread_count(uow=w.uow("10002"), actor=master) == 0
    # A company the actor cannot see is refused.
    with pytest.raises(DomainError, match="não tem acesso"):
        notices.notice_list(uow=w.uow("10005"), actor=master)
    with pytest.raises(DomainError, match="não tem acesso"):
        notices.notice_unread_count(uow=w.uow("10005"), actor=master)
    # Losing the permission hides the notice (it was given through finance).
    assert (
        notices.notice_list(uow=w.uow(), actor=without_permissions(master, Permission.FINANCE))
        == []
    )


def test_reading_one_and_all_unread_first(world: World):
    w = world
    overdue_invoice(w)
    with w.factory() as s:
        s.execute(update(Company).where(Company.code == "10001").values(cutoff_day=30))
        s.commit()
    generate(w)
    master = w.master
    items = notices.notice_list(uow=w.uow(), actor=master)
    assert len(items) == 2 and notices.notice_unread_count(uow=w.uow(), actor=master) == 2
    first = items[0]
    assert notices.notice_mark_read(uow=w.uow(), actor=master, notice_id=first.id, now=NOW)
    assert not notices.notice_mark_read(uow=w.uow(), actor=master, notice_id=first.id, now=NOW)
    after = notices.notice_list(uow=w.uow(), actor=master)
    assert [n.id for n in after] == [items[1].id, first.id]  # unread first
    assert after[1].read_at is not None
    assert notices.notice_unread_count(uow=w.uow(), actor=master) == 1
    # Someone else's notice is not marked, whatever its id.
    other = rows(w, Notice.user_id == user_id(w, "100002"))[0]
    assert not notices.notice_mark_read(uow=w.uow(), actor=master, notice_id=other.id, now=NOW)
    assert notices.notice_mark_all_read(uow=w.uow(), actor=master, now=NOW) == 1
    assert notices.notice_unread_count(uow=w.uow(), actor=master) == 0
    assert rows(w, Notice.id == other.id)[0].read_at is None


# ---------------------------------------------------------------- e-mail


def smtp(port: int) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_user": "",
        "smtp_starttls": False,
        "base_url": "https://portal.test",
    }
    return Settings(**values)


def test_the_preference_is_the_user_s_own_and_audited(world: World):
    w = world
    assert notices.notice_preference_get(uow=w.uow(), actor=w.user) is False
    assert notices.notice_preference_set(uow=w.uow(), actor=w.user, email=True, now=NOW)
    assert notices.notice_preference_get(uow=w.uow(), actor=w.user) is True
    assert notices.notice_preference_get(uow=w.uow(), actor=w.master) is False
    with w.factory() as s:
        record = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "notice_preference")
        ).one()
        assert record.after == {"notice_email": True} and record.user_id == w.user.user_id
        s.execute(update(User).where(User.id == w.master.user_id).values(email=" "))
        s.commit()
    with pytest.raises(DomainError, match="não tem e-mail cadastrado"):
        notices.notice_preference_set(uow=w.uow(), actor=w.master, email=True, now=NOW)
    assert notices.notice_preference_get(uow=w.uow(), actor=w.master) is False


def test_e_mail_goes_only_to_who_wants_it_one_per_run_and_after_the_commit(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    w = world
    overdue_invoice(w)
    with w.factory() as s:
        s.execute(update(Company).where(Company.code == "10001").values(cutoff_day=30))
        s.commit()
    notices.notice_preference_set(uow=w.uow(), actor=w.master, email=True, now=NOW)
    monkeypatch.setattr(outbox.smtplib, "SMTP", smtplib.SMTP)
    server = FakeSMTPServer()
    try:
        settings = smtp(server.port)
        run = generate(w, settings=settings)
        assert run.total == 3  # the master's two, 100002's cut-off
        # One message for the master, recorded and not sent by the generation.
        assert len(run.mail) == 1 and server.messages == []
        with w.factory() as s:
            [message] = s.scalars(select(OutboxEmail).where(OutboxEmail.id == run.mail[0].id))
            assert message.status == "pending" and message.to_address == w.master.email
            assert "- Data de corte em 30/11/2026" in message.body
            assert "vencida" in message.body and "https://portal.test" in message.body
        [delivery] = outbox.mail_deliver(
            uow=UnitOfWork(w.factory), ids=run.mail, now=NOW, settings=settings
        )
        assert delivery.status == "sent"
        assert [m["To"] for m in server.messages] == [w.master.email]
        assert server.messages[0]["Subject"] == "Portal Empresa: 2 novo(s) aviso(s)"
        # Nothing new, nothing sent; 100002 never gets e-mail.
        assert generate(w, settings=settings).mail == []
    finally:
        server.close()
    with w.factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(
                    OutboxEmail.to_address == w.user.email,
                    OutboxEmail.subject.startswith("Portal Empresa: "),
                )
            )
            == 0
        )


# ---------------------------------------------------------------- batch finished


def test_a_finished_batch_notifies_its_sender_once_with_e_mail_when_wanted(world: World):
    w = world
    notices.notice_preference_set(uow=w.uow(), actor=w.master, email=True, now=NOW)
    check = receive(w, xlsx([holder_line(w), holder_line(w, cpf="123")]), name="lote <b>.xlsx")
    # Applied by the account manager: the notice still goes to who sent the file.
    result = batch_apply(uow=w.uow(), actor=w.manager, batch_id=check.batch.id, now=NOW)
    [n] = rows(w, Notice.kind == "batch_finished")
    assert (n.user_id, n.company_id, n.audience) == (
        w.master.user_id,
        w.company["10001"],
        "movements",
    )
    assert n.title == "Lote concluído: lote <b>.xlsx"
    assert f"{result.applied} linha(s) aplicada(s)" in n.body
    assert n.dedupe_key == f"batch_finished:{w.company['10001']}:{check.batch.id}"
    assert n.link == "pages/batch_track.py"
    with w.factory() as s:
        sent = s.scalars(select(OutboxEmail).where(OutboxEmail.to_address == w.master.email)).all()
        assert [m.body.count("Lote concluído") for m in sent if "aviso" in m.subject] == [1]
    with pytest.raises(DomainError):
        batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    assert len(rows(w, Notice.kind == "batch_finished")) == 1
    # An inactive sender gets nothing (nor does anyone else).
    with w.factory() as s:
        s.execute(delete(Notice))
        s.execute(update(User).where(User.id == w.master.user_id).values(status="inactive"))
        s.commit()
    again = receive(w, xlsx([holder_line(w)]), name="outro.xlsx")
    batch_apply(uow=w.uow(), actor=w.manager, batch_id=again.batch.id, now=NOW)
    assert rows(w) == []


# ---------------------------------------------------------------- the periodic job


def test_the_hourly_job_generates_through_the_queue_and_delivers_the_e_mails(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from tests.services.test_jobs import _url

    w = world
    with w.factory() as s:  # the job reads the clock: one invoice overdue on its day
        later = date.today() + timedelta(days=90)
        s.execute(update(Invoice).where(Invoice.status == "open").values(due_date=later))
        s.execute(update(Company).values(cutoff_day=(date.today() + timedelta(days=15)).day))
        s.commit()
    overdue_invoice(w, due=date.today() - timedelta(days=10))
    jobs = queue_for(
        _url(w.engine),
        QueueSettings(queue_url="", queue_path=str(tmp_path / "queue.db"), queue_name="n"),
    )
    try:
        periodic = jobs.tasks["generate_notices"].task_class()
        due = [
            (h, m)
            for h in range(24)
            for m in range(60)
            if periodic.validate_datetime(datetime(2026, 12, 4, h, m))
        ]
        assert due == [(h, 20) for h in range(24)]  # hourly: a missed hour costs nothing
        # The job itself: notices created once, their e-mails delivered after the commit.
        notices.notice_preference_set(uow=w.uow(), actor=w.master, email=True, now=NOW)
        monkeypatch.setattr(outbox.smtplib, "SMTP", smtplib.SMTP)
        server = FakeSMTPServer()
        try:
            run = notices_job(jobs, now=datetime.now(UTC), settings=smtp(server.port))
            assert run.created.get("invoice_overdue") == 1 and len(run.mail) == 1
            assert [m["To"] for m in server.messages] == [w.master.email]
        finally:
            server.close()
        with w.factory() as s:
            s.execute(delete(Notice))
            s.commit()
        # Through the embedded queue's consumer, as the scheduler runs it.
        embedded_worker(jobs)
        jobs.huey.enqueue(jobs.tasks["generate_notices"].s())
        deadline = time.monotonic() + 60
        while not rows(w) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [n.kind for n in rows(w)] == ["invoice_overdue"]
    finally:
        queue_close(jobs)


def test_without_an_actor_s_company_the_reads_are_a_bug_not_a_leak(world: World):
    w = world
    from data.uow import NoCompanyInContext

    with pytest.raises(NoCompanyInContext):
        notices.notice_list(uow=UnitOfWork(w.factory), actor=replace(w.master))


def test_two_generations_at_once_create_each_notice_once(world: World):
    """The job and a page (or two processes) at the same moment: the unique event key and
    the insert that skips what exists keep every notice single, without an error."""
    import threading

    w = world
    overdue_invoice(w)
    overdue_invoice(w, "10005")
    results: list[Any] = []

    def one() -> None:
        try:
            results.append(generate(w).total)
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 2  # each created by exactly one of them
    keys = [(n.user_id, n.dedupe_key) for n in rows(w)]
    assert len(keys) == len(set(keys)) == 2
