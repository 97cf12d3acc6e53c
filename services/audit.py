"""Audit trail: every write records who, when, what, before and after."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditRecord
from data.uow import UnitOfWork


def json_safe(value: Any) -> Any:
    """`value` with dates, Decimals, enums and sets turned into JSON types."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_safe(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def audit_record(
    session: Session,
    *,
    user_id: int | None,
    company_id: int | None,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Add an audit row to the session's transaction (written when the caller commits)."""
    session.add(
        AuditRecord(
            at=now,
            user_id=user_id,
            company_id=company_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=None if before is None else json_safe(before),
            after=None if after is None else json_safe(after),
        )
    )


def audited_set(
    session: Session,
    company: Any,
    *,
    field: str,
    value: Any,
    action: str,
    user_id: int | None,
    now: datetime,
) -> None:
    """Set one setting of a company row (that the caller holds locked), with its before
    and after in the audit trail."""
    audit_record(
        session,
        user_id=user_id,
        company_id=company.id,
        action=action,
        entity="company",
        entity_id=company.id,
        before={field: getattr(company, field)},
        after={field: value},
        now=now,
    )
    setattr(company, field, value)


def companies_data_version(*, uow: UnitOfWork, company_ids: Iterable[int]) -> int:
    """How far the companies' data has got: the newest id of their audit records. Every
    write adds an audit record in its own transaction (a movement, a batch chunk, a
    scheduled movement taking effect), so this grows, for every process, as soon as a
    change is committed; one indexed lookup (well under a millisecond on PostgreSQL with
    hundreds of thousands of records; a count would cost a scan of the company's).
    Limit: on PostgreSQL a transaction that took a lower id and commits after another
    one of the same companies does not move it; its change then shows at the next write
    or after a cache's ttl. A number only: it tells nothing about the data."""
    ids = sorted(set(company_ids))
    with uow:
        newest = uow.session.scalar(
            select(func.max(AuditRecord.id)).where(AuditRecord.company_id.in_(ids))
        )
    return int(newest or 0)
