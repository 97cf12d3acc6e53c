"""Outgoing e-mail: SMTP when configured, otherwise the outbox table (demo page)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from data.models import OutboxEmail
from data.uow import UnitOfWork

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    to_address: str
    subject: str
    body: str
    created_at: datetime
    status: str


# An attachment: file name, content and MIME type ("application/pdf").
Attachment = tuple[str, bytes, str]


def _deliver(
    settings: Settings | Any,
    to: str,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if attachment is not None:
        name, content, mime = attachment
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=name
        )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def send_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    settings: Settings | Any | None = None,
    attachment: Attachment | None = None,
    secret: str | None = None,
) -> None:
    """Send an e-mail (or keep it in the outbox) and record it in the caller's transaction.

    The outbox keeps an attachment's name, not its content. A `secret` in the body (a
    reset link's token) is kept only while the outbox is the delivery (no SMTP server,
    demos): once the message is handed to the server, the record has it blanked out."""
    settings = settings or get_settings()
    status = "outbox"
    sent_at: datetime | None = None
    if settings.smtp_host:
        try:
            _deliver(settings, to, subject, body, attachment)
        except Exception as exc:  # a mail server problem must never reach the user
            log.error("SMTP delivery to %s failed: %s", to, exc)
            status = "failed"
        else:
            status = "sent"
            sent_at = now
    if secret and status != "outbox":
        body = body.replace(secret, "[omitido]")
    session.add(
        OutboxEmail(
            to_address=to[:254],
            subject=subject[:200],
            body=body,
            created_at=now,
            sent_at=sent_at,
            status=status,
            attachment_name=attachment[0][:200] if attachment is not None else None,
        )
    )


def outbox_list(*, uow: UnitOfWork, limit: int = 50, to: str | None = None) -> list[OutboxMessage]:
    """The latest e-mails, newest first, optionally only those to one address."""
    with uow:
        query = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        if to:
            query = query.where(func.lower(OutboxEmail.to_address) == to.strip().lower())
        rows = uow.session.scalars(query.limit(limit)).all()
        return [
            OutboxMessage(r.id, r.to_address, r.subject, r.body, r.created_at, r.status)
            for r in rows
        ]
