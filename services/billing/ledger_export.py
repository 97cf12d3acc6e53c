"""The ledger of a company: every line of its invoices, one row per line, for export.

`ledger_rows` is a generator over ONE query, streamed from the database (a server-side
cursor on PostgreSQL; SQLite steps through its result as it is read), already ordered by
card number, reference month and invoice month; nothing is held in memory but a chunk
of rows. Months leave the database as "YYYY-MM" text and money as integer cents, so a
row needs no conversion but the amount's, written with a dot and 2 decimals (credits
negative) by `ledger_line`. This module needs neither pandas nor numpy, so the
export starts fast (`services.billing` loads its modules on first use).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Engine, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from data.models import Beneficiary, Invoice, InvoiceLine
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.exports import csv_field

LEDGER_HEADER = ("card_number", "cpf", "reference_month", "invoice_month", "kind", "amount")
FETCH_ROWS = 20_000


def _ym(column: Any, dialect: str) -> ColumnElement[str]:
    """A date column as "YYYY-MM" text, made by the database."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)  # SQLite stores dates as ISO text


class LedgerRow(NamedTuple):
    card_number: str
    cpf: str
    reference_month: str  # YYYY-MM
    invoice_month: str  # YYYY-MM
    kind: str  # as stored: monthly, retroactive, plan_change_difference, credit, stay
    cents: int


def ledger_line(row: LedgerRow) -> str:
    """A ledger row as one CSV line (with its newline), in `LEDGER_HEADER`'s order; the
    amount with a dot and 2 decimals, credits negative (12345 -> 123.45, -5 -> -0.05).

    Written by hand rather than by the csv module (a third faster over a big export):
    months, kinds and amounts never need quotes; card number and CPF are digits, quoted
    as csv would if one ever held a comma, a quote or a line break."""
    card, cpf = csv_field(row[0]), csv_field(row[1])
    cents = row[5]
    whole, part = divmod(-cents if cents < 0 else cents, 100)
    sign = "-" if cents < 0 else ""
    return f"{card},{cpf},{row[2]},{row[3]},{row[4]},{sign}{whole}.{part:02d}\n"


def ledger_rows(*, uow: UnitOfWork, actor: Actor) -> Iterator[LedgerRow]:
    """Every line of every invoice of the company that is not cancelled, ordered by card
    number, reference month and invoice month (then kind and line, so it is stable)."""
    company_id = uow.require_company()
    actor.require(Permission.FINANCE, company_id)
    with uow:
        dialect = uow.dialect
        stmt = (
            select(
                Beneficiary.card_number,
                func.coalesce(Beneficiary.cpf, ""),
                _ym(InvoiceLine.reference_month, dialect),
                _ym(Invoice.billing_month, dialect),
                InvoiceLine.kind,
                type_coerce(InvoiceLine.amount, BigInteger),  # Money: integer cents
            )
            .select_from(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .join(Beneficiary, Beneficiary.id == InvoiceLine.beneficiary_id)
            .where(Invoice.company_id == int(company_id), Invoice.status != "cancelled")
            .order_by(
                Beneficiary.card_number,
                InvoiceLine.reference_month,
                Invoice.billing_month,
                InvoiceLine.kind,
                InvoiceLine.id,
            )
        )
        # The rows go straight from a DBAPI cursor: all text and integers, they need no
        # result processing, and SQLAlchemy's Row objects would cost a third more. The
        # statement's only values are an integer and constants, so it is compiled with
        # them inline. The connection is the pool's own, outside the session: on SQLite
        # the one SELECT reads a consistent snapshot without the session's BEGIN
        # IMMEDIATE, so an export never holds the write lock; on PostgreSQL a named
        # (server-side) cursor streams the rows in its own transaction.
        bind = uow.session.get_bind()
        sql = str(stmt.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
        own = isinstance(bind, Engine)
        # A session bound to a connection (a caller's transaction, as tests do) reads
        # through that connection, so it sees what the transaction wrote.
        raw = (
            bind.raw_connection()
            if isinstance(bind, Engine)
            else uow.session.connection().connection
        )
        try:
            cursor = raw.cursor(name="ledger_export") if dialect == "postgresql" else raw.cursor()
            try:
                cursor.execute(sql)
                while rows := cursor.fetchmany(FETCH_ROWS):
                    yield from map(LedgerRow._make, rows)
            finally:
                cursor.close()
        finally:
            if own:
                raw.close()  # back to the pool (rolled back)
