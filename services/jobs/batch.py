"""Batch application as a job: queue it, follow its progress, resume a killed one.

- `batch_enqueue` (the page's "Aplicar"/"Retomar"): the actor's permission and the batch's
  company are checked here, the batch is marked "applying" and the job queued; the user
  may close the browser, the progress is in the database.
- `batch_progress`: the batch's lines applied so far against the accepted ones, and the
  state of its job (queued, running, stalled, done) from the job's heartbeat.
- `apply_batch_job` (the task): `services.batch.processing.batch_apply`, which commits
  chunk by chunk and never applies a line twice, with a heartbeat after each chunk
  (`job_heartbeat`, also used by `portal-batch`, which applies in its own process: a
  worker's periodic check must not take it for a dead job).
- `resume_stalled_batches` (periodic): queues again the batches left "applying" with no
  live job (services/jobs/stall.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from data.models import BatchFile, BatchLine, User
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import Actor, Permission
from services.audit import audit_record
from services.batch import processing
from services.jobs.queue import JobQueue, enqueue, queue_for
from services.jobs.stall import JobState, job_state, next_resume, stalled
from services.rules.errors import DomainError

log = logging.getLogger(__name__)

QUEUED_MESSAGE = "Na fila para aplicar as linhas aceitas."


def _key(batch_id: int) -> str:
    return f"batch:{batch_id}"


@dataclass(frozen=True)
class BatchProgress:
    batch_id: int
    status: str
    status_label: str
    state: JobState
    total_lines: int
    to_apply: int  # accepted lines (with warnings) when the job started
    applied: int
    refused: int
    warning_lines: int
    message: str | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.applied / self.to_apply) if self.to_apply else 1.0


def _company_batch(uow: UnitOfWork, company_id: int, batch_id: int) -> BatchFile:
    b = uow.session.scalars(
        select(BatchFile).where(BatchFile.id == batch_id, BatchFile.company_id == company_id)
    ).one_or_none()
    if b is None:
        raise DomainError("Lote não encontrado nesta empresa.")
    return b


def batch_enqueue(
    *, uow: UnitOfWork, actor: Actor, batch_id: int, now: datetime, jobs: JobQueue | None = None
) -> BatchProgress:
    """Queue the application of a checked (or interrupted) batch of the company (audited:
    who queued it, when)."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    jobs = jobs or queue_for()
    beat = jobs.last_beat(_key(batch_id))  # read before the transaction: no network inside
    with uow:
        company_id = uow.require_company()
        b = _company_batch(uow, company_id, batch_id)
        if b.status not in ("received", "applying"):
            raise DomainError("Este lote já foi processado.")
        if not b.accepted_lines:
            raise DomainError("Nenhuma linha aceita neste lote para aplicar.")
        state = job_state(b.status, beat, time.time(), jobs.stall_seconds)
        if state in (JobState.QUEUED, JobState.RUNNING):
            raise DomainError("Este lote já está na fila ou sendo aplicado: acompanhe o andamento.")
        before = {"status": b.status}
        uow.session.execute(
            update(BatchFile)
            .where(BatchFile.id == batch_id, BatchFile.status.in_(("received", "applying")))
            .values(status="applying", message=QUEUED_MESSAGE)
        )
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=company_id,
            action="batch_enqueue",
            entity="batch_file",
            entity_id=batch_id,
            before=before,
            after={"status": "applying"},
            now=now,
        )
        uow.commit()
    # Queued after the commit: a worker never finds the batch still "received". The user's
    # own resume starts the count of automatic resumes again.
    jobs.forget(_key(batch_id))
    jobs.beat(_key(batch_id), "queued")
    enqueue(jobs, "apply_batch", batch_id, company_id, actor.user_id)
    return batch_progress(uow=uow, actor=actor, batch_id=batch_id, jobs=jobs)


def batch_progress(
    *, uow: UnitOfWork, actor: Actor, batch_id: int, jobs: JobQueue | None = None
) -> BatchProgress:
    """How far the batch's application went (read from its lines), and its job's state."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    jobs = jobs or queue_for()
    beat = jobs.last_beat(_key(batch_id))  # read before the transaction: no network inside
    with uow:
        company_id = uow.require_company()
        b = _company_batch(uow, company_id, batch_id)
        counts: dict[str, int] = dict(
            uow.session.execute(
                select(BatchLine.status, func.count())
                .where(BatchLine.batch_id == batch_id)
                .group_by(BatchLine.status)
            ).all()
        )
        pending = counts.get("accepted", 0) + counts.get("warning", 0)
        applied = counts.get("applied", 0)
        state = job_state(b.status, beat, time.time(), jobs.stall_seconds)
        return BatchProgress(
            b.id,
            b.status,
            processing.STATUS_LABELS[b.status],
            state,
            b.total_lines,
            applied + pending,
            applied,
            counts.get("refused", 0),
            b.warning_lines,
            b.message,
        )


# ---------------------------------------------------------------- the tasks


@contextmanager
def job_heartbeat(
    batch_id: int, jobs: JobQueue | None = None
) -> Iterator[Callable[[int, int], None]]:
    """The heartbeat of a batch applied in this process: one now, one from the progress
    callback it gives (after each committed chunk), and none left once the body ends
    (a finished job leaves none). When the body fails the last heartbeat stays and ages:
    the periodic check then resumes the batch."""
    jobs = jobs or queue_for()
    key = _key(batch_id)
    jobs.beat(key, "running")

    def progress(done: int, total: int) -> None:
        jobs.beat(key, "running")

    yield progress
    jobs.forget(key)


def apply_batch_job(jobs: JobQueue, *, batch_id: int, company_id: int, user_id: int) -> None:
    """Apply a queued batch as its user (permissions read again now: an inactivated user's
    batch is not applied)."""
    factory = jobs.session_factory()
    with factory() as session:
        code = session.scalar(select(User.user_code).where(User.id == user_id))
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code=code) if code else None
    if actor is None:  # its heartbeat ages: resumed a few times, then left to the user
        log.warning("batch %s: user %s is no longer active; not applied", batch_id, user_id)
        return
    try:
        with job_heartbeat(batch_id, jobs) as progress:
            result = processing.batch_apply(
                uow=UnitOfWork(factory, company_id),
                actor=actor,
                batch_id=batch_id,
                now=datetime.now(UTC),
                progress=progress,
            )
    except DomainError as exc:
        # Already done, or another job holds it (its chunks go on): nothing to do here.
        log.info("batch %s not applied by this job: %s", batch_id, exc.message)
        return
    log.info("batch %s applied: %s applied, %s refused", batch_id, result.applied, result.refused)


def resume_stalled_batches(jobs: JobQueue) -> list[int]:
    """Queue again every batch left "applying" whose job is dead; returns their ids. One
    whose last resumes applied nothing is left to the user (logged as an error)."""
    factory = jobs.session_factory()
    with factory() as session:
        rows = session.execute(
            select(BatchFile.id, BatchFile.company_id, BatchFile.user_id).where(
                BatchFile.status == "applying"
            )
        ).all()
        applied: dict[int, int] = dict(
            session.execute(
                select(BatchLine.batch_id, func.count())
                .where(BatchLine.batch_id.in_([r[0] for r in rows]), BatchLine.status == "applied")
                .group_by(BatchLine.batch_id)
            ).all()
        )
    owners = {i: (company, user) for i, company, user in rows}
    beats = {i: beat for i in owners if (beat := jobs.last_beat(_key(i))) is not None}
    again = []
    for batch_id in stalled(owners, beats, time.time(), jobs.stall_seconds):
        record = next_resume(jobs.resumes(_key(batch_id)), applied.get(batch_id, 0))
        if record is None:
            log.error(
                "batch %s: its last resumes applied nothing; left for the user to resume",
                batch_id,
            )
            continue
        log.warning("batch %s: no live job, queued again", batch_id)
        jobs.resumed(_key(batch_id), record)
        jobs.beat(_key(batch_id), "queued")
        enqueue(jobs, "apply_batch", batch_id, *owners[batch_id])
        again.append(batch_id)
    return again
