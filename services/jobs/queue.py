"""The Huey instance of a database, its tasks and the jobs' heartbeats.

Why Huey: one small, well kept library that runs the same tasks embedded (SqliteHuey, a
file beside the database, consumer threads inside the portal: no extra server for
`make run`) and distributed (RedisHuey and `portal-worker` processes), with periodic
tasks built in.

Tasks are registered on each instance (`queue_for`), not on a module-level one, so the
database and the queue come from the settings of the process (and of each test). The
tasks only carry ids; each run opens its own units of work from the database URL, and a
task never holds a transaction across a network call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy import Engine

from config import DEFAULT_SQLITE, get_settings
from data.db import SessionFactory, make_engine, make_session_factory
from services.jobs.settings import QueueSettings, queue_settings
from services.jobs.stall import Beat, Resumes

IMMEDIATE = "immediate"


class QueueConfigError(ValueError):
    """PORTAL_QUEUE_URL names no queue this portal knows."""


def queue_file(database_url: str) -> Path:
    """The embedded queue's file: beside a SQLite database, else in the instance folder."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            db = Path(path)
            return db.with_name(f"{db.stem}-queue.db")
    return DEFAULT_SQLITE.with_name("portal-queue.db")


def queue_mode(queue_url: str) -> str:
    """ "embedded", "redis" or "immediate" for a PORTAL_QUEUE_URL."""
    url = queue_url.strip()
    if not url:
        return "embedded"
    if url == IMMEDIATE:
        return "immediate"
    if url.startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    raise QueueConfigError(
        f"PORTAL_QUEUE_URL não reconhecida: {url!r} (vazia, redis://... ou immediate)."
    )


def _huey(queue: QueueSettings, database_url: str) -> Huey:
    mode = queue_mode(queue.queue_url)
    if mode == "immediate":
        return MemoryHuey(queue.queue_name, results=False, immediate=True)
    if mode == "redis":
        return RedisHuey(queue.queue_name, results=False, url=queue.queue_url.strip())
    path = Path(queue.queue_path) if queue.queue_path.strip() else queue_file(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(queue.queue_name, results=False, filename=str(path))


@dataclass(frozen=True)
class JobQueue:
    """One database's queue: the Huey instance, its tasks and where the jobs write to."""

    huey: Huey
    mode: str
    database_url: str
    stall_seconds: float
    workers: int
    bill_at_cutoff: bool
    tasks: dict[str, TaskWrapper]

    def session_factory(self) -> SessionFactory:
        return make_session_factory(_engine(self.database_url))

    def beat(self, key: str, kind: str) -> None:
        """A job's sign of life (see services/jobs/stall.py)."""
        self.huey.put(f"beat:{key}", (kind, time.time()))

    def last_beat(self, key: str) -> Beat | None:
        value = self.huey.get(f"beat:{key}", peek=True)
        return Beat(str(value[0]), float(value[1])) if value else None

    def resumes(self, key: str) -> Resumes | None:
        value = self.huey.get(f"resumes:{key}", peek=True)
        return Resumes(int(value[0]), int(value[1])) if value else None

    def resumed(self, key: str, record: Resumes) -> None:
        self.huey.put(f"resumes:{key}", (record.applied, record.times))

    def forget(self, key: str) -> None:
        """A job's heartbeat and its automatic resumes (finished, or queued by the user)."""
        self.huey.delete(f"beat:{key}")
        self.huey.delete(f"resumes:{key}")


_engines: dict[str, Engine] = {}
_queues: dict[tuple[str, str, str, str, float, int, bool], JobQueue] = {}
_lock = threading.Lock()


def _engine(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def queue_for(database_url: str | None = None, queue: QueueSettings | None = None) -> JobQueue:
    """The queue of `database_url` (the settings' database by default), built once."""
    database_url = database_url or get_settings().database_url
    queue = queue or queue_settings()
    key = (
        queue.queue_url.strip(),
        queue.queue_path.strip(),
        queue.queue_name,
        database_url,
        queue.job_stall_seconds,
        queue.queue_workers,
        queue.billing_at_cutoff,
    )
    with _lock:
        found = _queues.get(key)
        if found is not None:
            return found
    huey = _huey(queue, database_url)
    tasks: dict[str, TaskWrapper] = {}
    jobs = JobQueue(
        huey,
        queue_mode(queue.queue_url),
        database_url,
        queue.job_stall_seconds,
        max(1, queue.queue_workers),
        queue.billing_at_cutoff,
        tasks,
    )
    _register(jobs)
    with _lock:
        return _queues.setdefault(key, jobs)


def _register(jobs: JobQueue) -> None:
    """The portal's tasks, bound to this queue (imported here: the task bodies use it)."""
    from services.jobs import batch, billing, billing_run, mail, notices

    huey = jobs.huey

    def apply_batch(batch_id: int, company_id: int, user_id: int) -> None:
        batch.apply_batch_job(jobs, batch_id=batch_id, company_id=company_id, user_id=user_id)

    def resume_stalled_batches() -> list[int]:
        return batch.resume_stalled_batches(jobs)

    # A failure that is not a refusal (the database away) is tried again a little later.
    jobs.tasks["apply_batch"] = huey.task(retries=3, retry_delay=30, name="apply_batch")(
        apply_batch
    )
    # Every minute, and once as soon as a consumer starts (Huey's scheduler checks the
    # periodic tasks on its first loop).
    jobs.tasks["resume_stalled_batches"] = huey.periodic_task(
        crontab(minute="*"), name="resume_stalled_batches"
    )(resume_stalled_batches)

    def run_billing(job_id: int) -> None:
        billing_run.billing_run_job(jobs, job_id)

    def resume_stalled_billing_runs() -> list[int]:
        return billing_run.resume_stalled_billing_runs(jobs)

    # The account manager's "Faturar"; a failure that is not a refusal is tried again.
    jobs.tasks["billing_run"] = huey.task(retries=2, retry_delay=30, name="billing_run")(
        run_billing
    )
    jobs.tasks["resume_stalled_billing_runs"] = huey.periodic_task(
        crontab(minute="*"), name="resume_stalled_billing_runs"
    )(resume_stalled_billing_runs)

    def retry_failed_mail() -> int:
        return mail.retry_failed_mail_job(jobs)

    jobs.tasks["retry_failed_mail"] = huey.periodic_task(
        crontab(minute=f"*/{mail.RETRY_EVERY_MINUTES}"), name="retry_failed_mail"
    )(retry_failed_mail)

    def bill_at_cutoff() -> None:
        billing.bill_at_cutoff_job(jobs)

    # Daily at 06:15 UTC (03:15 in Brasília), when PORTAL_BILLING_AT_CUTOFF is on.
    jobs.tasks["bill_at_cutoff"] = huey.periodic_task(
        crontab(minute="15", hour="6"), name="bill_at_cutoff"
    )(bill_at_cutoff)

    def generate_notices() -> int:
        return notices.notices_job(jobs).total

    # Hourly: the first run of the operator's day creates the day's notices, the others
    # find nothing new (services/jobs/notices.py).
    jobs.tasks["generate_notices"] = huey.periodic_task(
        crontab(minute="20"), name="generate_notices"
    )(generate_notices)

    def deliver_mail(ids: list[int]) -> None:
        notices.deliver_mail_job(jobs, ids)

    # E-mails a page recorded (notices generated while drawing it), delivered off the page.
    jobs.tasks["deliver_mail"] = huey.task(retries=2, retry_delay=60, name="deliver_mail")(
        deliver_mail
    )


def queue_forget(jobs: JobQueue) -> None:
    """Forget a queue and close its storage and database connections (its consumer
    stopped first: services.jobs.consumer.queue_close)."""
    with _lock:
        for key, found in list(_queues.items()):
            if found is jobs:
                del _queues[key]
        engine = _engines.pop(jobs.database_url, None)
    if engine is not None:
        engine.dispose()
    jobs.huey.storage.close()


def enqueue(jobs: JobQueue, name: str, *args: Any) -> None:
    jobs.tasks[name](*args)
