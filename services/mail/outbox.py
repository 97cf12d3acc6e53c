"""Outgoing e-mail, never sent inside a database transaction.

A slow or dead SMTP server must not hold the database: on SQLite every transaction
holds the write lock, on PostgreSQL the caller's row locks. So sending is two steps:

1. **Record** the message in the caller's transaction with `mail_queue(session, ...)`,
   which returns a `Queued` handle (the row's id). With SMTP configured the row is
   "pending"; without it the demo outbox page is the delivery and the row is "outbox".
2. **Deliver** after `uow.commit()`, with no transaction open:
   `mail_deliver(uow=uow, ids=[queued], now=now)` claims the rows in a short
   transaction ("sending", one more attempt), closes it, talks SMTP, then records
   "sent" or "failed" (with the error) in another short transaction. It returns one
   `Delivery` per message: `delivery.delivered` is True when the server took it or the
   outbox is the delivery; otherwise tell the user `MAIL_FAILED_MESSAGE`.

A service that e-mails looks like this::

    with uow:
        ...                                   # the change itself
        queued = mail_queue(uow.session, to=..., subject=..., body=..., now=now,
                            secret=token)     # secret: optional, see below
        uow.commit()
    delivery = mail_deliver(uow=uow, ids=[queued], now=now)[0]
    return ... delivery.delivered ...         # the page says "enviado" only then

- `secret` (a link's token in the body): with SMTP, the stored `body` has it blanked
  ("[omitido]") from the start and the body as sent is kept sealed (`sealed_body`,
  Fernet with a key derived from PORTAL_COOKIE_KEY) only until the server takes the
  message, so neither the table nor a SQL statement log shows the token. Without SMTP
  the outbox is the delivery and keeps the body as it is (demos only).
- `attachment` (name, bytes, MIME type): with SMTP the bytes are stored with the
  pending message and dropped once it is sent; the outbox keeps only the name.
- Failed messages stay "failed" with their error and attempt count. `mail_retry_failed`
  delivers them again (the "Caixa de saída" button of an account manager, or a
  scheduler: `portal-mail retry`); it also picks up messages left "pending"/"sending"
  by a process that died before delivering.
- `send_email` is the old name of `mail_queue` (it records only; deliver after commit).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from data.models import OutboxEmail, User
from data.uow import UnitOfWork
from services.actors import Actor
from services.rules.errors import DomainError

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15
MAIL_FAILED_MESSAGE = "Não foi possível enviar o e-mail, tente novamente."
SECRET_PLACEHOLDER = "[omitido]"
# A message "sending" for longer than this lost its deliverer (the process died).
STALE_AFTER = timedelta(minutes=10)
# Failed messages older than this are not retried (a link in them has expired).
RETRY_MAX_AGE = timedelta(days=2)
RETRY_FORBIDDEN_MESSAGE = "Só o gestor de contas reenvia os e-mails da caixa de saída."

STATUS_LABELS = {
    "outbox": "Na caixa de saída",
    "pending": "Aguardando envio",
    "sending": "Enviando",
    "sent": "Enviado",
    "failed": "Falhou",
}


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    to_address: str
    subject: str
    body: str
    created_at: datetime
    status: str
    attempts: int = 0
    last_error: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class Queued:
    """A message recorded by `mail_queue`, to hand to `mail_deliver` after the commit."""

    id: int


@dataclass(frozen=True)
class Delivery:
    """What happened to one message: "sent", "outbox" (the demo outbox is the delivery),
    "failed" (with the error), or "pending"/"sending" (another deliverer holds it)."""

    id: int
    to_address: str
    status: str
    error: str | None = field(default=None, compare=False)

    @property
    def delivered(self) -> bool:
        return self.status in ("sent", "outbox")


# An attachment: file name, content and MIME type ("application/pdf").
Attachment = tuple[str, bytes, str]


def _deliver(
    settings: Settings | Any,
    to: str,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
) -> None:
    """Hand one message to the SMTP server (raises on any failure)."""
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


def _sealer(settings: Settings | Any) -> Fernet:
    digest = hashlib.sha256(b"portal-mail-seal:" + settings.cookie_key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


# ---------------------------------------------------------------- record


def mail_queue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    settings: Settings | Any | None = None,
    attachment: Attachment | None = None,
    secret: str | None = None,
) -> Queued:
    """Record a message in the caller's transaction (nothing is sent here).

    Deliver it with `mail_deliver` after the caller's commit; see the module docstring."""
    settings = settings or get_settings()
    row = OutboxEmail(
        to_address=to[:254],
        subject=subject[:200],
        body=body,
        created_at=now,
        status="outbox",
        attempts=0,
        attachment_name=attachment[0][:200] if attachment is not None else None,
    )
    if settings.smtp_host:
        row.status = "pending"
        if secret:
            row.body = body.replace(secret, SECRET_PLACEHOLDER)
            row.sealed_body = _sealer(settings).encrypt(body.encode("utf-8")).decode("ascii")
        if attachment is not None:
            row.attachment_content = attachment[1]
            row.attachment_mime = attachment[2][:100]
    session.add(row)
    session.flush()
    return Queued(row.id)


# ---------------------------------------------------------------- deliver


@dataclass(frozen=True)
class _Claimed:
    id: int
    to: str
    subject: str
    body: str
    sealed_body: str | None
    attachment: Attachment | None


def _claimable(row: OutboxEmail, now: datetime) -> bool:
    """Waiting for delivery, failed, or held by a deliverer that died."""
    if row.status in ("pending", "failed"):
        return True
    return row.status == "sending" and (
        row.last_attempt_at is None or row.last_attempt_at < now - STALE_AFTER
    )


def mail_deliver(
    *,
    uow: UnitOfWork,
    ids: Iterable[Queued | int],
    now: datetime,
    settings: Settings | Any | None = None,
) -> list[Delivery]:
    """Deliver recorded messages through SMTP with no transaction open; one `Delivery`
    per id, in order. Call it after the commit that recorded them."""
    settings = settings or get_settings()
    wanted = [i.id if isinstance(i, Queued) else int(i) for i in ids]
    if not wanted:
        return []
    claimed: list[_Claimed] = []
    results: dict[int, Delivery] = {}
    with uow:
        rows = uow.session.scalars(
            select(OutboxEmail).where(OutboxEmail.id.in_(wanted)).with_for_update()
        ).all()
        for row in rows:
            if not settings.smtp_host or not _claimable(row, now):
                # The outbox is the delivery, or it was delivered (or is being) elsewhere.
                results[row.id] = Delivery(row.id, row.to_address, row.status, row.last_error)
                continue
            row.status = "sending"
            row.attempts = (row.attempts or 0) + 1
            row.last_attempt_at = now
            attachment = (
                (row.attachment_name or "anexo", row.attachment_content, row.attachment_mime)
                if row.attachment_content is not None and row.attachment_mime
                else None
            )
            claimed.append(
                _Claimed(row.id, row.to_address, row.subject, row.body, row.sealed_body, attachment)
            )
        uow.commit()
    # No transaction is open from here until the outcome is recorded.
    outcomes: dict[int, str | None] = {}
    for message in claimed:
        outcomes[message.id] = _send_one(settings, message)
    if claimed:
        with uow:
            for message in claimed:
                stored = uow.session.get(OutboxEmail, message.id, with_for_update=True)
                if stored is None:
                    continue
                error = outcomes[message.id]
                if error is None:
                    stored.status = "sent"
                    stored.sent_at = now
                    stored.last_error = None
                    stored.sealed_body = None
                    stored.attachment_content = None
                else:
                    stored.status = "failed"
                    stored.last_error = error[:300]
                results[stored.id] = Delivery(
                    stored.id, stored.to_address, stored.status, stored.last_error
                )
            uow.commit()
    missing = [i for i in wanted if i not in results]
    if missing:
        raise LookupError(f"no e-mail with id {missing}")
    return [results[i] for i in wanted]


def _send_one(settings: Settings | Any, message: _Claimed) -> str | None:
    """Talk SMTP for one message; None when the server took it, else the error."""
    body = message.body
    if message.sealed_body is not None:
        try:
            body = _sealer(settings).decrypt(message.sealed_body.encode("ascii")).decode("utf-8")
        except InvalidToken:
            log.error("e-mail %s: its sealed body no longer opens (cookie key changed)", message.id)
            return "O conteúdo protegido não pode mais ser aberto (a chave mudou): peça de novo."
    try:
        _deliver(settings, message.to, message.subject, body, message.attachment)
    except Exception as exc:  # a mail server problem must never reach the user
        log.error("SMTP delivery of e-mail %s to %s failed: %s", message.id, message.to, exc)
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


def mail_retry_failed(
    *,
    uow: UnitOfWork,
    now: datetime,
    actor: Actor | None = None,
    settings: Settings | Any | None = None,
    max_age: timedelta = RETRY_MAX_AGE,
    limit: int = 200,
) -> list[Delivery]:
    """Deliver again the failed messages of the last `max_age` (and those a dead process
    left pending or sending); only an account manager when an `actor` is given (the
    outbox page), anyone with the database when not (`portal-mail retry`)."""
    if actor is not None and not actor.is_account_manager:
        raise DomainError(RETRY_FORBIDDEN_MESSAGE)
    settings = settings or get_settings()
    if not settings.smtp_host:
        return []
    with uow:
        ids = uow.session.scalars(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.created_at >= now - max_age,
                or_(
                    OutboxEmail.status == "failed",
                    (OutboxEmail.status == "pending")
                    & (OutboxEmail.created_at < now - STALE_AFTER),
                    (OutboxEmail.status == "sending")
                    & (OutboxEmail.last_attempt_at < now - STALE_AFTER),
                ),
            )
            .order_by(OutboxEmail.id)
            .limit(limit)
        ).all()
    return mail_deliver(uow=uow, ids=ids, now=now, settings=settings)


# ---------------------------------------------------------------- read


def outbox_list(
    *, uow: UnitOfWork, actor: Actor, limit: int = 50, to: str | None = None
) -> list[OutboxMessage]:
    """The latest e-mails, newest first, optionally only those to one address.

    An account manager sees every message; any other user only those sent to its own
    registered e-mail address (as the database has it now). Nobody else calls this: the
    page is served only to logged-in users."""
    with uow:
        query = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        if not actor.is_account_manager:
            own = uow.session.scalar(
                select(User.email).where(User.id == actor.user_id, User.status == "active")
            )
            if not own or not own.strip():
                return []
            query = query.where(func.lower(OutboxEmail.to_address) == own.strip().lower())
        if to:
            query = query.where(func.lower(OutboxEmail.to_address) == to.strip().lower())
        rows = uow.session.scalars(query.limit(limit)).all()
        return [
            OutboxMessage(
                r.id,
                r.to_address,
                r.subject,
                r.body,
                r.created_at,
                r.status,
                r.attempts or 0,
                r.last_error,
            )
            for r in rows
        ]
