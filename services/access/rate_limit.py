"""Rate limits of the public forms (first access, forgotten password, forgotten user code).

Every attempt is counted, whether it matches an account or not, so the limit itself
tells nothing about which accounts exist. Two buckets per attempt: the identifier typed
(user or company code) and the client (IP address as Streamlit sees it). The attempt is
recorded in its own transaction, so a refused request still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from data.models import RateEvent
from data.uow import UnitOfWork
from services.rules.errors import DomainError


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: timedelta


# Per identifier typed (a user or company code): a person who mistypes has room to spare.
PER_IDENTIFIER = Limit(attempts=5, window=timedelta(minutes=15))
# Per client: generous, since many people may share an office's address.
PER_CLIENT = Limit(attempts=30, window=timedelta(minutes=15))


def too_many_message(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return (
        f"Muitas tentativas em pouco tempo. Por segurança, aguarde {minutes} minutos e "
        "tente de novo."
    )


def rate_limit_take(
    *,
    uow: UnitOfWork,
    form: str,
    identifier: str,
    client: str,
    now: datetime,
    per_identifier: Limit = PER_IDENTIFIER,
    per_client: Limit = PER_CLIENT,
) -> None:
    """Count one attempt of `form`; refuse (DomainError) when a bucket is full.

    A refused attempt is not counted again, so the wait ends when the window passes."""
    buckets: list[tuple[str, Limit]] = [(f"{form}:client:{client or 'local'}", per_client)]
    ident = identifier.strip().casefold()[:60]
    if ident:
        buckets.append((f"{form}:id:{ident}", per_identifier))
    with uow:
        session = uow.session
        for bucket, limit in buckets:
            recent = session.scalar(
                select(func.count())
                .select_from(RateEvent)
                .where(RateEvent.bucket == bucket, RateEvent.at > now - limit.window)
            )
            if (recent or 0) >= limit.attempts:
                raise DomainError(too_many_message(limit.window))
        session.add_all(RateEvent(bucket=b, at=now) for b, _ in buckets)
        _forget_old(session, [b for b, _ in buckets], now)
        uow.commit()


def _forget_old(session: Session, buckets: Sequence[str], now: datetime) -> None:
    """Events older than a day count for nothing: drop those of these buckets."""
    session.execute(
        delete(RateEvent).where(
            RateEvent.bucket.in_(buckets), RateEvent.at < now - timedelta(days=1)
        )
    )


# Failed logins per client: an office sharing one address mistypes far less than this;
# a script trying passwords across many user codes is stopped (each user also locks
# after 5 failures of its own).
LOGIN_FAILURES_PER_CLIENT = Limit(attempts=50, window=timedelta(minutes=15))


def failures_exceeded(
    *,
    uow: UnitOfWork,
    form: str,
    client: str,
    now: datetime,
    limit: Limit = LOGIN_FAILURES_PER_CLIENT,
) -> bool:
    """True when this client already failed `form` `limit.attempts` times in the window."""
    with uow:
        recent = uow.session.scalar(
            select(func.count())
            .select_from(RateEvent)
            .where(
                RateEvent.bucket == f"{form}:failed:{client or 'local'}",
                RateEvent.at > now - limit.window,
            )
        )
    return (recent or 0) >= limit.attempts


def failure_note(*, uow: UnitOfWork, form: str, client: str, now: datetime) -> None:
    """Count one failure of `form` for this client (own transaction)."""
    bucket = f"{form}:failed:{client or 'local'}"
    with uow:
        uow.session.add(RateEvent(bucket=bucket, at=now))
        _forget_old(uow.session, [bucket], now)
        uow.commit()
