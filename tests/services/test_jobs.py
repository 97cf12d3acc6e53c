"""Long work on the task queue (services/jobs): the stall rules, the embedded queue
(SqliteHuey file, consumer threads in this process) on both databases, and the
distributed one (Redis, `portal-worker` processes) killed half way on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update

import demo.generator
import services.batch.processing
from config import Settings
from data.models import AuditRecord, BatchLine, Beneficiary, Company, Invoice, Movement, Protocol
from services.actors import Permission
from services.batch.processing import batch_apply, batch_list
from services.jobs import batch as jobs_batch
from services.jobs.billing import bill_at_cutoff_job, due_billing_month
from services.jobs.consumer import embedded_worker, queue_close
from services.jobs.mail import retry_failed_mail_job
from services.jobs.queue import (
    JobQueue,
    QueueConfigError,
    queue_file,
    queue_for,
    queue_mode,
)
from services.jobs.settings import QueueSettings
from services.jobs.stall import Beat, JobState, Resumes, job_state, next_resume, stalled
from services.mail import outbox
from services.rules.errors import DomainError
from tests.fake_smtp import FakeSMTPServer, closed_port
from tests.services.movements_support import (
    NOW,
    World,
    make_world,
    new_cpf,
    without_permissions,
)
from tests.services.test_batch import child_line, count, holder_line, receive, xlsx
from tests.services.test_billing import AUG, JUL
from tests.services.test_billing import World as BillingWorld
from tests.services.test_billing import build_world as build_billing_world

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


# ---------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("status", "beat", "expected"),
    [
        ("received", None, JobState.NOT_QUEUED),
        ("received", Beat("queued", 995.0), JobState.NOT_QUEUED),
        ("done", None, JobState.DONE),
        ("done_with_refusals", Beat("running", 999.0), JobState.DONE),
        ("refused", None, JobState.DONE),
        ("applying", None, JobState.STALLED),  # interrupted, no job ever ran for it
        ("applying", Beat("queued", 950.0), JobState.QUEUED),  # 50 s: within the limit
        ("applying", Beat("running", 940.0), JobState.RUNNING),  # exactly at the limit
        ("applying", Beat("running", 939.0), JobState.STALLED),  # 61 s without a chunk
        ("applying", Beat("queued", 900.0), JobState.STALLED),  # the message was lost
    ],
)
def test_a_batch_job_state_comes_from_the_status_and_the_last_heartbeat(status, beat, expected):
    assert job_state(status, beat, now=1000.0, stall_seconds=60) is expected


def test_only_applying_batches_without_a_recent_heartbeat_are_stalled():
    beats = {1: Beat("running", 990.0), 2: Beat("running", 100.0), 4: Beat("queued", 999.0)}
    assert stalled([4, 3, 2, 1], beats, now=1000.0, stall_seconds=60) == [2, 3]
    assert stalled([], beats, now=1000.0, stall_seconds=60) == []
    assert stalled([1], beats, now=1000.0, stall_seconds=0) == [1]


def test_a_stalled_batch_is_resumed_again_only_while_its_resumes_apply_something():
    assert next_resume(None, 40) == Resumes(40, 1)
    assert next_resume(Resumes(40, 1), 40) == Resumes(40, 2)
    assert next_resume(Resumes(40, 2), 40) == Resumes(40, 3)
    assert next_resume(Resumes(40, 3), 40) is None  # three resumes applied nothing
    assert next_resume(Resumes(40, 3), 42) == Resumes(42, 1)  # lines applied: count again
    assert next_resume(Resumes(0, 1), 0, limit=1) is None


def test_the_queue_url_chooses_the_mode_and_the_embedded_file_sits_by_the_database(tmp_path):
    assert queue_mode("") == queue_mode("  ") == "embedded"
    assert queue_mode("redis://127.0.0.1:6379/0") == "redis"
    assert queue_mode("immediate") == "immediate"
    with pytest.raises(QueueConfigError, match="PORTAL_QUEUE_URL"):
        queue_mode("amqp://localhost")
    db = tmp_path / "data" / "portal.db"
    assert queue_file(f"sqlite:///{db}") == tmp_path / "data" / "portal-queue.db"
    pg = queue_file("postgresql+psycopg://u@h/db")
    assert pg.name == "portal-queue.db" and pg.parent.name == "instance"


# ---------------------------------------------------------------- embedded queue


def _url(engine: Engine) -> str:
    """The engine's database as a URL another engine (or process) can open: a PostgreSQL
    test schema travels in the URL's search_path option."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    return url


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


@pytest.fixture
def embedded(world: World, tmp_path: Path) -> Iterator[JobQueue]:
    """The embedded queue of the test's database (its file in the test's folder); its
    consumer is started by the test and stopped here."""
    jobs = queue_for(
        _url(world.engine),
        QueueSettings(queue_url="", queue_path=str(tmp_path / "queue.db"), queue_name="t"),
    )
    assert jobs.mode == "embedded"
    yield jobs
    queue_close(jobs)


def _wait(check: Callable[[], Any], seconds: float = 60.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached in {seconds} s")


def _progress(w: World, jobs: JobQueue, batch_id: int) -> jobs_batch.BatchProgress:
    return jobs_batch.batch_progress(uow=w.uow(), actor=w.master, batch_id=batch_id, jobs=jobs)


def test_an_embedded_job_applies_the_batch_while_its_progress_is_read(
    world: World, embedded: JobQueue, monkeypatch: pytest.MonkeyPatch
):
    w, jobs = world, embedded
    monkeypatch.setattr(services.batch.processing, "CHUNK", 2)
    cpfs = [new_cpf() for _ in range(7)]
    rows = [holder_line(w, cpf) for cpf in cpfs] + [child_line(cpfs[6])]
    check = receive(w, xlsx(rows))
    benefs, protocols = count(w, Beneficiary), count(w, Protocol)
    seen: list[tuple[JobState, int, int]] = []
    apply = services.batch.processing.batch_apply

    def observed(**kwargs: Any) -> Any:
        job_progress = kwargs.pop("progress")

        def progress(done: int, total: int) -> None:
            job_progress(done, total)
            # What the tracking page reads (its own session) after each committed chunk,
            # while the job goes on.
            p = _progress(w, jobs, check.batch.id)
            seen.append((p.state, p.applied, p.to_apply))

        return apply(progress=progress, **kwargs)

    monkeypatch.setattr(services.batch.processing, "batch_apply", observed)

    queued = jobs_batch.batch_enqueue(
        uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW, jobs=jobs
    )
    assert (queued.status, queued.state, queued.applied, queued.to_apply) == (
        "applying",
        JobState.QUEUED,
        0,
        8,
    )
    assert count(w, Beneficiary) == benefs  # nothing applied until a worker takes it
    embedded_worker(jobs)
    done = _wait(lambda: (p := _progress(w, jobs, check.batch.id)).state is JobState.DONE and p)
    assert (done.status, done.applied, done.refused, done.fraction) == ("done", 8, 0, 1.0)
    assert seen == [(JobState.RUNNING, n, 8) for n in (2, 4, 6, 8)]
    assert count(w, Beneficiary) == benefs + 8
    assert count(w, Protocol) == protocols + 8
    for cpf in cpfs:
        assert count(w, Beneficiary, Beneficiary.cpf == cpf) == 1
    assert jobs.last_beat(f"batch:{check.batch.id}") is None  # a finished job leaves none


class Interrupted(Exception):
    pass


def test_a_batch_whose_job_died_is_resumed_by_the_periodic_check_without_doubles(
    world: World, embedded: JobQueue, monkeypatch: pytest.MonkeyPatch
):
    w, jobs = world, embedded
    monkeypatch.setattr(services.batch.processing, "CHUNK", 2)
    cpfs = [new_cpf() for _ in range(5)]
    check = receive(w, xlsx([holder_line(w, cpf) for cpf in cpfs]))
    benefs = count(w, Beneficiary)

    def die(done: int, total: int) -> None:  # the process dies after its first chunk
        raise Interrupted

    with pytest.raises(Interrupted):
        batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW, progress=die)
    half = _progress(w, jobs, check.batch.id)
    assert (half.state, half.applied, half.to_apply) == (JobState.STALLED, 2, 5)

    embedded_worker(jobs)  # its scheduler runs the periodic check at once
    _wait(lambda: _progress(w, jobs, check.batch.id).state is JobState.DONE)
    assert count(w, Beneficiary) == benefs + 5
    for cpf in cpfs:
        assert count(w, Beneficiary, Beneficiary.cpf == cpf) == 1
    (listed,) = batch_list(uow=w.uow(), actor=w.master)
    assert (listed.status, listed.accepted_lines) == ("done", 5)


def test_a_batch_whose_resumed_jobs_apply_nothing_is_left_to_the_user_after_three_tries(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    w = world
    monkeypatch.setattr(services.batch.processing, "CHUNK", 1)
    check = receive(w, xlsx([holder_line(w) for _ in range(3)]))
    batch_id = check.batch.id
    jobs = queue_for(  # no consumer: the queued jobs never run (as if each one failed)
        _url(w.engine),
        QueueSettings(
            queue_url="", queue_path=str(tmp_path / "q.db"), queue_name="r", job_stall_seconds=0
        ),
    )
    try:
        jobs_batch.batch_enqueue(uow=w.uow(), actor=w.master, batch_id=batch_id, now=NOW, jobs=jobs)
        for _ in range(3):
            time.sleep(0.01)  # the heartbeat ages past the (zero) stall limit
            assert jobs_batch.resume_stalled_batches(jobs) == [batch_id]
        time.sleep(0.01)
        assert jobs_batch.resume_stalled_batches(jobs) == []  # three resumes, nothing applied
        assert jobs.huey.pending_count() == 4
        assert _progress(w, jobs, batch_id).state is JobState.STALLED  # "Retomar" is offered

        def die(done: int, total: int) -> None:  # a line applied by another way
            raise Interrupted

        with pytest.raises(Interrupted):
            batch_apply(uow=w.uow(), actor=w.master, batch_id=batch_id, now=NOW, progress=die)
        time.sleep(0.01)
        assert jobs_batch.resume_stalled_batches(jobs) == [batch_id]  # progress: again

        # The user's own "Retomar aplicação" starts the count again.
        for _ in range(2):
            time.sleep(0.01)
            jobs_batch.resume_stalled_batches(jobs)
        assert jobs.resumes(f"batch:{batch_id}") == Resumes(1, 3)
        jobs_batch.batch_enqueue(uow=w.uow(), actor=w.master, batch_id=batch_id, now=NOW, jobs=jobs)
        assert jobs.resumes(f"batch:{batch_id}") is None
    finally:
        queue_close(jobs)


def test_queueing_is_refused_without_the_permission_for_another_company_twice_or_when_done(
    world: World, embedded: JobQueue
):
    w, jobs = world, embedded
    check = receive(w, xlsx([holder_line(w)]))
    batch_id = check.batch.id

    def enqueue(code: str = "10001", actor: Any = None) -> Any:
        return jobs_batch.batch_enqueue(
            uow=w.uow(code), actor=actor or w.master, batch_id=batch_id, now=NOW, jobs=jobs
        )

    with pytest.raises(DomainError, match="Lote não encontrado"):
        enqueue("10002")  # a company of the master's group, not the batch's
    with pytest.raises(DomainError, match="não tem acesso"):
        enqueue("10005")
    with pytest.raises(DomainError, match="permissão"):
        enqueue(actor=without_permissions(w.master, Permission.MOVEMENTS))
    assert jobs.huey.pending_count() == 0
    assert _progress(w, jobs, batch_id).status == "received"  # nothing marked
    queued_audit = AuditRecord.action == "batch_enqueue"
    assert count(w, AuditRecord, queued_audit) == 0

    enqueue()
    with pytest.raises(DomainError, match="já está na fila"):
        enqueue()
    assert jobs.huey.pending_count() == 1
    with w.factory() as session:  # who queued it, audited once
        audit = session.scalars(select(AuditRecord).where(queued_audit)).one()
    assert (audit.user_id, audit.company_id, audit.entity_id) == (
        w.master.user_id,
        w.company["10001"],
        str(batch_id),
    )
    embedded_worker(jobs)
    _wait(lambda: _progress(w, jobs, batch_id).state is JobState.DONE)
    with pytest.raises(DomainError, match="já foi processado"):
        enqueue()
    # Nothing queued again (the consumer's scheduler queues its periodic checks when it
    # starts: they drain too).
    _wait(lambda: jobs.huey.pending_count() == 0)


# ---------------------------------------------------------------- distributed: Redis


def _redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


@pytest.fixture
def redis_url() -> str:
    reason = _redis_reason()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture(
    params=["sqlite-queue-file", pytest.param("redis-postgresql", marks=pytest.mark.postgres)]
)
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Engine, dict[str, str]]:
    """The database and the queue settings of separate worker processes: the production
    layout (Redis, PostgreSQL), and the embedded queue's file served by a `portal-worker`
    over SQLite (what the portal's own threads do, in a process that can be killed)."""
    if request.param == "sqlite-queue-file":
        return request.getfixturevalue("sqlite_engine"), {
            "PORTAL_QUEUE_URL": "",
            "PORTAL_QUEUE_PATH": str(tmp_path / "queue.db"),
        }
    engine = request.getfixturevalue("postgres_engine")
    return engine, {"PORTAL_QUEUE_URL": request.getfixturevalue("redis_url")}


def _worker(url: str, queue: dict[str, str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = dict(os.environ)
    environment.update(PORTAL_DATABASE_URL=url, **queue, **env)
    with log.open("ab") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "portal-worker"), "--workers", "1", "--chunk", "10"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _line_statuses(w: World, batch_id: int) -> dict[str, int]:
    with w.factory() as s:
        return dict(
            s.execute(
                select(BatchLine.status, func.count())
                .where(BatchLine.batch_id == batch_id)
                .group_by(BatchLine.status)
            ).all()
        )


def _applied_now(engine: Engine, batch_id: int) -> int:
    """Lines applied so far, read without waiting for the worker: on SQLite a plain WAL
    read (the portal's sessions begin IMMEDIATE, which would wait for the writer's lock
    and could starve between two chunks until the batch ends)."""
    query = "SELECT count(*) FROM batch_line WHERE batch_id = ? AND status = 'applied'"
    if engine.dialect.name == "sqlite":
        with contextlib.closing(
            sqlite3.connect(f"file:{engine.url.database}?mode=ro", uri=True)
        ) as conn:
            return int(conn.execute(query, (batch_id,)).fetchone()[0])
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(query.replace("?", "%(b)s"), {"b": batch_id}).scalar_one())


def test_a_worker_killed_half_way_is_resumed_by_another_and_no_line_is_applied_twice(
    layout: tuple[Engine, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    engine, queue = layout
    w = make_world(engine)
    url = _url(engine)
    queue = {**queue, "PORTAL_QUEUE_NAME": f"portal-test-{uuid.uuid4().hex[:8]}"}
    jobs = queue_for(
        url,
        QueueSettings(
            queue_url=queue["PORTAL_QUEUE_URL"],
            queue_path=queue.get("PORTAL_QUEUE_PATH", ""),
            queue_name=queue["PORTAL_QUEUE_NAME"],
        ),
    )
    log = tmp_path / "workers.log"
    cpfs = [new_cpf() for _ in range(300)]
    check = receive(w, xlsx([holder_line(w, cpf) for cpf in cpfs]))
    assert check.batch.accepted_lines == 300
    benefs, protocols, movements = count(w, Beneficiary), count(w, Protocol), count(w, Movement)
    first = second = None
    try:
        jobs_batch.batch_enqueue(
            uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW, jobs=jobs
        )
        first = _worker(url, queue, log)
        # Killed (SIGKILL: no clean-up at all) once some chunks are committed.
        applied = _wait(lambda: _applied_now(engine, check.batch.id), 120, 0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        half = _line_statuses(w, check.batch.id).get("applied", 0)
        assert applied and 0 < half < 300, f"the worker was not killed half way ({half} applied)"
        assert _progress(w, jobs, check.batch.id).status == "applying"

        # The new worker's periodic check finds the batch without a live job at once.
        second = _worker(url, queue, log, PORTAL_JOB_STALL_SECONDS="0")
        _wait(lambda: _progress(w, jobs, check.batch.id).status == "done", 120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        jobs.huey.storage.flush_all()
        queue_close(jobs)
    assert _line_statuses(w, check.batch.id) == {"applied": 300}, log.read_text()[-3000:]
    assert count(w, Beneficiary) == benefs + 300
    assert count(w, Protocol) == protocols + 300
    assert count(w, Movement) == movements + 300
    with w.factory() as s:
        doubles = s.execute(
            select(Beneficiary.cpf)
            .where(Beneficiary.cpf.in_(cpfs))
            .group_by(Beneficiary.cpf)
            .having(func.count() > 1)
        ).all()
    assert doubles == []


# ---------------------------------------------------------------- e-mail


def test_the_mail_retry_job_runs_every_five_minutes_and_delivers_what_failed(
    engine: Engine, uow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    jobs = queue_for(
        _url(engine),
        QueueSettings(queue_url="", queue_path=str(tmp_path / "queue.db"), queue_name="m"),
    )
    try:
        periodic = jobs.tasks["retry_failed_mail"].task_class()
        due = [m for m in range(60) if periodic.validate_datetime(datetime(2026, 12, 4, 9, m))]
        assert due == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]

        def smtp(port: int) -> Settings:
            values: dict[str, Any] = {
                "_env_file": None,
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_user": "",
                "smtp_starttls": False,
            }
            return Settings(**values)

        down = smtp(closed_port())
        with uow:
            queued = outbox.mail_queue(
                uow.session,
                to="rh@empresa.com.br",
                subject="Assunto",
                body="Corpo",
                now=datetime.now(UTC),
                settings=down,
            )
            uow.commit()
        monkeypatch.setattr(outbox.smtplib, "SMTP", smtplib.SMTP)
        [failed] = outbox.mail_deliver(uow=uow, ids=[queued], now=datetime.now(UTC), settings=down)
        assert failed.status == "failed"

        assert retry_failed_mail_job(jobs, settings=down) == 0  # still down
        server = FakeSMTPServer()
        try:
            assert retry_failed_mail_job(jobs, settings=smtp(server.port)) == 1
            assert retry_failed_mail_job(jobs, settings=smtp(server.port)) == 0  # sent once
            assert [m["Subject"] for m in server.messages] == ["Assunto"]
        finally:
            server.close()
        nothing = smtp(server.port).model_copy(update={"smtp_host": ""})
        assert retry_failed_mail_job(jobs, settings=nothing) == 0
    finally:
        queue_close(jobs)


# ---------------------------------------------------------------- billing at the cut-off


@pytest.mark.parametrize(
    ("today", "cutoff_day", "month"),
    [
        (date(2025, 7, 20), 20, date(2025, 7, 1)),  # the cut-off day itself: not yet
        (date(2025, 7, 21), 20, date(2025, 8, 1)),
        (date(2025, 12, 21), 20, date(2026, 1, 1)),  # across the year
        (date(2025, 7, 1), 20, date(2025, 7, 1)),  # June's cut-off passed with June
        (date(2025, 2, 28), 31, date(2025, 2, 1)),  # day 31 is February's last day
        (date(2025, 3, 1), 31, date(2025, 3, 1)),
        (date(2025, 3, 31), 30, date(2025, 4, 1)),
    ],
)
def test_the_month_due_for_billing_follows_the_cut_off(today, cutoff_day, month):
    assert due_billing_month(today, cutoff_day) == month


def test_billing_at_the_cut_off_issues_each_company_s_due_month_once(
    engine: Engine, tmp_path: Path
):
    w = build_billing_world(engine)
    with w.uow as uow:
        uow.session.execute(
            update(Company).where(Company.id == w.other_company_id).values(cutoff_day=25)
        )
        uow.commit()
    settings = {"queue_url": "", "queue_path": str(tmp_path / "q.db"), "queue_name": "b"}
    off = queue_for(_url(engine), QueueSettings(**settings))
    on = queue_for(_url(engine), QueueSettings(**settings, billing_at_cutoff=True))
    july_22 = datetime(2025, 7, 22, 15, 0, tzinfo=UTC)  # 20001's cut-off passed, 20002's not
    try:
        assert bill_at_cutoff_job(off, now=july_22) == {}  # off by default
        assert invoices_of(w, AUG) == invoices_of(w, JUL) == []
        assert bill_at_cutoff_job(on, now=july_22) == {JUL: 1, AUG: 1}
        assert invoices_of(w, AUG) == [w.company_id]
        assert invoices_of(w, JUL) == [w.other_company_id]
        assert bill_at_cutoff_job(on, now=july_22) == {JUL: 0, AUG: 0}  # nothing twice
        assert bill_at_cutoff_job(on, now=july_22 + timedelta(days=4)) == {AUG: 1}
        assert invoices_of(w, AUG) == sorted([w.company_id, w.other_company_id])
        periodic = on.tasks["bill_at_cutoff"].task_class()
        assert periodic.validate_datetime(datetime(2025, 7, 22, 6, 15))
        assert not periodic.validate_datetime(datetime(2025, 7, 22, 7, 15))
    finally:
        queue_close(off)
        queue_close(on)


def invoices_of(w: BillingWorld, month: date) -> list[int]:
    with w.uow as uow:
        return sorted(
            uow.session.scalars(select(Invoice.company_id).where(Invoice.billing_month == month))
        )
