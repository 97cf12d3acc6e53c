"""Beneficiary movements: one service function per movement, shared by every channel.

Each accepted movement writes the beneficiary change, the movement row, the audit
record and the protocol in one transaction; a refused one raises `DomainError` and
writes nothing (the unit of work rolls back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.models import Beneficiary, Company, ContractedPlan, Movement, Plan
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.audit import audit_record, json_safe
from services.numbering import card_numbers_issue, local_date
from services.protocols import protocol_open
from services.rules.age_bands import age_on
from services.rules.card_numbers import format_card_number
from services.rules.documents import mask_cpf, only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import (
    EXCLUSION_REASONS,
    MOVEMENT_LABELS,
    Channel,
    HolderView,
    MovementKind,
    PersonData,
    changed_fields,
    check_dependent_link,
    check_effective_date,
    check_exclusion_reason,
    check_plan_contracted,
    clean_person,
    merge_update,
    stay_until,
)
from services.rules.retroactive import movement_billing_month, retroactive_dates

CPF_TAKEN = "Este CPF já tem cadastro ativo nesta empresa (um só vínculo ativo por CPF)."


# ---------------------------------------------------------------- requests and results


@dataclass(frozen=True)
class InclusionRequest:
    person: PersonData
    relationship_code: int = Relationship.HOLDER
    plan_id: int | None = None  # holders; dependents follow the holder's plan
    holder_card: str | None = None  # dependents
    effective_date: date | None = None
    channel: Channel = Channel.INDIVIDUAL


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


@dataclass(frozen=True)
class MovementOptions:
    plans: list[PlanOption]
    retroactive_dates: list[date]
    transfer_targets: list[tuple[int, str]]  # (company id, label) in the same group
    cutoff_day: int
    billing_month_today: date


# ---------------------------------------------------------------- helpers


def _company(session: Session, company_id: int | None) -> Company:
    company = session.get(Company, company_id) if company_id is not None else None
    if company is None:
        raise DomainError("Empresa não encontrada.")
    return company


def _contracted(session: Session, company_id: int) -> dict[int, str]:
    rows = session.execute(
        select(Plan.id, Plan.name)
        .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
        .where(ContractedPlan.company_id == company_id, ContractedPlan.end_date.is_(None))
    ).all()
    return {pid: name for pid, name in rows}


def _by_card(session: Session, company_id: int, card: str, *, lock: bool = True) -> Beneficiary:
    digits = only_digits(card or "")
    if not digits:
        raise DomainError("Informe o número da carteirinha.", "card_number")
    query = select(Beneficiary).where(
        Beneficiary.company_id == company_id, Beneficiary.card_number == digits
    )
    if lock:
        query = query.with_for_update()
    found = session.scalars(query).one_or_none()
    if found is None:
        raise DomainError(
            "Carteirinha não encontrada nesta empresa: confira o número.", "card_number"
        )
    return found


def _person_of(b: Beneficiary) -> PersonData:
    return PersonData(**{f: getattr(b, f) for f in PersonData.__dataclass_fields__})


def _holder_view(session: Session, holder: Beneficiary) -> HolderView:
    spouse = session.scalar(
        select(func.count()).where(
            Beneficiary.holder_id == holder.id,
            Beneficiary.relationship_code == Relationship.SPOUSE,
            Beneficiary.status == "active",
        )
    )
    return HolderView(
        id=holder.id,
        card_number=holder.card_number,
        name=holder.name,
        status=holder.status,
        plan_id=holder.plan_id,
        company_id=holder.company_id,
        has_active_spouse=bool(spouse),
        address=_person_of(holder),
    )


def _cpf_active(
    session: Session, company_id: int, cpf: str | None, except_id: int | None = None
) -> bool:
    if not cpf:
        return False
    query = select(func.count()).where(
        Beneficiary.company_id == company_id,
        Beneficiary.cpf == cpf,
        Beneficiary.status == "active",
    )
    if except_id is not None:
        query = query.where(Beneficiary.id != except_id)
    return bool(session.scalar(query))


def _active_dependents(session: Session, holder_id: int) -> list[Beneficiary]:
    return list(
        session.scalars(
            select(Beneficiary)
            .where(Beneficiary.holder_id == holder_id, Beneficiary.status == "active")
            .order_by(Beneficiary.id)
            .with_for_update()
        ).all()
    )


def _flush(session: Session) -> None:
    """Flush, turning a constraint race (same CPF at once) into a clear refusal."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "cpf" in str(exc.orig).lower():
            raise DomainError(CPF_TAKEN, "cpf") from None
        raise DomainError(
            "Outra movimentação alterou este cadastro ao mesmo tempo. Tente de novo."
        ) from None


@dataclass
class _Recorder:
    """Writes the movement rows, the audit and the protocol of one request."""

    session: Session
    actor: Actor
    company: Company
    kind: MovementKind
    channel: Channel
    effective: date
    now: datetime
    movements: list[Movement] = field(default_factory=list)

    @property
    def billing_month(self) -> date:
        return movement_billing_month(local_date(self.now), self.company.cutoff_day)

    def add(
        self,
        b: Beneficiary,
        *,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        **extra: Any,
    ) -> None:
        movement = Movement(
            company_id=b.company_id,
            beneficiary_id=b.id,
            kind=self.kind.value,
            channel=self.channel.value,
            effective_date=self.effective,
            received_at=self.now,
            billing_month=self.billing_month,
            is_retroactive=self.channel is Channel.RETROACTIVE,
            actor_user_id=self.actor.user_id,
            before=json_safe(dict(before)) if before is not None else None,
            after=json_safe(dict(after)) if after is not None else None,
            **extra,
        )
        self.session.add(movement)
        self.movements.append(movement)
        audit_record(
            self.session,
            user_id=self.actor.user_id,
            company_id=b.company_id,
            action=f"movement_{self.kind.value}",
            entity="beneficiary",
            entity_id=b.id,
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            now=self.now,
        )

    def finish(self, subject: str, affected: list[Beneficiary], **result: Any) -> MovementResult:
        _flush(self.session)
        label = MOVEMENT_LABELS[self.kind]
        protocol = protocol_open(
            self.session,
            company_id=self.company.id,
            kind=self.kind.value,
            subject=f"{label}: {subject}",
            description=(
                f"{label} ({self.channel.value}) com vigência em "
                f"{self.effective:%d/%m/%Y}: "
                + ", ".join(f"{b.name} ({b.card_number})" for b in affected)
            ),
            user_id=self.actor.user_id,
            now=self.now,
            done_note=f"{label} registrada. Vigência {self.effective:%d/%m/%Y}.",
        )
        for movement in self.movements:
            movement.protocol_id = protocol.id
        _flush(self.session)
        return MovementResult(
            kind=self.kind,
            protocol_number=protocol.number,
            effective_date=self.effective,
            billing_month=self.billing_month,
            affected=[Affected(b.id, b.name, b.card_number, b.relationship_code) for b in affected],
            **result,
        )


def _begin(uow: UnitOfWork, actor: Actor) -> Company:
    actor.require(Permission.MOVEMENTS, uow.company_id)
    return _company(uow.session, uow.company_id)


def _effective(
    company: Company, kind: MovementKind, channel: Channel, effective: date | None, now: datetime
) -> date:
    return check_effective_date(
        kind=kind,
        channel=channel,
        effective=effective,
        today=local_date(now),
        retroactive_months=company.retroactive_months,
        contract_start=company.contract_start,
    )


# ---------------------------------------------------------------- movements


def movement_include(
    *, uow: UnitOfWork, actor: Actor, request: InclusionRequest, now: datetime
) -> MovementResult:
    """Include a holder, or a dependent of an active holder; issues the card number."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        today = local_date(now)
        rel = request.relationship_code
        if rel not in {r.value for r in Relationship}:
            raise DomainError("Parentesco inválido.", "relationship_code")
        errors: dict[str, str] = {}
        holder_view: HolderView | None = None
        if rel != Relationship.HOLDER and request.holder_card:
            holder = session.scalars(
                select(Beneficiary)
                .where(
                    Beneficiary.company_id == company.id,
                    Beneficiary.card_number == only_digits(request.holder_card),
                    Beneficiary.relationship_code == Relationship.HOLDER,
                )
                .with_for_update()
            ).one_or_none()
            if holder is not None:
                holder_view = _holder_view(session, holder)
        try:
            person = clean_person(
                request.person,
                relationship=rel,
                today=today,
                holder_address=holder_view.address if holder_view else None,
            )
        except FieldErrors as exc:
            errors.update(exc.errors)
            person = None
        try:
            effective = _effective(
                company, MovementKind.INCLUSION, request.channel, request.effective_date, now
            )
        except DomainError as exc:
            errors["effective_date"] = exc.message
            effective = today
        plan_id: int | None = None
        try:
            if rel == Relationship.HOLDER:
                plan_id = check_plan_contracted(request.plan_id, _contracted(session, company.id))
            elif person is not None:
                check_dependent_link(
                    relationship=rel,
                    holder=holder_view,
                    company_id=company.id,
                    birth_date=person.birth_date,
                    is_student=person.is_student,
                    eligibility=company.eligibility,
                    on=effective,
                )
                plan_id = holder_view.plan_id if holder_view else None
        except DomainError as exc:
            errors[exc.field or "plan"] = exc.message
        if person is not None and _cpf_active(session, company.id, person.cpf):
            errors["cpf"] = CPF_TAKEN
        if errors:
            raise FieldErrors(errors)
        assert person is not None and plan_id is not None
        (card,) = card_numbers_issue(session)
        b = Beneficiary(
            company_id=company.id,
            plan_id=plan_id,
            card_number=card,
            holder_id=holder_view.id if holder_view else None,
            relationship_code=rel,
            effective_date=effective,
            status="active",
            created_at=now,
            updated_at=now,
            **person.as_dict(),
        )
        session.add(b)
        _flush(session)
        recorder = _Recorder(
            session, actor, company, MovementKind.INCLUSION, request.channel, effective, now
        )
        recorder.add(
            b,
            before=None,
            after={
                **person.as_dict(),
                "card_number": card,
                "plan_id": plan_id,
                "relationship_code": rel,
            },
            new_plan_id=plan_id,
        )
        result = recorder.finish(b.name, [b])
        uow.commit()
        return result


def exclusion_preview(*, uow: UnitOfWork, actor: Actor, card_number: str) -> list[BeneficiaryRow]:
    """The beneficiary and the active dependents that an exclusion would take with it."""
    with uow:
        company = _begin(uow, actor)
        b = _by_card(uow.session, company.id, card_number, lock=False)
        rows = [b]
        if b.relationship_code == Relationship.HOLDER and company.dependents_follow_holder:
            rows += [d for d in _active_dependents(uow.session, b.id)]
        return _rows(uow.session, rows)


def movement_exclude(
    *,
    uow: UnitOfWork,
    actor: Actor,
    card_number: str,
    reason: str,
    effective_date: date | None,
    now: datetime,
    dependents_confirmed: bool = False,
    contributed: bool = False,
    contribution_months: int = 0,
    channel: Channel = Channel.INDIVIDUAL,
) -> MovementResult:
    """Exclude a beneficiary (a holder takes its dependents, after confirmation)."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        check_exclusion_reason(reason)
        effective = _effective(company, MovementKind.EXCLUSION, channel, effective_date, now)
        b = _by_card(session, company.id, card_number)
        if b.status != "active":
            raise DomainError(f"{b.name} já está inativo(a).", "card_number")
        targets = [b]
        if b.relationship_code == Relationship.HOLDER and company.dependents_follow_holder:
            dependents = _active_dependents(session, b.id)
            if dependents and not dependents_confirmed:
                names = ", ".join(d.name for d in dependents)
                raise DomainError(
                    f"A exclusão do titular exclui também os dependentes: {names}. "
                    "Confirme para continuar.",
                    "dependents_confirmed",
                )
            targets += dependents
        months, until = (0, None)
        if b.relationship_code == Relationship.HOLDER:
            months, until = stay_until(reason, contributed, contribution_months, effective)
        recorder = _Recorder(
            session, actor, company, MovementKind.EXCLUSION, channel, effective, now
        )
        for target in targets:
            before = {"status": target.status, "exclusion_date": None, "exclusion_reason": None}
            target.status = "inactive"
            target.exclusion_date = effective
            target.exclusion_reason = reason if target is b else "perda_elegibilidade"
            target.stay_until = until if target is b else None
            target.updated_at = now
            recorder.add(
                target,
                before=before,
                after={
                    "status": "inactive",
                    "exclusion_date": effective,
                    "exclusion_reason": target.exclusion_reason,
                    "contributed": contributed,
                    "contribution_months": contribution_months,
                    "stay_months": months,
                    "stay_until": until,
                },
                reason=target.exclusion_reason,
            )
        result = recorder.finish(
            f"{b.name} ({EXCLUSION_REASONS[reason]})", targets, stay_months=months, stay_until=until
        )
        uow.commit()
        return result


def movement_update(
    *,
    uow: UnitOfWork,
    actor: Actor,
    card_number: str,
    changes: Mapping[str, Any],
    now: datetime,
    channel: Channel = Channel.INDIVIDUAL,
) -> MovementResult:
    """Correct a beneficiary's basic data, effective at once, keeping before and after."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        if channel is Channel.RETROACTIVE:
            raise DomainError("Alteração cadastral não pode ser retroativa.", "effective_date")
        b = _by_card(session, company.id, card_number)
        before = _person_of(b)
        after = clean_person(
            merge_update(before, changes), relationship=b.relationship_code, today=local_date(now)
        )
        diff = changed_fields(before, after)
        if not diff:
            raise DomainError("Nenhum dado foi alterado.")
        if (
            b.status == "active"
            and after.cpf != before.cpf
            and _cpf_active(session, company.id, after.cpf, except_id=b.id)
        ):
            raise FieldErrors({"cpf": CPF_TAKEN})
        if (
            b.relationship_code != Relationship.HOLDER
            and ("birth_date" in diff or "is_student" in diff)
            and b.status == "active"
        ):
            holder = session.get(Beneficiary, b.holder_id)
            assert holder is not None
            check_dependent_link(
                relationship=b.relationship_code,
                holder=_holder_view(session, holder),
                company_id=company.id,
                birth_date=after.birth_date,
                is_student=after.is_student,
                eligibility=company.eligibility,
                on=local_date(now),
            )
        for name, (_old, new) in diff.items():
            setattr(b, name, new)
        b.updated_at = now
        today = local_date(now)
        recorder = _Recorder(session, actor, company, MovementKind.UPDATE, channel, today, now)
        recorder.add(
            b, before={k: v[0] for k, v in diff.items()}, after={k: v[1] for k, v in diff.items()}
        )
        result = recorder.finish(b.name, [b], changes=diff)
        uow.commit()
        return result


def movement_reactivate(
    *,
    uow: UnitOfWork,
    actor: Actor,
    card_number: str,
    effective_date: date | None,
    now: datetime,
    changes: Mapping[str, Any] | None = None,
    channel: Channel = Channel.INDIVIDUAL,
) -> MovementResult:
    """Bring an inactive beneficiary back with the same card number (data may be edited)."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        effective = _effective(company, MovementKind.REACTIVATION, channel, effective_date, now)
        b = _by_card(session, company.id, card_number)
        if b.status == "active":
            raise DomainError(f"{b.name} já está ativo(a).", "card_number")
        before_person = _person_of(b)
        person = clean_person(
            merge_update(before_person, changes or {}),
            relationship=b.relationship_code,
            today=local_date(now),
        )
        if _cpf_active(session, company.id, person.cpf, except_id=b.id):
            raise FieldErrors({"cpf": CPF_TAKEN})
        if b.relationship_code == Relationship.HOLDER:
            check_plan_contracted(b.plan_id, _contracted(session, company.id))
        else:
            holder = session.get(Beneficiary, b.holder_id)
            assert holder is not None
            check_dependent_link(
                relationship=b.relationship_code,
                holder=_holder_view(session, holder),
                company_id=company.id,
                birth_date=person.birth_date,
                is_student=person.is_student,
                eligibility=company.eligibility,
                on=effective,
            )
            b.plan_id = holder.plan_id
        before = {
            "status": b.status,
            "exclusion_date": b.exclusion_date,
            "exclusion_reason": b.exclusion_reason,
            "effective_date": b.effective_date,
            **{k: v[0] for k, v in changed_fields(before_person, person).items()},
        }
        for name, (_old, new) in changed_fields(before_person, person).items():
            setattr(b, name, new)
        b.status = "active"
        b.exclusion_date = None
        b.exclusion_reason = None
        b.stay_until = None
        b.effective_date = effective
        b.updated_at = now
        recorder = _Recorder(
            session, actor, company, MovementKind.REACTIVATION, channel, effective, now
        )
        recorder.add(
            b,
            before=before,
            after={"status": "active", "effective_date": effective, **person.as_dict()},
            new_plan_id=b.plan_id,
        )
        result = recorder.finish(b.name, [b])
        uow.commit()
        return result


def movement_transfer(
    *,
    uow: UnitOfWork,
    actor: Actor,
    card_number: str,
    target_company_id: int,
    now: datetime,
    plan_id: int | None = None,
    effective_date: date | None = None,
    channel: Channel = Channel.INDIVIDUAL,
) -> MovementResult:
    """Move an active holder and its dependents to another company of the same group."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        actor.require(Permission.MOVEMENTS, target_company_id)
        effective = _effective(company, MovementKind.TRANSFER, channel, effective_date, now)
        target = _company(session, target_company_id)
        if target.id == company.id:
            raise DomainError("Escolha uma empresa diferente da atual.", "target_company")
        if company.group_id is None or target.group_id != company.group_id:
            raise DomainError(
                "Transferência só entre empresas do mesmo grupo econômico.", "target_company"
            )
        b = _by_card(session, company.id, card_number)
        if b.relationship_code != Relationship.HOLDER:
            raise DomainError(
                "Transfira o titular: os dependentes vão junto com ele.", "card_number"
            )
        if b.status != "active":
            raise DomainError(f"{b.name} está inativo(a): reative antes.", "card_number")
        contracted = _contracted(session, target.id)
        new_plan = check_plan_contracted(plan_id if plan_id is not None else b.plan_id, contracted)
        if b.cpf and _cpf_active(session, target.id, b.cpf):
            raise DomainError(
                f"{b.name} já tem cadastro ativo na empresa de destino.", "card_number"
            )
        moving = [b, *_active_dependents(session, b.id)]
        recorder = _Recorder(
            session, actor, company, MovementKind.TRANSFER, channel, effective, now
        )
        for m in moving:
            before = {"company_id": m.company_id, "plan_id": m.plan_id}
            m.company_id = target.id
            m.plan_id = new_plan
            m.updated_at = now
            recorder.add(
                m,
                before=before,
                after={"company_id": target.id, "plan_id": new_plan},
                from_company_id=company.id,
                old_plan_id=before["plan_id"],
                new_plan_id=new_plan,
            )
        result = recorder.finish(f"{b.name} para {target.code} · {target.name}", moving)
        uow.commit()
        return result


def movement_change_plan(
    *,
    uow: UnitOfWork,
    actor: Actor,
    card_number: str,
    plan_id: int,
    now: datetime,
    effective_date: date | None = None,
    channel: Channel = Channel.INDIVIDUAL,
) -> MovementResult:
    """Change a holder's plan; the active dependents follow."""
    with uow:
        session = uow.session
        company = _begin(uow, actor)
        effective = _effective(company, MovementKind.PLAN_CHANGE, channel, effective_date, now)
        b = _by_card(session, company.id, card_number)
        if b.relationship_code != Relationship.HOLDER:
            raise DomainError(
                "A alteração de plano é feita no titular; os dependentes acompanham.",
                "card_number",
            )
        if b.status != "active":
            raise DomainError(f"{b.name} está inativo(a).", "card_number")
        new_plan = check_plan_contracted(plan_id, _contracted(session, company.id))
        if new_plan == b.plan_id:
            raise DomainError("O titular já está neste plano: escolha outro.", "plan")
        moving = [b, *_active_dependents(session, b.id)]
        recorder = _Recorder(
            session, actor, company, MovementKind.PLAN_CHANGE, channel, effective, now
        )
        for m in moving:
            old = m.plan_id
            m.plan_id = new_plan
            m.updated_at = now
            recorder.add(
                m,
                before={"plan_id": old},
                after={"plan_id": new_plan},
                old_plan_id=old,
                new_plan_id=new_plan,
            )
        result = recorder.finish(b.name, moving)
        uow.commit()
        return result


# ---------------------------------------------------------------- reads


def _rows(session: Session, beneficiaries: list[Beneficiary]) -> list[BeneficiaryRow]:
    plans = dict(session.execute(select(Plan.id, Plan.name)).all())
    return [
        BeneficiaryRow(
            b.id,
            b.card_number,
            b.name,
            mask_cpf(b.cpf) if b.cpf else "—",
            b.relationship_code,
            Relationship(b.relationship_code).label,
            b.status,
            plans.get(b.plan_id, "?"),
            b.holder_id,
            b.birth_date,
            b.effective_date,
            b.exclusion_date,
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
) -> list[BeneficiaryRow]:
    """Beneficiaries of the company in context by name, card number or CPF."""
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
            conditions = [Beneficiary.name.contains(term.upper())]
            if digits:
                conditions += [Beneficiary.card_number.contains(digits), Beneficiary.cpf == digits]
            query = query.where(or_(*conditions))
        found = uow.session.scalars(query.order_by(Beneficiary.name).limit(limit)).all()
        return _rows(uow.session, list(found))


def beneficiary_detail(*, uow: UnitOfWork, actor: Actor, card_number: str) -> BeneficiaryDetail:
    """One beneficiary of the company in context, with its dependents."""
    with uow:
        company = _begin(uow, actor)
        b = _by_card(uow.session, company.id, card_number, lock=False)
        holder = uow.session.get(Beneficiary, b.holder_id) if b.holder_id else None
        dependents = uow.session.scalars(
            select(Beneficiary).where(Beneficiary.holder_id == b.id).order_by(Beneficiary.id)
        ).all()
        return BeneficiaryDetail(
            row=_rows(uow.session, [b])[0],
            person=_person_of(b),
            plan_id=b.plan_id,
            holder_name=holder.name if holder else None,
            dependents=_rows(uow.session, list(dependents)),
            exclusion_reason=b.exclusion_reason,
        )


def movement_options(*, uow: UnitOfWork, actor: Actor, today: date) -> MovementOptions:
    """What the movement forms offer: contracted plans, retroactive dates, group companies."""
    with uow:
        company = _begin(uow, actor)
        plans = uow.session.scalars(
            select(Plan)
            .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
            .where(ContractedPlan.company_id == company.id, ContractedPlan.end_date.is_(None))
            .order_by(Plan.name)
        ).all()
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
            plans=[PlanOption(p.id, p.code, p.name, p.ans_registration) for p in plans],
            retroactive_dates=retroactive_dates(today, company.retroactive_months),
            transfer_targets=targets,
            cutoff_day=company.cutoff_day,
            billing_month_today=movement_billing_month(today, company.cutoff_day),
        )


def beneficiary_age(b: BeneficiaryRow, today: date) -> int:
    return age_on(b.birth_date, today)
