"""The monthly billing run as a job (services/jobs/billing_run.py), on both databases:
queued by the account manager, run by the queue, followed by the page, resumed when its
worker died, never issuing an invoice twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from data.models import AuditRecord, Invoice, JobRun
from services.jobs import billing_run as job
from services.jobs.consumer import queue_close
from services.jobs.queue import JobQueue, queue_for
from services.jobs.settings import QueueSettings
from services.jobs.stall import JobState
from services.rules.errors import DomainError
from tests.services.test_billing import AUG, JUL, World, build_world
from tests.services.test_jobs import _url

NOW = datetime(2025, 7, 22, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def _queue(engine: Engine, tmp_path: Path, **settings: object) -> Iterator[JobQueue]:
    jobs = queue_for(
        _url(engine),
        QueueSettings(queue_path=str(tmp_path / "q.db"), queue_name="billing", **settings),
    )
    try:
        yield jobs
    finally:
        queue_close(jobs)


@pytest.fixture
def immediate(engine: Engine, tmp_path: Path) -> Iterator[JobQueue]:
    """Jobs run at once, when queued (Huey's immediate mode)."""
    yield from _queue(engine, tmp_path, queue_url="immediate")


@pytest.fixture
def embedded(engine: Engine, tmp_path: Path) -> Iterator[JobQueue]:
    """The embedded queue with no consumer: queued jobs wait until the test runs them
    (a worker that takes a message: dequeue and execute), stalled at once."""
    yield from _queue(engine, tmp_path, queue_url="", job_stall_seconds=0)


def _invoices(w: World) -> list[tuple[int, object]]:
    with w.uow as uow:
        return sorted(uow.session.execute(select(Invoice.company_id, Invoice.billing_month)).all())


def _work(jobs: JobQueue) -> int:
    """What a worker does: run every queued message; how many it ran."""
    ran = 0
    while (task := jobs.huey.dequeue()) is not None:
        jobs.huey.execute(task)
        ran += 1
    return ran


def test_a_queued_run_issues_the_invoices_and_keeps_its_result(world: World, immediate):
    w = world
    queued = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=immediate,
    )  # fmt: skip
    assert queued.over and queued.status == "done" and queued.state is JobState.DONE
    assert queued.fraction == 1.0
    assert _invoices(w) == sorted([(w.company_id, AUG), (w.other_company_id, AUG)])
    result = queued.result
    assert result is not None and result.billing_month == AUG
    assert {b.company_id for b in result.billed} == {w.company_id, w.other_company_id}
    with w.uow as uow:
        amounts = dict(uow.session.execute(select(Invoice.company_id, Invoice.amount)).all())
    assert {b.company_id: b.amount for b in result.billed} == amounts  # exact Decimals
    assert job.result_from_json(job.result_to_json(result)) == result
    # The user came back later (another browser): the newest run, with its result.
    latest = job.billing_run_latest(uow=w.company_uow(), actor=w.manager, jobs=immediate)
    assert latest is not None and latest.id == queued.id and latest.result == result
    with w.uow as uow:
        audited = uow.session.execute(
            select(AuditRecord.company_id, AuditRecord.entity_id, AuditRecord.user_id).where(
                AuditRecord.action == "billing_run_enqueue"
            )
        ).all()
    assert sorted(tuple(a) for a in audited) == sorted(  # one per company of the run
        (c, str(queued.id), w.manager.user_id) for c in (w.company_id, w.other_company_id)
    )

    # Again: every company already invoiced for the month is skipped, nothing twice.
    again = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=[w.company_id],
        now=NOW, jobs=immediate,
    )  # fmt: skip
    assert again.result is not None and again.result.billed == []
    assert [s.company_id for s in again.result.skipped] == [w.company_id]
    assert len(_invoices(w)) == 2


def test_only_the_account_manager_queues_a_run_and_only_for_its_companies(world: World, immediate):
    w = world
    with pytest.raises(DomainError, match="gestor de contas"):
        job.billing_run_enqueue(
            uow=w.company_uow(), actor=w.master, billing_month=AUG, company_ids=None, now=NOW,
            jobs=immediate,
        )  # fmt: skip
    with pytest.raises(DomainError):
        job.billing_run_enqueue(
            uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=[999_999],
            now=NOW, jobs=immediate,
        )  # fmt: skip
    with pytest.raises(DomainError, match="ao menos uma empresa"):
        job.billing_run_enqueue(
            uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=[], now=NOW,
            jobs=immediate,
        )  # fmt: skip
    with pytest.raises(DomainError, match="gestor de contas"):
        job.billing_run_latest(uow=w.company_uow(), actor=w.master, jobs=immediate)
    with w.uow as uow:
        assert uow.session.scalar(select(func.count()).select_from(JobRun)) == 0
    assert _invoices(w) == []


def test_a_run_refused_by_the_billing_rules_is_shown_as_failed_with_the_reason(
    world: World, embedded, monkeypatch: pytest.MonkeyPatch
):
    w = world
    queued = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip
    assert queued.status == "queued"

    def refuse(**_kwargs: object) -> None:
        raise DomainError("Tabela de preço ausente para o plano X.")

    monkeypatch.setattr(job, "billing_run", refuse)
    assert _work(embedded) == 1
    seen = job.billing_run_status(
        uow=w.company_uow(), actor=w.manager, job_id=queued.id, jobs=embedded
    )
    assert seen is not None and seen.status == "failed" and seen.over
    assert seen.message == "Tabela de preço ausente para o plano X."
    assert _invoices(w) == []


def test_a_second_run_of_the_same_month_waits_for_the_first(world: World, embedded):
    w = world
    first = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip
    assert first.state is JobState.QUEUED or first.state is JobState.STALLED
    with pytest.raises(DomainError, match="na fila ou em andamento"):
        job.billing_run_enqueue(
            uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None,
            now=NOW, jobs=embedded,
        )  # fmt: skip
    # Another month is another run.
    other = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=JUL, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip
    assert other.id != first.id
    assert _work(embedded) == 2
    assert {m for _, m in _invoices(w)} == {AUG}  # the first; July's has its own result
    for run in (first, other):
        seen = job.billing_run_status(
            uow=w.company_uow(), actor=w.manager, job_id=run.id, jobs=embedded
        )
        assert seen is not None and seen.over


def test_a_run_whose_worker_died_is_resumed_and_issues_each_invoice_once(
    world: World, embedded, monkeypatch: pytest.MonkeyPatch
):
    w = world
    queued = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip

    # The worker takes the message and dies half way: inside the billing transaction,
    # after part of the work (the progress it reported), before the commit.
    class Killed(BaseException):
        pass

    real = job.billing_run

    def dies_half_way(**kwargs: object) -> object:
        def progress(fraction: float, message: str) -> None:
            kwargs["progress"](fraction, message)  # type: ignore[operator]
            if fraction >= 0.35:
                raise Killed

        return real(**{**kwargs, "progress": progress})  # type: ignore[arg-type]

    monkeypatch.setattr(job, "billing_run", dies_half_way)
    task = embedded.huey.dequeue()
    with pytest.raises(Killed):
        embedded.huey.execute(task)
    assert _invoices(w) == []  # one transaction: a killed run leaves nothing
    seen = job.billing_run_status(
        uow=w.company_uow(), actor=w.manager, job_id=queued.id, jobs=embedded
    )
    assert seen is not None and seen.status == "running"
    time.sleep(0.01)  # its heartbeat ages past the (zero) stall limit
    assert (
        seen.state is JobState.STALLED
        or job.billing_run_status(
            uow=w.company_uow(), actor=w.manager, job_id=queued.id, jobs=embedded
        ).state
        is JobState.STALLED
    )  # type: ignore[union-attr]

    # The periodic check queues it again; a worker runs it to the end.
    monkeypatch.setattr(job, "billing_run", real)
    assert job.resume_stalled_billing_runs(embedded) == [queued.id]
    assert _work(embedded) == 1
    done = job.billing_run_status(
        uow=w.company_uow(), actor=w.manager, job_id=queued.id, jobs=embedded
    )
    assert done is not None and done.status == "done"
    assert _invoices(w) == sorted([(w.company_id, AUG), (w.other_company_id, AUG)])

    # A duplicate message (the queue delivered it twice) changes nothing.
    embedded.tasks["billing_run"](queued.id)
    assert _work(embedded) == 1
    assert len(_invoices(w)) == 2
    assert job.resume_stalled_billing_runs(embedded) == []  # done: nothing to resume


def test_a_run_interrupted_three_times_is_left_to_the_user_as_failed(world: World, embedded):
    w = world
    queued = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip
    with w.uow as uow:
        uow.session.execute(
            update(JobRun).where(JobRun.id == queued.id).values(status="running", attempts=3)
        )
        uow.commit()
    time.sleep(0.01)
    assert job.resume_stalled_billing_runs(embedded) == []
    seen = job.billing_run_status(
        uow=w.company_uow(), actor=w.manager, job_id=queued.id, jobs=embedded
    )
    assert seen is not None and seen.status == "failed" and seen.message == job.INTERRUPTED
    # The user may queue the month again.
    again = job.billing_run_enqueue(
        uow=w.company_uow(), actor=w.manager, billing_month=AUG, company_ids=None, now=NOW,
        jobs=embedded,
    )  # fmt: skip
    assert again.id != queued.id


def test_the_queue_settings_are_read_once_per_environment(monkeypatch: pytest.MonkeyPatch):
    from services.jobs.settings import queue_settings

    monkeypatch.setenv("PORTAL_QUEUE_NAME", "first")
    assert queue_settings() is queue_settings()
    assert queue_settings().queue_name == "first"
    monkeypatch.setenv("PORTAL_QUEUE_NAME", "second")  # a changed variable is read again
    assert queue_settings().queue_name == "second"
