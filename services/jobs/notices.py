"""The scheduled notices as a periodic job (issue 14's "notices of scheduled exclusions
and of dependents who age out", and the cut-off and overdue invoices of issue 15).

Every hour, `notices_generate` creates the notices due today for every active company
(services/notices.py): it creates only what no user has yet, so the first run of the
operator's day does the day's work, the others find nothing new, and a missed hour (the
worker down, the embedded portal not running) costs nothing. The e-mails of the new
notices (only for users who asked for them) are delivered after its commit, with no
transaction open; a delivery that fails is retried by `retry_failed_mail`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from data.uow import UnitOfWork
from services.jobs.queue import JobQueue
from services.mail.outbox import mail_deliver
from services.notices import NoticeRun, notices_generate

log = logging.getLogger(__name__)


def notices_job(
    jobs: JobQueue, now: datetime | None = None, settings: Any | None = None
) -> NoticeRun:
    """Generate today's notices and deliver their e-mails; what was created."""
    now = now or datetime.now(UTC)
    factory = jobs.session_factory()
    run = notices_generate(uow=UnitOfWork(factory), now=now, settings=settings)
    if run.mail:
        for d in mail_deliver(uow=UnitOfWork(factory), ids=run.mail, now=now, settings=settings):
            if not d.delivered:
                log.warning("notice e-mail %s to %s not delivered: %s", d.id, d.to_address, d.error)
    if run.total:
        log.info("notices: %s created %s, %s e-mail(s)", run.total, run.created, len(run.mail))
    return run


def deliver_mail_job(jobs: JobQueue, ids: list[int]) -> None:
    """Deliver e-mails a page recorded (the notices it generated), outside the page."""
    mail_deliver(uow=UnitOfWork(jobs.session_factory()), ids=ids, now=datetime.now(UTC))
