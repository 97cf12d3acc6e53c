"""Coverage periods in the database, scheduled movements and their cancellation.

The periods (`CoveragePeriod`) are the one source of who is covered, where and on which
plan: billing reads them, and the beneficiary's row (status, company, plan, exclusion
date) is what they say as of today. A movement dated in the future writes its periods
at once but is "scheduled": the row changes on its date, when the first request of that
day (any page, the batch, the billing command) calls `settle`, which is idempotent and
cheap when nothing is due (one indexed lookup). No nightly job is needed.

A scheduled movement can be cancelled before its date: its periods go back to what they
were (kept in `Movement.coverage_before`), with a protocol and an audit record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.orm import Session

from data.models import AuditRecord, Beneficiary, CoveragePeriod, Movement, Protocol
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record, json_safe
from services.numbering import local_date
from services.protocols import protocol_open
from services.rules.coverage import Period
from services.rules.errors import DomainError
from services.rules.movements import MOVEMENT_LABELS, MovementKind

KEY_CHUNK = 2000
DATE_COLUMNS = ("exclusion_date", "stay_until", "effective_date")


# ---------------------------------------------------------------- periods


def _period(row: CoveragePeriod) -> Period:
    return Period(
        row.company_id,
        row.plan_id,
        row.start_date,
        row.end_date,
        row.kind,
        row.id,
        row.movement_id,
    )


def periods_of(session: Session, beneficiary_ids: Iterable[int]) -> dict[int, list[Period]]:
    """Each beneficiary's periods, oldest first."""
    ids = sorted(set(beneficiary_ids))
    found: dict[int, list[Period]] = {i: [] for i in ids}
    for start in range(0, len(ids), KEY_CHUNK):
        for row in session.scalars(
            select(CoveragePeriod)
            .where(CoveragePeriod.beneficiary_id.in_(ids[start : start + KEY_CHUNK]))
            .order_by(CoveragePeriod.start_date, CoveragePeriod.id)
        ):
            found[row.beneficiary_id].append(_period(row))
    return found


def period_json(periods: Sequence[Period]) -> list[dict[str, Any]]:
    return [
        json_safe(
            {
                "company_id": p.company_id,
                "plan_id": p.plan_id,
                "start": p.start,
                "end": p.end,
                "kind": p.kind,
                "movement_id": p.movement_id,
            }
        )
        for p in periods
    ]


def periods_from_json(rows: Sequence[Mapping[str, Any]]) -> list[Period]:
    return [
        Period(
            int(r["company_id"]),
            int(r["plan_id"]),
            date.fromisoformat(r["start"]),
            date.fromisoformat(r["end"]) if r.get("end") else None,
            r.get("kind") or "regular",
            None,
            r.get("movement_id"),
        )
        for r in rows
    ]


def write_periods(
    session: Session, changes: Mapping[int, tuple[Sequence[Period], Sequence[Period]]]
) -> None:
    """Replace each beneficiary's periods `before` by `after` (rows that did not change
    are kept; changed ones are rewritten)."""
    gone: list[int] = []
    rows: list[dict[str, Any]] = []
    for bid, (before, after) in changes.items():
        kept = {p.id for p in after if p.id is not None and p in before}
        gone += [p.id for p in before if p.id is not None and p.id not in kept]
        rows += [
            {
                "beneficiary_id": bid,
                "company_id": p.company_id,
                "plan_id": p.plan_id,
                "start_date": p.start,
                "end_date": p.end,
                "kind": p.kind,
                "movement_id": p.movement_id,
            }
            for p in after
            if p.id is None or p.id not in kept
        ]
    for start in range(0, len(gone), KEY_CHUNK):
        session.execute(
            delete(CoveragePeriod).where(CoveragePeriod.id.in_(gone[start : start + KEY_CHUNK]))
        )
    if rows:
        session.execute(insert(CoveragePeriod), rows)


# ---------------------------------------------------------------- settle


def _row_values(pending: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (date.fromisoformat(v) if k in DATE_COLUMNS and isinstance(v, str) else v)
        for k, v in pending.items()
    }


def settle(uow: UnitOfWork, now: datetime, today: date | None = None) -> int:
    """Let the scheduled movements due by `today` take effect on the beneficiaries' rows,
    in their own transaction; returns how many did. Safe to call from concurrent
    requests: each movement is taken once (conditional update)."""
    day = today or local_date(now)
    with uow.for_company(None) as u:
        s = u.session
        due = s.execute(
            select(Movement.id, Movement.beneficiary_id, Movement.company_id, Movement.pending)
            .where(Movement.state == "scheduled", Movement.effective_date <= day)
            .order_by(Movement.effective_date, Movement.id)
        ).all()
        if not due:
            return 0
        done = 0
        for movement_id, beneficiary_id, company_id, pending in due:
            # an UPDATE's result is a CursorResult (with rowcount); execute() is typed Result
            taken = cast(
                CursorResult[Any],
                s.execute(
                    update(Movement)
                    .where(Movement.id == movement_id, Movement.state == "scheduled")
                    .values(state="applied")
                ),
            ).rowcount
            if not taken:
                continue
            values = _row_values(pending or {})
            before = {}
            b = s.get(Beneficiary, beneficiary_id)
            if b is not None:
                before = {k: getattr(b, k) for k in values}
            if values:
                s.execute(
                    update(Beneficiary)
                    .where(Beneficiary.id == beneficiary_id)
                    .values(**values, updated_at=now)
                )
            s.execute(
                insert(AuditRecord),
                [
                    {
                        "at": now,
                        "user_id": None,
                        "company_id": company_id,
                        "action": "movement_take_effect",
                        "entity": "beneficiary",
                        "entity_id": str(beneficiary_id),
                        "before": json_safe(before),
                        "after": json_safe({**values, "movement_id": movement_id}),
                    }
                ],
            )
            done += 1
        u.commit()
        return done


# ---------------------------------------------------------------- scheduled movements


@dataclass(frozen=True)
class ScheduledMovement:
    """A movement dated in the future, still cancellable."""

    protocol_number: str
    kind: str
    effective_date: date
    beneficiaries: list[tuple[str, str]]  # (name, card number)
    reason: str | None

    @property
    def label(self) -> str:
        return MOVEMENT_LABELS[MovementKind(self.kind)]


def scheduled_for(session: Session, beneficiary_ids: Iterable[int]) -> dict[int, tuple[str, date]]:
    """Beneficiary id -> (kind, date) of its pending scheduled movement."""
    ids = sorted(set(beneficiary_ids))
    found: dict[int, tuple[str, date]] = {}
    for start in range(0, len(ids), KEY_CHUNK):
        for bid, kind, day in session.execute(
            select(Movement.beneficiary_id, Movement.kind, Movement.effective_date)
            .where(
                Movement.state == "scheduled",
                Movement.beneficiary_id.in_(ids[start : start + KEY_CHUNK]),
            )
            .order_by(Movement.effective_date.desc())
        ):
            found[bid] = (kind, day)
    return found


def scheduled_text(kind: str, day: date) -> str:
    return f"{MOVEMENT_LABELS[MovementKind(kind)].lower()} agendada para {day:%d/%m/%Y}"


def scheduled_list(*, uow: UnitOfWork, actor: Actor, now: datetime) -> list[ScheduledMovement]:
    """The company's scheduled movements (not yet in effect), soonest first."""
    settle(uow, now)
    actor.require(Permission.MOVEMENTS, uow.company_id)
    with uow:
        rows = uow.session.execute(
            select(
                Protocol.number,
                Movement.kind,
                Movement.effective_date,
                Beneficiary.name,
                Beneficiary.card_number,
                Movement.reason,
                Movement.id,
            )
            .join(Protocol, Protocol.id == Movement.protocol_id)
            .join(Beneficiary, Beneficiary.id == Movement.beneficiary_id)
            .where(Movement.state == "scheduled", Protocol.company_id == uow.company_id)
            .order_by(Movement.effective_date, Protocol.number, Movement.id)
        ).all()
    grouped: dict[tuple[str, str, date], list[Any]] = {}
    for number, kind, day, name, card, reason, _mid in rows:
        grouped.setdefault((number, kind, day), []).append((name, card, reason))
    return [
        ScheduledMovement(number, kind, day, [(n, c) for n, c, _r in items], items[0][2])
        for (number, kind, day), items in grouped.items()
    ]


@dataclass(frozen=True)
class CancelResult:
    protocol_number: str  # the cancellation's own protocol
    cancelled_protocol: str
    kind: str
    effective_date: date
    beneficiaries: list[str]


def scheduled_cancel(
    *, uow: UnitOfWork, actor: Actor, protocol_number: str, now: datetime
) -> CancelResult:
    """Cancel the scheduled movement registered under `protocol_number` (every
    beneficiary it covers): the coverage goes back to what it was, the beneficiaries stay
    as they are, and the cancellation gets its own protocol and audit records."""
    settle(uow, now)
    actor.require(Permission.MOVEMENTS, uow.company_id)
    today = local_date(now)
    with uow:
        s = uow.session
        protocol = s.scalars(
            select(Protocol).where(
                Protocol.number == (protocol_number or "").strip(),
                Protocol.company_id == uow.company_id,
            )
        ).one_or_none()
        if protocol is None:
            raise DomainError("Protocolo não encontrado nesta empresa.", "protocol")
        moves = s.scalars(
            select(Movement)
            .where(Movement.protocol_id == protocol.id, Movement.state == "scheduled")
            .order_by(Movement.id)
            .with_for_update()
        ).all()
        if not moves:
            raise DomainError(
                "Não há movimentação agendada neste protocolo: ou já entrou em vigor, ou "
                "já foi cancelada.",
                "protocol",
            )
        if moves[0].effective_date <= today:
            raise DomainError("A movimentação já entrou em vigor: não pode ser cancelada.")
        before: dict[int, list[Any]] = {}  # beneficiary -> periods before the movement
        for m in moves:
            if m.coverage_before is None:
                raise DomainError(
                    "Esta movimentação agendada não pode ser cancelada no portal: "
                    "abra uma solicitação ao gestor de contas."
                )
            before[m.beneficiary_id] = m.coverage_before
        ids = [m.beneficiary_id for m in moves]
        later = s.scalars(
            select(Movement.id).where(
                Movement.beneficiary_id.in_(ids),
                Movement.id > max(m.id for m in moves),
                Movement.state != "cancelled",
                Movement.kind != "update",
                Movement.protocol_id != protocol.id,
            )
        ).first()
        if later is not None:
            raise DomainError(
                "Há movimentação posterior para estes beneficiários: cancele-a antes."
            )
        current = periods_of(s, ids)
        write_periods(
            s,
            {b: (current[b], periods_from_json(rows)) for b, rows in before.items()},
        )
        kind = MovementKind(moves[0].kind)
        names = [
            name
            for (name,) in s.execute(
                select(Beneficiary.name).where(Beneficiary.id.in_(ids)).order_by(Beneficiary.id)
            )
        ]
        label = MOVEMENT_LABELS[kind]
        cancel = protocol_open(
            s,
            company_id=protocol.company_id,
            kind="cancellation",
            subject=f"Cancelamento de {label.lower()} agendada: {', '.join(names)}"[:200],
            description=(
                f"{label} agendada para {moves[0].effective_date:%d/%m/%Y} "
                f"(protocolo {protocol.number}) cancelada antes de entrar em vigor."
            ),
            user_id=actor.user_id,
            now=now,
            done_note="Movimentação agendada cancelada.",
        )
        s.flush()
        for m in moves:
            m.state = "cancelled"
            m.cancelled_at = now
            m.cancel_protocol_id = cancel.id
            audit_record(
                s,
                user_id=actor.user_id,
                company_id=protocol.company_id,
                action="movement_cancel",
                entity="beneficiary",
                entity_id=m.beneficiary_id,
                before={"movement_id": m.id, "state": "scheduled"},
                after={
                    "movement_id": m.id,
                    "state": "cancelled",
                    "protocol": cancel.number,
                    "effective_date": m.effective_date,
                },
                now=now,
            )
        uow.commit()
        return CancelResult(
            cancel.number, protocol.number, kind.value, moves[0].effective_date, names
        )
