"""SQL to pandas helpers shared by the billing modules.

Money leaves the database as integer cents (the `Money` column type stores cents) and
becomes `Decimal` only for display and export; dates leave it as YYYYMMDD integers
where a computation is vectorised. Nothing is computed from floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, Select, cast, func, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from data.uow import UnitOfWork
from services.actors import Actor, Permission

MAX_IN_IDS = 1_000
NO_DATE = 99991231
# Order of the line kinds on an invoice (and in the run's inserts).
_KIND_ORDER = {
    "monthly": 0,
    "retroactive": 1,
    "plan_change_difference": 2,
    "credit": 3,
    "stay": 4,
}

Progress = Callable[[float, str], None]

# A SELECT of any columns (SQLAlchemy 2.1 types a Select by its row's column types).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def money(cents: int) -> Decimal:
    """Integer cents as a Decimal with 2 places (exact)."""
    return Decimal(int(cents)).scaleb(-2)


def _cents_of(column: Any) -> ColumnElement[int]:
    """A Money column read as its stored integer cents."""
    return type_coerce(column, BigInteger)


def _company_scope(uow: UnitOfWork, actor: Actor) -> int:
    """The company in context, once the actor is allowed to see its finances."""
    actor.require(Permission.FINANCE, uow.company_id)
    return uow.require_company()


def _ymd(column: Any, dialect: str) -> ColumnElement[int]:
    """A date column as a YYYYMMDD integer (vectorisable without date objects)."""
    if dialect == "postgresql":
        return cast(func.to_char(column, "YYYYMMDD"), Integer)
    return cast(func.replace(column, "-", ""), Integer)


def _idx_of_ymd(values: pd.Series) -> pd.Series:
    """Month index of YYYYMMDD integers."""
    return (values // 10000) * 12 + (values // 100 % 100) - 1


def _read(conn: Any, stmt: AnySelect, columns: list[str], text: Sequence[str] = ()) -> pd.DataFrame:
    """One query into a frame; every column but ``text`` is int64 (even when empty).

    Every column read here is an integer (dates as YYYYMMDD, money as cents) or plain
    text, which need no result processing: the rows are taken straight from the DBAPI
    cursor, skipping SQLAlchemy's Row objects (more than half the read time at 1M rows).
    """
    result = conn.execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not text:
        matrix = np.array(rows, dtype=np.int64).reshape(len(rows), len(columns))
        return pd.DataFrame(matrix, columns=columns)
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame(
        {
            c: np.asarray(v, dtype=object if c in text else np.int64)
            for c, v in zip(columns, values, strict=True)
        }
    )


def _companies_filter(stmt: AnySelect, column: Any, ids: list[int]) -> AnySelect:
    return stmt.where(column.in_(ids)) if len(ids) <= MAX_IN_IDS else stmt
