"""User administration, audit trail, company data ("Meus dados"), contracted plans and
password changes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, select

from config import Settings
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    EconomicGroup,
    Operator,
    OutboxEmail,
    Plan,
    PriceBand,
    PriceTable,
    User,
    UserSession,
)
from data.uow import NoCompanyInContext, UnitOfWork
from services import companies
from services.access import accounts as access
from services.access import users
from services.actors import Actor, Permission, Role
from services.audit import audit_record
from services.mail import outbox as mail
from services.rules.documents import (
    cnpj_check_digits,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
    mask_cpf,
)
from services.rules.errors import DomainError, FieldErrors

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2025, 3, 10)
PASSWORD = "Sorriso@2025"
P1 = "Dentes#Novos9"
P2 = "Escova!Limpa7"
P3 = "Fio.Dental42x"
BASE_URL = "https://portal.example/"


def cnpj(base: str) -> str:
    return base + cnpj_check_digits(base)


def cpf(base: str) -> str:
    return base + cpf_check_digits(base)


OPERATOR_CNPJ = cnpj("334455660001")
CNPJ_A = cnpj("112223330001")
CNPJ_C = cnpj("987654320001")
CPF_MASTER_A = cpf("529982247")
CPF_ADMIN_A = cpf("111444777")
CPF_PLAIN_A = cpf("123456789")
CPF_INACTIVE_A = cpf("987654321")
CPF_MASTER_C = cpf("246813579")
CPF_NEW = cpf("135792468")
CPF_OTHER = cpf("314159265")
MASKED_CPF = re.compile(r"\*\*\*\.[0-9]{3}\.[0-9]{3}-\*\*")

CONTACT_A: dict[str, str | None] = {
    "cep": "01310100",
    "street": "Avenida Paulista",
    "number": "1000",
    "complement": None,
    "neighbourhood": "Bela Vista",
    "city": "São Paulo",
    "state": "SP",
    "phone": "1133334444",
    "contact_name": "Ana RH",
    "contact_email": "rh@alfa.com.br",
}


@dataclass(frozen=True)
class World:
    company_a: int
    company_c: int
    manager_id: int
    master_a: int  # 100001, master of A
    admin_a: int  # 100002, user of A with user administration, no finance
    plain_a: int  # 100003, user of A without user administration
    inactive_a: int  # 100004, inactive user of A
    master_c: int  # 100005, master of C


@pytest.fixture(autouse=True)
def fast_hashes_and_no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "BCRYPT_ROUNDS", 4)
    values: dict[str, Any] = {"_env_file": None, "smtp_host": "", "base_url": BASE_URL}
    settings = Settings(**values)
    monkeypatch.setattr(mail, "get_settings", lambda: settings)
    monkeypatch.setattr(access, "get_settings", lambda: settings)
    monkeypatch.setattr(users, "get_settings", lambda: settings)


def _user(code: str, role: str, company: Company | None, **kw: object) -> User:
    values: dict[str, object] = {
        "name": f"Pessoa {code}",
        "email": f"u{code}@example.com.br",
        "status": "active",
        "password_hash": access.hash_password(PASSWORD),
        "permissions": [],
        "failed_attempts": 0,
        "created_at": NOW - timedelta(days=30),
    }
    values.update(kw)
    return User(user_code=code, role=role, company_id=company.id if company else None, **values)


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    """Operator; company A (group "Grupo Alfa") with a master, an administrator, a plain
    user and an inactive one; company C apart with its master; an account manager with
    only A in the portfolio."""
    with uow:
        s = uow.session
        operator = Operator(
            name="Sorriso Odonto",
            ans_registration="123456",
            cnpj=OPERATOR_CNPJ,
            pix_key="pix@sorriso.example",
            city="São Paulo",
        )
        group = EconomicGroup(name="Grupo Alfa")
        s.add_all([operator, group])
        s.flush()
        a = Company(
            operator_id=operator.id,
            group_id=group.id,
            code="1001",
            document=CNPJ_A,
            document_type="CNPJ",
            name="Alfa Indústria Ltda",
            trade_name="Alfa",
            contract_start=date(2024, 1, 1),
            **CONTACT_A,
        )
        c = Company(
            operator_id=operator.id,
            code="2001",
            document=CNPJ_C,
            document_type="CNPJ",
            name="Cia Gama",
            contract_start=date(2024, 1, 1),
        )
        s.add_all([a, c])
        s.flush()
        manager = _user("900001", "account_manager", None, name="Gestora Carla")
        master_a = _user(
            "100001",
            "master",
            a,
            name="Marta Master",
            cpf=CPF_MASTER_A,
            permissions=sorted(p.value for p in Permission),
        )
        admin_a = _user(
            "100002",
            "user",
            a,
            name="Alberto Admin",
            cpf=CPF_ADMIN_A,
            permissions=["movements", "reports", "user_admin"],
        )
        plain_a = _user(
            "100003", "user", a, name="Paulo Plain", cpf=CPF_PLAIN_A, permissions=["movements"]
        )
        inactive_a = _user(
            "100004", "user", a, name="Ivo Inativo", cpf=CPF_INACTIVE_A, status="inactive"
        )
        master_c = _user(
            "100005",
            "master",
            c,
            name="Carlos Master",
            cpf=CPF_MASTER_C,
            permissions=sorted(p.value for p in Permission),
        )
        s.add_all([manager, master_a, admin_a, plain_a, inactive_a, master_c])
        s.flush()
        s.add(AccountManagerCompany(user_id=manager.id, company_id=a.id))
        uow.commit()
        return World(
            a.id,
            c.id,
            manager.id,
            master_a.id,
            admin_a.id,
            plain_a.id,
            inactive_a.id,
            master_c.id,
        )


# ---------------------------------------------------------------- helpers


def _actor(uow: UnitOfWork, code: str) -> Actor:
    actor = access.actor_for_user(uow=uow, user_code=code, now=NOW)
    assert actor is not None, code
    return actor


def _user_row(uow: UnitOfWork, code: str) -> User:
    with uow:
        user = uow.session.scalars(select(User).where(User.user_code == code)).one()
        uow.session.expunge(user)
        return user


def _count(uow: UnitOfWork, model: type[Any], *where: ColumnElement[bool]) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _written(uow: UnitOfWork) -> tuple[int, int, int]:
    """How many users, e-mails and audit records there are."""
    return _count(uow, User), _count(uow, OutboxEmail), _count(uow, AuditRecord)


def _audits(uow: UnitOfWork, action: str) -> list[AuditRecord]:
    with uow:
        rows = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        ).all()
        for row in rows:
            uow.session.expunge(row)
        return list(rows)


def _add(uow: UnitOfWork, actor: Actor, company_id: int, **kw: Any) -> users.UserRow:
    values: dict[str, Any] = {
        "name": "Maria Souza",
        "cpf": CPF_NEW,
        "email": "maria.souza@alfa.com.br",
        "permissions": [Permission.MOVEMENTS],
    }
    values.update(kw)
    return users.user_add(uow=uow.for_company(company_id), actor=actor, now=NOW, **values)


def _update(uow: UnitOfWork, actor: Actor, company_id: int, code: str, **kw: Any) -> Any:
    """user_update with the user's current data, overridden by `kw`."""
    current = _user_row(uow, code)
    values: dict[str, Any] = {
        "name": current.name,
        "cpf": current.cpf or "",
        "email": current.email,
        "permissions": list(current.permissions or []),
    }
    values.update(kw)
    return users.user_update(
        uow=uow.for_company(company_id), actor=actor, user_id=current.id, now=NOW, **values
    )


def _set_active(uow: UnitOfWork, actor: Actor, company_id: int, code: str, active: bool) -> Any:
    user_id = _user_row(uow, code).id
    return users.user_set_active(
        uow=uow.for_company(company_id), actor=actor, user_id=user_id, active=active, now=NOW
    )


def _refused(call: Any, *args: Any, **kw: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        call(*args, **kw)
    return err.value


# ---------------------------------------------------------------- user_list


def test_a_master_lists_the_company_users_with_their_cpf(uow: UnitOfWork, world: World) -> None:
    rows = users.user_list(uow=uow.for_company(world.company_a), actor=_actor(uow, "100001"))
    assert [r.user_code for r in rows] == ["100001", "100002", "100003", "100004"]
    by_code = {r.user_code: r for r in rows}
    assert by_code["100001"].cpf == format_cpf(CPF_MASTER_A)
    assert by_code["100003"].cpf == format_cpf(CPF_PLAIN_A)
    assert by_code["100001"].is_master and by_code["100001"].role_label == "Master"
    assert by_code["100001"].permissions == frozenset(Permission)
    assert by_code["100002"].permissions == {
        Permission.MOVEMENTS,
        Permission.REPORTS,
        Permission.USER_ADMIN,
    }
    assert by_code["100004"].status_label == "Inativo"
    active = users.user_list(
        uow=uow.for_company(world.company_a), actor=_actor(uow, "100001"), include_inactive=False
    )
    assert [r.user_code for r in active] == ["100001", "100002", "100003"]


def test_without_the_personal_data_permission_the_cpf_is_masked(
    uow: UnitOfWork, world: World
) -> None:
    rows = users.user_list(uow=uow.for_company(world.company_a), actor=_actor(uow, "100002"))
    stored = {
        "100001": CPF_MASTER_A,
        "100002": CPF_ADMIN_A,
        "100003": CPF_PLAIN_A,
        "100004": CPF_INACTIVE_A,
    }
    assert {r.user_code for r in rows} == set(stored)
    for row in rows:
        assert row.cpf is not None
        assert MASKED_CPF.fullmatch(row.cpf), row.cpf
        assert row.cpf == f"***.{stored[row.user_code][3:6]}.{stored[row.user_code][6:9]}-**"
        assert stored[row.user_code] not in row.cpf


def test_an_account_manager_lists_the_users_of_a_portfolio_company(
    uow: UnitOfWork, world: World
) -> None:
    rows = users.user_list(uow=uow.for_company(world.company_a), actor=_actor(uow, "900001"))
    assert [r.user_code for r in rows] == ["100001", "100002", "100003", "100004"]
    assert rows[0].cpf == format_cpf(CPF_MASTER_A)


@pytest.mark.parametrize(
    ("code", "company", "fragment"),
    [
        ("100005", "a", "não tem acesso a esta empresa"),
        ("900001", "c", "não tem acesso a esta empresa"),
        ("100003", "a", "Administração de usuários"),
        ("100001", "c", "não tem acesso a esta empresa"),
    ],
    ids=["master-of-another-company", "manager-outside-portfolio", "plain-user", "a-to-c"],
)
def test_user_list_is_refused_to_whoever_may_not_administer_the_company(
    uow: UnitOfWork, world: World, code: str, company: str, fragment: str
) -> None:
    company_id = world.company_a if company == "a" else world.company_c
    err = _refused(users.user_list, uow=uow.for_company(company_id), actor=_actor(uow, code))
    assert fragment in err.message


# ---------------------------------------------------------------- user_add


def test_a_master_adds_a_pending_user_and_it_gets_the_invitation(
    uow: UnitOfWork, world: World
) -> None:
    master = _actor(uow, "100001")
    existing = {
        u.user_code for u in users.user_list(uow=uow.for_company(world.company_a), actor=master)
    }
    row = _add(
        uow,
        master,
        world.company_a,
        name="  Maria   Souza ",
        cpf=f"{CPF_NEW[:3]}.{CPF_NEW[3:6]}.{CPF_NEW[6:9]}-{CPF_NEW[9:]}",
        email=" Maria.Souza@Alfa.com.BR ",
        permissions=[Permission.MOVEMENTS, "finance"],
    )
    assert re.fullmatch(r"1[0-9]{5}", row.user_code)
    assert row.user_code not in existing | {"900001", "100005"}
    assert row.status == "pending"
    assert row.role == "user"
    assert row.permissions == {Permission.MOVEMENTS, Permission.FINANCE}

    stored = _user_row(uow, row.user_code)
    assert stored.company_id == world.company_a
    assert stored.name == "Maria Souza"
    assert stored.cpf == CPF_NEW
    assert stored.email == "maria.souza@alfa.com.br"
    assert stored.status == "pending"
    assert stored.password_hash is None
    assert sorted(stored.permissions) == ["finance", "movements"]

    sent = mail.outbox_list(uow=uow, actor=_actor(uow, "900001"), to="maria.souza@alfa.com.br")
    assert len(sent) == 1
    body = sent[0].body
    assert row.user_code in body
    # A single-use invitation link (issue 11): identifiers alone no longer activate.
    assert re.search(r"https://portal\.example/\?convite=[\w-]{43}\n", body)
    assert "//?convite" not in body.replace("https://", "")
    assert "Marta Master" in body

    (record,) = _audits(uow, "user_add")
    assert record.user_id == world.master_a
    assert record.company_id == world.company_a
    assert record.entity == "user"
    assert record.entity_id == str(stored.id)
    assert record.before is None
    assert record.after == {
        "user_code": row.user_code,
        "name": "Maria Souza",
        "email": "maria.souza@alfa.com.br",
        "role": "user",
        "permissions": ["finance", "movements"],
        "status": "pending",
    }
    assert CPF_NEW not in json.dumps(record.after)


def test_each_new_user_gets_a_new_code(uow: UnitOfWork, world: World) -> None:
    master = _actor(uow, "100001")
    first = _add(uow, master, world.company_a)
    second = _add(uow, master, world.company_a, cpf=CPF_OTHER, email="jose.lima@alfa.com.br")
    assert first.user_code != second.user_code
    assert all(re.fullmatch(r"1[0-9]{5}", r.user_code) for r in (first, second))
    codes = [
        u.user_code for u in users.user_list(uow=uow.for_company(world.company_a), actor=master)
    ]
    assert len(codes) == len(set(codes)) == 6


def test_an_account_manager_adds_a_master(uow: UnitOfWork, world: World) -> None:
    row = _add(uow, _actor(uow, "900001"), world.company_a, permissions=["movements"], master=True)
    assert row.role == "master"
    assert row.permissions == frozenset(Permission)
    assert _user_row(uow, row.user_code).role == "master"
    (record,) = _audits(uow, "user_add")
    assert record.user_id == world.manager_id


def test_a_user_with_user_administration_may_grant_what_it_holds(
    uow: UnitOfWork, world: World
) -> None:
    row = _add(
        uow,
        _actor(uow, "100002"),
        world.company_a,
        permissions=[Permission.MOVEMENTS, Permission.REPORTS],
    )
    assert row.permissions == {Permission.MOVEMENTS, Permission.REPORTS}
    # Without the personal data permission the creator sees the CPF masked.
    assert row.cpf == mask_cpf(CPF_NEW)


def test_the_same_email_and_cpf_may_be_used_in_another_company(
    uow: UnitOfWork, world: World
) -> None:
    row = _add(
        uow,
        _actor(uow, "100001"),
        world.company_a,
        cpf=CPF_MASTER_C,
        email="u100005@example.com.br",
    )
    assert _user_row(uow, row.user_code).cpf == CPF_MASTER_C


@pytest.mark.parametrize(
    ("kw", "fields", "fragment"),
    [
        ({"email": "U100002@Example.com.br"}, {"email"}, "100002"),
        (
            {"cpf": f"{CPF_PLAIN_A[:3]}.{CPF_PLAIN_A[3:6]}.{CPF_PLAIN_A[6:9]}-{CPF_PLAIN_A[9:]}"},
            {"cpf"},
            "100003",
        ),
        ({"email": "u100001@example.com.br", "cpf": CPF_ADMIN_A}, {"email", "cpf"}, "100001"),
        ({"cpf": CPF_NEW[:-1] + str((int(CPF_NEW[-1]) + 1) % 10)}, {"cpf"}, "CPF inválido"),
        ({"email": "maria.souza@alfa"}, {"email"}, "E-mail inválido"),
        ({"name": "   "}, {"name"}, "Informe o nome"),
    ],
    ids=["duplicate-email", "duplicate-cpf", "both-duplicates", "bad-cpf", "bad-email", "no-name"],
)
def test_user_add_refuses_bad_or_duplicate_data_and_writes_nothing(
    uow: UnitOfWork, world: World, kw: dict[str, str], fields: set[str], fragment: str
) -> None:
    before = _written(uow)
    with pytest.raises(FieldErrors) as err:
        _add(uow, _actor(uow, "100001"), world.company_a, **kw)
    assert set(err.value.errors) == fields
    assert fragment in err.value.message
    assert _written(uow) == before


def test_an_inactive_users_email_and_cpf_may_be_used_again(uow: UnitOfWork, world: World) -> None:
    row = _add(
        uow,
        _actor(uow, "100001"),
        world.company_a,
        cpf=CPF_INACTIVE_A,
        email="u100004@example.com.br",
    )
    assert row.status == "pending"


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"cpf": CPF_INACTIVE_A}, "com este CPF"),
        ({"email": "U100004@example.com.br"}, "com este e-mail"),
    ],
)
def test_an_inactive_user_whose_email_or_cpf_was_reused_is_not_reactivated(
    uow: UnitOfWork, world: World, kw: dict[str, str], fragment: str
) -> None:
    master = _actor(uow, "100001")
    added = _add(uow, master, world.company_a, **kw)
    before = _written(uow)
    err = _refused(_set_active, uow, master, world.company_a, "100004", True)
    assert "Não é possível reativar" in err.message
    assert fragment in err.message and added.user_code in err.message
    assert _user_row(uow, "100004").status == "inactive"
    assert _written(uow) == before
    # Once the other user is inactivated, the old one comes back.
    _set_active(uow, master, world.company_a, added.user_code, False)
    assert _set_active(uow, master, world.company_a, "100004", True).status == "active"


@pytest.mark.parametrize(
    ("code", "kw", "fragment"),
    [
        ("100002", {"permissions": ["movements", "finance"]}, "Financeiro"),
        ("100002", {"permissions": [Permission.PERSONAL_DATA]}, "Dados pessoais completos"),
        ("100002", {"permissions": [], "master": True}, "cria outro master"),
        ("100003", {"permissions": ["movements"]}, "Administração de usuários"),
        ("100005", {"permissions": ["movements"]}, "não tem acesso a esta empresa"),
        ("100001", {"permissions": ["movements", "bogus"]}, "Permissão desconhecida: bogus"),
    ],
    ids=[
        "user-grants-finance",
        "user-grants-personal-data",
        "user-creates-master",
        "plain-user",
        "other-company-master",
        "unknown-permission",
    ],
)
def test_user_add_refuses_escalation_and_strangers_and_writes_nothing(
    uow: UnitOfWork, world: World, code: str, kw: dict[str, Any], fragment: str
) -> None:
    before = _written(uow)
    err = _refused(_add, uow, _actor(uow, code), world.company_a, **kw)
    assert fragment in err.message
    assert not isinstance(err, FieldErrors)
    assert _written(uow) == before


# ---------------------------------------------------------------- user_update


def test_a_master_edits_a_user_and_the_audit_keeps_before_and_after_with_masked_cpfs(
    uow: UnitOfWork, world: World
) -> None:
    row = _update(
        uow,
        _actor(uow, "100001"),
        world.company_a,
        "100003",
        name="Paulo  Plínio",
        cpf=CPF_NEW,
        email="Paulo@Alfa.com.br",
        permissions=[Permission.MOVEMENTS, Permission.FINANCE],
    )
    assert row.name == "Paulo Plínio"
    assert row.cpf == format_cpf(CPF_NEW)
    stored = _user_row(uow, "100003")
    assert (stored.name, stored.cpf, stored.email) == ("Paulo Plínio", CPF_NEW, "paulo@alfa.com.br")
    assert sorted(stored.permissions) == ["finance", "movements"]
    (record,) = _audits(uow, "user_update")
    assert record.user_id == world.master_a
    assert record.entity_id == str(world.plain_a)
    assert record.before == {
        "cpf": mask_cpf(CPF_PLAIN_A),
        "email": "u100003@example.com.br",
        "name": "Paulo Plain",
        "permissions": ["movements"],
    }
    assert record.after == {
        "cpf": mask_cpf(CPF_NEW),
        "email": "paulo@alfa.com.br",
        "name": "Paulo Plínio",
        "permissions": ["finance", "movements"],
    }
    dumped = json.dumps([record.before, record.after])
    assert CPF_PLAIN_A not in dumped and CPF_NEW not in dumped


def test_only_the_changed_fields_go_into_the_audit(uow: UnitOfWork, world: World) -> None:
    _update(uow, _actor(uow, "100001"), world.company_a, "100003", email="paulo@alfa.com.br")
    (record,) = _audits(uow, "user_update")
    assert record.before == {"email": "u100003@example.com.br"}
    assert record.after == {"email": "paulo@alfa.com.br"}


def test_an_update_that_changes_nothing_writes_no_audit(uow: UnitOfWork, world: World) -> None:
    before = _written(uow)
    _update(uow, _actor(uow, "100001"), world.company_a, "100003", name=" Paulo   Plain ")
    assert _written(uow) == before


def test_a_masked_cpf_sent_back_unchanged_keeps_the_cpf(uow: UnitOfWork, world: World) -> None:
    admin = _actor(uow, "100002")
    listed = {
        r.user_code: r for r in users.user_list(uow=uow.for_company(world.company_a), actor=admin)
    }
    masked = listed["100003"].cpf
    assert masked == mask_cpf(CPF_PLAIN_A)
    row = _update(uow, admin, world.company_a, "100003", name="Paulo Pereira", cpf=f" {masked} ")
    assert row.cpf == masked
    assert _user_row(uow, "100003").cpf == CPF_PLAIN_A
    (record,) = _audits(uow, "user_update")
    assert record.before == {"name": "Paulo Plain"}
    assert record.after == {"name": "Paulo Pereira"}


def test_a_masked_cpf_of_another_person_is_not_taken_as_unchanged(
    uow: UnitOfWork, world: World
) -> None:
    with pytest.raises(FieldErrors) as err:
        _update(uow, _actor(uow, "100001"), world.company_a, "100003", cpf=mask_cpf(CPF_NEW))
    assert set(err.value.errors) == {"cpf"}
    assert _user_row(uow, "100003").cpf == CPF_PLAIN_A


def test_user_update_refuses_the_email_of_another_user(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(FieldErrors) as err:
        _update(
            uow, _actor(uow, "100001"), world.company_a, "100003", email="U100002@example.com.br"
        )
    assert set(err.value.errors) == {"email"}
    assert _user_row(uow, "100003").email == "u100003@example.com.br"
    assert _audits(uow, "user_update") == []


@pytest.mark.parametrize(
    ("actor_code", "target", "kw", "fragment"),
    [
        ("100002", "100001", {"name": "Marta Mudada"}, "altera um master"),
        ("100002", "100002", {"permissions": ["movements", "user_admin"]}, "próprias permissões"),
        ("100002", "100003", {"permissions": ["movements", "finance"]}, "Financeiro"),
        ("100003", "100003", {"name": "Paulo Novo"}, "Administração de usuários"),
        ("100001", "100005", {"name": "Carlos Novo"}, "Usuário não encontrado nesta empresa"),
    ],
    ids=["user-edits-master", "own-permissions", "escalation", "plain-user", "other-company"],
)
def test_user_update_refusals_change_nothing(
    uow: UnitOfWork,
    world: World,
    actor_code: str,
    target: str,
    kw: dict[str, Any],
    fragment: str,
) -> None:
    before = _user_row(uow, target)
    err = _refused(_update, uow, _actor(uow, actor_code), world.company_a, target, **kw)
    assert fragment in err.message
    after = _user_row(uow, target)
    assert (after.name, after.permissions, after.email) == (
        before.name,
        before.permissions,
        before.email,
    )
    assert _audits(uow, "user_update") == []


def test_a_user_may_edit_its_own_name_keeping_its_permissions(
    uow: UnitOfWork, world: World
) -> None:
    _update(uow, _actor(uow, "100002"), world.company_a, "100002", name="Alberto Andrade")
    assert _user_row(uow, "100002").name == "Alberto Andrade"


# ---------------------------------------------------------------- user_set_active


def test_a_master_cannot_inactivate_itself(uow: UnitOfWork, world: World) -> None:
    err = _refused(_set_active, uow, _actor(uow, "100001"), world.company_a, "100001", False)
    assert "próprio usuário" in err.message
    assert _user_row(uow, "100001").status == "active"


def test_the_last_active_master_cannot_be_inactivated_even_by_the_account_manager(
    uow: UnitOfWork, world: World
) -> None:
    err = _refused(_set_active, uow, _actor(uow, "900001"), world.company_a, "100001", False)
    assert "último master ativo" in err.message
    assert _user_row(uow, "100001").status == "active"
    assert _audits(uow, "user_inactivate") == []


def test_with_two_active_masters_one_may_be_inactivated(uow: UnitOfWork, world: World) -> None:
    manager = _actor(uow, "900001")
    second = _add(uow, manager, world.company_a, name="Beatriz Master", permissions=[], master=True)
    # A master that has not made its first access does not count as active.
    err = _refused(_set_active, uow, manager, world.company_a, "100001", False)
    assert "último master ativo" in err.message
    _accept_invitation(uow, "maria.souza@alfa.com.br", P1)
    row = _set_active(uow, _actor(uow, second.user_code), world.company_a, "100001", False)
    assert row.status == "inactive"
    # Now the second one is the last active master.
    err = _refused(_set_active, uow, manager, world.company_a, second.user_code, False)
    assert "último master ativo" in err.message
    assert _user_row(uow, second.user_code).status == "active"


def test_a_user_with_user_administration_cannot_inactivate_a_master(
    uow: UnitOfWork, world: World
) -> None:
    err = _refused(_set_active, uow, _actor(uow, "100002"), world.company_a, "100001", False)
    assert "master" in err.message
    assert _user_row(uow, "100001").status == "active"


def test_inactivation_ends_the_sessions_and_the_login_of_the_user(
    uow: UnitOfWork, world: World
) -> None:
    old_actor = access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    old_token = access.session_token(old_actor)
    epoch = _user_row(uow, "100003").session_epoch
    assert access.actor_refresh(uow=uow, actor=old_actor, now=NOW) is not None

    row = _set_active(uow, _actor(uow, "100001"), world.company_a, "100003", False)
    assert row.status == "inactive"
    assert _user_row(uow, "100003").session_epoch == epoch + 1
    assert access.actor_refresh(uow=uow, actor=old_actor, now=NOW) is None
    assert access.actor_from_session_token(uow=uow, token=old_token, now=NOW) is None
    with pytest.raises(DomainError) as err:
        access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    assert err.value.message == access.NEUTRAL_LOGIN_MESSAGE
    (record,) = _audits(uow, "user_inactivate")
    assert record.user_id == world.master_a
    assert record.entity_id == str(world.plain_a)
    assert (record.before, record.after) == ({"status": "active"}, {"status": "inactive"})


def test_inactivating_twice_is_refused(uow: UnitOfWork, world: World) -> None:
    err = _refused(_set_active, uow, _actor(uow, "100001"), world.company_a, "100004", False)
    assert "já está inativo" in err.message
    err = _refused(_set_active, uow, _actor(uow, "100001"), world.company_a, "100003", True)
    assert "já está ativo" in err.message


def test_reactivation_restores_the_login_but_not_the_old_sessions(
    uow: UnitOfWork, world: World
) -> None:
    old_actor = _actor(uow, "100003")
    master = _actor(uow, "100001")
    _set_active(uow, master, world.company_a, "100003", False)
    # A failed attempt while inactive is forgotten on reactivation.
    with pytest.raises(DomainError):
        access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    assert _user_row(uow, "100003").failed_attempts == 1
    row = _set_active(uow, master, world.company_a, "100003", True)
    assert row.status == "active"
    stored = _user_row(uow, "100003")
    assert (stored.status, stored.failed_attempts) == ("active", 0)
    assert access.actor_refresh(uow=uow, actor=old_actor, now=NOW) is None
    new_actor = access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    assert new_actor.session_epoch == old_actor.session_epoch + 1
    assert access.actor_refresh(uow=uow, actor=new_actor, now=NOW) is not None
    (record,) = _audits(uow, "user_reactivate")
    assert (record.before, record.after) == ({"status": "inactive"}, {"status": "active"})
    assert record.user_id == world.master_a


def test_a_user_without_a_password_is_reactivated_as_pending(uow: UnitOfWork, world: World) -> None:
    master = _actor(uow, "100001")
    added = _add(uow, master, world.company_a)
    _set_active(uow, master, world.company_a, added.user_code, False)
    assert _user_row(uow, added.user_code).status == "inactive"
    row = _set_active(uow, master, world.company_a, added.user_code, True)
    assert row.status == "pending"
    (record,) = _audits(uow, "user_reactivate")
    assert record.after == {"status": "pending"}


def test_an_inactive_user_with_a_password_is_reactivated_as_active(
    uow: UnitOfWork, world: World
) -> None:
    row = _set_active(uow, _actor(uow, "900001"), world.company_a, "100004", True)
    assert row.status == "active"
    assert access.auth_login(uow=uow, user_code="100004", password=PASSWORD, now=NOW)


def test_a_user_of_another_company_cannot_be_inactivated_through_this_one(
    uow: UnitOfWork, world: World
) -> None:
    err = _refused(
        users.user_set_active,
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100001"),
        user_id=world.master_c,
        active=False,
        now=NOW,
    )
    assert "não encontrado nesta empresa" in err.message
    assert _user_row(uow, "100005").status == "active"


# ---------------------------------------------------------------- first access of an added user


def _accept_invitation(uow: UnitOfWork, email: str, password: str) -> access.FirstAccessResult:
    """The invited user opens the link of its invitation e-mail and sets its password."""
    with uow:
        bodies = uow.session.scalars(
            select(OutboxEmail.body)
            .where(OutboxEmail.to_address == email)
            .order_by(OutboxEmail.id.desc())
        ).all()
    token = next(t for b in bodies for t in re.findall(r"\?convite=([\w-]+)", b))
    return access.user_invitation_accept(
        uow=uow, token=token, password=password, confirmation=password, now=NOW
    )


def test_an_added_user_makes_its_first_access_and_logs_in_with_exactly_its_permissions(
    uow: UnitOfWork, world: World
) -> None:
    granted = {Permission.MOVEMENTS, Permission.REPORTS, Permission.PROTOCOLS}
    added = _add(uow, _actor(uow, "100001"), world.company_a, permissions=sorted(granted))
    with pytest.raises(DomainError) as err:
        access.auth_login(uow=uow, user_code=added.user_code, password=P1, now=NOW)
    assert err.value.message == access.NEUTRAL_LOGIN_MESSAGE

    result = _accept_invitation(uow, "maria.souza@alfa.com.br", P1)
    assert result.user_code == added.user_code
    assert _user_row(uow, added.user_code).status == "active"
    actor = access.auth_login(uow=uow, user_code=added.user_code, password=P1, now=NOW)
    assert actor.role is Role.USER
    assert actor.permissions == granted
    assert actor.home_company_id == world.company_a
    assert world.company_a in actor.company_ids
    with pytest.raises(DomainError):
        users.user_list(uow=uow.for_company(world.company_a), actor=actor)


# ---------------------------------------------------------------- audit trail


def _record(
    uow: UnitOfWork, label: str, at: datetime, action: str, user_id: int | None, company_id: int
) -> None:
    with uow:
        audit_record(
            uow.session,
            user_id=user_id,
            company_id=company_id,
            action=action,
            entity="test",
            entity_id=label,
            before={"label": label},
            after=None,
            now=at,
        )
        uow.commit()


@pytest.fixture
def trail(uow: UnitOfWork, world: World) -> World:
    """Records of A around Brasília midnights (UTC-3, stored in UTC) and one of C."""
    a, c = world.company_a, world.company_c
    rows = [
        # label, UTC time, (Brasília time), action, who, company
        ("r1", (2025, 3, 9, 2, 30), "login", world.master_a, a),  # 03-08 23:30
        ("r2", (2025, 3, 10, 2, 30), "user_add", world.master_a, a),  # 03-09 23:30
        ("r3", (2025, 3, 10, 3, 30), "login", world.admin_a, a),  # 03-10 00:30
        ("r6", (2025, 3, 10, 15, 0), "login_locked", None, a),  # 03-10 12:00
        ("r4", (2025, 3, 11, 2, 59), "user_update", world.manager_id, a),  # 03-10 23:59
        ("r5", (2025, 3, 11, 3, 0), "login", world.master_a, a),  # 03-11 00:00
        ("rC", (2025, 3, 10, 12, 0), "login", world.master_c, c),  # 03-10 09:00
    ]
    for label, at, action, user_id, company_id in rows:
        _record(uow, label, datetime(*at, tzinfo=UTC), action, user_id, company_id)
    return world


def _labels(page: users.AuditPage) -> list[str | None]:
    return [e.entity_id for e in page.entries]


def test_a_master_sees_its_company_trail_newest_first(uow: UnitOfWork, trail: World) -> None:
    page = users.audit_list(uow=uow.for_company(trail.company_a), actor=_actor(uow, "100001"))
    assert _labels(page) == ["r5", "r4", "r6", "r3", "r2", "r1"]
    assert page.total == 6 and not page.truncated
    first = page.entries[0]
    assert first.at == datetime(2025, 3, 11, 3, 0, tzinfo=UTC)
    assert (first.user_code, first.user_name) == ("100001", "Marta Master")
    assert first.action == "login" and first.action_label == "Login"
    assert first.before == {"label": "r5"}
    by_label = {e.entity_id: e for e in page.entries}
    assert by_label["r6"].user_code is None
    assert by_label["r4"].user_code == "900001"


def test_the_account_manager_sees_the_trail_of_a_portfolio_company(
    uow: UnitOfWork, trail: World
) -> None:
    page = users.audit_list(uow=uow.for_company(trail.company_a), actor=_actor(uow, "900001"))
    assert _labels(page) == ["r5", "r4", "r6", "r3", "r2", "r1"]
    err = _refused(
        users.audit_list, uow=uow.for_company(trail.company_c), actor=_actor(uow, "900001")
    )
    assert "não tem acesso" in err.message


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (date(2025, 3, 10), date(2025, 3, 10), ["r4", "r6", "r3"]),
        (None, date(2025, 3, 9), ["r2", "r1"]),
        (date(2025, 3, 11), None, ["r5"]),
        (date(2025, 3, 9), date(2025, 3, 9), ["r2"]),
        (date(2025, 3, 8), date(2025, 3, 8), ["r1"]),
        (date(2025, 3, 12), None, []),
    ],
)
def test_the_trail_filters_by_brasilia_days(
    uow: UnitOfWork,
    trail: World,
    date_from: date | None,
    date_to: date | None,
    expected: list[str],
) -> None:
    page = users.audit_list(
        uow=uow.for_company(trail.company_a),
        actor=_actor(uow, "100001"),
        date_from=date_from,
        date_to=date_to,
    )
    assert _labels(page) == expected
    assert page.total == len(expected)


@pytest.mark.parametrize(
    ("actions", "user_code", "expected"),
    [
        (["login"], "", ["r5", "r3", "r1"]),
        (["login", "user_add"], "", ["r5", "r3", "r2", "r1"]),
        (["", ""], "", ["r5", "r4", "r6", "r3", "r2", "r1"]),
        ([], "100001", ["r5", "r2", "r1"]),
        ([], " 100002 ", ["r3"]),
        (["user_add"], "100002", []),
        ([], "100005", []),
    ],
)
def test_the_trail_filters_by_action_and_user_code(
    uow: UnitOfWork, trail: World, actions: list[str], user_code: str, expected: list[str]
) -> None:
    page = users.audit_list(
        uow=uow.for_company(trail.company_a),
        actor=_actor(uow, "100001"),
        actions=actions,
        user_code=user_code,
    )
    assert _labels(page) == expected


def test_the_trail_combines_date_and_action_filters(uow: UnitOfWork, trail: World) -> None:
    page = users.audit_list(
        uow=uow.for_company(trail.company_a),
        actor=_actor(uow, "100001"),
        date_from=date(2025, 3, 10),
        date_to=date(2025, 3, 10),
        actions=["login"],
    )
    assert _labels(page) == ["r3"]


def test_another_company_sees_only_its_own_records(uow: UnitOfWork, trail: World) -> None:
    page = users.audit_list(uow=uow.for_company(trail.company_c), actor=_actor(uow, "100005"))
    assert _labels(page) == ["rC"]
    err = _refused(
        users.audit_list, uow=uow.for_company(trail.company_a), actor=_actor(uow, "100005")
    )
    assert "não tem acesso" in err.message


def test_the_trail_limit_keeps_the_newest_and_reports_the_total(
    uow: UnitOfWork, trail: World
) -> None:
    page = users.audit_list(
        uow=uow.for_company(trail.company_a), actor=_actor(uow, "100001"), limit=2
    )
    assert _labels(page) == ["r5", "r4"]
    assert page.total == 6
    assert page.truncated


@pytest.mark.parametrize("code", ["100002", "100003"])
def test_company_users_do_not_see_the_trail(uow: UnitOfWork, trail: World, code: str) -> None:
    err = _refused(users.audit_list, uow=uow.for_company(trail.company_a), actor=_actor(uow, code))
    assert "master" in err.message and "gestor de contas" in err.message


def test_a_period_that_ends_before_it_starts_is_refused(uow: UnitOfWork, trail: World) -> None:
    err = _refused(
        users.audit_list,
        uow=uow.for_company(trail.company_a),
        actor=_actor(uow, "100001"),
        date_from=date(2025, 3, 11),
        date_to=date(2025, 3, 10),
    )
    assert "data inicial é posterior à data final" in err.message


def test_user_administration_shows_up_in_the_trail(uow: UnitOfWork, world: World) -> None:
    master = _actor(uow, "100001")
    added = _add(uow, master, world.company_a)
    _set_active(uow, master, world.company_a, added.user_code, False)
    page = users.audit_list(uow=uow.for_company(world.company_a), actor=master)
    # Same timestamp: the later record comes first.
    assert [e.action for e in page.entries] == ["user_inactivate", "user_add"]
    assert {e.action_label for e in page.entries} == {"Usuário criado", "Usuário inativado"}
    assert all(e.user_code == "100001" for e in page.entries)


# ---------------------------------------------------------------- company details


def test_company_details_show_registration_and_contact(uow: UnitOfWork, world: World) -> None:
    details = companies.company_details(
        uow=uow.for_company(world.company_a), actor=_actor(uow, "100001")
    )
    assert (details.id, details.code, details.name, details.trade_name) == (
        world.company_a,
        "1001",
        "Alfa Indústria Ltda",
        "Alfa",
    )
    assert details.document == CNPJ_A
    assert details.document_formatted == format_cnpj(CNPJ_A)
    assert details.group_name == "Grupo Alfa"
    assert details.contract_start == date(2024, 1, 1)
    assert details.status == "active"
    assert details.contact == CONTACT_A
    assert details.can_edit


@pytest.mark.parametrize(
    ("code", "can_edit"), [("100002", True), ("100003", False), ("900001", True)]
)
def test_only_user_administrators_may_edit_the_company_data(
    uow: UnitOfWork, world: World, code: str, can_edit: bool
) -> None:
    details = companies.company_details(
        uow=uow.for_company(world.company_a), actor=_actor(uow, code)
    )
    assert details.can_edit is can_edit


def test_company_details_of_another_company_are_refused(uow: UnitOfWork, world: World) -> None:
    err = _refused(
        companies.company_details,
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100005"),
    )
    assert "não tem acesso" in err.message
    c = companies.company_details(uow=uow.for_company(world.company_c), actor=_actor(uow, "100005"))
    assert c.group_name is None
    assert set(c.contact.values()) == {None}


def test_company_details_need_a_company_in_context(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(NoCompanyInContext):
        companies.company_details(uow=uow, actor=_actor(uow, "100001"))


# ---------------------------------------------------------------- company contact update


def _contact(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = dict(CONTACT_A)
    values.update(overrides)
    return values


def _stored_contact(uow: UnitOfWork, company_id: int) -> dict[str, object]:
    with uow:
        company = uow.session.get(Company, company_id)
        assert company is not None
        return {k: getattr(company, k) for k in CONTACT_A}


def test_a_master_updates_the_contact_and_the_audit_keeps_only_what_changed(
    uow: UnitOfWork, world: World
) -> None:
    changed = companies.company_contact_update(
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100001"),
        values=_contact(phone="(11) 98765-4321", complement=" Sala  5 ", state="sp"),
        now=NOW,
    )
    assert changed == {"phone": ("1133334444", "11987654321"), "complement": (None, "Sala 5")}
    assert _stored_contact(uow, world.company_a) == {
        **CONTACT_A,
        "phone": "11987654321",
        "complement": "Sala 5",
    }
    (record,) = _audits(uow, "company_contact_update")
    assert record.user_id == world.master_a
    assert record.company_id == world.company_a
    assert record.entity == "company"
    assert record.entity_id == str(world.company_a)
    assert record.before == {"phone": "1133334444", "complement": None}
    assert record.after == {"phone": "11987654321", "complement": "Sala 5"}


def test_the_same_data_typed_differently_is_no_change(uow: UnitOfWork, world: World) -> None:
    before = _written(uow)
    changed = companies.company_contact_update(
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100001"),
        values=_contact(
            cep="01310-100",
            state=" sp",
            phone="(11) 3333-4444",
            contact_email=" RH@Alfa.com.br",
            street="Avenida  Paulista",
            complement="",
        ),
        now=NOW,
    )
    assert changed == {}
    assert _written(uow) == before
    assert _stored_contact(uow, world.company_a) == CONTACT_A


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"cep": "1234"}, {"cep"}),
        ({"state": "XX"}, {"state"}),
        ({"phone": "(20) 3333-4444"}, {"phone"}),
        ({"phone": "(11) 8765-43210"}, {"phone"}),
        ({"contact_email": "rh@"}, {"contact_email"}),
        ({"city": "  "}, {"city"}),
        ({"number": "1" * 21}, {"number"}),
        ({"cep": "0", "state": "", "contact_name": None}, {"cep", "state", "contact_name"}),
    ],
)
def test_contact_update_refuses_bad_fields_by_name_and_changes_nothing(
    uow: UnitOfWork, world: World, overrides: dict[str, object], fields: set[str]
) -> None:
    before = _written(uow)
    with pytest.raises(FieldErrors) as err:
        companies.company_contact_update(
            uow=uow.for_company(world.company_a),
            actor=_actor(uow, "100001"),
            values=_contact(**overrides),
            now=NOW,
        )
    assert set(err.value.errors) == fields
    assert _written(uow) == before
    assert _stored_contact(uow, world.company_a) == CONTACT_A


@pytest.mark.parametrize("key", ["name", "document", "code"])
def test_registration_fields_are_not_changed_through_the_contact_form(
    uow: UnitOfWork, world: World, key: str
) -> None:
    err = _refused(
        companies.company_contact_update,
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100001"),
        values=_contact(**{key: "Outro Valor"}, phone="11987654321"),
        now=NOW,
    )
    assert not isinstance(err, FieldErrors)
    assert "protocolo" in err.message
    details = companies.company_details(
        uow=uow.for_company(world.company_a), actor=_actor(uow, "100001")
    )
    assert (details.name, details.document, details.code) == ("Alfa Indústria Ltda", CNPJ_A, "1001")
    assert details.contact == CONTACT_A


@pytest.mark.parametrize(
    ("code", "fragment"),
    [("100003", "Administração de usuários"), ("100005", "não tem acesso")],
)
def test_contact_update_is_refused_without_user_administration_on_the_company(
    uow: UnitOfWork, world: World, code: str, fragment: str
) -> None:
    err = _refused(
        companies.company_contact_update,
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, code),
        values=_contact(city="Campinas"),
        now=NOW,
    )
    assert fragment in err.message
    assert _stored_contact(uow, world.company_a)["city"] == "São Paulo"


@pytest.mark.parametrize("code", ["100002", "900001"])
def test_a_user_administrator_and_the_account_manager_may_update_the_contact(
    uow: UnitOfWork, world: World, code: str
) -> None:
    changed = companies.company_contact_update(
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, code),
        values=_contact(city="Campinas"),
        now=NOW,
    )
    assert changed == {"city": ("São Paulo", "Campinas")}
    assert _stored_contact(uow, world.company_a)["city"] == "Campinas"
    (record,) = _audits(uow, "company_contact_update")
    assert record.user_id == _user_row(uow, code).id


# ---------------------------------------------------------------- contracted plans


def _plan(operator_id: int, code: str) -> Plan:
    return Plan(
        operator_id=operator_id,
        code=code,
        name=f"Plano {code}",
        ans_registration=f"4{code}00",
        segment="Odontológico",
        coverage_groups=["Diagnóstico", "Prevenção"],
        general_conditions=f"Condições do plano {code}",
    )


def _table(
    plan: Plan,
    valid_from: date,
    valid_to: date | None,
    prices: list[str],
    contracted: ContractedPlan | None = None,
) -> PriceTable:
    bands = [
        PriceBand(
            band=i + 1,
            min_age=i * 20,
            max_age=None if i == len(prices) - 1 else i * 20 + 19,
            price=Decimal(p),
        )
        for i, p in enumerate(prices)
    ]
    return PriceTable(
        plan_id=plan.id,
        contracted_plan_id=contracted.id if contracted is not None else None,
        valid_from=valid_from,
        valid_to=valid_to,
        bands=bands,
    )


_card = iter(range(1, 10_000))


def _beneficiary(
    company_id: int,
    plan: Plan,
    effective: date,
    exclusion: date | None = None,
) -> Beneficiary:
    return Beneficiary(
        company_id=company_id,
        plan_id=plan.id,
        card_number=f"0001{next(_card):012d}",
        relationship_code=1,
        name="Beneficiário Teste",
        birth_date=date(1990, 5, 1),
        sex="F",
        mother_name="Mãe Teste",
        effective_date=effective,
        status="inactive" if exclusion else "active",
        exclusion_date=exclusion,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def plans(uow: UnitOfWork, world: World) -> dict[str, int]:
    with uow:
        s = uow.session
        operator_id = s.scalars(select(Operator.id)).one()
        p1, p2, p3 = _plan(operator_id, "P1"), _plan(operator_id, "P2"), _plan(operator_id, "P3")
        s.add_all([p1, p2, p3])
        s.flush()
        a_p1 = ContractedPlan(
            company_id=world.company_a, plan_id=p1.id, start_date=date(2024, 1, 1)
        )
        c_p3 = ContractedPlan(
            company_id=world.company_c, plan_id=p3.id, start_date=date(2024, 1, 1)
        )
        s.add_all([a_p1, c_p3])
        s.flush()
        s.add_all(
            [
                # Prices belong to the contract: A's tables of P1, C's of P3; the plan's
                # own (reference) table of P1 is not what A pays.
                _table(p1, date(2024, 1, 1), None, ["1.00"]),
                _table(p1, date(2024, 1, 1), date(2024, 12, 31), ["40.00", "55.00"], a_p1),
                _table(p1, date(2025, 1, 1), date(2025, 5, 31), ["45.50", "60.00", "99.90"], a_p1),
                _table(p1, date(2025, 6, 1), None, ["50.00", "70.00"], a_p1),
                _table(p3, date(2024, 1, 1), None, ["10.00"], c_p3),
                ContractedPlan(
                    company_id=world.company_a, plan_id=p2.id, start_date=date(2024, 6, 1)
                ),
                ContractedPlan(
                    company_id=world.company_c, plan_id=p1.id, start_date=date(2024, 1, 1)
                ),
                # Active today in P1 at A: three (one leaves only next month).
                _beneficiary(world.company_a, p1, date(2024, 2, 1)),
                _beneficiary(world.company_a, p1, TODAY),
                _beneficiary(world.company_a, p1, date(2024, 2, 1), exclusion=date(2025, 4, 1)),
                # Not active today: excluded before today, or coming in later.
                _beneficiary(world.company_a, p1, date(2024, 2, 1), exclusion=date(2025, 2, 1)),
                _beneficiary(world.company_a, p1, date(2025, 4, 1)),
                # Another company's beneficiaries in the same plan.
                _beneficiary(world.company_c, p1, date(2024, 2, 1)),
                _beneficiary(world.company_c, p1, date(2024, 2, 1)),
            ]
        )
        uow.commit()
        return {"P1": p1.id, "P2": p2.id, "P3": p3.id}


def test_company_plans_show_the_current_price_table_and_active_beneficiaries(
    uow: UnitOfWork, plans: dict[str, int], world: World
) -> None:
    views = companies.company_plans(
        uow=uow.for_company(world.company_a), actor=_actor(uow, "100003"), today=TODAY
    )
    assert [v.code for v in views] == ["P1", "P2"]
    p1, p2 = views
    assert p1.plan_id == plans["P1"]
    assert (p1.name, p1.ans_registration, p1.segment) == ("Plano P1", "4P100", "Odontológico")
    assert p1.coverage_groups == ["Diagnóstico", "Prevenção"]
    assert p1.general_conditions == "Condições do plano P1"
    assert (p1.start_date, p1.end_date) == (date(2024, 1, 1), None)
    assert p1.price_valid_from == date(2025, 1, 1)
    assert [(b.band, b.min_age, b.max_age, b.price) for b in p1.bands] == [
        (1, 0, 19, Decimal("45.50")),
        (2, 20, 39, Decimal("60.00")),
        (3, 40, None, Decimal("99.90")),
    ]
    assert [b.label for b in p1.bands] == ["0 a 19 anos", "20 a 39 anos", "40 anos ou mais"]
    assert p1.active_beneficiaries == 3
    assert p2.plan_id == plans["P2"]
    assert p2.bands == [] and p2.price_valid_from is None
    assert p2.active_beneficiaries == 0


def test_company_plans_follow_the_day_asked(
    uow: UnitOfWork, plans: dict[str, int], world: World
) -> None:
    actor = _actor(uow, "100001")
    old = companies.company_plans(
        uow=uow.for_company(world.company_a), actor=actor, today=date(2024, 6, 1)
    )[0]
    assert old.price_valid_from == date(2024, 1, 1)
    assert [b.price for b in old.bands] == [Decimal("40.00"), Decimal("55.00")]
    assert old.active_beneficiaries == 3  # the three from 2024-02-01, none excluded yet
    later = companies.company_plans(
        uow=uow.for_company(world.company_a), actor=actor, today=date(2025, 6, 1)
    )[0]
    assert later.price_valid_from == date(2025, 6, 1)
    assert later.active_beneficiaries == 3  # TODAY's, 2024's and the one from 2025-04-01


def test_of_two_price_tables_in_force_the_latest_wins(
    uow: UnitOfWork, plans: dict[str, int], world: World
) -> None:
    with uow:
        s = uow.session
        p4 = _plan(s.scalars(select(Operator.id)).one(), "P4")
        s.add(p4)
        s.flush()
        a_p4 = ContractedPlan(
            company_id=world.company_a, plan_id=p4.id, start_date=date(2024, 1, 1)
        )
        s.add(a_p4)
        s.flush()
        s.add_all(
            [
                _table(p4, date(2025, 2, 1), None, ["30.00"], a_p4),
                _table(p4, date(2024, 1, 1), None, ["20.00"], a_p4),
                _table(p4, date(2025, 3, 11), None, ["40.00"], a_p4),
            ]
        )
        uow.commit()
    views = companies.company_plans(
        uow=uow.for_company(world.company_a), actor=_actor(uow, "100001"), today=TODAY
    )
    p4_view = next(v for v in views if v.code == "P4")
    assert p4_view.price_valid_from == date(2025, 2, 1)
    assert [b.price for b in p4_view.bands] == [Decimal("30.00")]


def test_another_company_sees_its_own_plans_and_counts(
    uow: UnitOfWork, plans: dict[str, int], world: World
) -> None:
    views = companies.company_plans(
        uow=uow.for_company(world.company_c), actor=_actor(uow, "100005"), today=TODAY
    )
    assert [(v.code, v.active_beneficiaries) for v in views] == [("P1", 2), ("P3", 0)]
    err = _refused(
        companies.company_plans,
        uow=uow.for_company(world.company_a),
        actor=_actor(uow, "100005"),
        today=TODAY,
    )
    assert "não tem acesso" in err.message


# ---------------------------------------------------------------- password changes


def _change(uow: UnitOfWork, actor: Actor, current: str, new: str) -> Actor:
    return access.password_change(
        uow=uow, actor=actor, current=current, new=new, confirmation=new, now=NOW
    )


def _change_refused(uow: UnitOfWork, actor: Actor, current: str, new: str) -> dict[str, str]:
    with pytest.raises(FieldErrors) as err:
        _change(uow, actor, current, new)
    return err.value.errors


def test_a_password_change_ends_the_other_sessions_and_returns_the_new_one(
    uow: UnitOfWork, world: World
) -> None:
    old = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    assert old.session_epoch == 0
    old_token = access.session_token(old)
    assert re.fullmatch(r"100002:0:[\w-]{32}", old_token)
    assert access.actor_from_session_token(uow=uow, token=old_token, now=NOW) == old

    new = _change(uow, old, PASSWORD, P1)
    assert new.session_epoch == 1
    assert new.user_id == old.user_id and new.permissions == old.permissions
    assert _user_row(uow, "100002").session_epoch == 1
    assert access.actor_refresh(uow=uow, actor=old, now=NOW) is None
    assert access.actor_refresh(uow=uow, actor=new, now=NOW) == new
    new_token = access.session_token(new)
    assert access.actor_from_session_token(uow=uow, token=new_token, now=NOW) == new
    assert access.actor_from_session_token(uow=uow, token=old_token, now=NOW) is None
    for bad in ["100002", "100002:", "100002:x", "100002:-1", ":1", "100002:1:1"]:
        assert access.actor_from_session_token(uow=uow, token=bad, now=NOW) is None, bad
    assert access.auth_login(uow=uow, user_code="100002", password=P1, now=NOW).session_epoch == 1
    with pytest.raises(DomainError):
        access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)


def test_none_of_the_last_three_passwords_may_be_chosen_again(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    actor = _change(uow, actor, PASSWORD, P1)
    actor = _change(uow, actor, P1, P2)
    for recent in (PASSWORD, P1, P2):
        assert _change_refused(uow, actor, P2, recent) == {"new": access.PASSWORD_REUSED_MESSAGE}, (
            recent
        )
    # Refusals change nothing: same epoch, same password.
    stored = _user_row(uow, "100002")
    assert stored.session_epoch == 2
    assert access.verify_password(P2, stored.password_hash)
    assert access.actor_refresh(uow=uow, actor=actor, now=NOW) == actor

    actor = _change(uow, actor, P2, P3)
    # Three changes later the first password has left the history; P1 has not.
    assert _change_refused(uow, actor, P3, P1) == {"new": access.PASSWORD_REUSED_MESSAGE}
    actor = _change(uow, actor, P3, PASSWORD)
    assert actor.session_epoch == 4
    assert access.verify_password(PASSWORD, _user_row(uow, "100002").password_hash)


def _reset_token(uow: UnitOfWork, code: str, to: str) -> str:
    access.password_reset_request(
        uow=uow, user_code=code, document=CNPJ_A, now=NOW, base_url=BASE_URL
    )
    bodies = [m.body for m in mail.outbox_list(uow=uow, actor=_actor(uow, "900001"), to=to)]
    tokens = [t for b in bodies for t in re.findall(r"\?reset=(\S+)", b)]
    assert tokens
    return tokens[0]


def test_a_password_reset_also_refuses_a_recent_password_and_ends_sessions(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    actor = _change(uow, actor, PASSWORD, P1)
    token = _reset_token(uow, "100001", "u100001@example.com.br")
    for recent in (PASSWORD, P1):
        with pytest.raises(FieldErrors) as err:
            access.password_reset_confirm(
                uow=uow, token=token, password=recent, confirmation=recent, now=NOW
            )
        assert err.value.errors == {"password": access.PASSWORD_REUSED_MESSAGE}
    assert _user_row(uow, "100001").session_epoch == 1
    # The link is still good after a refusal.
    code = access.password_reset_confirm(
        uow=uow, token=token, password=P2, confirmation=P2, now=NOW
    )
    assert code == "100001"
    stored = _user_row(uow, "100001")
    assert stored.session_epoch == 2
    assert access.verify_password(P2, stored.password_hash)
    assert access.actor_refresh(uow=uow, actor=actor, now=NOW) is None
    assert access.auth_login(uow=uow, user_code="100001", password=P2, now=NOW).session_epoch == 2
    # The reset password joined the history too.
    new_actor = _actor(uow, "100001")
    assert _change_refused(uow, new_actor, P2, P1) == {"new": access.PASSWORD_REUSED_MESSAGE}


def test_a_non_master_admin_keeps_or_removes_what_it_lacks_but_never_adds_it(
    uow: UnitOfWork, world: World
) -> None:
    master = _actor(uow, "100001")
    _update(uow, master, world.company_a, "100003", permissions=["movements", "finance"])
    admin = _actor(uow, "100002")  # movements, reports, user_admin: no finance
    row = _update(uow, admin, world.company_a, "100003", name="Paulo Corrigido Plain")
    assert row.name == "Paulo Corrigido Plain"
    assert row.permissions == {Permission.MOVEMENTS, Permission.FINANCE}
    row = _update(uow, admin, world.company_a, "100003", permissions=["movements"])
    assert row.permissions == {Permission.MOVEMENTS}
    err = _refused(
        _update, uow, admin, world.company_a, "100003", permissions=["movements", "finance"]
    )
    assert "não pode conceder permissões que não tem: Financeiro" in err.message
    assert sorted(_user_row(uow, "100003").permissions or []) == ["movements"]


# ---------------------------------------------------------------- server-side sessions


def test_logout_ends_the_session_so_its_cookie_no_longer_logs_in(
    uow: UnitOfWork, world: World
) -> None:
    first = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    second = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    assert first.session_id != second.session_id
    token = access.session_token(first)
    assert access.actor_from_session_token(uow=uow, token=token, now=NOW) == first
    access.session_end(uow=uow, actor=first, now=NOW)
    assert access.actor_from_session_token(uow=uow, token=token, now=NOW) is None
    assert access.actor_refresh(uow=uow, actor=first, now=NOW) is None
    # The user's other session (another browser) goes on.
    assert access.actor_refresh(uow=uow, actor=second, now=NOW) == second
    with uow:
        ended = uow.session.scalars(
            select(UserSession.end_reason).where(UserSession.ended_at.is_not(None))
        ).all()
    assert ended == ["logout"]


def test_a_session_idle_longer_than_allowed_is_not_restored_from_its_cookie(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    token = access.session_token(actor)
    # Steps within the idle limit keep it alive, each one counting from the last.
    later = NOW + timedelta(minutes=29)
    assert access.actor_refresh(uow=uow, actor=actor, now=later) == actor
    assert (
        access.actor_from_session_token(uow=uow, token=token, now=later + timedelta(minutes=29))
        == actor
    )
    gone = later + timedelta(minutes=29 + 31)
    assert access.actor_from_session_token(uow=uow, token=token, now=gone) is None
    assert access.actor_refresh(uow=uow, actor=actor, now=gone) is None
    with uow:
        reason = uow.session.scalars(select(UserSession.end_reason)).one()
    assert reason == "expired"


def test_a_forged_or_foreign_session_id_logs_nobody_in(uow: UnitOfWork, world: World) -> None:
    mine = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    other = access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    # Somebody else's live session id with my code and epoch.
    forged = f"100002:{mine.session_epoch}:{other.session_id}"
    assert access.actor_from_session_token(uow=uow, token=forged, now=NOW) is None
    guessed = f"100002:{mine.session_epoch}:{'A' * 32}"
    assert access.actor_from_session_token(uow=uow, token=guessed, now=NOW) is None


def test_every_audited_action_has_a_portuguese_label_in_the_trail():
    """The audit trail shows each action in Portuguese: every action the services write
    (action="..." and the area helpers' action names) has a label."""
    import re
    from pathlib import Path

    from services.access.users import AUDIT_ACTION_LABELS

    root = Path(__file__).resolve().parents[2] / "services"
    written: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'action="([a-z_]+)"', text))
        written |= set(re.findall(r'"((?:cost_centre|price_table)_[a-z_]+)"', text))
    written -= {"store_true", "cost_centre_id", "cost_centre_required"}  # not actions
    assert {"billing_run_enqueue", "roster_reconcile", "cost_centre_add"} <= written
    missing = sorted(
        a for a in written if a not in AUDIT_ACTION_LABELS and not a.startswith("movement_")
    )
    assert not missing, f"audit actions with no label: {missing}"
