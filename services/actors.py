"""Who is acting, what they may do, and on which companies."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from services.rules.errors import DomainError


class Role(StrEnum):
    ACCOUNT_MANAGER = "account_manager"
    MASTER = "master"
    USER = "user"


class Permission(StrEnum):
    MOVEMENTS = "movements"
    FINANCE = "finance"
    REPORTS = "reports"
    PROTOCOLS = "protocols"
    USER_ADMIN = "user_admin"
    # LGPD: see CPF and birth date unmasked in lists and exports.
    PERSONAL_DATA = "personal_data"


PERMISSION_LABELS: dict[Permission, str] = {
    Permission.MOVEMENTS: "Movimentação cadastral",
    Permission.FINANCE: "Financeiro",
    Permission.REPORTS: "Relatórios",
    Permission.PROTOCOLS: "Protocolos",
    Permission.USER_ADMIN: "Administração de usuários",
    Permission.PERSONAL_DATA: "Dados pessoais completos (LGPD)",
}

ALL_PERMISSIONS = frozenset(Permission)


def permissions_of(role: str, stored: list[str] | None) -> frozenset[Permission]:
    """What a user may do: a master everything; others what is stored (unknown values
    ignored). Account managers, too, hold every permission on their portfolio."""
    if role in (Role.MASTER.value, Role.ACCOUNT_MANAGER.value):
        return ALL_PERMISSIONS
    valid = {p.value for p in Permission}
    return frozenset(Permission(p) for p in (stored or []) if p in valid)


@dataclass(frozen=True)
class Actor:
    """The logged-in user as the services see it."""

    user_id: int
    user_code: str
    name: str
    role: Role
    permissions: frozenset[Permission]
    company_ids: frozenset[int]
    home_company_id: int | None = None
    email: str = ""
    # The user's session epoch when this actor was built: a session whose epoch is
    # older than the user's ends (password changed, user inactivated).
    session_epoch: int = 0
    # The login's session id (empty for actors built outside a login: CLI, tests).
    session_id: str = field(default="", compare=False, repr=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_account_manager(self) -> bool:
        return self.role is Role.ACCOUNT_MANAGER

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_see_company(self, company_id: int | None) -> bool:
        return company_id is not None and company_id in self.company_ids

    def require(self, permission: Permission | None, company_id: int | None) -> None:
        """Refuse unless the actor has `permission` on `company_id`."""
        if not self.can_see_company(company_id):
            raise DomainError("Você não tem acesso a esta empresa.")
        if permission is not None and not self.can(permission):
            raise DomainError(
                f"Seu usuário não tem permissão para {PERMISSION_LABELS[permission]}. "
                "Peça ao usuário master da empresa."
            )


def operator_actor(name: str, company_ids: frozenset[int]) -> Actor:
    """The operator itself, for its own programs (`name`: a scheduler's job, a command
    line): an account manager over `company_ids`. User id 0 is no portal user, so the
    audit records of what it does carry no user."""
    return Actor(0, "system", name, Role.ACCOUNT_MANAGER, frozenset(ALL_PERMISSIONS), company_ids)
