"""Beneficiary movements: one service entry, `movement_apply`, for any movement request of
any channel (services/movements/requests.py), and the reads the movement screens need.

Each accepted movement writes the beneficiary change, the movement row, the audit
record and the protocol in one transaction; a refused one raises `DomainError` and
writes nothing (the unit of work rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from data.models import Beneficiary, Company, ContractedPlan, Plan
from data.uow import UnitOfWork, across_companies
from services.actors import Actor, Permission
from services.cost_centres import company_cost_centres
from services.lgpd import personal_data_access_record
from services.movements.coverage import scheduled_for, scheduled_text, settle
from services.movements.engine import (
    CPF_TAKEN,
    Applier,
    Checking,
    apply_many,
    check_request,
    exclusion_targets,
    is_scheduled,
    load_snapshot,
)
from services.movements.requests import (
    ExclusionRequest,
    InclusionRequest,
    MovementRequest,
    PlanChangeRequest,
    ReactivationRequest,
    TransferRequest,
    UpdateRequest,
)
from services.numbering import local_date
from services.rules.card_numbers import format_card_number
from services.rules.cost_centres import CostCentreRef
from services.rules.documents import only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import mask_cpf
from services.rules.movements import MovementKind, PersonData, invoice_effect
from services.rules.retroactive import movement_billing_month, retroactive_dates

__all__ = [
    "CPF_TAKEN",
    "ExclusionRequest",
    "InclusionRequest",
    "MovementRequest",
    "PlanChangeRequest",
    "ReactivationRequest",
    "TransferRequest",
    "UpdateRequest",
]


# ---------------------------------------------------------------- requests and results


@dataclass(frozen=True)
class Affected:
    id: int
    name: str
    card_number: str
    relationship_code: int

    @property
    def card_formatted(self) -> str:
        return format_card_number(self.card_number)


@dataclass(frozen=True)
class MovementResult:
    kind: MovementKind
    protocol_number: str
    effective_date: date
    billing_month: date
    affected: list[Affected]
    stay_months: int | None = 0
    stay_until: date | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    invoice_effect: str | None = None  # what it does to the invoices; None: nothing
    target_company: str | None = None  # a transfer's destination ("code · name")
    scheduled: bool = False  # dated in the future: nothing changes before that date
    stay_accepted: bool = False  # arts. 30/31 stay taken: covered until stay_until

    @property
    def scheduled_text(self) -> str | None:
        """e.g. "Exclusão agendada para 15/01/2027" (None when in effect already)."""
        if not self.scheduled:
            return None
        text = scheduled_text(self.kind.value, self.effective_date)
        return text[0].upper() + text[1:]

    @property
    def card_number(self) -> str:
        return self.affected[0].card_number


@dataclass(frozen=True)
class PlanOption:
    id: int
    code: str
    name: str
    ans_registration: str

    @property
    def label(self) -> str:
        return f"{self.name} (ANS {self.ans_registration})"


@dataclass(frozen=True)
class BeneficiaryRow:
    id: int
    card_number: str
    name: str
    cpf_masked: str
    relationship_code: int
    relationship_label: str
    status: str
    plan_name: str
    holder_id: int | None
    birth_date: date
    effective_date: date
    exclusion_date: date | None
    scheduled: str | None = None  # e.g. "exclusão agendada para 15/01/2027"

    @property
    def label(self) -> str:
        status = "ativo" if self.status == "active" else "inativo"
        return (
            f"{self.name} · {format_card_number(self.card_number)} · "
            f"{self.relationship_label} · {status}"
        )


@dataclass(frozen=True)
class BeneficiaryDetail:
    row: BeneficiaryRow
    person: PersonData
    plan_id: int
    holder_name: str | None
    dependents: list[BeneficiaryRow]
    exclusion_reason: str | None
    # {group: "YYYY-MM-DD" last day of waiting or None}; None: not computed (older rows)
    waiting_periods: dict[str, Any] | None = None
    # The holder's cost centre (a dependent's is its holder's), and the company's active
    # cost centres an update may choose (empty: the company keeps no list).
    cost_centre: CostCentreRef | None = None
    cost_centre_choices: list[CostCentreRef] = field(default_factory=list)


@dataclass(frozen=True)
class TransferPlans:
    """The plans a holder may take to the destination company of a transfer."""

    target_label: str
    plans: list[PlanOption]  # the destination's contracted plans
    current: PlanOption  # the holder's plan today
    keep_current: bool  # the destination contracts it: "Manter o plano atual" is offered


@dataclass(frozen=True)
class MovementOptions:
    plans: list[PlanOption]
    retroactive_dates: list[date]
    transfer_targets: list[tuple[int, str]]  # (company id, label) in the same group
    cutoff_day: int
    billing_month_today: date
    cost_centres: list[CostCentreRef] = field(default_factory=list)  # active, by code
    cost_centre_required: bool = False  # a holder's inclusion must name one


# ---------------------------------------------------------------- helpers


def _company(session: Session, company_id: int | None) -> Company:
    company = session.get(Company, company_id) if company_id is not None else None
    if company is None:
        raise DomainError("Empresa não encontrada.")
    return company


def _begin(uow: UnitOfWork, actor: Actor) -> Company:
    actor.require(Permission.MOVEMENTS, uow.company_id)
    return _company(uow.session, uow.require_company())


def _by_card(session: Session, company_id: int, card: str) -> Beneficiary:
    digits = only_digits(card or "")
    if not digits:
        raise DomainError("Informe o número da carteirinha.", "card_number")
    found = session.scalars(
        select(Beneficiary).where(
            Beneficiary.company_id == company_id, Beneficiary.card_number == digits
        )
    ).one_or_none()
    if found is None:
        raise DomainError(
            "Carteirinha não encontrada nesta empresa: confira o número.", "card_number"
        )
    return found


def _person_of(b: Beneficiary) -> PersonData:
    return PersonData(**{f: getattr(b, f) for f in PersonData.__dataclass_fields__})


def _cpf_keys(*values: str | None) -> list[str]:
    """CPFs as the snapshot may hold them (a spreadsheet may have lost leading zeros)."""
    keys = []
    for v in values:
        digits = only_digits(v or "")
        if digits:
            keys += [digits, digits.zfill(11)]
    return keys


def movement_apply(
    *, uow: UnitOfWork, actor: Actor, request: MovementRequest, now: datetime
) -> MovementResult:
    """Apply any movement request (inclusion, exclusion, update, reactivation or the arts.
    30/31 stay, transfer, plan change) of any channel: check it on a snapshot of the rows it
    touches, then write it, as a batch file's lines are checked and written."""
    for other in request.other_companies():
        actor.require(Permission.MOVEMENTS, other)
    settle(uow, now)
    with uow:
        # Scope and permission first: nobody may probe another company's card numbers.
        actor.require(Permission.MOVEMENTS, uow.company_id)
        company_id = uow.require_company()
        session = uow.session
        cards = [c for c in request.cards() if c]
        # The CPFs the check compares: the request's, and those of the rows it names (a
        # reactivated beneficiary's own CPF must not be active under another card).
        own = session.scalars(
            select(Beneficiary.cpf).where(
                Beneficiary.company_id == company_id,
                Beneficiary.card_number.in_([only_digits(c) for c in cards]),
            )
        ).all()
        cpfs = _cpf_keys(*request.cpfs(), *own)
        # Wait for, then hold, the rows this request touches (the holder's row above all)...
        load_snapshot(session, company_id, cards=cards, cpfs=cpfs, lock=True)
        # ...and read them again: on PostgreSQL (READ COMMITTED) the locking query misses
        # rows another session committed while this one waited (a spouse or a dependent
        # just included), so two sessions could each add a spouse to the same holder.
        snap = load_snapshot(session, company_id, cards=cards, cpfs=cpfs)
        today = local_date(now)
        change = check_request(Checking(session, snap, today), request)
        applier = Applier(session, snap, actor.user_id, now)
        applied = apply_many(session, applier, [(0, change)])[0]
        if isinstance(applied, DomainError):
            raise applied
        uow.commit()
        billing_month = movement_billing_month(today, snap.company.cutoff_day)
        return MovementResult(
            kind=change.kind,
            protocol_number=applied.protocol_number,
            effective_date=change.effective,
            billing_month=billing_month,
            affected=[Affected(*a) for a in applied.affected],
            stay_months=change.stay_months,
            stay_until=change.stay_until,
            changes=change.changes,
            invoice_effect=invoice_effect(
                change.kind, change.effective, billing_month, stay=change.stay_accepted
            ),
            target_company=change.target_label,
            scheduled=is_scheduled(change, today),
            stay_accepted=change.stay_accepted,
        )


def exclusion_preview(*, uow: UnitOfWork, actor: Actor, card_number: str) -> list[BeneficiaryRow]:
    """The beneficiary and the active dependents that an exclusion would take with it."""
    with uow:
        company = _begin(uow, actor)
        snap = load_snapshot(uow.session, company.id, cards=[card_number])
        targets = exclusion_targets(snap, snap.find(card_number))
        rows = uow.session.scalars(
            select(Beneficiary)
            .where(Beneficiary.id.in_([t.id for t in targets]))
            .order_by(Beneficiary.relationship_code, Beneficiary.id)
        ).all()
        return _rows(uow.session, list(rows))


def transfer_plans(
    *, uow: UnitOfWork, actor: Actor, card_number: str, target_company_id: int
) -> TransferPlans:
    """The destination company's plans for a holder's transfer, and whether the holder may
    keep its current plan there (only when the destination contracts it)."""
    with uow:
        company = _begin(uow, actor)
        actor.require(Permission.MOVEMENTS, target_company_id)
        target = uow.session.get(Company, target_company_id)
        if target is None or target.id == company.id:
            raise DomainError("Escolha uma empresa de destino do mesmo grupo.", "target_company")
        if company.group_id is None or target.group_id != company.group_id:
            raise DomainError(
                "Transferência só entre empresas do mesmo grupo econômico.", "target_company"
            )
        holder = _by_card(uow.session, company.id, card_number)
        current = uow.session.get(Plan, holder.plan_id)
        assert current is not None
        with across_companies(uow.session):  # the destination's contract, on purpose
            plans = _contracted_plans(uow.session, target.id)
        return TransferPlans(
            target_label=f"{target.code} · {target.name}",
            plans=plans,
            current=_plan_option(current),
            keep_current=any(p.id == current.id for p in plans),
        )


# ---------------------------------------------------------------- reads


def _rows(session: Session, beneficiaries: list[Beneficiary]) -> list[BeneficiaryRow]:
    plans = dict(session.execute(select(Plan.id, Plan.name)).all())
    pending = scheduled_for(session, [b.id for b in beneficiaries])
    return [
        BeneficiaryRow(
            b.id,
            b.card_number,
            b.name,
            mask_cpf(b.cpf) or "—",
            b.relationship_code,
            Relationship(b.relationship_code).label,
            b.status,
            plans.get(b.plan_id, "?"),
            b.holder_id,
            b.birth_date,
            b.effective_date,
            b.exclusion_date,
            scheduled_text(*pending[b.id]) if b.id in pending else None,
        )
        for b in beneficiaries
    ]


def beneficiary_search(
    *,
    uow: UnitOfWork,
    actor: Actor,
    text: str = "",
    status: str | None = None,
    holders_only: bool = False,
    limit: int = 50,
    now: datetime | None = None,
) -> list[BeneficiaryRow]:
    """Beneficiaries of the company in context by name, card number or CPF (as of `now`:
    scheduled movements due by then take effect first)."""
    if now is not None:
        settle(uow, now)
    with uow:
        company = _begin(uow, actor)
        query = select(Beneficiary).where(Beneficiary.company_id == company.id)
        if status:
            query = query.where(Beneficiary.status == status)
        if holders_only:
            query = query.where(Beneficiary.relationship_code == Relationship.HOLDER)
        term = (text or "").strip()
        digits = only_digits(term)
        if term:
            # Names are stored as typed. SQLite's upper() and lower() change ASCII letters
            # only, so "João" is matched by "joão" through lower() and "JOÃO" through upper().
            conditions = [
                func.upper(Beneficiary.name).contains(term.upper()),
                func.lower(Beneficiary.name).contains(term.lower()),
                Beneficiary.name.contains(term),
            ]
            if digits:
                conditions += [Beneficiary.card_number.contains(digits), Beneficiary.cpf == digits]
            query = query.where(or_(*conditions))
        found = uow.session.scalars(query.order_by(Beneficiary.name).limit(limit)).all()
        return _rows(uow.session, list(found))


def beneficiary_detail(
    *, uow: UnitOfWork, actor: Actor, card_number: str, now: datetime | None = None
) -> BeneficiaryDetail:
    """One beneficiary of the company in context, with its dependents; the view is
    recorded as an access to personal data (LGPD)."""
    if now is not None:
        settle(uow, now)
    with uow:
        company = _begin(uow, actor)
        b = _by_card(uow.session, company.id, card_number)
        holder = uow.session.get(Beneficiary, b.holder_id) if b.holder_id else None
        # Only this company's: a dependent excluded before its holder moved to another
        # company of the group stays (with its history) where it was.
        dependents = uow.session.scalars(
            select(Beneficiary)
            .where(Beneficiary.holder_id == b.id, Beneficiary.company_id == company.id)
            .order_by(Beneficiary.id)
        ).all()
        person = _person_of(b)
        if person.cpf and not actor.can(Permission.PERSONAL_DATA):
            # LGPD: without the personal-data permission the CPF is shown masked; a form
            # that keeps it unchanged sends nothing for it.
            person = replace(person, cpf=mask_cpf(person.cpf))
        personal_data_access_record(
            uow.session,
            actor=actor,
            company_id=company.id,
            beneficiary_id=b.id,
            purpose="consulta",
            detail="Cadastro individual",
            now=now or datetime.now(UTC),
        )
        centres = company_cost_centres(uow.session, company.id)
        centre_id = holder.cost_centre_id if holder is not None else b.cost_centre_id
        detail = BeneficiaryDetail(
            row=_rows(uow.session, [b])[0],
            person=person,
            plan_id=b.plan_id,
            holder_name=holder.name if holder else None,
            dependents=_rows(uow.session, list(dependents)),
            exclusion_reason=b.exclusion_reason,
            waiting_periods=b.waiting_periods,
            cost_centre=next((c for c in centres.values() if c.id == centre_id), None),
            cost_centre_choices=[c for c in centres.values() if c.active],
        )
        uow.commit()
        return detail


def movement_options(*, uow: UnitOfWork, actor: Actor, today: date) -> MovementOptions:
    """What the movement forms offer: contracted plans, retroactive dates, group companies."""
    with uow:
        company = _begin(uow, actor)
        plans = _contracted_plans(uow.session, company.id)
        targets: list[tuple[int, str]] = []
        if company.group_id is not None:
            targets = [
                (c.id, f"{c.code} · {c.name}")
                for c in uow.session.scalars(
                    select(Company)
                    .where(Company.group_id == company.group_id, Company.id != company.id)
                    .order_by(Company.code)
                ).all()
                if actor.can_see_company(c.id)
            ]
        return MovementOptions(
            plans=plans,
            retroactive_dates=retroactive_dates(today, company.retroactive_months),
            transfer_targets=targets,
            cutoff_day=company.cutoff_day,
            billing_month_today=movement_billing_month(today, company.cutoff_day),
            cost_centres=[
                c for c in company_cost_centres(uow.session, company.id).values() if c.active
            ],
            cost_centre_required=company.cost_centre_required,
        )


def _plan_option(p: Plan) -> PlanOption:
    return PlanOption(p.id, p.code, p.name, p.ans_registration)


def _contracted_plans(session: Session, company_id: int) -> list[PlanOption]:
    """The plans a company contracts today, by name."""
    plans = session.scalars(
        select(Plan)
        .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
        .where(ContractedPlan.company_id == company_id, ContractedPlan.end_date.is_(None))
        .order_by(Plan.name)
    ).all()
    return [_plan_option(p) for p in plans]
