"""Who may grant what and edit whom in the user administration, asked by the page and
checked again by the writes, on SQLite and PostgreSQL.

Each test asks the service's question (grantable permissions, edit rights) and then
tries the write the answer allows or forbids: the answer and the refusal never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from data.models import AccountManagerCompany, Company, Operator, User
from data.uow import UnitOfWork
from services.access import accounts as access
from services.access import users
from services.actors import ALL_PERMISSIONS, Actor, Permission
from services.mail import outbox as mail
from services.rules.documents import cnpj_check_digits, cpf_check_digits
from services.rules.errors import DomainError

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
BASE_URL = "https://portal.example/"
ADMIN_HOLDS = frozenset({Permission.MOVEMENTS, Permission.REPORTS, Permission.USER_ADMIN})


def _cpf(base: str) -> str:
    return base + cpf_check_digits(base)


@dataclass(frozen=True)
class World:
    company: int
    manager: int
    master: int  # 200001
    other_master: int  # 200002
    admin: int  # 200003: movements, reports, user administration
    plain: int  # 200004: finance and protocols, which the admin lacks


@pytest.fixture(autouse=True)
def no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    values: dict[str, Any] = {"_env_file": None, "smtp_host": "", "base_url": BASE_URL}
    settings = Settings(**values)
    monkeypatch.setattr(mail, "get_settings", lambda: settings)
    monkeypatch.setattr(users, "get_settings", lambda: settings)


def _user(code: str, role: str, company_id: int | None, cpf: str, perms: list[str]) -> User:
    return User(
        user_code=code,
        role=role,
        company_id=company_id,
        name=f"Pessoa {code}",
        cpf=cpf,
        email=f"u{code}@example.com.br",
        status="active",
        password_hash="not-used-here",
        permissions=perms,
        failed_attempts=0,
        created_at=NOW - timedelta(days=30),
        session_epoch=0,
        password_history=[],
    )


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    """One company with two masters, an administrator, a plain user and its account manager."""
    with uow:
        s = uow.session
        operator = Operator(
            name="Sorriso Odonto",
            ans_registration="123456",
            cnpj="334455660001" + cnpj_check_digits("334455660001"),
            pix_key="pix@sorriso.example",
            city="São Paulo",
        )
        s.add(operator)
        s.flush()
        company = Company(
            operator_id=operator.id,
            code="3001",
            document="112223330001" + cnpj_check_digits("112223330001"),
            document_type="CNPJ",
            name="Alfa Indústria Ltda",
            contract_start=date(2024, 1, 1),
        )
        s.add(company)
        s.flush()
        everything = sorted(p.value for p in Permission)
        people = [
            _user("900009", "account_manager", None, _cpf("246813579"), []),
            _user("200001", "master", company.id, _cpf("529982247"), everything),
            _user("200002", "master", company.id, _cpf("314159265"), everything),
            _user("200003", "user", company.id, _cpf("111444777"), sorted(p for p in ADMIN_HOLDS)),
            _user("200004", "user", company.id, _cpf("123456789"), ["finance", "protocols"]),
        ]
        s.add_all(people)
        s.flush()
        s.add(AccountManagerCompany(user_id=people[0].id, company_id=company.id))
        uow.commit()
        return World(company.id, *(p.id for p in people))


def _actor(uow: UnitOfWork, code: str) -> Actor:
    actor = access.actor_for_user(uow=uow, user_code=code, now=NOW)
    assert actor is not None, code
    return actor


def _row(uow: UnitOfWork, actor: Actor, world: World, user_id: int) -> users.UserRow:
    listed = users.user_list(uow=uow.for_company(world.company), actor=actor)
    return next(r for r in listed if r.id == user_id)


def _stored(uow: UnitOfWork, user_id: int) -> User:
    with uow:
        user = uow.session.scalars(select(User).where(User.id == user_id)).one()
        uow.session.expunge(user)
        return user


def _update(uow: UnitOfWork, actor: Actor, world: World, user_id: int, **kw: Any) -> Any:
    current = _stored(uow, user_id)
    values: dict[str, Any] = {
        "name": current.name,
        "cpf": current.cpf or "",
        "email": current.email,
        "permissions": list(current.permissions or []),
    }
    values.update(kw)
    return users.user_update(
        uow=uow.for_company(world.company), actor=actor, user_id=user_id, now=NOW, **values
    )


def _add_with(
    uow: UnitOfWork, actor: Actor, world: World, i: int, perm: Permission
) -> users.UserRow:
    """The i-th new user of a test, holding `perm`."""
    return users.user_add(
        uow=uow.for_company(world.company),
        actor=actor,
        name=f"Pessoa Nova {chr(65 + i)}",
        cpf=_cpf(f"30{i}123456"),
        email=f"nova{i}@alfa.com.br",
        permissions=[perm],
        now=NOW,
        base_url=BASE_URL,
    )


def _refused(call: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(DomainError) as err:
        call(*args, **kw)
    return err.value.message


# ---------------------------------------------------------------- granting


@pytest.mark.parametrize("code", ["200001", "900009"])
def test_masters_and_account_managers_grant_every_permission_and_make_masters(
    uow: UnitOfWork, world: World, code: str
) -> None:
    actor = _actor(uow, code)
    assert users.user_grantable_permissions(actor) == ALL_PERMISSIONS
    assert users.user_may_create_master(actor)
    added = users.user_add(
        uow=uow.for_company(world.company),
        actor=actor,
        name="Beatriz Nova Master",
        cpf=_cpf("135792468"),
        email="beatriz@alfa.com.br",
        permissions=[],
        master=True,
        now=NOW,
        base_url=BASE_URL,
    )
    assert added.is_master


def test_an_administrator_grants_exactly_what_it_holds_and_the_service_agrees(
    uow: UnitOfWork, world: World
) -> None:
    admin = _actor(uow, "200003")
    grantable = users.user_grantable_permissions(admin)
    assert grantable == ADMIN_HOLDS
    assert not users.user_may_create_master(admin)
    for i, perm in enumerate(Permission):
        if perm in grantable:
            assert _add_with(uow, admin, world, i, perm).permissions == frozenset({perm})
        else:
            assert "não pode conceder" in _refused(_add_with, uow, admin, world, i, perm)
    assert "cria outro master" in _refused(
        users.user_add,
        uow=uow.for_company(world.company),
        actor=admin,
        name="Pessoa Master",
        cpf=_cpf("271828182"),
        email="master@alfa.com.br",
        permissions=[],
        master=True,
        now=NOW,
        base_url=BASE_URL,
    )


# ---------------------------------------------------------------- editing


def test_an_administrator_may_not_edit_a_master_and_the_service_refuses_it_too(
    uow: UnitOfWork, world: World
) -> None:
    admin = _actor(uow, "200003")
    rights = users.user_edit_rights(admin, _row(uow, admin, world, world.master))
    assert (rights.edit, rights.changeable, rights.inactivate) == (False, frozenset(), False)
    assert rights.notes == (users.MASTER_PROTECTED,)
    message = _refused(_update, uow, admin, world, world.master, name="Outro Nome Qualquer")
    assert message == users.MASTER_PROTECTED
    message = _refused(
        users.user_set_active,
        uow=uow.for_company(world.company),
        actor=admin,
        user_id=world.master,
        active=False,
        now=NOW,
    )
    assert message == users.MASTER_PROTECTED
    assert _stored(uow, world.master).name == "Pessoa 200001"


def test_an_administrator_may_remove_what_it_lacks_but_not_add_it(
    uow: UnitOfWork, world: World
) -> None:
    admin = _actor(uow, "200003")
    rights = users.user_edit_rights(admin, _row(uow, admin, world, world.plain))
    assert rights.edit and rights.inactivate and rights.notes == ()
    # What it holds, plus what the target holds (finance, protocols) to keep or remove.
    assert rights.changeable == ADMIN_HOLDS | {Permission.FINANCE, Permission.PROTOCOLS}
    assert Permission.PERSONAL_DATA not in rights.changeable
    message = _refused(
        _update, uow, admin, world, world.plain, permissions=["finance", "personal_data"]
    )
    assert "não pode conceder" in message
    _update(uow, admin, world, world.plain, permissions=["finance", "reports"])
    assert sorted(_stored(uow, world.plain).permissions) == ["finance", "reports"]


def test_nobody_changes_its_own_permissions_or_inactivates_itself(
    uow: UnitOfWork, world: World
) -> None:
    admin = _actor(uow, "200003")
    rights = users.user_edit_rights(admin, _row(uow, admin, world, world.admin))
    assert rights.edit and rights.changeable == frozenset() and not rights.inactivate
    assert rights.notes == (users.OWN_PERMISSIONS, users.OWN_INACTIVATION)
    message = _refused(_update, uow, admin, world, world.admin, permissions=["movements"])
    assert message == users.OWN_PERMISSIONS
    message = _refused(
        users.user_set_active,
        uow=uow.for_company(world.company),
        actor=admin,
        user_id=world.admin,
        active=False,
        now=NOW,
    )
    assert message == users.OWN_INACTIVATION
    # Its own name it may correct.
    _update(uow, admin, world, world.admin, name="Alberto Andrade")
    assert _stored(uow, world.admin).name == "Alberto Andrade"


def test_a_master_edits_another_master_but_not_its_permissions(
    uow: UnitOfWork, world: World
) -> None:
    master = _actor(uow, "200001")
    other = users.user_edit_rights(master, _row(uow, master, world, world.other_master))
    assert (other.edit, other.changeable, other.inactivate, other.notes) == (
        True,
        frozenset(),
        True,
        (),
    )
    own = users.user_edit_rights(master, _row(uow, master, world, world.master))
    assert own.edit and not own.inactivate and own.notes == (users.OWN_INACTIVATION,)
    row = users.user_set_active(
        uow=uow.for_company(world.company),
        actor=master,
        user_id=world.other_master,
        active=False,
        now=NOW,
    )
    assert row.status == "inactive"


def test_the_account_manager_may_do_everything_to_a_portfolio_user(
    uow: UnitOfWork, world: World
) -> None:
    manager = _actor(uow, "900009")
    plain = users.user_edit_rights(manager, _row(uow, manager, world, world.plain))
    assert plain.edit and plain.inactivate and plain.changeable == ALL_PERMISSIONS
    master = users.user_edit_rights(manager, _row(uow, manager, world, world.master))
    assert master.edit and master.inactivate and master.notes == ()
    _update(uow, manager, world, world.plain, permissions=["personal_data"])
    assert _stored(uow, world.plain).permissions == ["personal_data"]
