"""Cost centres of the company in context: the list, its changes, its import, its template.

A holder belongs to one cost centre (`Beneficiary.cost_centre_id`); a dependent stores
none and follows its holder (`effective_cost_centre_id`), so a holder's change moves the
whole family at once and no dependent can disagree with its holder. A cost centre is
never deleted: it is deactivated (invoices and reports of the past keep naming it), and
only when no active holder is in it. Who keeps the list: whoever may register movements
(`Permission.MOVEMENTS`), since assigning holders is part of the movements; every change
is audited.
"""

from __future__ import annotations

import csv
import io
import posixpath
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import python_calamine
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from data.models import Beneficiary, Company, CostCentre
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record
from services.exports import Sheet, csv_bytes, xlsx_bytes
from services.rules.cost_centres import (
    CODE_COLUMN,
    IMPORT_MAX_LINES,
    NAME_COLUMN,
    CostCentreRef,
    clean_code,
    clean_name,
    parse_import_rows,
)
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError

MAX_IMPORT_BYTES = 2 * 1024 * 1024
TEMPLATE_EXAMPLES = (("ADM", "Administração"), ("COM", "Comercial"), ("101", "Fábrica - Linha 1"))


@dataclass(frozen=True)
class CostCentreRow:
    """A cost centre of the list, with how many active holders it has."""

    id: int
    code: str
    name: str
    active: bool
    holders: int

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}"


@dataclass(frozen=True)
class CostCentreList:
    rows: list[CostCentreRow]
    holders_without: int  # active holders with no cost centre
    required: bool = False  # every holder included must name one

    @property
    def active(self) -> list[CostCentreRow]:
        return [r for r in self.rows if r.active]


@dataclass(frozen=True)
class ImportResult:
    added: int
    renamed: int
    reactivated: int
    unchanged: int

    @property
    def message(self) -> str:
        return (
            f"Lista importada: {self.added} incluído(s), {self.renamed} renomeado(s), "
            f"{self.reactivated} reativado(s), {self.unchanged} sem alteração."
        )


# ---------------------------------------------------------------- shared reads


def effective_cost_centre_id(b: Any = Beneficiary) -> ColumnElement[Any]:
    """A beneficiary's cost centre in SQL: its own (holders), else its holder's."""
    holder = aliased(Beneficiary)
    holders = select(holder.cost_centre_id).where(holder.id == b.holder_id).scalar_subquery()
    return case((b.holder_id.is_(None), b.cost_centre_id), else_=holders)


def company_cost_centres(session: Session, company_id: int) -> dict[str, CostCentreRef]:
    """Every cost centre of a company (active or not), by code."""
    return {
        code: CostCentreRef(id_, code, name, active)
        for id_, code, name, active in session.execute(
            select(CostCentre.id, CostCentre.code, CostCentre.name, CostCentre.active)
            .where(CostCentre.company_id == company_id)
            .order_by(CostCentre.code)
        )
    }


def cost_centre_labels(session: Session, company_id: int) -> dict[int, str]:
    """Id -> "code · name" of every cost centre of a company, in code order."""
    return {c.id: c.label for c in company_cost_centres(session, company_id).values()}


# ---------------------------------------------------------------- the list


def _begin(uow: UnitOfWork, actor: Actor) -> int:
    actor.require(Permission.MOVEMENTS, uow.company_id)
    return uow.require_company()


def cost_centre_list(*, uow: UnitOfWork, actor: Actor) -> CostCentreList:
    """The company's cost centres (active first, by code) with their active holders."""
    company_id = _begin(uow, actor)
    with uow:
        s = uow.session
        holder_active = (Beneficiary.status == "active") & (
            Beneficiary.relationship_code == Relationship.HOLDER.value
        )
        counts = dict(
            s.execute(
                select(Beneficiary.cost_centre_id, func.count())
                .where(Beneficiary.company_id == company_id, holder_active)
                .group_by(Beneficiary.cost_centre_id)
            ).all()
        )
        rows = [
            CostCentreRow(c.id, c.code, c.name, c.active, int(counts.get(c.id, 0)))
            for c in s.scalars(
                select(CostCentre)
                .where(CostCentre.company_id == company_id)
                .order_by(CostCentre.active.desc(), CostCentre.code)
            )
        ]
        required = bool(
            s.scalar(select(Company.cost_centre_required).where(Company.id == company_id))
        )
    return CostCentreList(rows, int(counts.get(None, 0)), required)


def _row(session: Session, centre: CostCentre) -> CostCentreRow:
    holders = session.scalar(
        select(func.count()).where(
            Beneficiary.cost_centre_id == centre.id,
            Beneficiary.status == "active",
            Beneficiary.relationship_code == Relationship.HOLDER.value,
        )
    )
    return CostCentreRow(centre.id, centre.code, centre.name, centre.active, int(holders or 0))


def _get(session: Session, company_id: int, cost_centre_id: int) -> CostCentre:
    found = session.scalars(
        select(CostCentre).where(
            CostCentre.id == cost_centre_id, CostCentre.company_id == company_id
        )
    ).one_or_none()
    if found is None:
        raise DomainError("Centro de custo não encontrado nesta empresa.")
    return found


def _snapshot(c: CostCentre) -> dict[str, Any]:
    return {"code": c.code, "name": c.name, "active": c.active}


def _audit(
    session: Session,
    actor: Actor,
    company_id: int,
    action: str,
    centre: CostCentre,
    before: dict[str, Any] | None,
    now: datetime,
) -> None:
    audit_record(
        session,
        user_id=actor.user_id,
        company_id=company_id,
        action=action,
        entity="cost_centre",
        entity_id=centre.id,
        before=before,
        after=_snapshot(centre),
        now=now,
    )


def cost_centre_add(
    *, uow: UnitOfWork, actor: Actor, code: str, name: str, now: datetime
) -> CostCentreRow:
    """Add a cost centre to the company's list (its code must be new in the company)."""
    company_id = _begin(uow, actor)
    clean = clean_code(code)
    title = clean_name(name)
    with uow:
        s = uow.session
        taken = s.scalars(
            select(CostCentre).where(CostCentre.company_id == company_id, CostCentre.code == clean)
        ).one_or_none()
        if taken is not None:
            state = "" if taken.active else " (desativado: reative-o)"
            raise DomainError(f"O código {clean} já existe nesta empresa{state}.", "code")
        centre = CostCentre(company_id=company_id, code=clean, name=title, active=True)
        s.add(centre)
        s.flush()
        _audit(s, actor, company_id, "cost_centre_add", centre, None, now)
        row = _row(s, centre)
        uow.commit()
    return row


def cost_centre_rename(
    *, uow: UnitOfWork, actor: Actor, cost_centre_id: int, name: str, now: datetime
) -> CostCentreRow:
    """Change a cost centre's name (its code stays: files and reports refer to it)."""
    company_id = _begin(uow, actor)
    title = clean_name(name)
    with uow:
        s = uow.session
        centre = _get(s, company_id, cost_centre_id)
        if centre.name == title:
            raise DomainError("O nome é o mesmo: nada foi alterado.", "name")
        before = _snapshot(centre)
        centre.name = title
        s.flush()
        _audit(s, actor, company_id, "cost_centre_rename", centre, before, now)
        row = _row(s, centre)
        uow.commit()
    return row


def cost_centre_deactivate(
    *, uow: UnitOfWork, actor: Actor, cost_centre_id: int, now: datetime
) -> CostCentreRow:
    """Take a cost centre out of use; refused while an active holder is in it."""
    company_id = _begin(uow, actor)
    with uow:
        s = uow.session
        centre = _get(s, company_id, cost_centre_id)
        if not centre.active:
            raise DomainError(f"O centro de custo {centre.code} já está desativado.")
        holders = _row(s, centre).holders
        others = s.scalar(
            select(func.count()).where(
                CostCentre.company_id == company_id,
                CostCentre.active.is_(True),
                CostCentre.id != centre.id,
            )
        )
        if not others and _required(s, company_id):
            raise DomainError(
                f"{centre.code} é o último centro de custo ativo e a empresa exige centro de "
                "custo na inclusão de titulares: desligue a exigência antes de desativá-lo."
            )
        if holders:
            raise DomainError(
                f"O centro de custo {centre.code} tem {holders} titular(es) ativo(s): mude-os "
                "para outro centro de custo (alteração cadastral, individual ou em lote) "
                "antes de desativá-lo."
            )
        before = _snapshot(centre)
        centre.active = False
        s.flush()
        _audit(s, actor, company_id, "cost_centre_deactivate", centre, before, now)
        row = _row(s, centre)
        uow.commit()
    return row


def cost_centre_reactivate(
    *, uow: UnitOfWork, actor: Actor, cost_centre_id: int, now: datetime
) -> CostCentreRow:
    """Put a deactivated cost centre back in use."""
    company_id = _begin(uow, actor)
    with uow:
        s = uow.session
        centre = _get(s, company_id, cost_centre_id)
        if centre.active:
            raise DomainError(f"O centro de custo {centre.code} já está ativo.")
        before = _snapshot(centre)
        centre.active = True
        s.flush()
        _audit(s, actor, company_id, "cost_centre_reactivate", centre, before, now)
        row = _row(s, centre)
        uow.commit()
    return row


def _required(session: Session, company_id: int) -> bool:
    return bool(
        session.scalar(select(Company.cost_centre_required).where(Company.id == company_id))
    )


def cost_centre_requirement_set(
    *, uow: UnitOfWork, actor: Actor, required: bool, now: datetime
) -> bool:
    """Whether every holder included (form, batch, retroactive) must name one of the
    company's active cost centres; turning it on needs at least one."""
    company_id = _begin(uow, actor)
    with uow:
        s = uow.session
        company = s.get(Company, company_id)
        assert company is not None
        if company.cost_centre_required == required:
            return required
        if required and not s.scalar(
            select(func.count()).where(
                CostCentre.company_id == company_id, CostCentre.active.is_(True)
            )
        ):
            raise DomainError(
                "Cadastre ao menos um centro de custo ativo antes de exigi-lo na inclusão."
            )
        company.cost_centre_required = required
        audit_record(
            s,
            user_id=actor.user_id,
            company_id=company_id,
            action="cost_centre_requirement_set",
            entity="company",
            entity_id=company_id,
            before={"cost_centre_required": not required},
            after={"cost_centre_required": required},
            now=now,
        )
        uow.commit()
    return required


# ---------------------------------------------------------------- import and template


def read_rows(file_name: str, content: bytes) -> list[list[Any]]:
    """The cells of an uploaded list (.xlsx: first visible sheet; .csv: ; or , separated)."""
    if not content:
        raise DomainError("O arquivo está vazio: use o modelo.")
    if len(content) > MAX_IMPORT_BYTES:
        raise DomainError("O arquivo passa de 2 MB: uma lista de centros de custo é menor.")
    extension = posixpath.splitext(file_name.lower().strip())[1]
    if extension == ".xlsx":
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
            sheet = book.get_sheet_by_index(0)
            return [list(r) for r in sheet.iter_rows()][: IMPORT_MAX_LINES + 50]
        except Exception:  # noqa: BLE001 - any unreadable workbook gets the same message
            raise DomainError(
                "A planilha não pode ser lida: salve de novo como .xlsx (sem senha) ou envie "
                "um .csv."
            ) from None
    if extension == ".csv":
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - cp1252 decodes almost anything
            raise DomainError("O CSV não é texto: salve como CSV UTF-8.")
        if "\x00" in text:
            raise DomainError("O arquivo não é um CSV de texto: salve como CSV ou envie .xlsx.")
        first = text.lstrip("\r\n").split("\n", 1)[0]
        delimiter = max((";", ",", "\t"), key=first.count)
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    raise DomainError("Formato não aceito: envie o modelo em .xlsx ou um .csv.")


def cost_centre_import(
    *, uow: UnitOfWork, actor: Actor, file_name: str, content: bytes, now: datetime
) -> ImportResult:
    """Import the company's list from a spreadsheet: new codes are added, known codes take
    the file's name (and are reactivated); codes not in the file stay as they are. Any
    problem in any line refuses the whole file, with every line's message."""
    company_id = _begin(uow, actor)
    lines = parse_import_rows(read_rows(file_name, content))
    added = renamed = reactivated = unchanged = 0
    with uow:
        s = uow.session
        existing = {
            c.code: c
            for c in s.scalars(select(CostCentre).where(CostCentre.company_id == company_id))
        }
        for line in lines:
            centre = existing.get(line.code)
            if centre is None:
                centre = CostCentre(
                    company_id=company_id, code=line.code, name=line.name, active=True
                )
                s.add(centre)
                s.flush()
                _audit(s, actor, company_id, "cost_centre_add", centre, None, now)
                added += 1
                continue
            if centre.name == line.name and centre.active:
                unchanged += 1
                continue
            before = _snapshot(centre)
            renamed += centre.name != line.name
            reactivated += not centre.active
            centre.name, centre.active = line.name, True
            s.flush()
            _audit(s, actor, company_id, "cost_centre_import", centre, before, now)
        audit_record(
            s,
            user_id=actor.user_id,
            company_id=company_id,
            action="cost_centre_import_file",
            entity="cost_centre",
            entity_id=None,
            before=None,
            after={"file_name": file_name[:200], "lines": len(lines)},
            now=now,
        )
        uow.commit()
    return ImportResult(added, renamed, reactivated, unchanged)


def cost_centre_template(fmt: str = "xlsx") -> bytes:
    """The import template: the columns codigo and nome, with three example lines."""
    columns = [CODE_COLUMN, NAME_COLUMN]
    rows = [list(example) for example in TEMPLATE_EXAMPLES]
    if fmt == "csv":
        return csv_bytes([columns, *rows])
    if fmt != "xlsx":
        raise ValueError(f"unknown format {fmt!r}")
    return xlsx_bytes(
        [
            Sheet(
                "Centros de custo",
                columns,
                rows,
                widths={CODE_COLUMN: 16, NAME_COLUMN: 48},
                header_fill="DDEBF7",
                freeze_header=True,
            )
        ]
    )
