"""Audit trail: every write records who, when, what, before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from data.models import AuditRecord


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
