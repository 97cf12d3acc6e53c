"""E-mail as a periodic job: every few minutes, the messages whose delivery failed (SMTP
down) or that a dead process left undelivered are sent again
(`services.mail.outbox.mail_retry_failed`, which claims each message before sending, so
two workers never send one twice; it opens no transaction across the SMTP call)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from config import get_settings
from data.uow import UnitOfWork
from services.jobs.queue import JobQueue
from services.mail.outbox import mail_retry_failed

log = logging.getLogger(__name__)

RETRY_EVERY_MINUTES = 5


def retry_failed_mail_job(jobs: JobQueue, settings: Any | None = None) -> int:
    """Deliver again what failed; the number of messages delivered now. Nothing to do
    without an SMTP server (the outbox is then the delivery)."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        return 0
    done = mail_retry_failed(
        uow=UnitOfWork(jobs.session_factory()), now=datetime.now(UTC), settings=settings
    )
    for d in done:
        if not d.delivered:
            log.warning("e-mail %s to %s still not delivered: %s", d.id, d.to_address, d.error)
    return sum(1 for d in done if d.delivered)
