"""The monthly billing run as a job: the account manager queues it, a worker runs it, the
page follows it (and shows it again after the browser was closed).

- `billing_run_enqueue` ("Faturar"): who may bill which companies is checked here, at
  once, and a job run is recorded (audited) and queued after the commit.
- `billing_run_job` (the task): `services.billing.run.billing_run` as the user who asked,
  with a heartbeat and its progress in the queue's store (not in the database: on SQLite
  the run's own transaction holds the write lock until it commits). The result is stored
  on the job run.
- `resume_stalled_billing_runs` (periodic): a run whose worker died (no heartbeat for the
  stall limit) is queued again, at most MAX_ATTEMPTS times. That is always safe: the billing
  run is one transaction (a killed run leaves nothing) and skips the companies already
  invoiced for the month, so nothing is ever issued twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from data.models import JobRun, User
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import Actor
from services.audit import audit_record
from services.billing.run import (
    BilledCompany,
    BillingRunResult,
    SkippedCompany,
    billing_companies,
    billing_run,
)
from services.jobs.queue import JobQueue, enqueue, queue_for
from services.jobs.stall import JobState, job_state
from services.rules.errors import DomainError

log = logging.getLogger(__name__)

KIND = "billing_run"
MAX_ATTEMPTS = 3
PROGRESS_EVERY_SECONDS = 0.5
INTERRUPTED = (
    "O faturamento foi interrompido várias vezes antes de terminar e não emitiu nada. "
    "Execute de novo; se persistir, avise o suporte."
)


def _key(job_id: int) -> str:
    return f"billing_run:{job_id}"


@dataclass(frozen=True)
class BillingJob:
    """A queued billing run as the page shows it."""

    id: int
    status: str  # queued, running, done, failed
    state: JobState  # from the heartbeat: queued, running, stalled or done
    billing_month: date
    company_ids: list[int] | None  # None: the whole portfolio
    fraction: float
    message: str
    result: BillingRunResult | None
    created_at: datetime

    @property
    def over(self) -> bool:
        return self.status in ("done", "failed")


# ---------------------------------------------------------------- the result as JSON


def result_to_json(result: BillingRunResult) -> dict[str, Any]:
    """A billing run's result as JSON (money as exact decimal strings)."""

    def company(b: BilledCompany) -> dict[str, Any]:
        return {
            "company_id": b.company_id,
            "code": b.code,
            "name": b.name,
            "invoice_id": b.invoice_id,
            "due_date": b.due_date.isoformat(),
            "amount": str(b.amount),
            "lines": b.lines,
            "kinds": b.kinds,
            "kind_totals": {k: str(v) for k, v in b.kind_totals.items()},
        }

    return {
        "billing_month": result.billing_month.isoformat(),
        "billed": [company(b) for b in result.billed],
        "skipped": [
            {"company_id": s.company_id, "code": s.code, "name": s.name, "reason": s.reason}
            for s in result.skipped
        ],
        "lines": result.lines,
        "total": str(result.total),
        "seconds": result.seconds,
        "kinds": result.kinds,
        "kind_totals": {k: str(v) for k, v in result.kind_totals.items()},
    }


def result_from_json(data: dict[str, Any]) -> BillingRunResult:
    return BillingRunResult(
        billing_month=date.fromisoformat(data["billing_month"]),
        billed=[
            BilledCompany(
                company_id=b["company_id"],
                code=b["code"],
                name=b["name"],
                invoice_id=b["invoice_id"],
                due_date=date.fromisoformat(b["due_date"]),
                amount=Decimal(b["amount"]),
                lines=b["lines"],
                kinds=dict(b["kinds"]),
                kind_totals={k: Decimal(v) for k, v in b["kind_totals"].items()},
            )
            for b in data["billed"]
        ],
        skipped=[SkippedCompany(**s) for s in data["skipped"]],
        lines=data["lines"],
        total=Decimal(data["total"]),
        seconds=data["seconds"],
        kinds=dict(data["kinds"]),
        kind_totals={k: Decimal(v) for k, v in data["kind_totals"].items()},
    )


# ---------------------------------------------------------------- the page's services


def _job(row: JobRun, jobs: JobQueue) -> BillingJob:
    beat = None if row.status in ("done", "failed") else jobs.last_beat(_key(row.id))
    if row.status in ("done", "failed"):
        state = JobState.DONE
    else:
        state = job_state("applying", beat, time.time(), jobs.stall_seconds)
    fraction, message = 0.0, row.message or ""
    if row.status == "done":
        fraction = 1.0
    elif row.status == "running":
        stored = jobs.huey.get(f"progress:{_key(row.id)}", peek=True)
        if stored:
            fraction, message = float(stored[0]), str(stored[1])
    params = row.params
    return BillingJob(
        id=row.id,
        status=row.status,
        state=state,
        billing_month=date.fromisoformat(params["billing_month"]),
        company_ids=params.get("company_ids"),
        fraction=fraction,
        message=message,
        result=result_from_json(row.result) if row.result else None,
        created_at=row.created_at,
    )


def billing_run_enqueue(
    *,
    uow: UnitOfWork,
    actor: Actor,
    billing_month: date,
    company_ids: list[int] | None,
    now: datetime,
    jobs: JobQueue | None = None,
) -> BillingJob:
    """Queue the billing of `billing_month` for the chosen companies (None: the whole
    portfolio). Refused at once when the actor may not bill them, or when a run of the
    same month is already queued or running."""
    ids = billing_companies(actor, company_ids)
    jobs = jobs or queue_for()
    month = billing_month.replace(day=1).isoformat()
    with uow:
        pending = uow.session.scalars(
            select(JobRun).where(JobRun.kind == KIND, JobRun.status.in_(("queued", "running")))
        ).all()
        if any(r.params.get("billing_month") == month for r in pending):
            raise DomainError(
                "Já há um faturamento desta competência na fila ou em andamento: acompanhe-o "
                "nesta página."
            )
        row = JobRun(
            kind=KIND,
            status="queued",
            user_id=actor.user_id,
            params={"billing_month": month, "company_ids": company_ids},
            message="Na fila para faturar.",
            attempts=0,
            created_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        for company_id in ids:  # each company's trail shows who queued its billing
            audit_record(
                uow.session,
                user_id=actor.user_id,
                company_id=company_id,
                action="billing_run_enqueue",
                entity="job_run",
                entity_id=row.id,
                before=None,
                after={"billing_month": month, "portfolio": company_ids is None},
                now=now,
            )
        uow.commit()
        job_id = row.id
    # Queued after the commit: the worker always finds the job run.
    jobs.beat(_key(job_id), "queued")
    enqueue(jobs, "billing_run", job_id)
    found = billing_run_status(uow=uow, actor=actor, job_id=job_id, jobs=jobs)
    assert found is not None
    return found


def billing_run_status(
    *, uow: UnitOfWork, actor: Actor, job_id: int, jobs: JobQueue | None = None
) -> BillingJob | None:
    """One of the actor's billing runs (None when it is not one of its own)."""
    if not actor.is_account_manager:
        raise DomainError("Só o gestor de contas executa o faturamento mensal.")
    jobs = jobs or queue_for()
    with uow:
        row = uow.session.scalars(
            select(JobRun).where(
                JobRun.id == job_id, JobRun.kind == KIND, JobRun.user_id == actor.user_id
            )
        ).one_or_none()
        if row is None:
            return None
        uow.session.expunge(row)
    return _job(row, jobs)


def billing_run_latest(
    *, uow: UnitOfWork, actor: Actor, jobs: JobQueue | None = None
) -> BillingJob | None:
    """The actor's newest billing run: the page shows it when the user comes back."""
    if not actor.is_account_manager:
        raise DomainError("Só o gestor de contas executa o faturamento mensal.")
    jobs = jobs or queue_for()
    with uow:
        row = uow.session.scalars(
            select(JobRun)
            .where(JobRun.kind == KIND, JobRun.user_id == actor.user_id)
            .order_by(JobRun.id.desc())
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        uow.session.expunge(row)
    return _job(row, jobs)


# ---------------------------------------------------------------- the tasks


def _finish(
    factory: Any, job_id: int, status: str, message: str, result: dict[str, Any] | None = None
) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(JobRun)
            .where(JobRun.id == job_id)
            .values(status=status, message=message, result=result, finished_at=datetime.now(UTC))
        )


def billing_run_job(jobs: JobQueue, job_id: int) -> None:
    """Run a queued billing run as the user who asked (permissions read again now)."""
    factory = jobs.session_factory()
    with factory() as session:
        row = session.get(JobRun, job_id)
        if row is None or row.status in ("done", "failed"):
            return
        params = dict(row.params)
        code = session.scalar(select(User.user_code).where(User.id == row.user_id))
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code=code) if code else None
    if actor is None:
        _finish(factory, job_id, "failed", "O usuário que pediu o faturamento não está ativo.")
        return
    key = _key(job_id)
    with factory() as session, session.begin():
        session.execute(
            update(JobRun)
            .where(JobRun.id == job_id)
            .values(
                status="running",
                started_at=datetime.now(UTC),
                attempts=JobRun.attempts + 1,
                message="Faturando.",
            )
        )
    jobs.beat(key, "running")
    last = 0.0

    def progress(fraction: float, message: str) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS or fraction >= 1.0:
            last = time.monotonic()
            jobs.huey.put(f"progress:{key}", (fraction, message))
            jobs.beat(key, "running")

    try:
        result = billing_run(
            uow=UnitOfWork(factory),
            actor=actor,
            billing_month=date.fromisoformat(params["billing_month"]),
            company_ids=params.get("company_ids"),
            now=datetime.now(UTC),
            progress=progress,
        )
    except DomainError as exc:
        _finish(factory, job_id, "failed", exc.message)
        jobs.forget(key)
        jobs.huey.delete(f"progress:{key}")
        return
    _finish(factory, job_id, "done", "Faturamento concluído.", result_to_json(result))
    jobs.forget(key)
    jobs.huey.delete(f"progress:{key}")
    log.info(
        "billing run %s: %s invoice(s), %s skipped", job_id, len(result.billed), len(result.skipped)
    )


def resume_stalled_billing_runs(jobs: JobQueue) -> list[int]:
    """Queue again the billing runs whose job died; a run interrupted MAX_ATTEMPTS times is
    marked failed (the user sees why and may run it again). Returns the ids queued."""
    factory = jobs.session_factory()
    with factory() as session:
        rows = session.execute(
            select(JobRun.id, JobRun.attempts).where(
                JobRun.kind == KIND, JobRun.status.in_(("queued", "running"))
            )
        ).all()
    again = []
    for job_id, attempts in rows:
        beat = jobs.last_beat(_key(job_id))
        if job_state("applying", beat, time.time(), jobs.stall_seconds) is not JobState.STALLED:
            continue
        if attempts >= MAX_ATTEMPTS:
            log.error("billing run %s: interrupted %s times, left for the user", job_id, attempts)
            _finish(factory, job_id, "failed", INTERRUPTED)
            jobs.forget(_key(job_id))
            continue
        log.warning("billing run %s: no live job, queued again", job_id)
        jobs.beat(_key(job_id), "queued")
        enqueue(jobs, "billing_run", job_id)
        again.append(job_id)
    return again
