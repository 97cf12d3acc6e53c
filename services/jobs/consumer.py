"""The Huey consumer: in threads inside the portal (embedded) or as `portal-worker`."""

from __future__ import annotations

import threading

from huey.consumer import Consumer

from services.jobs.queue import JobQueue, queue_forget

# An idle worker looks at the queue at least this often (seconds): a job queued by the
# page starts within about a second.
MAX_POLL_DELAY = 1.0


class EmbeddedConsumer(Consumer):
    """A consumer started from any thread (a Streamlit script runs outside the main
    thread, where signal handlers cannot be set): the process's own signals stop it."""

    def start(self) -> None:
        """Consumer.start without the signal handlers: the scheduler and the workers."""
        self.scheduler.start()
        for _, worker in self.worker_threads:
            worker.start()


def consumer_for(jobs: JobQueue, *, workers: int | None = None, embedded: bool) -> Consumer:
    """Embedded over SQLite, one worker thread: SQLite takes one writer at a time, and a
    second batch job would only wait for the first one's chunks."""
    cls = EmbeddedConsumer if embedded else Consumer
    sqlite = embedded and jobs.database_url.startswith("sqlite")
    return cls(
        jobs.huey,
        workers=workers or (1 if sqlite else jobs.workers),
        worker_type="thread",
        periodic=True,
        max_delay=MAX_POLL_DELAY,
        check_worker_health=True,
    )


_started: dict[int, Consumer] = {}
_lock = threading.Lock()


def embedded_worker(jobs: JobQueue) -> Consumer | None:
    """Start the in-process consumer of an embedded queue, once per queue; None when the
    queue is served elsewhere (Redis and `portal-worker`) or runs jobs at once."""
    if jobs.mode != "embedded":
        return None
    with _lock:
        consumer = _started.get(id(jobs))
        if consumer is None:
            consumer = _started[id(jobs)] = consumer_for(jobs, embedded=True)
            consumer.start()
        return consumer


def queue_close(jobs: JobQueue) -> None:
    """Stop the in-process consumer of `jobs` (a running job finishes first), then close
    the queue's storage and database connections."""
    with _lock:
        consumer = _started.pop(id(jobs), None)
    if consumer is not None:
        consumer.stop(graceful=True)
    queue_forget(jobs)
