"""Roster reconciliation (Movimentação cadastral > Conciliação de folha).

HR uploads its payroll roster (xlsx or csv; only the CPF column is required). The
portal compares it with the company's holders (`services.rules.roster`) and lists:
(a) who is on the roster and not a beneficiary, (b) active holders not on the roster or
dismissed, (c) differing names and cost centres. The lines HR chooses become a batch,
received by `batch_receive` exactly as a file of the Cadastro em lote: the same rules,
the same per-line status, the same "Aplicar" (`services.jobs.batch.batch_enqueue`).

Choices made here (a demanding HR user's):
- Inclusions are not sent to the batch: a roster lacks what an inclusion needs (birth
  date, sex, mother's name, address, plan). They are offered as a batch file pre-filled
  with what the roster gives (`roster_inclusion_file`), to complete and send in Cadastro
  em lote. A CPF the company had as an excluded holder is offered as a reactivation
  instead (it keeps the card number, needs nothing more) and does go to the batch.
- An exclusion for dismissal without cause or retirement of a holder who contributed to
  the plan is not sent to the batch: the batch file has no column for the contribution,
  so the holder's arts. 30/31 right (Lei 9.656) would be lost. It is listed back, to be
  done in Cadastro individual > Exclusão, which asks for it.
- A dismissal date in the future (notice period) becomes the exclusion's effective date
  (scheduled); a past one gives today's (an exclusion is never retroactive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select

from data.models import Beneficiary, CostCentre, CoveragePeriod, Movement
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record
from services.batch.files import BatchFileError, read_csv_rows, read_xlsx_rows
from services.batch.layout import COLUMN_NAMES, MAX_BYTES, MAX_LINES
from services.batch.processing import BatchCheck, batch_receive
from services.exports import Sheet, csv_bytes, xlsx_bytes
from services.lgpd import personal_data_access_record
from services.numbering import BRT, local_date
from services.rules.documents import format_cpf, mask_cpf
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import format_date, format_size
from services.rules.movements import EXCLUSION_REASONS, STAY_REASONS, MovementKind
from services.rules.roster import (
    COLUMN_LABELS,
    COLUMNS,
    ExclusionOffer,
    HolderRecord,
    InclusionOffer,
    LineError,
    Reconciliation,
    UpdateOffer,
    parse_roster,
    reconcile,
)

TEMPLATE_EXAMPLES = (
    ("529.982.247-25", "MARIA DA SILVA", date(2024, 1, 2), None, "ADM"),
    ("11144477735", "JOAO SOUZA", date(2019, 6, 10), date(2026, 11, 20), "COM"),
)


@dataclass(frozen=True)
class RosterResult:
    """The reconciliation of one roster file: the three lists and the lines refused."""

    file_name: str
    lines: int
    reconciliation: Reconciliation
    errors: list[LineError]
    columns: tuple[str, ...]  # the roster's known columns
    ignored: tuple[str, ...]  # its other columns, not used
    full_cpf: bool  # the actor may see whole CPFs (else they are masked)
    today: date

    @property
    def inclusions(self) -> list[InclusionOffer]:
        return self.reconciliation.inclusions

    @property
    def exclusions(self) -> list[ExclusionOffer]:
        return self.reconciliation.exclusions

    @property
    def updates(self) -> list[UpdateOffer]:
        return self.reconciliation.updates

    def cpf(self, cpf: str) -> str:
        return format_cpf(cpf) if self.full_cpf else mask_cpf(cpf)


@dataclass(frozen=True)
class ChosenExclusion:
    """An exclusion offer HR chose, with its answers: the reason (a motivo_exclusao
    code; None: not given, the batch refuses the line) and whether the holder
    contributed to the plan (the arts. 30/31 question)."""

    offer: ExclusionOffer
    reason: str | None
    contributed: bool = False

    @property
    def needs_individual_form(self) -> bool:
        return self.contributed and self.reason in STAY_REASONS


@dataclass(frozen=True)
class RosterBatch:
    check: BatchCheck | None  # None when every chosen line has to go another way
    individual: list[ChosenExclusion]  # exclusions to do in Cadastro individual (arts. 30/31)


# ---------------------------------------------------------------- reading


def read_roster_rows(file_name: str, content: bytes) -> list[list[Any]]:
    """The cells of a roster file, read as the batch files are (.xlsx: the first visible
    sheet, without formulas or merged cells; .csv: ; , or tab separated)."""
    if not content:
        raise DomainError("O arquivo está vazio: use o modelo da folha.")
    if len(content) > MAX_BYTES:
        raise DomainError(
            f"O arquivo tem {format_size(len(content))}; o limite é {format_size(MAX_BYTES)}."
        )
    name = file_name.lower().strip()
    try:
        if name.endswith(".xlsx"):
            return read_xlsx_rows(content, MAX_BYTES)[0]
        if name.endswith(".csv"):
            return [list(r) for r in read_csv_rows(content)]
    except BatchFileError as exc:
        raise DomainError(exc.message.replace("movimentações", "linhas da folha")) from None
    raise DomainError("Formato não aceito: envie a folha em .xlsx ou .csv (use o modelo).")


def _holders(uow: UnitOfWork, company_id: int, today: date) -> tuple[list[HolderRecord], set[str]]:
    """The company's holders with a CPF (oldest first) and the CPFs of active dependents."""
    b = Beneficiary
    staying = exists().where(
        CoveragePeriod.beneficiary_id == b.id,
        CoveragePeriod.kind == "stay",
        CoveragePeriod.start_date <= today,
        or_(CoveragePeriod.end_date.is_(None), CoveragePeriod.end_date > today),
    )
    scheduled_exclusion = (
        select(Movement.effective_date)
        .where(
            Movement.beneficiary_id == b.id,
            Movement.state == "scheduled",
            Movement.kind == MovementKind.EXCLUSION.value,
        )
        .order_by(Movement.effective_date)
        .limit(1)
        .scalar_subquery()
    )
    rows = uow.session.execute(
        select(
            b.cpf,
            b.name,
            b.card_number,
            b.status,
            CostCentre.code,
            scheduled_exclusion,
            b.stay_until,
            staying,
        )
        .outerjoin(CostCentre, CostCentre.id == b.cost_centre_id)
        .where(
            b.company_id == company_id,
            b.relationship_code == int(Relationship.HOLDER),
            b.cpf.is_not(None),
        )
        .order_by(b.id)
    ).all()
    holders = [
        HolderRecord(cpf or "", name, card, status, code or "", scheduled, until, bool(stay))
        for cpf, name, card, status, code, scheduled, until, stay in rows
    ]
    dependents = {
        cpf
        for cpf in uow.session.scalars(
            select(b.cpf).where(
                and_(
                    b.company_id == company_id,
                    b.relationship_code != int(Relationship.HOLDER),
                    b.status == "active",
                    b.cpf.is_not(None),
                )
            )
        )
        if cpf
    }
    return holders, dependents


def roster_reconcile(
    *, uow: UnitOfWork, actor: Actor, file_name: str, content: bytes, now: datetime
) -> RosterResult:
    """Compare a roster file with the company's holders. Nothing changes but an audit
    record of the reconciliation (file name and counts)."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    rows = read_roster_rows(file_name, content)
    roster = parse_roster(rows, max_lines=MAX_LINES)
    del rows
    today = local_date(now)
    with uow:
        company_id = uow.require_company()
        holders, dependents = _holders(uow, company_id, today)
        codes = set(
            uow.session.scalars(select(CostCentre.code).where(CostCentre.company_id == company_id))
        )
        result = reconcile(
            roster, holders, active_dependent_cpfs=dependents, cost_centre_codes=codes
        )
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=company_id,
            action="roster_reconcile",
            entity="roster",
            entity_id=None,
            before=None,
            after={
                "file_name": file_name[:200],
                "lines": roster.lines,
                "inclusions": len(result.inclusions),
                "exclusions": len(result.exclusions),
                "updates": len(result.updates),
                "line_errors": len(roster.errors),
            },
            now=now,
        )
        full = actor.can(Permission.PERSONAL_DATA)
        shown = len(result.exclusions) + len(result.updates)
        if full and shown:
            # LGPD: the lists show these holders' whole CPFs.
            personal_data_access_record(
                uow.session,
                actor=actor,
                company_id=company_id,
                beneficiary_id=None,
                purpose="listagem",
                detail=f"Conciliação de folha: {shown} titular(es) com CPF completo",
                now=now,
            )
        uow.commit()
    return RosterResult(
        file_name,
        roster.lines,
        result,
        roster.errors,
        roster.columns,
        roster.ignored,
        full,
        today,
    )


# ---------------------------------------------------------------- the batch


def _line(**values: str) -> list[str]:
    return [values.get(c, "") for c in COLUMN_NAMES]


def batch_rows(
    *,
    today: date,
    exclusions: Sequence[ChosenExclusion] = (),
    updates: Sequence[UpdateOffer] = (),
    reactivations: Sequence[InclusionOffer] = (),
) -> list[list[str]]:
    """The chosen lines in the batch layout (no header): reactivations, exclusions, updates."""
    rows = [
        _line(tipo_movimento="REATIVACAO", carteirinha=o.reactivation_card)
        for o in reactivations
        if o.reactivation_card
    ]
    for chosen in exclusions:
        offer = chosen.offer
        future = offer.dismissal is not None and offer.dismissal > today
        rows.append(
            _line(
                tipo_movimento="EXCLUSAO",
                carteirinha=offer.holder.card,
                motivo_exclusao=chosen.reason or "",
                data_vigencia=format_date(offer.dismissal) if future else "",
            )
        )
    for u in updates:
        rows.append(
            _line(
                tipo_movimento="ALTERACAO",
                carteirinha=u.holder.card,
                nome=u.new_name or "",
                centro_custo=u.new_cost_centre or "",
            )
        )
    return rows


def roster_to_batch(
    *,
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    exclusions: Sequence[ChosenExclusion] = (),
    updates: Sequence[UpdateOffer] = (),
    reactivations: Sequence[InclusionOffer] = (),
    file_name: str | None = None,
) -> RosterBatch:
    """A batch of the chosen differences, received (checked line by line, nothing
    applied) by `batch_receive`, as a file of the Cadastro em lote. Exclusions that need
    the arts. 30/31 question answered in the individual form are given back instead."""
    actor.require(Permission.MOVEMENTS, uow.company_id)
    individual = [c for c in exclusions if c.needs_individual_form]
    rows = batch_rows(
        today=local_date(now),
        exclusions=[c for c in exclusions if not c.needs_individual_form],
        updates=updates,
        reactivations=reactivations,
    )
    if not rows:
        if individual:
            return RosterBatch(None, individual)
        raise DomainError("Escolha ao menos uma linha para gerar o lote.")
    name = file_name or f"conciliacao_folha_{now.astimezone(BRT):%Y%m%d_%H%M%S}.csv"
    content = csv_bytes([list(COLUMN_NAMES), *rows])
    check = batch_receive(uow=uow, actor=actor, file_name=name, content=content, now=now)
    # The batch names exclusion and update lines by card only: give each line the name
    # of the person it was made for (rows are in this order, from line 2 on).
    names = [
        *(o.former_name or o.entry.name for o in reactivations if o.reactivation_card),
        *(c.offer.holder.name for c in exclusions if not c.needs_individual_form),
        *(u.holder.name for u in updates),
    ]
    lines = [
        replace(line, name=line.name or names[line.line_number - 2])
        if 0 <= line.line_number - 2 < len(names)
        else line
        for line in check.lines
    ]
    return RosterBatch(replace(check, lines=lines), individual)


# ---------------------------------------------------------------- files


def roster_inclusion_file(inclusions: Sequence[InclusionOffer]) -> bytes:
    """The chosen inclusions as a batch file (xlsx, sheet Movimentacoes, the batch
    layout's columns) pre-filled with what the roster gives: tipo_movimento, cpf, nome,
    data_admissao, parentesco (titular) and centro_custo. HR completes the rest (birth
    date, sex, mother's name, address, plan) and sends it in Cadastro em lote."""
    rows = [
        [
            {
                "tipo_movimento": "INCLUSAO",
                "cpf": o.entry.cpf,
                "nome": o.entry.name,
                "data_admissao": format_date(o.entry.admission) if o.entry.admission else "",
                "parentesco": str(int(Relationship.HOLDER)),
                "centro_custo": o.entry.cost_centre,
            }.get(c, "")
            for c in COLUMN_NAMES
        ]
        for o in inclusions
        if not o.reactivation_card
    ]
    return xlsx_bytes(
        [
            Sheet(
                "Movimentacoes",
                list(COLUMN_NAMES),
                rows,
                widths={c: max(12, min(40, len(c) + 4)) for c in COLUMN_NAMES},
                header_fill="DDEBF7",
                freeze_header=True,
            )
        ]
    )


def roster_template(fmt: str = "xlsx") -> bytes:
    """The roster template: the columns (CPF required, the others optional) and two
    example lines, plus a sheet that explains them."""
    header = list(COLUMNS)
    rows: list[list[Any]] = [list(example) for example in TEMPLATE_EXAMPLES]
    if fmt == "csv":
        return csv_bytes([header, *rows])
    if fmt != "xlsx":
        raise ValueError(f"unknown format {fmt!r}")
    guide = [
        ["cpf", COLUMN_LABELS["cpf"]],
        *[[c, COLUMN_LABELS[c] + " (opcional)"] for c in COLUMNS[1:]],
        ["", "A primeira linha é o cabeçalho; cada linha seguinte, um empregado."],
        ["", "CPF com ou sem pontuação. Outras colunas da folha são ignoradas."],
        ["", "Quem tem data de demissão é oferecido para exclusão do plano."],
    ]
    return xlsx_bytes(
        [
            Sheet(
                "Folha",
                header,
                rows,
                widths={c: 22 for c in header},
                header_fill="DDEBF7",
                freeze_header=True,
            ),
            Sheet("Instrucoes", ["Coluna", "Significado"], guide, widths={"Significado": 80}),
        ]
    )


# The exclusion reasons as the page's list shows them ("code - label") and back.
EXCLUSION_REASON_LABELS: dict[str, str] = {
    f"{code} - {label}": code for code, label in EXCLUSION_REASONS.items()
}
LABEL_OF_REASON: dict[str, str] = {code: text for text, code in EXCLUSION_REASON_LABELS.items()}
