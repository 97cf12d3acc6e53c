"""The one path every movement takes, whatever the channel: check on a snapshot, then apply.

- `Snapshot` holds what the rules need about a company (contract, contracted plans,
  beneficiaries, active CPFs), loaded with a few set-based queries: everything for a
  batch file, only the rows involved for an individual form.
- `MOVEMENT_TYPES` maps each `MovementKind` to its request type
  (`services.movements.requests`) and its `check_*` function; `check_request` checks any
  request. A check applies the rules of `services.rules.movements` and returns a `Change`
  (what to write), updating the snapshot so that the next request (the next line of a
  file) sees it; a refusal raises `DomainError` and leaves it untouched.
- `Applier.apply` writes changes in bulk (SQLAlchemy Core executemany, RETURNING ids):
  beneficiaries, movements, protocols and their events, audit records. `apply_many` is
  the one write path of every channel (a form's one change, a batch file's chunk): the
  changes go in one savepoint, and if that fails at write time (a race with another
  session) each is redone alone in its own savepoint, so a failing one changes nothing
  and the others stay applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    Movement,
    Plan,
    Protocol,
    ProtocolEvent,
)
from data.uow import across_companies
from services.audit import json_safe
from services.cost_centres import company_cost_centres
from services.movements.coverage import (
    period_json,
    periods_of,
    scheduled_for,
    scheduled_text,
    write_periods,
)
from services.movements.requests import (
    ExclusionRequest,
    InclusionRequest,
    PlanChangeRequest,
    ReactivationRequest,
    Request,
    TransferRequest,
    UpdateRequest,
)
from services.movements.waiting import active_participants, inclusion_waiting
from services.numbering import counter_take, local_date, operator, protocol_numbers_issue
from services.rules import coverage as cover_rules
from services.rules.card_numbers import card_number as make_card_number
from services.rules.card_numbers import format_card_number
from services.rules.cost_centres import (
    CostCentreRef,
    check_dependent_cost_centre,
    resolve_cost_centre,
)
from services.rules.documents import only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import (
    CHANNEL_LABELS,
    EXCLUSION_REASONS,
    MOVEMENT_LABELS,
    STAY_CHOICE_DAYS,
    STAY_REASONS,
    Channel,
    HolderView,
    MovementKind,
    PersonData,
    changed_fields,
    check_dependent_link,
    check_effective_date,
    check_exclusion_reason,
    check_plan_contracted,
    check_transfer_plan,
    clean_person,
    merge_update,
    stay_until,
)
from services.rules.retroactive import movement_billing_month

CPF_TAKEN = "Este CPF já tem cadastro ativo nesta empresa (um só vínculo ativo por CPF)."
PERSON_FIELDS = tuple(PersonData.__dataclass_fields__)
KEY_CHUNK = 2000  # cards/CPFs per lookup query (SQLite caps bound parameters)
K = TypeVar("K")  # what the caller of apply_many names each change by (a line number)


# ---------------------------------------------------------------- snapshot


@dataclass
class Benef:
    """A beneficiary as the rules see it; `key` is the card number, or "new:N"."""

    key: str
    id: int | None
    company_id: int
    plan_id: int
    holder_key: str | None
    relationship: int
    status: str
    person: PersonData
    effective_date: date
    exclusion_date: date | None = None
    exclusion_reason: str | None = None
    card: str | None = None  # issued when a new beneficiary is written
    scheduled: tuple[str, date] | None = None  # a pending scheduled movement: kind, date
    cost_centre_id: int | None = None  # holders only: dependents follow their holder

    @property
    def is_holder(self) -> bool:
        return self.relationship == Relationship.HOLDER


@dataclass
class CompanyView:
    id: int
    code: str
    name: str
    group_id: int | None
    eligibility: Mapping[str, Any]
    retroactive_months: int
    cutoff_day: int
    contract_start: date
    dependents_follow_holder: bool
    contracted: dict[int, str]
    plan_codes: dict[str, int]
    # Waiting periods (services/movements/waiting.py): the contract's days per procedure group
    # (None: defaults) and its active beneficiaries when the view was loaded.
    waiting_days: Mapping[str, Any] | None = None
    active_count: int = 0
    # The company's cost centres by code (active or not; services/cost_centres.py), and
    # whether every holder included must name one.
    cost_centres: Mapping[str, CostCentreRef] = field(default_factory=dict)
    cost_centre_required: bool = False

    def cost_centre_code(self, cost_centre_id: int | None) -> str | None:
        return next((c.code for c in self.cost_centres.values() if c.id == cost_centre_id), None)


@dataclass
class Snapshot:
    company: CompanyView
    by_key: dict[str, Benef] = field(default_factory=dict)
    active_cpf: dict[str, str] = field(default_factory=dict)  # cpf -> key
    dependents: dict[str, list[str]] = field(default_factory=dict)  # holder key -> keys
    targets: dict[int, CompanyView] = field(default_factory=dict)  # group companies
    target_cpfs: dict[int, set[str]] = field(default_factory=dict)
    _new: int = 0

    def new_key(self) -> str:
        self._new += 1
        return f"new:{self._new}"

    def add(self, b: Benef) -> None:
        self.by_key[b.key] = b
        if b.status == "active" and b.person.cpf:
            self.active_cpf[b.person.cpf] = b.key
        if b.holder_key:
            self.dependents.setdefault(b.holder_key, []).append(b.key)

    def release_cpf(self, b: Benef) -> None:
        if b.person.cpf and self.active_cpf.get(b.person.cpf) == b.key:
            del self.active_cpf[b.person.cpf]

    def set_status(self, b: Benef, status: str) -> None:
        self.release_cpf(b)
        b.status = status
        if status == "active" and b.person.cpf:
            self.active_cpf[b.person.cpf] = b.key

    def set_person(self, b: Benef, person: PersonData) -> None:
        active = b.status == "active"
        if active:
            self.set_status(b, "inactive")
        b.person = person
        if active:
            self.set_status(b, "active")

    def find(self, card: str | None, field: str = "card_number") -> Benef:
        digits = only_digits(card or "")
        if not digits:
            raise DomainError("Informe o número da carteirinha.", field)
        found = self.by_key.get(digits)
        if found is None or found.company_id != self.company.id:
            raise DomainError("Carteirinha não encontrada nesta empresa: confira o número.", field)
        return found

    def active_dependents(self, holder: Benef) -> list[Benef]:
        return [
            self.by_key[k]
            for k in self.dependents.get(holder.key, [])
            if self.by_key[k].status == "active" and self.by_key[k].company_id == holder.company_id
        ]

    def holder_view(self, holder: Benef) -> HolderView:
        spouse = any(d.relationship == Relationship.SPOUSE for d in self.active_dependents(holder))
        return HolderView(
            id=holder.id or 0,
            card_number=holder.key,
            name=holder.person.name,
            status=holder.status,
            plan_id=holder.plan_id,
            company_id=holder.company_id,
            has_active_spouse=spouse,
            address=holder.person,
        )


def _company_view(session: Session, company: Company) -> CompanyView:
    plans = session.execute(
        select(Plan.id, Plan.name, Plan.code)
        .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
        .where(ContractedPlan.company_id == company.id, ContractedPlan.end_date.is_(None))
    ).all()
    return CompanyView(
        id=company.id,
        code=company.code,
        name=company.name,
        group_id=company.group_id,
        eligibility=company.eligibility or {},
        retroactive_months=company.retroactive_months,
        cutoff_day=company.cutoff_day,
        contract_start=company.contract_start,
        dependents_follow_holder=company.dependents_follow_holder,
        contracted={pid: name for pid, name, _code in plans},
        plan_codes={code.upper(): pid for pid, _name, code in plans},
        waiting_days=company.waiting_periods,
        active_count=active_participants(session, company.id),
        cost_centres=company_cost_centres(session, company.id),
        cost_centre_required=company.cost_centre_required,
    )


_BASE_COLUMNS = (
    "id",
    "card_number",
    "company_id",
    "plan_id",
    "holder_id",
    "relationship_code",
    "status",
    "effective_date",
    "exclusion_date",
    "exclusion_reason",
    "cost_centre_id",
)
_SNAPSHOT_COLUMNS = [getattr(Beneficiary, c) for c in (*_BASE_COLUMNS, *PERSON_FIELDS)]


def _benef(row: Any, cards: Mapping[int, str]) -> Benef:
    (
        id_,
        card,
        company_id,
        plan_id,
        holder_id,
        rel,
        status,
        effective,
        excl_date,
        excl_reason,
        cost_centre_id,
        *person,
    ) = row
    return Benef(
        key=card,
        id=id_,
        company_id=company_id,
        plan_id=plan_id,
        holder_key=cards.get(holder_id) if holder_id else None,
        relationship=rel,
        status=status,
        person=PersonData(*person),
        effective_date=effective,
        exclusion_date=excl_date,
        exclusion_reason=excl_reason,
        card=card,
        cost_centre_id=cost_centre_id,
    )


def load_snapshot(
    session: Session,
    company_id: int,
    *,
    cards: Iterable[str] | None = None,
    cpfs: Iterable[str] | None = None,
    lock: bool = False,
) -> Snapshot:
    """The company's state: all beneficiaries (batch) or only those `cards`/`cpfs` touch,
    with their holders and dependents (individual forms)."""
    company = session.get(Company, company_id)
    if company is None:
        raise DomainError("Empresa não encontrada.")
    snap = Snapshot(company=_company_view(session, company))
    # Plain columns, not ORM objects: a big batch loads every beneficiary of the company.
    query = select(*_SNAPSHOT_COLUMNS).where(Beneficiary.company_id == company_id)
    if cards is None and cpfs is None:
        if lock:
            query = query.with_for_update()
        rows = session.execute(query.order_by(Beneficiary.id)).all()
    else:
        card_list = [only_digits(c) for c in (cards or []) if only_digits(c or "")]
        cpf_list = [c for c in (cpfs or []) if c]
        # The rows the keys name (index lookups), then their families: holders and dependents.
        family: set[int] = set()
        for column, values in ((Beneficiary.card_number, card_list), (Beneficiary.cpf, cpf_list)):
            for start in range(0, len(values), KEY_CHUNK):
                for id_, holder_id in session.execute(
                    select(Beneficiary.id, Beneficiary.holder_id).where(
                        Beneficiary.company_id == company_id,
                        column.in_(values[start : start + KEY_CHUNK]),
                    )
                ):
                    family.add(id_)
                    if holder_id:
                        family.add(holder_id)
        found: dict[int, Any] = {}
        members = sorted(family)
        for start in range(0, len(members), KEY_CHUNK):
            part = members[start : start + KEY_CHUNK]
            rows_query = query.where(or_(Beneficiary.id.in_(part), Beneficiary.holder_id.in_(part)))
            if lock:
                rows_query = rows_query.with_for_update()
            found.update((row[0], row) for row in session.execute(rows_query))
        rows = [found[k] for k in sorted(found)]
    cards_by_id = {r[0]: r[1] for r in rows}
    missing = {r[4] for r in rows if r[4] and r[4] not in cards_by_id}
    if missing:
        cards_by_id.update(
            (id_, card)
            for id_, card in session.execute(
                select(Beneficiary.id, Beneficiary.card_number).where(Beneficiary.id.in_(missing))
            )
        )
    for row in rows:
        snap.add(_benef(row, cards_by_id))
    pending = scheduled_for(session, [r[0] for r in rows])
    for b in snap.by_key.values():
        if b.id in pending:
            b.scheduled = pending[b.id]
    return snap


def refuse_if_scheduled(b: Benef) -> None:
    """One scheduled movement at a time: cancel it before registering another."""
    if b.scheduled is not None:
        kind, day = b.scheduled
        raise DomainError(
            f"{b.person.name} tem {scheduled_text(kind, day)}: cancele-a (Movimentações "
            "agendadas) antes de registrar outra movimentação.",
            "card_number",
        )


def _load_target(session: Session, snap: Snapshot, target_id: int) -> CompanyView:
    if target_id not in snap.targets:
        # The destination of a transfer is another company, read on purpose from the
        # origin's unit of work (which scopes every query to the origin otherwise).
        with across_companies(session):
            company = session.get(Company, target_id)
            if company is None:
                raise DomainError("Empresa de destino não encontrada.", "target_company")
            snap.targets[target_id] = _company_view(session, company)
            snap.target_cpfs[target_id] = {
                cpf
                for cpf in session.scalars(
                    select(Beneficiary.cpf).where(
                        Beneficiary.company_id == target_id,
                        Beneficiary.status == "active",
                        Beneficiary.cpf.is_not(None),
                    )
                )
                if cpf
            }
    return snap.targets[target_id]


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class Cover:
    """What a step does to the beneficiary's coverage periods: stop on `at`, or (with a
    company and plan) open a period from `at` until `end`."""

    at: date
    company_id: int | None = None
    plan_id: int | None = None
    end: date | None = None
    kind: str = "regular"

    def apply(
        self, periods: list[cover_rules.Period], movement_id: int | None
    ) -> list[cover_rules.Period]:
        if self.company_id is None or self.plan_id is None:
            return cover_rules.stop_at(periods, self.at)
        return cover_rules.open_at(
            periods,
            self.at,
            self.company_id,
            self.plan_id,
            end=self.end,
            kind=self.kind,
            movement_id=movement_id,
        )


@dataclass
class Step:
    """One beneficiary's part of a change."""

    benef: Benef
    insert: bool
    values: dict[str, Any]  # columns to write
    before: dict[str, Any] | None
    after: dict[str, Any]
    movement: dict[str, Any] = field(default_factory=dict)  # reason, plan ids, from company
    cover: Cover | None = None  # its effect on the coverage periods


@dataclass
class Change:
    kind: MovementKind
    channel: Channel
    effective: date
    subject: str
    steps: list[Step]
    stay_months: int | None = 0
    stay_until: date | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    target_label: str | None = None  # a transfer's destination company
    stay_accepted: bool = False  # arts. 30/31: covered until stay_until, then excluded
    stay_reason: str | None = None  # the holder's exclusion reason at the stay's end


@dataclass(frozen=True)
class Checking:
    """Where a request is checked: the company's snapshot, today's date, and the session for
    the few reads a snapshot does not hold (a transfer's destination, a stay's exclusion)."""

    session: Session
    snap: Snapshot
    today: date


def _effective(
    snap: Snapshot, kind: MovementKind, channel: Channel, effective: date | None, today: date
) -> date:
    return check_effective_date(
        kind=kind,
        channel=channel,
        effective=effective,
        today=today,
        retroactive_months=snap.company.retroactive_months,
        contract_start=snap.company.contract_start,
    )


def _find_holder(snap: Snapshot, card: str | None, cpf: str | None) -> Benef | None:
    if card and only_digits(card):
        b = snap.by_key.get(only_digits(card))
        return b if b is not None and b.is_holder else None
    if cpf and only_digits(cpf):
        key = snap.active_cpf.get(only_digits(cpf).zfill(11))
        b = snap.by_key.get(key) if key else None
        return b if b is not None and b.is_holder else None
    return None


def check_include(at: Checking, req: InclusionRequest) -> Change:
    """Inclusion of a holder, or of a dependent of an active holder."""
    snap, today = at.snap, at.today
    rel = req.relationship_code
    if rel not in {r.value for r in Relationship}:
        raise FieldErrors({"relationship_code": "Parentesco inválido."})
    errors: dict[str, str] = {}
    holder = (
        None if rel == Relationship.HOLDER else _find_holder(snap, req.holder_card, req.holder_cpf)
    )
    if rel != Relationship.HOLDER and holder is None:
        errors["holder"] = "Informe a carteirinha (ou o CPF) de um titular ativo desta empresa."
    person: PersonData | None = None
    try:
        person = clean_person(
            req.person,
            relationship=rel,
            today=today,
            holder_address=holder.person if holder else None,
        )
    except FieldErrors as exc:
        errors.update(exc.errors)
    try:
        effective = _effective(snap, MovementKind.INCLUSION, req.channel, req.effective_date, today)
    except DomainError as exc:
        errors["effective_date"] = exc.message
        effective = today
    plan_id: int | None = None
    try:
        if rel == Relationship.HOLDER:
            plan_id = check_plan_contracted(req.plan_id, snap.company.contracted)
        elif person is not None:
            check_dependent_link(
                relationship=rel,
                holder=snap.holder_view(holder) if holder else None,
                company_id=snap.company.id,
                birth_date=person.birth_date,  # type: ignore[arg-type]
                is_student=person.is_student,
                eligibility=snap.company.eligibility,
                on=effective,
            )
            plan_id = holder.plan_id if holder else None
    except DomainError as exc:
        errors[exc.field or "plan"] = exc.message
    if person is not None and person.cpf and person.cpf in snap.active_cpf:
        errors["cpf"] = CPF_TAKEN
    centre: CostCentreRef | None = None
    try:
        if rel == Relationship.HOLDER:
            if req.cost_centre or snap.company.cost_centre_required:
                centre = resolve_cost_centre(req.cost_centre, snap.company.cost_centres)
        elif holder is not None:
            check_dependent_cost_centre(
                req.cost_centre, snap.company.cost_centre_code(holder.cost_centre_id)
            )
    except DomainError as exc:
        errors["cost_centre"] = exc.message
    if errors:
        raise FieldErrors(errors)
    assert person is not None and plan_id is not None
    b = Benef(
        key=snap.new_key(),
        id=None,
        company_id=snap.company.id,
        plan_id=plan_id,
        holder_key=holder.key if holder else None,
        relationship=rel,
        status="active",
        person=person,
        effective_date=effective,
        cost_centre_id=centre.id if centre else None,
    )
    snap.add(b)
    waiting = inclusion_waiting(
        snap.company,
        person=person,
        relationship=rel,
        holder=holder.person if holder else None,
        effective=effective,
        requested=today,
        participants=snap.company.active_count + snap._new,  # this one and earlier lines
    )
    values = {
        **person.as_dict(),
        "plan_id": plan_id,
        "relationship_code": rel,
        "effective_date": effective,
        "status": "active",
        "waiting_periods": waiting.as_json(),
        "cost_centre_id": b.cost_centre_id,
    }
    step = Step(
        b,
        True,
        values,
        None,
        {
            **values,
            "holder_card": holder.key if holder else None,
            "waiting_reason": waiting.reason,
            "cost_centre": centre.code if centre else None,
        },
        {"new_plan_id": plan_id},
        Cover(effective, snap.company.id, plan_id),
    )
    return Change(MovementKind.INCLUSION, req.channel, effective, person.name, [step])


def exclusion_targets(snap: Snapshot, b: Benef) -> list[Benef]:
    """The beneficiary and the active dependents an exclusion takes with it: no dependent
    is ever left active under an excluded holder."""
    if b.is_holder:
        return [b, *snap.active_dependents(b)]
    return [b]


def check_exclude(at: Checking, req: ExclusionRequest) -> Change:
    """Exclusion (never retroactive); a holder takes its dependents, after confirmation.

    At the beneficiary's own request it takes effect on the request date (RN 561/2022).
    A holder dismissed without cause or retired who contributed may take the arts. 30/31
    stay: then the holder and the whole family stay covered (billed as "art. 30/31")
    until the stay's end, and are excluded on that date."""
    snap, today, reason, channel = at.snap, at.today, req.reason, req.channel
    contributed, contribution_months = req.contributed, req.contribution_months
    check_exclusion_reason(reason)
    effective = _effective(snap, MovementKind.EXCLUSION, channel, req.effective_date, today)
    if reason == "pedido" and effective != today:
        raise DomainError(
            "A exclusão a pedido do beneficiário vale na data do pedido (RN 561/2022): "
            f"informe hoje ({today:%d/%m/%Y}).",
            "effective_date",
        )
    b = snap.find(req.card_number)
    if b.status != "active":
        raise DomainError(f"{b.person.name} já está inativo(a).", "card_number")
    refuse_if_scheduled(b)
    targets = exclusion_targets(snap, b)
    if len(targets) > 1 and not req.dependents_confirmed:
        names = ", ".join(d.person.name for d in targets[1:])
        raise DomainError(
            f"A exclusão do titular exclui também os dependentes: {names}. "
            "Confirme para continuar.",
            "dependents_confirmed",
        )
    months: int | None = 0
    until: date | None = None
    if b.is_holder:
        months, until = stay_until(reason, contributed, contribution_months, effective)
    staying = req.stay_accepted and b.is_holder and months != 0
    if req.stay_accepted and not staying:
        raise DomainError(
            "A permanência (arts. 30/31 da Lei 9.656) é só para o titular demitido sem justa "
            "causa ou aposentado que contribuiu para o plano: confira o motivo e a contribuição.",
            "stay_accepted",
        )
    steps = []
    for t in targets:
        why = reason if t is b else "perda_elegibilidade"
        if staying:
            values: dict[str, Any] = {"stay_until": until, "exclusion_reason": None}
            cover = Cover(effective, t.company_id, t.plan_id, until, "stay")
        else:
            values = {
                "status": "inactive",
                "exclusion_date": effective,
                "exclusion_reason": why,
                "stay_until": until if t is b else None,
            }
            cover = Cover(effective)
        steps.append(
            Step(
                t,
                False,
                values,
                {"status": "active", "exclusion_date": None, "exclusion_reason": None},
                {
                    **values,
                    "contributed": contributed,
                    "contribution_months": contribution_months,
                    "stay_months": months if t is b else 0,
                    "stay_accepted": staying,
                },
                {"reason": why},
                cover,
            )
        )
        if not staying:
            snap.set_status(t, "inactive")
            t.exclusion_date, t.exclusion_reason = effective, why
    return Change(
        MovementKind.EXCLUSION,
        channel,
        effective,
        f"{b.person.name} ({EXCLUSION_REASONS[reason]})",
        steps,
        stay_months=months,
        stay_until=until,
        stay_accepted=staying,
        stay_reason=reason,
    )


def check_stay_accept(at: Checking, card_number: str) -> Change:
    """The holder excluded for dismissal without cause or retirement opts for the arts.
    30/31 stay within 30 days of the exclusion: the holder and the family excluded with
    them are covered again from the exclusion date (a "stay" period, billed on their own
    lines, months already past caught up on the next invoice) until the stay's end, when
    they are excluded again."""
    session, snap, today = at.session, at.snap, at.today
    b = snap.find(card_number)
    if not b.is_holder:
        raise DomainError("A permanência (arts. 30/31) é opção do titular.", "card_number")
    if b.status != "inactive" or b.exclusion_date is None:
        raise DomainError(f"{b.person.name} não está excluído(a).", "card_number")
    if b.exclusion_reason not in STAY_REASONS:
        raise DomainError(
            "A permanência (arts. 30/31) é só para o titular demitido sem justa causa ou "
            "aposentado.",
            "card_number",
        )
    if (today - b.exclusion_date).days > STAY_CHOICE_DAYS:
        raise DomainError(
            f"O prazo de {STAY_CHOICE_DAYS} dias para optar pela permanência terminou em "
            f"{b.exclusion_date + timedelta(days=STAY_CHOICE_DAYS):%d/%m/%Y}.",
            "card_number",
        )
    exclusion = session.execute(
        select(Movement.protocol_id, Movement.after)
        .where(
            Movement.beneficiary_id == b.id,
            Movement.kind == MovementKind.EXCLUSION.value,
            Movement.state == "applied",
        )
        .order_by(Movement.id.desc())
        .limit(1)
    ).one_or_none()
    after = (exclusion.after if exclusion else None) or {}
    months, until = stay_until(
        b.exclusion_reason,
        bool(after.get("contributed")),
        int(after.get("contribution_months") or 0),
        b.exclusion_date,
    )
    if months == 0:
        raise DomainError(
            "Pelo que a exclusão registrou (contribuição e tempo), não há direito a "
            "permanência (arts. 30/31).",
            "card_number",
        )
    started, reason = b.exclusion_date, b.exclusion_reason
    family = [b]
    if exclusion is not None:
        together = set(
            session.scalars(
                select(Movement.beneficiary_id).where(
                    Movement.protocol_id == exclusion.protocol_id,
                    Movement.kind == MovementKind.EXCLUSION.value,
                )
            ).all()
        )
        family += [
            snap.by_key[k]
            for k in snap.dependents.get(b.key, [])
            if snap.by_key[k].id in together and snap.by_key[k].status == "inactive"
        ]
    for m in family:
        if m.person.cpf and m.person.cpf in snap.active_cpf:
            raise FieldErrors({"cpf": f"{m.person.name}: {CPF_TAKEN}"})
    steps = []
    for m in family:
        values = {
            "status": "active",
            "exclusion_date": None,
            "exclusion_reason": None,
            "stay_until": until,
        }
        steps.append(
            Step(
                m,
                False,
                values,
                {
                    "status": m.status,
                    "exclusion_date": m.exclusion_date,
                    "exclusion_reason": m.exclusion_reason,
                },
                {**values, "stay_accepted": True, "stay_months": months if m is b else 0},
                {"reason": "permanencia", "new_plan_id": m.plan_id},
                Cover(started, m.company_id, m.plan_id, until, "stay"),
            )
        )
        snap.set_status(m, "active")
        m.exclusion_date = m.exclusion_reason = None
    return Change(
        MovementKind.REACTIVATION,
        Channel.INDIVIDUAL,
        started,
        f"{b.person.name} (permanência, arts. 30/31)",
        steps,
        stay_months=months,
        stay_until=until,
        stay_accepted=True,
        stay_reason=reason,
    )


def _requested(before: PersonData, cleaned: PersonData, changes: Mapping[str, Any]) -> PersonData:
    """Only the fields the request sent change (in their cleaned form); the rest of the
    stored register stays as it is."""
    return replace(before, **{f: getattr(cleaned, f) for f in changes})


def check_update(at: Checking, req: UpdateRequest) -> Change:
    """Correction of basic data, effective at once."""
    snap, today, changes, channel = at.snap, at.today, req.changes, req.channel
    if channel is Channel.RETROACTIVE:
        raise DomainError("Alteração cadastral não pode ser retroativa.", "effective_date")
    b = snap.find(req.card_number)
    before = b.person
    holder = snap.by_key.get(b.holder_key) if b.holder_key else None
    # Only the cost centre may change: the stored register is not checked again then.
    after = (
        _requested(
            before,
            clean_person(merge_update(before, changes), relationship=b.relationship, today=today),
            changes,
        )
        if changes
        else before
    )
    diff = changed_fields(before, after)
    centre = _cost_centre_change(snap, b, req.cost_centre)
    if not diff and centre is None:
        raise DomainError("Nenhum dado foi alterado.")
    if (
        b.status == "active"
        and after.cpf
        and after.cpf != before.cpf
        and (snap.active_cpf.get(after.cpf) not in (None, b.key))
    ):
        raise FieldErrors({"cpf": CPF_TAKEN})
    if (
        holder is not None
        and b.status == "active"
        and ("birth_date" in diff or "is_student" in diff)
    ):
        check_dependent_link(
            relationship=b.relationship,
            holder=snap.holder_view(holder),
            company_id=snap.company.id,
            birth_date=after.birth_date,  # type: ignore[arg-type]
            is_student=after.is_student,
            eligibility=snap.company.eligibility,
            on=today,
        )
    snap.set_person(b, after)
    values: dict[str, Any] = {k: v[1] for k, v in diff.items()}
    before_values: dict[str, Any] = {k: v[0] for k, v in diff.items()}
    after_values: dict[str, Any] = dict(values)
    if centre is not None:
        old_code = snap.company.cost_centre_code(b.cost_centre_id)
        values["cost_centre_id"] = centre.id
        before_values.update(cost_centre_id=b.cost_centre_id, cost_centre=old_code)
        after_values.update(cost_centre_id=centre.id, cost_centre=centre.code)
        diff["cost_centre"] = (old_code, centre.code)
        b.cost_centre_id = centre.id
    step = Step(b, False, values, before_values, after_values)
    return Change(MovementKind.UPDATE, channel, today, b.person.name, [step], changes=diff)


def _cost_centre_change(snap: Snapshot, b: Benef, code: str | None) -> CostCentreRef | None:
    """The holder's new cost centre an update asks for (None: it does not change it)."""
    if not code or not code.strip():
        return None
    if not b.is_holder:
        raise DomainError(
            "O centro de custo é do titular: os dependentes o acompanham. Altere o titular.",
            "cost_centre",
        )
    centre = resolve_cost_centre(code, snap.company.cost_centres)
    return None if centre.id == b.cost_centre_id else centre


def check_reactivate(at: Checking, req: ReactivationRequest) -> Change:
    """An inactive beneficiary comes back with the same card number; with `stay`, the
    holder's arts. 30/31 option instead (`check_stay_accept`)."""
    if req.stay:
        return check_stay_accept(at, req.card_number)
    snap, today, changes, channel = at.snap, at.today, req.changes, req.channel
    effective = _effective(snap, MovementKind.REACTIVATION, channel, req.effective_date, today)
    b = snap.find(req.card_number)
    if b.status == "active":
        raise DomainError(f"{b.person.name} já está ativo(a).", "card_number")
    refuse_if_scheduled(b)
    person = _requested(
        b.person,
        clean_person(merge_update(b.person, changes), relationship=b.relationship, today=today),
        changes,
    )
    if person.cpf and person.cpf in snap.active_cpf:
        raise FieldErrors({"cpf": CPF_TAKEN})
    plan_id = b.plan_id
    if b.is_holder:
        check_plan_contracted(plan_id, snap.company.contracted)
    else:
        holder = snap.by_key.get(b.holder_key or "")
        check_dependent_link(
            relationship=b.relationship,
            holder=snap.holder_view(holder) if holder else None,
            company_id=snap.company.id,
            birth_date=person.birth_date,  # type: ignore[arg-type]
            is_student=person.is_student,
            eligibility=snap.company.eligibility,
            on=effective,
        )
        plan_id = holder.plan_id if holder else plan_id
    diff = changed_fields(b.person, person)
    before = {
        "status": b.status,
        "exclusion_date": b.exclusion_date,
        "exclusion_reason": b.exclusion_reason,
        "effective_date": b.effective_date,
        "plan_id": b.plan_id,
        **{k: v[0] for k, v in diff.items()},
    }
    values = {
        "status": "active",
        "exclusion_date": None,
        "exclusion_reason": None,
        "stay_until": None,
        "effective_date": effective,
        "plan_id": plan_id,
        **{k: v[1] for k, v in diff.items()},
    }
    snap.set_person(b, person)
    snap.set_status(b, "active")
    b.plan_id, b.effective_date, b.exclusion_date, b.exclusion_reason = (
        plan_id,
        effective,
        None,
        None,
    )
    cover = Cover(effective, b.company_id, plan_id)
    step = Step(b, False, values, before, values, {"new_plan_id": plan_id}, cover)
    return Change(
        MovementKind.REACTIVATION, channel, effective, b.person.name, [step], changes=diff
    )


def check_transfer(at: Checking, req: TransferRequest) -> Change:
    """A holder and its dependents move to another company of the same group."""
    session, snap, channel, plan_id = at.session, at.snap, req.channel, req.plan_id
    effective = _effective(snap, MovementKind.TRANSFER, channel, req.effective_date, at.today)
    target = _load_target(session, snap, req.target_company_id)
    if target.id == snap.company.id:
        raise DomainError("Escolha uma empresa diferente da atual.", "target_company")
    if snap.company.group_id is None or target.group_id != snap.company.group_id:
        raise DomainError(
            "Transferência só entre empresas do mesmo grupo econômico.", "target_company"
        )
    b = snap.find(req.card_number)
    if not b.is_holder:
        raise DomainError("Transfira o titular: os dependentes vão junto com ele.", "card_number")
    if b.status != "active":
        raise DomainError(f"{b.person.name} está inativo(a): reative antes.", "card_number")
    refuse_if_scheduled(b)
    wanted = plan_id if plan_id is not None else b.plan_id  # None keeps the current plan
    new_plan = check_transfer_plan(
        wanted,
        session.scalar(select(Plan.name).where(Plan.id == wanted)) or f"nº {wanted}",
        f"{target.code} ({target.name})",
        target.contracted,
    )
    moving = [b, *snap.active_dependents(b)]
    taken = snap.target_cpfs[target.id]
    for m in moving:
        if m.person.cpf and m.person.cpf in taken:
            raise DomainError(
                f"{m.person.name} já tem cadastro ativo na empresa de destino.", "card_number"
            )
    steps = []
    for m in moving:
        before = {"company_id": m.company_id, "plan_id": m.plan_id}
        values: dict[str, Any] = {"company_id": target.id, "plan_id": new_plan}
        if m.cost_centre_id is not None:
            # The origin's cost centre means nothing at the destination: chosen there anew.
            before["cost_centre_id"] = m.cost_centre_id
            values["cost_centre_id"] = None
        steps.append(
            Step(
                m,
                False,
                values,
                before,
                values,
                {
                    "from_company_id": snap.company.id,
                    "old_plan_id": m.plan_id,
                    "new_plan_id": new_plan,
                },
                Cover(effective, target.id, new_plan),
            )
        )
        snap.release_cpf(m)  # no longer active in this company
        m.company_id, m.plan_id, m.cost_centre_id = target.id, new_plan, None
        if m.person.cpf:
            taken.add(m.person.cpf)
    return Change(
        MovementKind.TRANSFER,
        channel,
        effective,
        f"{b.person.name} para {target.code} · {target.name}",
        steps,
        target_label=f"{target.code} · {target.name}",
    )


def check_change_plan(at: Checking, req: PlanChangeRequest) -> Change:
    """A holder's plan changes; the active dependents follow."""
    snap, channel = at.snap, req.channel
    effective = _effective(snap, MovementKind.PLAN_CHANGE, channel, req.effective_date, at.today)
    b = snap.find(req.card_number)
    if not b.is_holder:
        raise DomainError(
            "A alteração de plano é feita no titular; os dependentes acompanham.", "card_number"
        )
    if b.status != "active":
        raise DomainError(f"{b.person.name} está inativo(a).", "card_number")
    refuse_if_scheduled(b)
    new_plan = check_plan_contracted(req.plan_id, snap.company.contracted)
    if new_plan == b.plan_id:
        raise DomainError("O titular já está neste plano: escolha outro.", "plan")
    steps = []
    for m in [b, *snap.active_dependents(b)]:
        steps.append(
            Step(
                m,
                False,
                {"plan_id": new_plan},
                {"plan_id": m.plan_id},
                {"plan_id": new_plan},
                {"old_plan_id": m.plan_id, "new_plan_id": new_plan},
                Cover(effective, m.company_id, new_plan),
            )
        )
        m.plan_id = new_plan
    return Change(MovementKind.PLAN_CHANGE, channel, effective, b.person.name, steps)


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class MovementType:
    """A movement kind: the request type that asks for it and the check that turns such a
    request into a `Change` (docs/howto-add-a-movement-type.md)."""

    request: type[Request]
    check: Callable[[Checking, Any], Change]

    @property
    def kind(self) -> MovementKind:
        return self.request.kind


MOVEMENT_TYPES: dict[MovementKind, MovementType] = {
    t.kind: t
    for t in (
        MovementType(InclusionRequest, check_include),
        MovementType(ExclusionRequest, check_exclude),
        MovementType(UpdateRequest, check_update),
        MovementType(ReactivationRequest, check_reactivate),
        MovementType(TransferRequest, check_transfer),
        MovementType(PlanChangeRequest, check_change_plan),
    )
}


def check_request(at: Checking, request: Request) -> Change:
    """Check any request with its kind's check: the one path of every channel."""
    movement = MOVEMENT_TYPES[request.kind]
    if not isinstance(request, movement.request):
        raise TypeError(f"{type(request).__name__} is not a {movement.request.__name__}")
    return movement.check(at, request)


# ---------------------------------------------------------------- apply

SCHEDULABLE = (MovementKind.EXCLUSION, MovementKind.TRANSFER, MovementKind.PLAN_CHANGE)


def is_scheduled(change: Change, today: date) -> bool:
    """An exclusion, transfer or plan change dated after today waits for its date: the
    beneficiary stays as they are until then (its coverage periods are written now)."""
    return change.kind in SCHEDULABLE and change.effective > today


@dataclass(frozen=True)
class Applied:
    """What one change became: protocol number and the beneficiaries touched."""

    protocol_number: str
    affected: list[tuple[int, str, str, int]]  # id, name, card number, relationship


@dataclass
class Applier:
    """Writes changes for one company, actor and moment, in bulk."""

    session: Session
    snapshot: Snapshot
    user_id: int | None
    now: datetime

    @property
    def company(self) -> CompanyView:
        return self.snapshot.company

    def apply(self, changes: list[Change]) -> list[Applied]:
        """Write `changes` (all or nothing for this list)."""
        if not changes:
            return []
        s = self.session
        op = operator(s)
        today = local_date(self.now)
        billing_month = movement_billing_month(today, self.company.cutoff_day)
        # New beneficiaries: card numbers from the counter, holders before dependents.
        inserts = [st for c in changes for st in c.steps if st.insert]
        if inserts:
            first = counter_take(s, "card_number", len(inserts))
            for seq, st in enumerate(inserts, start=first):
                st.benef.card = make_card_number(op.card_prefix, seq)
            self._insert_beneficiaries([st for st in inserts if st.benef.is_holder])
            self._insert_beneficiaries([st for st in inserts if not st.benef.is_holder])
        scheduled = {id(c) for c in changes if is_scheduled(c, today)}
        self._update_beneficiaries(
            [st for c in changes if id(c) not in scheduled for st in c.steps if not st.insert]
        )
        # Protocols: one per change, numbered in a block of today's sequence.
        numbers, deadline = protocol_numbers_issue(s, self.now, len(changes))
        protocol_rows: list[dict[str, Any]] = []
        for number, c in zip(numbers, changes, strict=True):
            label = MOVEMENT_LABELS[c.kind]
            names = ", ".join(
                f"{st.benef.person.name} ({format_card_number(self._card(st.benef))})"
                for st in c.steps
            )
            protocol_rows.append(
                {
                    "company_id": self.company.id,
                    "number": number,
                    "kind": c.kind.value,
                    "subject": f"{label}: {c.subject}"[:200],
                    "description": f"{label} ({CHANNEL_LABELS[c.channel].lower()}) com vigência em "
                    f"{c.effective:%d/%m/%Y}: {names}",
                    "status": "closed",
                    "opened_at": self.now,
                    "deadline": deadline,
                    "closed_at": self.now,
                    "opened_by_user_id": self.user_id,
                }
            )
        # Core inserts; ids come back unordered in a few statements, matched by number.
        protocol_table = _table(Protocol)
        by_number = dict(
            (number, id_)
            for id_, number in s.execute(
                insert(protocol_table).returning(protocol_table.c.id, protocol_table.c.number),
                protocol_rows,
            )
        )
        protocol_ids = [by_number[row["number"]] for row in protocol_rows]
        events = []
        for pid, c in zip(protocol_ids, changes, strict=True):
            label = MOVEMENT_LABELS[c.kind]
            events.append(
                {
                    "protocol_id": pid,
                    "at": self.now,
                    "user_id": self.user_id,
                    "status": "open",
                    "note": "Protocolo aberto.",
                }
            )
            events.append(
                {
                    "protocol_id": pid,
                    "at": self.now,
                    "user_id": self.user_id,
                    "status": "closed",
                    "note": f"{label} registrada. Vigência {c.effective:%d/%m/%Y}.",
                }
            )
        s.execute(insert(_table(ProtocolEvent)), events)
        # The periods of the people these changes touch, read once for both passes.
        stored = periods_of(
            s,
            [
                st.benef.id
                for c in changes
                for st in c.steps
                if not st.insert and st.benef.id is not None
            ],
        )
        coverage_before = self._coverage_before(changes, stored)
        movements, audits = [], []
        for pid, c in zip(protocol_ids, changes, strict=True):
            later = id(c) in scheduled
            for st in c.steps:
                b = st.benef
                before, after = json_safe(st.before), json_safe(st.after)
                movements.append(
                    {
                        "company_id": self.company.id if later else b.company_id,
                        "beneficiary_id": b.id,
                        "kind": c.kind.value,
                        "channel": c.channel.value,
                        "effective_date": c.effective,
                        "received_at": self.now,
                        "billing_month": billing_month,
                        "is_retroactive": c.channel is Channel.RETROACTIVE,
                        "actor_user_id": self.user_id,
                        "protocol_id": pid,
                        "from_company_id": st.movement.get("from_company_id"),
                        "old_plan_id": st.movement.get("old_plan_id"),
                        "new_plan_id": st.movement.get("new_plan_id"),
                        "reason": st.movement.get("reason"),
                        "before": before,
                        "after": after,
                        "state": "scheduled" if later else "applied",
                        "pending": json_safe(st.values) if later else None,
                        "coverage_before": coverage_before.get(id(st)) if later else None,
                    }
                )
                audits.append(
                    {
                        "at": self.now,
                        "user_id": self.user_id,
                        "company_id": b.company_id,
                        "action": f"movement_{c.kind.value}",
                        "entity": "beneficiary",
                        "entity_id": str(b.id),
                        "before": before,
                        "after": after,
                    }
                )
        table = _table(Movement)
        movement_ids = [
            row[0]
            for row in s.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), movements
            )
        ]
        self._write_coverage(changes, movement_ids, stored)
        self._schedule_stay_ends(changes, protocol_ids, billing_month)
        s.execute(insert(_table(AuditRecord)), audits)
        return [
            Applied(
                row["number"],
                [
                    (
                        _written(st.benef),
                        st.benef.person.name,
                        self._card(st.benef),
                        st.benef.relationship,
                    )
                    for st in c.steps
                ],
            )
            for row, c in zip(protocol_rows, changes, strict=True)
        ]

    @staticmethod
    def _coverage_before(
        changes: list[Change], stored: Mapping[int, list[cover_rules.Period]]
    ) -> dict[int, list[dict[str, Any]]]:
        """Each step's beneficiary periods just before it (kept by a scheduled movement,
        to be restored if it is cancelled)."""
        current = dict(stored)
        found: dict[int, list[dict[str, Any]]] = {}
        for c in changes:
            for st in c.steps:
                key = st.benef.id or id(st.benef)
                periods = current.get(key, [])
                found[id(st)] = period_json(periods)
                if st.cover is not None:
                    current[key] = st.cover.apply(periods, None)
        return found

    def _write_coverage(
        self,
        changes: list[Change],
        movement_ids: list[int],
        stored: Mapping[int, list[cover_rules.Period]],
    ) -> None:
        """Apply every step's coverage operation, in order, and write the result."""
        steps = [st for c in changes for st in c.steps]
        assert len(steps) == len(movement_ids)
        touched = {st.benef.id for st in steps if st.cover is not None}
        if not touched:
            return
        current = {bid: list(periods) for bid, periods in stored.items()}
        for st, movement_id in zip(steps, movement_ids, strict=True):
            if st.cover is None:
                continue
            bid = st.benef.id
            assert bid is not None
            current[bid] = st.cover.apply(current.get(bid, []), movement_id)
        write_periods(
            self.session,
            {bid: (stored.get(bid, []), current[bid]) for bid in current if bid in touched},
        )

    def _schedule_stay_ends(
        self, changes: list[Change], protocol_ids: list[int], billing_month: date
    ) -> None:
        """An arts. 30/31 stay with an end: everyone it keeps is excluded on that date
        (scheduled movements of the same protocol, settled on the day)."""
        rows = []
        for pid, c in zip(protocol_ids, changes, strict=True):
            if not c.stay_accepted or c.stay_until is None:
                continue
            for i, st in enumerate(c.steps):
                reason = (
                    (c.stay_reason or st.movement.get("reason"))
                    if i == 0
                    else ("perda_elegibilidade")
                )
                pending = {
                    "status": "inactive",
                    "exclusion_date": c.stay_until,
                    "exclusion_reason": reason,
                }
                rows.append(
                    {
                        "company_id": st.benef.company_id,
                        "beneficiary_id": st.benef.id,
                        "kind": MovementKind.EXCLUSION.value,
                        "channel": c.channel.value,
                        "effective_date": c.stay_until,
                        "received_at": self.now,
                        "billing_month": billing_month,
                        "is_retroactive": False,
                        "actor_user_id": self.user_id,
                        "protocol_id": pid,
                        "reason": reason,
                        "before": None,
                        "after": json_safe({**pending, "end_of_stay": True}),
                        "state": "scheduled",
                        "pending": json_safe(pending),
                        "coverage_before": None,  # the end of a legal stay is not cancelled
                    }
                )
        if rows:
            self.session.execute(insert(_table(Movement)), rows)

    @staticmethod
    def _card(b: Benef) -> str:
        return b.card or b.key

    def _insert_beneficiaries(self, steps: list[Step]) -> None:
        if not steps:
            return
        rows = []
        for st in steps:
            b = st.benef
            holder_id = None
            if b.holder_key:
                holder_id = self.snapshot.by_key[b.holder_key].id
                if holder_id is None:
                    raise DomainError("O titular desta linha não foi aplicado.", "holder")
            rows.append(
                {
                    **st.values,
                    "company_id": b.company_id,
                    "card_number": self._card(b),
                    "holder_id": holder_id,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        table = _table(Beneficiary)
        by_card = dict(
            (card, id_)
            for id_, card in self.session.execute(
                insert(table).returning(table.c.id, table.c.card_number), rows
            )
        )
        for st in steps:
            st.benef.id = by_card[self._card(st.benef)]

    def _update_beneficiaries(self, steps: list[Step]) -> None:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for st in steps:
            values = {**st.values, "updated_at": self.now}
            groups.setdefault(tuple(sorted(values)), []).append({"id": st.benef.id, **values})
        for rows in groups.values():
            self.session.execute(update(Beneficiary), rows)


def apply_many(
    session: Session, applier: Applier, changes: Sequence[tuple[K, Change]]
) -> dict[K, Applied | DomainError]:
    """Write many changes (a chunk of a batch file) together; if that fails at write time
    (a race with another session), each is redone alone in its own savepoint, so only the
    failing ones are refused (their DomainError in place of an Applied) and the others stay."""
    try:
        with session.begin_nested():
            applied = applier.apply([c for _, c in changes])
        return dict(zip([key for key, _ in changes], applied, strict=True))
    except (IntegrityError, DomainError):
        _forget_new_ids([c for _, c in changes])
    results: dict[K, Applied | DomainError] = {}
    for key, change in changes:
        try:
            with session.begin_nested():
                (results[key],) = applier.apply([change])
        except IntegrityError as exc:
            _forget_new_ids([change])
            results[key] = _write_refusal(exc)
        except DomainError as exc:
            _forget_new_ids([change])
            results[key] = exc
    return results


def _write_refusal(exc: IntegrityError) -> DomainError:
    """A write that lost a race, as the user reads it."""
    if "cpf" in str(exc.orig).lower():
        return FieldErrors({"cpf": CPF_TAKEN})
    return DomainError("Outra movimentação alterou este cadastro ao mesmo tempo. Tente de novo.")


def _table(model: type[Any]) -> Table:
    """A model's table, typed for Core inserts."""
    return cast(Table, model.__table__)


def _written(b: Benef) -> int:
    """The id of a beneficiary the applier has written (new ones get theirs on insert)."""
    if b.id is None:
        raise RuntimeError(f"beneficiary {b.key} has no row yet")
    return b.id


def _forget_new_ids(changes: list[Change]) -> None:
    """After a rolled-back write, new beneficiaries have no row (nor card) any more."""
    for c in changes:
        for st in c.steps:
            if st.insert:
                st.benef.id = None
                st.benef.card = None
