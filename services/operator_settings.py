"""Configurações do operador: the operator's agreement with its bank (banco, convênio,
carteira, agência, conta), which every boleto's free field and printed "Agência/Código do
beneficiário" come from. Only account managers see or change it; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from data.models import Operator
from data.uow import UnitOfWork
from services.actors import Actor, Role
from services.audit import audit_record
from services.rules.boleto import bank_agreement_missing, bank_agreement_parse
from services.rules.errors import DomainError

FIELDS = ("bank_code", "bank_agreement", "bank_wallet", "bank_branch", "bank_account")
FIELD_LABELS = {
    "bank_code": "Banco",
    "bank_agreement": "Convênio",
    "bank_wallet": "Carteira",
    "bank_branch": "Agência",
    "bank_account": "Conta",
}


@dataclass(frozen=True)
class OperatorSettings:
    """The operator's bank agreement as stored; `missing` lists the empty fields."""

    operator_name: str
    bank_code: str
    bank_agreement: str
    bank_wallet: str
    bank_branch: str
    bank_account: str

    def values(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FIELDS}

    @property
    def missing(self) -> list[str]:
        values: dict[str, str | None] = dict(self.values())
        return bank_agreement_missing(values)

    @property
    def configured(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class SettingsSaved:
    settings: OperatorSettings
    changed: list[str]  # field names changed (empty: nothing to save, nothing audited)


def _require_manager(actor: Actor) -> None:
    if actor.role is not Role.ACCOUNT_MANAGER:
        raise DomainError(
            "As configurações do operador são vistas e alteradas pelo gestor de contas."
        )


def _of(op: Operator) -> OperatorSettings:
    return OperatorSettings(
        operator_name=op.name,
        bank_code=op.bank_code or "",
        bank_agreement=op.bank_agreement or "",
        bank_wallet=op.bank_wallet or "",
        bank_branch=op.bank_branch or "",
        bank_account=op.bank_account or "",
    )


def _operator(uow: UnitOfWork, *, lock: bool = False) -> Operator:
    query = select(Operator).order_by(Operator.id).limit(1)
    op = uow.session.scalars(query.with_for_update() if lock else query).first()
    if op is None:
        raise DomainError("Nenhum operador cadastrado.")
    return op


def operator_settings_get(*, uow: UnitOfWork, actor: Actor) -> OperatorSettings:
    """The operator's bank agreement (account managers only)."""
    _require_manager(actor)
    with uow:
        return _of(_operator(uow))


def operator_settings_update(
    *,
    uow: UnitOfWork,
    actor: Actor,
    bank_code: str,
    bank_agreement: str,
    bank_wallet: str,
    bank_branch: str,
    bank_account: str,
    now: datetime,
) -> SettingsSaved:
    """Check and save the bank agreement (every field refused at once, each with what to
    fix); an audit record keeps the values before and after. Boletos already issued keep
    their barcode; the new agreement applies to the boletos issued from now on."""
    _require_manager(actor)
    agreement = bank_agreement_parse(
        bank_code=bank_code,
        bank_agreement=bank_agreement,
        bank_wallet=bank_wallet,
        bank_branch=bank_branch,
        bank_account=bank_account,
    )
    new = {
        "bank_code": agreement.bank_code,
        "bank_agreement": agreement.agreement,
        "bank_wallet": agreement.wallet,
        "bank_branch": agreement.branch,
        "bank_account": agreement.account,
    }
    with uow:
        op = _operator(uow, lock=True)
        before = _of(op).values()
        changed = [f for f in FIELDS if before[f] != new[f]]
        if not changed:
            return SettingsSaved(_of(op), [])
        for f in changed:
            setattr(op, f, new[f])
        audit_record(
            uow.session,
            user_id=actor.user_id,
            company_id=None,
            action="operator_settings_update",
            entity="operator",
            entity_id=op.id,
            before={f: before[f] for f in changed},
            after={f: new[f] for f in changed},
            now=now,
        )
        saved = _of(op)
        uow.commit()
        return SettingsSaved(saved, changed)
