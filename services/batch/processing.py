"""Batch movements: a file of many lines, checked whole, then applied line by line's rules.

- `batch_receive` reads the file (`services.batch.files`), records it, and checks every
  line on one snapshot of the company: each line becomes the request of its kind
  (`services.movements.requests`, filled by field name) and goes through the engine's
  `check_request`, as the individual forms' requests do (lines may depend on earlier
  lines: a holder and then its dependents).
  Nothing is applied; the same file (content hash) sent before is flagged.
  Each line's cleaned values are kept in batch_line.data (the file itself in
  batch_file.content, for the result file).
- `batch_apply` re-checks the accepted lines (read back from batch_line, not parsed
  again) on a fresh snapshot and writes them in chunks through the engine's one write
  path (`apply_many`: a line that fails at write time is refused alone); each chunk
  commits together with its lines' status, so a batch interrupted half way resumes
  where it stopped, and a chunk first locks the batch and makes sure its lines are
  still to apply, so two applications at once (two tabs, the command line) never apply
  a line twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from data.models import BatchFile, BatchLine, Company, User
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record
from services.batch.files import (
    LINE,
    BatchFileError,
    BatchLineData,
    parse_batch_file,
    result_csv,
    result_xlsx,
)
from services.batch.layout import BATCH_KINDS, COLUMNS, MAX_LINES, MOVEMENT_CODES
from services.mail.outbox import mail_deliver
from services.movements.coverage import settle
from services.movements.engine import (
    MOVEMENT_TYPES,
    Applier,
    Change,
    Checking,
    Snapshot,
    apply_many,
    check_request,
    load_snapshot,
)
from services.movements.requests import Request
from services.movements.waiting import batch_line_waiting
from services.notices import notices_batch_finished
from services.numbering import local_date
from services.rules.card_numbers import format_card_number
from services.rules.documents import format_cpf, mask_cpf
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError, FieldErrors, problems_joined
from services.rules.movements import Channel

CHUNK = 2000
STATUS_LABELS = {
    "received": "Recebido",
    "checking": "Em conferência",
    "applying": "Aplicando",
    "done": "Concluído",
    "done_with_refusals": "Concluído com recusas",
    "refused": "Recusado",
}
LINE_STATUS_LABELS = {
    "pending": "Pendente",
    "accepted": "Aceita",
    "warning": "Aceita com aviso",
    "refused": "Recusada",
    "applied": "Aplicada",
}
# Lines are written with Core (one executemany per chunk): ORM bulk mode costs more here.
_LINES = cast(Table, BatchLine.__table__)
_SET_STATUS = (
    update(_LINES)
    .where(_LINES.c.id == bindparam("line_id"))
    .values(status=bindparam("new_status"), message=bindparam("new_message"))
)


@dataclass(frozen=True)
class LineResult:
    line_number: int
    status: str
    message: str
    field: str | None = None
    name: str = ""  # the beneficiary's name as in the file
    document: str = ""  # CPF (formatted, or masked without personal data) or card number
    waiting: str = ""  # an applied inclusion's waiting periods (services/movements/waiting.py)


def _who(values: dict[str, Any], raw: dict[str, str], full: bool) -> tuple[str, str]:
    """The line's name and CPF or card number, as the lines table shows them."""
    name = str(values.get("nome") or raw.get("nome") or "").strip()
    cpf = values.get("cpf")
    if isinstance(cpf, str) and len(cpf) == 11 and cpf.isdigit():
        return name, format_cpf(cpf) if full else mask_cpf(cpf)
    card = values.get("carteirinha") or values.get("carteirinha_titular")
    if isinstance(card, str) and card:
        return name, format_card_number(card)
    typed = str(raw.get("cpf") or "").strip()  # a CPF the check refused, as typed
    return name, typed if full else ("***" if typed else "")


@dataclass(frozen=True)
class BatchSummary:
    id: int
    file_name: str
    received_at: datetime
    user_name: str
    status: str
    status_label: str
    total_lines: int
    accepted_lines: int
    refused_lines: int
    warning_lines: int
    message: str | None
    # Lines applied so far, and accepted lines still waiting to be applied: a batch
    # interrupted half way ("applying") has some of each (counted from its lines).
    applied_lines: int = 0
    pending_lines: int = 0


@dataclass(frozen=True)
class BatchCheck:
    batch: BatchSummary
    lines: list[LineResult]
    duplicate_of: BatchSummary | None


# ---------------------------------------------------------------- line -> change


def _plan_id(snap: Snapshot, value: Any) -> int | None:
    if not value:
        return None
    code = str(value).split(" - ")[0].strip().upper()
    return snap.company.plan_codes.get(code, -1)


def _target(session: Session, actor: Actor, code: Any) -> int:
    target = session.scalars(select(Company.id).where(Company.code == str(code or ""))).first()
    if target is None or not actor.can_see_company(target):
        raise DomainError("Empresa de destino não encontrada: confira o código.", "target_company")
    return target


def _line_fields(
    session: Session, snap: Snapshot, actor: Actor, line: BatchLineData
) -> dict[str, Callable[[], Any]]:
    """Each request field a line can give, by its name (read only when the request type of
    the line's kind has that field)."""
    v = line.values
    given = v.get("data_vigencia")
    return {
        "person": line.person,
        "relationship_code": lambda: line.relationship_code or Relationship.HOLDER,
        "plan_id": lambda: _plan_id(snap, v.get("codigo_plano")),
        "holder_card": lambda: str(v.get("carteirinha_titular") or "") or None,
        "holder_cpf": lambda: str(v.get("cpf_titular") or "") or None,
        "card_number": lambda: str(v.get("carteirinha") or ""),
        "effective_date": lambda: given if isinstance(given, date) else None,
        "reason": lambda: str(v.get("motivo_exclusao") or ""),
        # The line itself is the company's confirmation that dependents go too.
        "dependents_confirmed": lambda: True,
        "changes": line.changes,
        "target_company_id": lambda: _target(session, actor, v.get("codigo_empresa_destino")),
        "cost_centre": lambda: str(v.get("centro_custo") or "") or None,
        "channel": lambda: Channel.BATCH,
    }


def _line_request(session: Session, snap: Snapshot, actor: Actor, line: BatchLineData) -> Request:
    """The request a line asks for: every field of its kind's request type
    (`MOVEMENT_TYPES`) taken from the line by the field's name, in the batch channel; a
    field the line does not give keeps its default."""
    if line.kind not in BATCH_KINDS:
        raise DomainError("Tipo de movimentação inválido nesta linha.", "tipo_movimento")
    sources = _line_fields(session, snap, actor, line)
    request_type: Any = MOVEMENT_TYPES[line.kind].request  # one of the request dataclasses
    values = {f.name: sources[f.name]() for f in fields(request_type) if f.name in sources}
    return cast(Request, request_type(**values))


def check_line(
    session: Session, snap: Snapshot, actor: Actor, line: BatchLineData, today: date
) -> Change:
    """The same rules as the individual forms, for one line of a file."""
    if line.problems:
        raise DomainError(line.problem_message())
    request = _line_request(session, snap, actor, line)
    return check_request(Checking(session, snap, today), request)


def _refusal(exc: DomainError) -> tuple[str, str | None]:
    if isinstance(exc, FieldErrors):
        return problems_joined(exc.errors.values()), next(iter(exc.errors), None)
    return exc.message, exc.field


TARGETED_MAX_KEYS = 40_000


def snapshot_for(session: Session, company_id: int, lines: list[BatchLineData]) -> Snapshot:
    """The company's state as the file's lines need it: only the beneficiaries their
    cards and CPFs touch (with families), or everything when the file touches many."""
    cards: list[str] = []
    cpfs: set[str] = set()
    for line in lines:
        v = line.values
        cards += [str(v[c]) for c in ("carteirinha", "carteirinha_titular") if v.get(c)]
        cpfs.update(str(v[c]) for c in ("cpf", "cpf_titular") if v.get(c))
    if len(cards) + len(cpfs) > TARGETED_MAX_KEYS:
        return load_snapshot(session, company_id)
    snap = load_snapshot(session, company_id, cards=cards, cpfs=sorted(cpfs))
    # A reactivated beneficiary's own CPF must not be active again under another card.
    own = {b.person.cpf for b in snap.by_key.values() if b.person.cpf} - cpfs
    if own:
        snap = load_snapshot(session, company_id, cards=cards, cpfs=sorted(cpfs | own))
    return snap


# ---------------------------------------------------------------- reads


def _line_counts(session: Session, batch_ids: list[int]) -> dict[int, dict[str, int]]:
    """Lines per status of each batch (one grouped query)."""
    counts: dict[int, dict[str, int]] = {i: {} for i in batch_ids}
    if batch_ids:
        for batch_id, status, n in session.execute(
            select(BatchLine.batch_id, BatchLine.status, func.count())
            .where(BatchLine.batch_id.in_(batch_ids))
            .group_by(BatchLine.batch_id, BatchLine.status)
        ):
            counts[batch_id][status] = n
    return counts


def _summary(b: BatchFile, user_name: str, lines: dict[str, int] | None = None) -> BatchSummary:
    """`lines` (the batch's lines per status) is needed only while it is being applied."""
    if b.status == "applying":
        lines = lines or {}
        applied = lines.get("applied", 0)
        pending = lines.get("accepted", 0) + lines.get("warning", 0)
        refused = lines.get("refused", b.refused_lines)
    else:
        done = b.status in ("done", "done_with_refusals")
        applied = b.accepted_lines if done else 0
        pending = b.accepted_lines if b.status == "received" else 0
        refused = b.refused_lines
    return BatchSummary(
        b.id,
        b.file_name,
        b.received_at,
        user_name,
        b.status,
        STATUS_LABELS[b.status],
        b.total_lines,
        b.accepted_lines,
        refused,
        b.warning_lines,
        b.message,
        applied,
        pending,
    )


def _get(session: Session, company_id: int, batch_id: int) -> BatchFile:
    b = session.scalars(
        select(BatchFile).where(BatchFile.id == batch_id, BatchFile.company_id == company_id)
    ).one_or_none()
    if b is None:
        raise DomainError("Lote não encontrado nesta empresa.")
    return b


def batch_list(*, uow: UnitOfWork, actor: Actor, limit: int = 200) -> list[BatchSummary]:
    """Every batch the company sent, newest first."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    with uow:
        rows = uow.session.execute(
            select(BatchFile, User.name)
            .join(User, BatchFile.user_id == User.id)
            .where(BatchFile.company_id == uow.require_company())
            .order_by(BatchFile.received_at.desc(), BatchFile.id.desc())
            .limit(limit)
        ).all()
        applying = [b.id for b, _ in rows if b.status == "applying"]
        counts = _line_counts(uow.session, applying)
        return [_summary(b, name, counts.get(b.id)) for b, name in rows]


def batch_lines(*, uow: UnitOfWork, actor: Actor, batch_id: int) -> list[LineResult]:
    """The status of every line of one batch."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    with uow:
        company_id = uow.require_company()
        _get(uow.session, company_id, batch_id)
        rows = uow.session.execute(
            select(BatchLine.line_number, BatchLine.status, BatchLine.message, BatchLine.data)
            .where(BatchLine.batch_id == batch_id)
            .order_by(BatchLine.line_number)
        ).all()
        full = actor.can(Permission.PERSONAL_DATA)
        waiting = batch_line_waiting(uow.session, company_id, rows)
        return [
            LineResult(n, s, m or "", None, *_who(data or {}, {}, full), waiting.get(n, ""))
            for n, s, m, data in rows
        ]


# ---------------------------------------------------------------- receive and check


def batch_receive(
    *,
    uow: UnitOfWork,
    actor: Actor,
    file_name: str,
    content: bytes,
    now: datetime,
    max_lines: int = MAX_LINES,
) -> BatchCheck:
    """Record a file and check every line; nothing is applied. A file refused as a whole
    is recorded as refused and its reason raised as `BatchFileError`."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    settle(uow, now)
    with uow:
        session = uow.session
        company_id = uow.require_company()
        company_only = load_snapshot(session, company_id, cards=[], cpfs=[])
        try:
            parsed = parse_batch_file(
                file_name,
                content,
                max_lines=max_lines,
                plan_codes=list(company_only.company.plan_codes),
            )
        except BatchFileError as exc:
            session.add(
                BatchFile(
                    company_id=company_id,
                    user_id=actor.user_id,
                    file_name=file_name[:255],
                    content_hash="",
                    status="refused",
                    received_at=now,
                    finished_at=now,
                    message=exc.message,
                )
            )
            uow.commit()
            raise
        previous = session.execute(
            select(BatchFile, User.name)
            .join(User, BatchFile.user_id == User.id)
            .where(
                BatchFile.company_id == company_id,
                BatchFile.content_hash == parsed.content_hash,
                BatchFile.status != "refused",
            )
            .order_by(BatchFile.id.desc())
        ).first()
        content_hash, lines = parsed.content_hash, parsed.lines
        snap = snapshot_for(session, company_id, lines)
        del parsed  # the lines are freed chunk by chunk below, as the snapshot grows
        batch = BatchFile(
            company_id=company_id,
            user_id=actor.user_id,
            file_name=file_name[:255],
            content_hash=content_hash,
            status="received",
            received_at=now,
            content=content,
            total_lines=len(lines),
            message="Conferido: aguardando confirmação para aplicar as linhas aceitas.",
        )
        session.add(batch)
        session.flush()
        today = local_date(now)
        results: list[LineResult] = []
        for chunk in _drain(lines, CHUNK):
            checked = _check_all(session, snap, actor, chunk, today)
            session.execute(
                insert(_LINES),
                [
                    {
                        "batch_id": batch.id,
                        "line_number": r.line_number,
                        "data": _stored(line),
                        "status": r.status,
                        "message": r.message,
                    }
                    for line, r in zip(chunk, checked, strict=True)
                ],
            )
            results += checked
        batch.accepted_lines = sum(r.status in ("accepted", "warning") for r in results)
        batch.refused_lines = sum(r.status == "refused" for r in results)
        batch.warning_lines = sum(r.status == "warning" for r in results)
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="batch_receive",
            entity="batch_file",
            entity_id=batch.id,
            before=None,
            after={"file_name": file_name, "lines": len(results), "hash": content_hash},
            now=now,
        )
        uow.commit()
        user_name = session.scalar(select(User.name).where(User.id == actor.user_id)) or ""
        return BatchCheck(
            _summary(batch, user_name),
            results,
            _summary(previous[0], previous[1]) if previous else None,
        )


_DATE_COLUMNS = frozenset(c.name for c in COLUMNS if c.kind == "date")


def _stored(line: BatchLineData) -> dict[str, Any]:
    """The line's cleaned values, as JSON (batch_line.data): applying reads them back
    instead of parsing the file again. The file as sent stays in batch_file.content."""
    return {
        c: v.isoformat() if isinstance(v, date) else v
        for c, v in line.values.items()
        if v is not None
    }


def _restored(number: int, data: dict[str, Any]) -> BatchLineData:
    """An accepted line from `_stored` (accepted lines had no parsing problem)."""
    values = {c: date.fromisoformat(v) if c in _DATE_COLUMNS else v for c, v in data.items()}
    code = values.get("tipo_movimento")
    return BatchLineData(
        number, MOVEMENT_CODES.get(code) if isinstance(code, str) else None, values, raw={}
    )


def _drain(lines: list[BatchLineData], size: int) -> Iterator[list[BatchLineData]]:
    """Chunks of `lines`, taken out of the list as they go: with no other reference to
    them, the lines already done are freed (a 100,000-line file is ~350 MB parsed)."""
    lines.reverse()
    while lines:
        yield [lines.pop() for _ in range(min(size, len(lines)))]


def _check_all(
    session: Session, snap: Snapshot, actor: Actor, lines: list[BatchLineData], today: date
) -> list[LineResult]:
    results = []
    full = actor.can(Permission.PERSONAL_DATA)
    for line in lines:
        who = _who(line.values, line.raw, full)
        try:
            check_line(session, snap, actor, line, today)
        except DomainError as exc:
            message, field = _refusal(exc)
            if line.problems:
                field = next((c for c in line.problems if c != LINE), None)
            results.append(LineResult(line.line_number, "refused", message, field, *who))
            continue
        if line.warnings:
            warned = problems_joined(line.warnings)
            results.append(LineResult(line.line_number, "warning", warned, None, *who))
        else:
            results.append(LineResult(line.line_number, "accepted", "", None, *who))
    return results


# ---------------------------------------------------------------- apply


@dataclass(frozen=True)
class BatchApplyResult:
    batch: BatchSummary
    applied: int
    refused: int


def batch_apply(
    *,
    uow: UnitOfWork,
    actor: Actor,
    batch_id: int,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> BatchApplyResult:
    """Apply the accepted lines not yet applied (a resumed batch continues where it
    stopped, and a line is never applied twice)."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    settle(uow, now)  # scheduled movements due today first: the lines see today's state
    with uow:
        session = uow.session
        company_id = uow.require_company()
        batch = _get(session, company_id, batch_id)
        if batch.status in ("done", "done_with_refusals", "refused"):
            raise DomainError("Este lote já foi processado.")
        pending: dict[int, int] = {}  # line number -> batch_line id
        lines: list[BatchLineData] = []
        for line_id, number, data in session.execute(  # streamed: one row at a time
            select(_LINES.c.id, _LINES.c.line_number, _LINES.c.data)
            .where(_LINES.c.batch_id == batch.id, _LINES.c.status.in_(("accepted", "warning")))
            .order_by(_LINES.c.line_number)
        ):
            pending[number] = line_id
            lines.append(_restored(number, data))
        snap = snapshot_for(session, company_id, lines)
        batch.status = "applying"
        uow.commit()
        today = local_date(now)
        applier = Applier(session, snap, actor.user_id, now)
        total, done = len(lines), 0
        for chunk in _drain(lines, CHUNK):
            _claim(session, batch.id, [pending[line.line_number] for line in chunk])
            _apply_chunk(session, snap, actor, applier, chunk, pending, today)
            uow.commit()  # the chunk and its lines' status together
            done += len(chunk)
            if progress:
                progress(done, total)
        counts = dict(
            session.execute(
                select(BatchLine.status, func.count())
                .where(BatchLine.batch_id == batch.id)
                .group_by(BatchLine.status)
            ).all()
        )
        refused = counts.get("refused", 0)
        batch.status = "done_with_refusals" if refused else "done"
        batch.accepted_lines = counts.get("applied", 0)
        batch.refused_lines = refused
        batch.finished_at = now
        batch.message = f"{batch.accepted_lines} linha(s) aplicada(s), {refused} recusada(s)."
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="batch_apply",
            entity="batch_file",
            entity_id=batch.id,
            before=None,
            after={"applied": batch.accepted_lines, "refused": refused},
            now=now,
        )
        mail = notices_batch_finished(session, batch=batch, now=now)  # the sender's notice
        uow.commit()
        user_name = session.scalar(select(User.name).where(User.id == batch.user_id)) or ""
        result = BatchApplyResult(_summary(batch, user_name), batch.accepted_lines, refused)
    if mail:  # e-mail after the commit, no transaction open
        mail_deliver(uow=uow, ids=mail, now=now)
    return result


def _status(line_id: int, status: str, message: str) -> dict[str, Any]:
    return {"line_id": line_id, "new_status": status, "new_message": message}


def _claim(session: Session, batch_id: int, line_ids: list[int]) -> None:
    """Lock the batch for this chunk and make sure its lines are still to apply: a second
    "Retomar aplicação" of the same batch (another tab, the command line) stops here
    instead of applying a line twice."""
    session.execute(select(BatchFile.id).where(BatchFile.id == batch_id).with_for_update())
    taken = session.scalar(
        select(func.count())
        .select_from(_LINES)
        .where(_LINES.c.id.in_(line_ids), _LINES.c.status.not_in(("accepted", "warning")))
    )
    if taken:
        raise DomainError(
            "Este lote está sendo aplicado em outra sessão: acompanhe o andamento em "
            "Acompanhar lotes."
        )


def _apply_chunk(
    session: Session,
    snap: Snapshot,
    actor: Actor,
    applier: Applier,
    chunk: list[BatchLineData],
    pending: dict[int, int],
    today: date,
) -> None:
    """Check the lines again on the current snapshot and write the valid ones through the
    engine's one write path (a line that fails at write time changes nothing; the others
    stay); each line's status and message follow."""
    checked: list[tuple[int, Change]] = []
    statuses: list[dict[str, Any]] = []
    for line in chunk:
        try:
            checked.append((line.line_number, check_line(session, snap, actor, line, today)))
        except DomainError as exc:
            statuses.append(_status(pending[line.line_number], "refused", _refusal(exc)[0]))
    for number, one in apply_many(session, applier, checked).items():
        if isinstance(one, DomainError):
            statuses.append(_status(pending[number], "refused", _refusal(one)[0]))
            continue
        cards = ", ".join(format_card_number(card) for _id, _name, card, _rel in one.affected)
        statuses.append(
            _status(
                pending[number], "applied", f"Protocolo {one.protocol_number}; carteirinha {cards}"
            )
        )
    if statuses:
        session.execute(_SET_STATUS, statuses)


def batch_result_file(*, uow: UnitOfWork, actor: Actor, batch_id: int, fmt: str = "xlsx") -> bytes:
    """The uploaded lines plus status and message columns (refused cells highlighted)."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    with uow:
        company_id = uow.require_company()
        batch = _get(uow.session, company_id, batch_id)
        if batch.status == "refused":
            # Nothing of the file was kept: there are no lines to report on.
            raise DomainError(
                f"Lote recusado por inteiro, sem arquivo de resultado: {batch.message}"
            )
        rows = uow.session.execute(
            select(BatchLine.line_number, BatchLine.status, BatchLine.message, BatchLine.data)
            .where(BatchLine.batch_id == batch.id)
            .order_by(BatchLine.line_number)
        ).all()
        waiting = batch_line_waiting(uow.session, company_id, rows)
        file_name, content = batch.file_name, batch.content or b""
    parsed = parse_batch_file(file_name, content)
    statuses = [(n, LINE_STATUS_LABELS[s], m or "") for n, s, m, _data in rows]
    if fmt == "xlsx":
        return result_xlsx(parsed, statuses, waiting)
    return result_csv(parsed, statuses, waiting)


__all__ = ["BatchFileError"]  # re-exported: callers catch it from here
