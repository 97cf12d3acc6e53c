"""User administration ("Administração de usuários") and the audit trail of a company.

Masters administer the users of their companies, account managers those of the
companies in their portfolio, and a user with the administration permission may too,
but never grant more than it holds itself nor touch a master. Every change is audited
with its before and after; an inactivated user's sessions end at their next step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config import get_settings
from data.models import AuditRecord, Company, User
from data.uow import UnitOfWork
from services.access.accounts import (
    Invitation,
    sessions_end_all,
    user_code_next,
    user_invitation_send,
)
from services.actors import (
    ALL_PERMISSIONS,
    PERMISSION_LABELS,
    Actor,
    Permission,
    Role,
    permissions_of,
)
from services.audit import audit_record
from services.mail.outbox import mail_deliver
from services.numbering import BRT
from services.rules.documents import format_cpf, mask_cpf
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import MOVEMENT_LABELS
from services.rules.registration import clean_user, permissions_escalated

STATUS_LABELS = {"pending": "Aguardando primeiro acesso", "active": "Ativo", "inactive": "Inativo"}
ROLE_LABELS = {
    Role.ACCOUNT_MANAGER.value: "Gestor de contas",
    Role.MASTER.value: "Master",
    Role.USER.value: "Usuário",
}
AUDIT_LIMIT = 5_000


@dataclass(frozen=True)
class UserRow:
    id: int
    user_code: str
    name: str
    cpf: str | None
    email: str
    role: str
    permissions: frozenset[Permission]
    status: str
    created_at: datetime
    last_login_at: datetime | None
    # After user_add / user_invitation_resend: whether the invitation left (None: no
    # invitation in this call). False: "não foi possível enviar, tente novamente".
    invitation_delivered: bool | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_master(self) -> bool:
        return self.role == Role.MASTER.value


def _permissions_of(user: User) -> frozenset[Permission]:
    return permissions_of(user.role, user.permissions)


def _row(user: User, show_cpf: bool) -> UserRow:
    cpf = user.cpf
    if cpf:
        cpf = format_cpf(cpf) if show_cpf else mask_cpf(cpf)
    return UserRow(
        id=user.id,
        user_code=user.user_code,
        name=user.name,
        cpf=cpf,
        email=user.email,
        role=user.role,
        permissions=_permissions_of(user),
        status=user.status,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _snapshot(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "permissions": sorted(p.value for p in _permissions_of(user)),
        "status": user.status,
    }


def _clean_permissions(permissions: Iterable[Permission | str]) -> list[str]:
    valid = {p.value for p in Permission}
    chosen = sorted({str(getattr(p, "value", p)) for p in permissions})
    unknown = [p for p in chosen if p not in valid]
    if unknown:
        raise DomainError(f"Permissão desconhecida: {', '.join(unknown)}.")
    return chosen


# ---------------------------------------------------------------- who may do what
# The page asks these to show what the actor may do; the writes below check the same
# functions again, so a forged form gets the same refusal.

MASTER_PROTECTED = "Somente o usuário master ou o gestor de contas altera um master."
OWN_PERMISSIONS = "Você não pode alterar as suas próprias permissões."
OWN_INACTIVATION = "Você não pode inativar o seu próprio usuário."


def user_grantable_permissions(actor: Actor) -> frozenset[Permission]:
    """The permissions `actor` may grant: a master or an account manager all of them,
    a user with user administration only those it holds itself."""
    return ALL_PERMISSIONS if actor.role is not Role.USER else actor.permissions


def user_may_create_master(actor: Actor) -> bool:
    """Only a master or an account manager makes another master."""
    return actor.role is not Role.USER


def _master_protected(actor: Actor, target_role: str) -> bool:
    """A user with user administration never touches a master."""
    return actor.role is Role.USER and target_role == Role.MASTER.value


@dataclass(frozen=True)
class UserEditRights:
    """What `actor` may do to one user of the company, and why not when it may not.

    `edit`: name, CPF, e-mail, invitation and reactivation. `changeable`: the permission
    boxes it may tick or untick (empty when the permissions are not to be changed: a
    master holds them all). `inactivate`: whether it may inactivate the user (the last
    active master is still refused by the service, which counts masters under a lock).
    `notes`: the reasons, in Portuguese, for what is not allowed."""

    edit: bool
    changeable: frozenset[Permission]
    inactivate: bool
    notes: tuple[str, ...] = ()


def user_edit_rights(actor: Actor, target: UserRow) -> UserEditRights:
    """What `actor` may change in `target` (a row of user_list of the same company)."""
    if _master_protected(actor, target.role):
        return UserEditRights(False, frozenset(), False, (MASTER_PROTECTED,))
    notes: list[str] = []
    own = target.id == actor.user_id
    if target.is_master:
        changeable: frozenset[Permission] = frozenset()
    elif own:
        changeable = frozenset()
        notes.append(OWN_PERMISSIONS)
    else:
        # A grant is only what is added: what the target holds may be kept or removed.
        changeable = user_grantable_permissions(actor) | target.permissions
    if own:
        notes.append(OWN_INACTIVATION)
    return UserEditRights(True, changeable, not own, tuple(notes))


def _check_grant(actor: Actor, permissions: list[str], role: Role) -> None:
    """A non-master may grant only what it holds, and may not make masters."""
    if role is Role.MASTER and not user_may_create_master(actor):
        raise DomainError("Somente o usuário master ou o gestor de contas cria outro master.")
    extra = permissions_escalated(permissions, [p.value for p in user_grantable_permissions(actor)])
    if extra:
        labels = ", ".join(PERMISSION_LABELS[Permission(p)] for p in extra)
        raise DomainError(
            f"Você não pode conceder permissões que não tem: {labels}. Peça ao usuário master."
        )


def _company_user(session: Session, actor: Actor, company_id: int, user_id: int) -> User:
    # Filtered by company before locking: another company's row is never locked.
    user = session.scalars(
        select(User).where(User.id == user_id, User.company_id == company_id).with_for_update()
    ).one_or_none()
    if user is None:
        raise DomainError("Usuário não encontrado nesta empresa.")
    if _master_protected(actor, user.role):
        raise DomainError(MASTER_PROTECTED)
    return user


def _duplicate_checks(
    session: Session, company_id: int, email: str, cpf: str, except_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    others = select(User).where(User.company_id == company_id, User.status != "inactive")
    if except_id is not None:
        others = others.where(User.id != except_id)
    for other in session.scalars(others):
        if other.email.strip().lower() == email:
            errors["email"] = (
                f"Já existe o usuário {other.user_code} com este e-mail nesta empresa."
            )
        if other.cpf and other.cpf == cpf:
            errors["cpf"] = f"Já existe o usuário {other.user_code} com este CPF nesta empresa."
    return errors


# ---------------------------------------------------------------- reads


def user_list(*, uow: UnitOfWork, actor: Actor, include_inactive: bool = True) -> list[UserRow]:
    """The company's portal users with status and last login (CPF masked unless permitted)."""
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    show_cpf = actor.can(Permission.PERSONAL_DATA)
    with uow:
        query = select(User).where(User.company_id == company_id)
        if not include_inactive:
            query = query.where(User.status != "inactive")
        users = uow.session.scalars(query.order_by(User.user_code)).all()
        return [_row(u, show_cpf) for u in users]


# ---------------------------------------------------------------- writes


def user_add(
    *,
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    cpf: str,
    email: str,
    permissions: Iterable[Permission | str],
    now: datetime,
    master: bool = False,
    base_url: str | None = None,
) -> UserRow:
    """Create a user (pending) with a new user code and e-mail it the first access
    invitation: a single-use link valid for 7 days to `base_url`/?convite=TOKEN."""
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    data = clean_user(name, cpf, email)
    role = Role.MASTER if master else Role.USER
    chosen = [] if master else _clean_permissions(permissions)
    _check_grant(actor, chosen, role)
    with uow:
        session = uow.session
        company = session.get(Company, company_id)
        if company is None:
            raise DomainError("Empresa não encontrada.")
        if errors := _duplicate_checks(session, company_id, data.email, data.cpf, None):
            raise FieldErrors(errors)
        user = User(
            user_code=user_code_next(session),
            name=data.name,
            cpf=data.cpf,
            email=data.email,
            role=role.value,
            permissions=chosen,
            company_id=company_id,
            status="pending",
            created_at=now,
            session_epoch=0,
            password_history=[],
        )
        session.add(user)
        session.flush()
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="user_add",
            entity="user",
            entity_id=user.id,
            before=None,
            after={"user_code": user.user_code, **_snapshot(user)},
            now=now,
        )
        invitation = user_invitation_send(
            session,
            user=user,
            company=company,
            inviter=actor.name,
            now=now,
            base_url=base_url or get_settings().link_base(),
        )
        row = _row(user, actor.can(Permission.PERSONAL_DATA))
        uow.commit()
    return _with_delivery(row, uow, invitation, now)


def _with_delivery(row: UserRow, uow: UnitOfWork, invitation: Invitation, now: datetime) -> UserRow:
    """Deliver the invitation after the commit (no transaction open, see services.mail.outbox)."""
    delivery = mail_deliver(uow=uow, ids=[invitation.queued], now=now)[0]
    return replace(row, invitation_delivered=delivery.delivered)


def user_update(
    *,
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    name: str,
    cpf: str,
    email: str,
    permissions: Iterable[Permission | str],
    now: datetime,
) -> UserRow:
    """Edit or correct a user's name, CPF, e-mail and permissions (a master keeps all)."""
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    with uow:
        session = uow.session
        user = _company_user(session, actor, company_id, user_id)
        # A masked CPF coming back from the form means "unchanged".
        raw_cpf = user.cpf if (user.cpf and cpf.strip() == mask_cpf(user.cpf)) else cpf
        data = clean_user(name, raw_cpf, email)
        role = Role(user.role)
        chosen = [] if role is Role.MASTER else _clean_permissions(permissions)
        current = {p.value for p in _permissions_of(user)}
        # Only what is added is a grant: a non-master may keep or remove what it lacks.
        _check_grant(actor, [p for p in chosen if p not in current], role)
        own = user.id == actor.user_id
        if own and role is not Role.MASTER and set(chosen) != current:
            raise DomainError(OWN_PERMISSIONS)
        if errors := _duplicate_checks(session, company_id, data.email, data.cpf, user.id):
            raise FieldErrors(errors)
        before = {**_snapshot(user), "cpf": user.cpf}
        user.name = data.name
        user.cpf = data.cpf
        user.email = data.email
        user.permissions = chosen
        after = {**_snapshot(user), "cpf": user.cpf}
        changed = {k for k in after if before[k] != after[k]}
        if changed:
            audit_record(
                session,
                user_id=actor.user_id,
                company_id=company_id,
                action="user_update",
                entity="user",
                entity_id=user.id,
                before={k: _masked(k, before[k]) for k in sorted(changed)},
                after={k: _masked(k, after[k]) for k in sorted(changed)},
                now=now,
            )
        row = _row(user, actor.can(Permission.PERSONAL_DATA))
        uow.commit()
        return row


def user_invitation_resend(
    *,
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    now: datetime,
    base_url: str | None = None,
) -> UserRow:
    """E-mail a pending user a new first access invitation; the earlier one stops working."""
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    with uow:
        session = uow.session
        user = _company_user(session, actor, company_id, user_id)
        if user.status != "pending":
            raise DomainError(
                "Só um usuário aguardando o primeiro acesso recebe convite: este já está "
                + ("ativo." if user.status == "active" else "inativo.")
            )
        company = session.get_one(Company, company_id)
        invitation = user_invitation_send(
            session,
            user=user,
            company=company,
            inviter=actor.name,
            now=now,
            base_url=base_url or get_settings().link_base(),
        )
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="user_invitation_resend",
            entity="user",
            entity_id=user.id,
            before=None,
            after={
                "user_code": user.user_code,
                "email": user.email,
                "expires_at": invitation.expires_at,
            },
            now=now,
        )
        row = _row(user, actor.can(Permission.PERSONAL_DATA))
        uow.commit()
    return _with_delivery(row, uow, invitation, now)


def _masked(key: str, value: object) -> object:
    """CPFs go masked into the audit trail, which other users read."""
    return mask_cpf(str(value)) if key == "cpf" and value else value


def user_set_active(
    *,
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    active: bool,
    now: datetime,
) -> UserRow:
    """Inactivate (its sessions end, it cannot log in) or reactivate a user.

    Nobody inactivates itself, and a company never loses its last active master."""
    company_id = uow.require_company()
    actor.require(Permission.USER_ADMIN, company_id)
    with uow:
        session = uow.session
        user = _company_user(session, actor, company_id, user_id)
        before = user.status
        if active:
            if user.status != "inactive":
                raise DomainError("Este usuário já está ativo.")
            # Its e-mail or CPF may have gone to a new user meanwhile.
            email = user.email.strip().lower()
            if errors := _duplicate_checks(session, company_id, email, user.cpf or "", user.id):
                raise DomainError(
                    f"Não é possível reativar: {' '.join(errors.values())} "
                    "Altere ou inative o outro usuário antes."
                )
            user.status = "active" if user.password_hash else "pending"
            user.failed_attempts = 0
            user.locked_until = None
        else:
            if user.status == "inactive":
                raise DomainError("Este usuário já está inativo.")
            if user.id == actor.user_id:
                raise DomainError(OWN_INACTIVATION)
            if user.role == Role.MASTER.value:
                masters = session.scalars(
                    select(User.id)
                    .where(
                        User.company_id == company_id,
                        User.role == Role.MASTER.value,
                        User.status == "active",
                    )
                    .with_for_update()
                ).all()
                if set(masters) <= {user.id}:
                    raise DomainError(
                        "Este é o último master ativo da empresa: crie ou reative outro "
                        "master antes de inativar este."
                    )
            user.status = "inactive"
            sessions_end_all(session, user, now, "inactivated")
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="user_reactivate" if active else "user_inactivate",
            entity="user",
            entity_id=user.id,
            before={"status": before},
            after={"status": user.status},
            now=now,
        )
        row = _row(user, actor.can(Permission.PERSONAL_DATA))
        uow.commit()
        return row


# ---------------------------------------------------------------- audit trail

AUDIT_ACTION_LABELS = {
    "login": "Login",
    "login_locked": "Bloqueio por tentativas",
    "first_access_request": "Pedido de primeiro acesso (link enviado ao contato)",
    "first_access_request_refused": "Pedido de primeiro acesso sem envio (e-mail não é o contato)",
    "first_access_company": "Primeiro acesso da empresa",
    "first_access_user": "Primeiro acesso do usuário",
    "user_invitation_resend": "Convite reenviado",
    "password_change": "Troca de senha",
    "password_reset": "Senha redefinida",
    "password_reset_request": "Pedido de nova senha",
    "user_add": "Usuário criado",
    "user_update": "Usuário alterado",
    "user_inactivate": "Usuário inativado",
    "user_reactivate": "Usuário reativado",
    "company_contact_update": "Dados da empresa alterados",
    "company_waiting_periods_update": "Prazos de carência do contrato alterados",
    **{f"movement_{k.value}": f"Movimentação: {label}" for k, label in MOVEMENT_LABELS.items()},
    "batch_receive": "Lote recebido",
    "batch_apply": "Lote aplicado",
    "invoice_issue": "Fatura emitida",
    "boleto_issue": "2ª via de boleto",
    "boleto_email": "Boleto enviado por e-mail",
    "overdue_update": "Atualização de fatura vencida",
    "protocol_open": "Protocolo aberto",
    "protocol_note": "Informação em protocolo",
    "movement_cancel": "Movimentação agendada cancelada",
    "batch_enqueue": "Lote na fila para aplicar",
    "roster_reconcile": "Conciliação de folha",
    "billing_run_enqueue": "Faturamento mensal na fila",
    "payment_record": "Pagamento registrado",
    "remessa_generate": "Arquivo de remessa gerado",
    "retorno_apply": "Arquivo de retorno lido",
    "document_issue": "Documento emitido",
    "cost_centre_add": "Centro de custo criado",
    "cost_centre_rename": "Centro de custo renomeado",
    "cost_centre_deactivate": "Centro de custo desativado",
    "cost_centre_reactivate": "Centro de custo reativado",
    "cost_centre_import": "Centro de custo importado",
    "cost_centre_import_file": "Planilha de centros de custo importada",
    "cost_centre_requirement_set": "Exigência de centro de custo alterada",
    "notice_preference": "Avisos por e-mail",
    "price_table_save": "Tabela de preço salva",
    "price_table_readjust": "Reajuste da tabela de preço",
    "price_table_readjust_pool": "Reajuste do agrupamento de contratos",
    "company_band_change": "Regra de mudança de faixa etária alterada",
    "operator_settings_update": "Configurações do operador alteradas",
}


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user_code: str | None
    user_name: str | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None

    @property
    def action_label(self) -> str:
        return AUDIT_ACTION_LABELS.get(self.action, self.action.replace("_", " ").capitalize())


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.entries)


def _require_audit_reader(actor: Actor, company_id: int) -> None:
    actor.require(None, company_id)
    if actor.role is Role.USER:
        raise DomainError(
            "A trilha de auditoria é vista pelo usuário master e pelo gestor de contas."
        )


def audit_list(
    *,
    uow: UnitOfWork,
    actor: Actor,
    date_from: date | None = None,
    date_to: date | None = None,
    actions: Iterable[str] = (),
    user_code: str = "",
    limit: int = AUDIT_LIMIT,
) -> AuditPage:
    """The company's audit records, newest first (who, when, what, before and after)."""
    company_id = uow.require_company()
    _require_audit_reader(actor, company_id)
    if date_from and date_to and date_from > date_to:
        raise DomainError("A data inicial é posterior à data final: corrija o período.")
    who = aliased(User)
    with uow:
        session = uow.session
        base = (
            select(AuditRecord, who.user_code, who.name)
            .outerjoin(who, AuditRecord.user_id == who.id)
            .where(AuditRecord.company_id == company_id)
        )
        if date_from:
            base = base.where(AuditRecord.at >= _brt_start(date_from))
        if date_to:
            base = base.where(AuditRecord.at < _brt_start(date_to + timedelta(days=1)))
        chosen = [a for a in actions if a]
        if chosen:
            base = base.where(AuditRecord.action.in_(chosen))
        if user_code.strip():
            base = base.where(who.user_code == user_code.strip())
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = session.execute(
            base.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit)
        ).all()
        return AuditPage(
            entries=[
                AuditEntry(r.at, code, name, r.action, r.entity, r.entity_id, r.before, r.after)
                for r, code, name in rows
            ],
            total=int(total),
        )


def _brt_start(day: date) -> datetime:
    """Midnight of `day` in Brasília (the trail is stored in UTC)."""
    return datetime.combine(day, time(0), tzinfo=BRT)
