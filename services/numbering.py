"""Numbers that must never repeat: taken from a locked counter row, in the caller's
transaction, so a rolled-back movement gives its number back and two sessions never
get the same one (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are serialised
by BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from data.models import Counter, Operator
from services.rules.protocols import protocol_deadline, protocol_number

BRT = ZoneInfo("America/Sao_Paulo")


def local_date(now: datetime) -> date:
    """The operator's calendar day (Brasília time) of an aware timestamp."""
    return now.astimezone(BRT).date()


def counter_take(session: Session, name: str, count: int = 1, start: int = 0) -> int:
    """Reserve `count` consecutive values of counter `name`; returns the first one."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Counter)
        .values(name=name, value=start)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    counter = session.scalars(select(Counter).where(Counter.name == name).with_for_update()).one()
    first = counter.value + 1
    counter.value += count
    session.flush()
    return first


def operator(session: Session) -> Operator:
    op = session.scalars(select(Operator).order_by(Operator.id)).first()
    if op is None:
        raise RuntimeError("no operator configured")
    return op


def protocol_numbers_issue(
    session: Session, now: datetime, count: int = 1
) -> tuple[list[str], date]:
    """`count` new protocol numbers for today, in a block of the daily sequence, and their
    answer deadline (RN 623/2024)."""
    op = operator(session)
    day = local_date(now)
    first = counter_take(session, f"protocol:{day:%Y%m%d}", count)
    numbers = [
        protocol_number(op.ans_registration, day, seq, op.protocol_template)
        for seq in range(first, first + count)
    ]
    return numbers, protocol_deadline(day, op.protocol_deadline_days)


def protocol_number_issue(session: Session, now: datetime) -> tuple[str, date]:
    """A new protocol number for today and its answer deadline."""
    (number,), deadline = protocol_numbers_issue(session, now)
    return number, deadline
