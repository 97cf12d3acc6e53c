"""Access: login and lockout, first access, password reset, user code reminder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, select, text

from config import Settings
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Company,
    EconomicGroup,
    Operator,
    OutboxEmail,
    PasswordResetToken,
    User,
)
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import ALL_PERMISSIONS, Permission, Role
from services.audit import audit_record
from services.mail import outbox as mail
from services.rules.documents import caepf_check_digits, cnpj_check_digits, format_cnpj
from services.rules.errors import DomainError, FieldErrors

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PASSWORD = "Sorriso@2025"
NEW_PASSWORD = "Dentes#Novos9"
BASE_URL = "https://portal.example"


def cnpj(base: str) -> str:
    return base + cnpj_check_digits(base)


def caepf(base: str) -> str:
    return base + caepf_check_digits(base)


OPERATOR_CNPJ = cnpj("334455660001")
CNPJ_A = cnpj("112223330001")
CNPJ_B = cnpj("112223330002")
CNPJ_C = cnpj("987654320001")
CNPJ_E = cnpj("123456780001")
CAEPF_D = caepf("529982247001")


@dataclass(frozen=True)
class World:
    company_a: int
    company_b: int
    company_c: int
    company_d: int
    company_e: int
    manager_id: int


@pytest.fixture(autouse=True)
def fast_hashes_and_no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "BCRYPT_ROUNDS", 4)
    values: dict[str, Any] = {"_env_file": None, "smtp_host": "", "base_url": BASE_URL}
    settings = Settings(**values)
    monkeypatch.setattr(mail, "get_settings", lambda: settings)
    monkeypatch.setattr(access, "get_settings", lambda: settings)


def _company(operator: Operator, code: str, document: str, **kw: object) -> Company:
    values: dict[str, object] = {
        "document_type": "CNPJ",
        "name": f"Empresa {code}",
        "contract_start": date(2024, 1, 1),
    }
    values.update(kw)
    return Company(operator_id=operator.id, code=code, document=document, **values)


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
    """Operator, a group with companies A and B, C apart, D (CAEPF) and E without users."""
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
        a = _company(operator, "1001", CNPJ_A, group_id=group.id, contact_name="Ana RH")
        b = _company(operator, "1002", CNPJ_B, group_id=group.id)
        c = _company(operator, "2001", CNPJ_C)
        d = _company(
            operator,
            "3001",
            CAEPF_D,
            document_type="CAEPF",
            name="Fazenda Boa Vista",
            contact_email="Dono@Fazenda.com.br",
        )
        e = _company(
            operator, "4001", CNPJ_E, name="Estrela Ltda", contact_email="rh@estrela.com.br"
        )
        s.add_all([a, b, c, d, e])
        s.flush()
        manager = _user("900001", "account_manager", None)
        s.add_all(
            [
                manager,
                _user("100001", "master", a, permissions=sorted(ALL_PERMISSIONS)),
                _user("100002", "user", a, permissions=["movements", "reports", "bogus"]),
                _user(
                    "100003",
                    "user",
                    b,
                    status="pending",
                    password_hash=None,
                    email="Pedro@Beta.com.br",
                    permissions=["finance"],
                ),
                _user("100004", "user", a, status="inactive"),
                _user("100005", "master", c, permissions=sorted(ALL_PERMISSIONS)),
            ]
        )
        s.flush()
        s.add_all(
            [
                AccountManagerCompany(user_id=manager.id, company_id=c.id),
                AccountManagerCompany(user_id=manager.id, company_id=a.id),
            ]
        )
        uow.commit()
        return World(a.id, b.id, c.id, d.id, e.id, manager.id)


def _user_row(uow: UnitOfWork, code: str) -> User:
    with uow:
        user = uow.session.scalars(select(User).where(User.user_code == code)).one()
        uow.session.expunge(user)
        return user


def _count(uow: UnitOfWork, model: type[Any], *where: ColumnElement[bool]) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audit_actions(uow: UnitOfWork) -> list[str]:
    with uow:
        return list(uow.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def _login_message(uow: UnitOfWork, code: str, password: str, now: datetime = NOW) -> str:
    with pytest.raises(DomainError) as err:
        access.auth_login(uow=uow, user_code=code, password=password, now=now)
    return err.value.message


# ---------------------------------------------------------------- passwords


def test_hash_password_verifies_only_the_same_password() -> None:
    hashed = access.hash_password(PASSWORD)
    assert hashed.startswith("$2b$04$")
    assert access.verify_password(PASSWORD, hashed)
    assert not access.verify_password(NEW_PASSWORD, hashed)
    assert not access.verify_password(PASSWORD, None)
    assert not access.verify_password(PASSWORD, "not-a-hash")


def test_passwords_longer_than_72_bytes_are_never_cut_but_refused() -> None:
    long_password = "Aa1@" * 30
    with pytest.raises(ValueError):
        access.hash_password(long_password)
    # A longer password never matches the hash of its first 72 bytes (no silent cut).
    assert not access.verify_password(long_password, access.hash_password(long_password[:72]))


# ---------------------------------------------------------------- login


def test_login_with_the_right_password_returns_the_actor(uow: UnitOfWork, world: World) -> None:
    actor = access.auth_login(uow=uow, user_code=" 100001 ", password=PASSWORD, now=NOW)
    assert actor.user_code == "100001"
    assert actor.role is Role.MASTER
    assert actor.home_company_id == world.company_a
    user = _user_row(uow, "100001")
    assert user.last_login_at == NOW
    assert user.failed_attempts == 0
    assert "login" in _audit_actions(uow)


def test_wrong_password_and_unknown_user_give_exactly_the_same_message(
    uow: UnitOfWork, world: World
) -> None:
    wrong_password = _login_message(uow, "100001", "Errada@123")
    unknown_user = _login_message(uow, "199999", PASSWORD)
    assert wrong_password == unknown_user == access.NEUTRAL_LOGIN_MESSAGE


def test_a_failed_login_is_counted_even_though_it_is_refused(uow: UnitOfWork, world: World) -> None:
    _login_message(uow, "100001", "Errada@123")
    assert _user_row(uow, "100001").failed_attempts == 1


def test_the_sixth_attempt_is_refused_even_with_the_right_password_until_15_minutes_pass(
    uow: UnitOfWork, world: World
) -> None:
    for minute in range(5):
        _login_message(uow, "100001", "Errada@123", NOW + timedelta(minutes=minute))
    locked_at = NOW + timedelta(minutes=4)
    user = _user_row(uow, "100001")
    assert user.failed_attempts == 5
    assert user.locked_until == locked_at + timedelta(minutes=15)

    message = _login_message(uow, "100001", PASSWORD, locked_at + timedelta(minutes=10))
    assert message == access.NEUTRAL_LOGIN_MESSAGE
    assert _user_row(uow, "100001").locked_until == locked_at + timedelta(minutes=15)
    assert (
        access.actor_for_user(uow=uow, user_code="100001", now=locked_at + timedelta(minutes=10))
        is None
    )

    later = locked_at + timedelta(minutes=15, seconds=1)
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=later)
    assert actor.user_code == "100001"
    user = _user_row(uow, "100001")
    assert (user.failed_attempts, user.locked_until) == (0, None)
    assert "login_locked" in _audit_actions(uow)


def test_after_the_lock_expires_a_wrong_password_starts_a_new_count(
    uow: UnitOfWork, world: World
) -> None:
    for _ in range(5):
        _login_message(uow, "100001", "Errada@123")
    _login_message(uow, "100001", "Errada@123", NOW + timedelta(minutes=16))
    user = _user_row(uow, "100001")
    assert (user.failed_attempts, user.locked_until) == (1, None)


@pytest.mark.parametrize("code", ["100003", "100004"], ids=["pending", "inactive"])
def test_pending_and_inactive_users_cannot_log_in(uow: UnitOfWork, world: World, code: str) -> None:
    assert _login_message(uow, code, PASSWORD) == access.NEUTRAL_LOGIN_MESSAGE


def test_actor_for_user_returns_only_active_unlocked_users(uow: UnitOfWork, world: World) -> None:
    assert access.actor_for_user(uow=uow, user_code="100001", now=NOW) is not None
    assert access.actor_for_user(uow=uow, user_code="100003", now=NOW) is None
    assert access.actor_for_user(uow=uow, user_code="100004", now=NOW) is None
    assert access.actor_for_user(uow=uow, user_code="000000", now=NOW) is None


# ---------------------------------------------------------------- login cookie


def test_the_login_cookie_carries_the_session_token_signed_and_logs_back_in(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    value, lifetime = access.session_cookie_value(actor, NOW)
    assert lifetime == int(0.5 * 24 * 3600)  # PORTAL_COOKIE_EXPIRY_DAYS
    assert PASSWORD not in value
    token = access.session_token_from_cookie(value, NOW + timedelta(minutes=5))
    assert token == access.session_token(actor)
    back = access.actor_from_session_token(uow=uow, token=token, now=NOW + timedelta(minutes=5))
    assert back is not None and back.user_code == "100001"
    assert back.session_id == actor.session_id


def test_a_login_cookie_that_is_altered_foreign_expired_or_malformed_is_refused(
    uow: UnitOfWork, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    value, lifetime = access.session_cookie_value(actor, NOW)
    token, expiry, signature = value.rsplit(".", 2)
    # Another user's code with the same signature, a later expiry, another signature.
    assert access.session_token_from_cookie(value.replace("100001", "100002", 1), NOW) is None
    later = f"{token}.{int(expiry) + 3600}.{signature}"
    assert access.session_token_from_cookie(later, NOW) is None
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert access.session_token_from_cookie(f"{token}.{expiry}.{flipped}", NOW) is None
    # Its own expiry has passed (the browser may keep a cookie longer than asked).
    assert access.session_token_from_cookie(value, NOW + timedelta(seconds=lifetime)) is None
    for junk in ("", ".", "..", "abc", "a.b", f"{token}..{signature}", "x" * 500):
        assert access.session_token_from_cookie(junk, NOW) is None
    # streamlit-authenticator's old cookie (a JWT of {"username": token}) is not ours.
    old = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6IjEwMDAwMToxOnNpZCJ9.c2lnbmF0dXJl"
    assert access.session_token_from_cookie(old, NOW) is None
    # Signed with another key (another server, or the key was changed): refused.
    other: dict[str, Any] = {"_env_file": None, "cookie_key": "k" * 48}
    monkeypatch.setattr(access, "get_settings", lambda: Settings(**other))
    assert access.session_token_from_cookie(value, NOW) is None
    assert access.session_token_from_cookie(access.session_cookie_value(actor, NOW)[0], NOW)


def test_a_login_cookie_of_an_ended_session_logs_nobody_in(uow: UnitOfWork, world: World) -> None:
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    value, _ = access.session_cookie_value(actor, NOW)
    access.session_end(uow=uow, actor=actor, now=NOW)
    token = access.session_token_from_cookie(value, NOW)
    assert token is not None  # still a cookie this server signed...
    assert access.actor_from_session_token(uow=uow, token=token, now=NOW) is None  # ...of no one


# ---------------------------------------------------------------- actors


def test_a_master_sees_every_company_of_its_economic_group(uow: UnitOfWork, world: World) -> None:
    actor = access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    assert actor.company_ids == {world.company_a, world.company_b}
    assert actor.permissions == ALL_PERMISSIONS
    assert not actor.can_see_company(world.company_c)


def test_a_master_of_another_company_does_not_see_the_group(uow: UnitOfWork, world: World) -> None:
    actor = access.auth_login(uow=uow, user_code="100005", password=PASSWORD, now=NOW)
    assert actor.company_ids == {world.company_c}
    with pytest.raises(DomainError):
        actor.require(None, world.company_a)


def test_a_company_user_has_its_stored_permissions_on_the_group(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    assert actor.role is Role.USER
    assert actor.permissions == {Permission.MOVEMENTS, Permission.REPORTS}
    assert actor.company_ids == {world.company_a, world.company_b}


def test_an_account_manager_sees_its_portfolio_and_starts_on_the_first_by_code(
    uow: UnitOfWork, world: World
) -> None:
    actor = access.auth_login(uow=uow, user_code="900001", password=PASSWORD, now=NOW)
    assert actor.is_account_manager
    assert actor.company_ids == {world.company_a, world.company_c}
    assert actor.home_company_id == world.company_a
    assert actor.permissions == ALL_PERMISSIONS


# ---------------------------------------------------------------- password reset


def _outbox(uow: UnitOfWork, to: str | None = None) -> list[mail.OutboxMessage]:
    """The outbox as the account manager reads it (it sees every e-mail)."""
    manager = access.actor_for_user(uow=uow, user_code="900001", now=NOW)
    assert manager is not None
    return mail.outbox_list(uow=uow, actor=manager, to=to)


def _reset_tokens_in_mail(uow: UnitOfWork, to: str) -> list[str]:
    bodies = [m.body for m in _outbox(uow, to=to)]
    return [t for b in bodies for t in re.findall(r"\?reset=(\S+)", b)]


def _request_reset(uow: UnitOfWork, now: datetime = NOW, **kw: str) -> str | None:
    values = {"user_code": "100001", "document": CNPJ_A}
    values.update(kw)
    access.password_reset_request(uow=uow, now=now, base_url=BASE_URL, **values)
    tokens = _reset_tokens_in_mail(uow, "u100001@example.com.br")
    return tokens[0] if tokens else None


def test_password_reset_sends_a_link_that_sets_a_new_password(
    uow: UnitOfWork, world: World
) -> None:
    token = _request_reset(uow)
    assert token is not None
    body = _outbox(uow)[0].body
    assert f"{BASE_URL}/?reset={token}" in body
    with uow:
        stored = uow.session.scalars(select(PasswordResetToken)).one()
        assert stored.token_hash != token and len(stored.token_hash) == 64
        assert stored.expires_at == NOW + timedelta(minutes=30)

    code = access.password_reset_confirm(
        uow=uow,
        token=token,
        password=NEW_PASSWORD,
        confirmation=NEW_PASSWORD,
        now=NOW + timedelta(minutes=5),
    )
    assert code == "100001"
    access.auth_login(uow=uow, user_code="100001", password=NEW_PASSWORD, now=NOW)
    assert _login_message(uow, "100001", PASSWORD) == access.NEUTRAL_LOGIN_MESSAGE
    assert {"password_reset_request", "password_reset"} <= set(_audit_actions(uow))


def test_password_reset_works_for_an_account_manager_with_the_operator_cnpj(
    uow: UnitOfWork, world: World
) -> None:
    access.password_reset_request(
        uow=uow, user_code="900001", document=OPERATOR_CNPJ, now=NOW, base_url=BASE_URL
    )
    assert _reset_tokens_in_mail(uow, "u900001@example.com.br")


def test_a_used_reset_link_is_refused(uow: UnitOfWork, world: World) -> None:
    token = _request_reset(uow)
    assert token is not None
    access.password_reset_confirm(
        uow=uow, token=token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, now=NOW
    )
    with pytest.raises(DomainError) as err:
        access.password_reset_confirm(
            uow=uow, token=token, password="Outra#Senha1", confirmation="Outra#Senha1", now=NOW
        )
    assert err.value.message == access.INVALID_RESET_MESSAGE


def test_a_reset_link_older_than_30_minutes_is_refused(uow: UnitOfWork, world: World) -> None:
    token = _request_reset(uow)
    assert token is not None
    with pytest.raises(DomainError, match="inválido ou expirado"):
        access.password_reset_confirm(
            uow=uow,
            token=token,
            password=NEW_PASSWORD,
            confirmation=NEW_PASSWORD,
            now=NOW + timedelta(minutes=31),
        )
    assert access.verify_password(PASSWORD, _user_row(uow, "100001").password_hash)


def test_an_unknown_reset_token_is_refused(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(DomainError, match="inválido ou expirado"):
        access.password_reset_confirm(
            uow=uow,
            token="nao-existe",
            password=NEW_PASSWORD,
            confirmation=NEW_PASSWORD,
            now=NOW,
        )


def test_a_new_reset_request_invalidates_the_older_link(uow: UnitOfWork, world: World) -> None:
    older = _request_reset(uow)
    access.password_reset_request(
        uow=uow,
        user_code="100001",
        document=CNPJ_A,
        now=NOW + timedelta(minutes=2),
        base_url=BASE_URL,
    )
    newer = _reset_tokens_in_mail(uow, "u100001@example.com.br")[0]
    assert older is not None and newer != older
    with pytest.raises(DomainError, match="inválido ou expirado"):
        access.password_reset_confirm(
            uow=uow, token=older, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, now=NOW
        )
    access.password_reset_confirm(
        uow=uow,
        token=newer,
        password=NEW_PASSWORD,
        confirmation=NEW_PASSWORD,
        now=NOW + timedelta(minutes=3),
    )


def test_reset_confirm_checks_the_password_policy_and_keeps_the_link_usable(
    uow: UnitOfWork, world: World
) -> None:
    token = _request_reset(uow)
    assert token is not None
    with pytest.raises(FieldErrors) as err:
        access.password_reset_confirm(
            uow=uow, token=token, password="fraca", confirmation="outra", now=NOW
        )
    assert set(err.value.errors) == {"password", "confirmation"}
    access.password_reset_confirm(
        uow=uow, token=token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, now=NOW
    )


def test_a_reset_unlocks_a_locked_user(uow: UnitOfWork, world: World) -> None:
    for _ in range(5):
        _login_message(uow, "100001", "Errada@123")
    token = _request_reset(uow)
    assert token is not None
    access.password_reset_confirm(
        uow=uow, token=token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, now=NOW
    )
    assert access.auth_login(uow=uow, user_code="100001", password=NEW_PASSWORD, now=NOW)


@pytest.mark.parametrize(
    ("code", "document"),
    [
        ("199999", CNPJ_A),
        ("100001", CNPJ_B),
        ("100003", CNPJ_B),
        ("100004", CNPJ_A),
        ("900001", CNPJ_A),
    ],
    ids=[
        "unknown-user",
        "document-of-another-company",
        "pending-user",
        "inactive-user",
        "manager-without-operator-cnpj",
    ],
)
def test_a_reset_request_that_does_not_match_writes_nothing_and_says_nothing(
    uow: UnitOfWork, world: World, code: str, document: str
) -> None:
    access.password_reset_request(
        uow=uow, user_code=code, document=document, now=NOW, base_url=BASE_URL
    )
    assert _count(uow, PasswordResetToken) == 0
    assert _count(uow, OutboxEmail) == 0


# ---------------------------------------------------------------- user code reminder


def test_the_user_code_reminder_mails_the_codes_when_all_three_match(
    uow: UnitOfWork, world: World
) -> None:
    access.user_code_reminder(
        uow=uow,
        company_code="1002",
        document=format_cnpj(CNPJ_B),
        email="PEDRO@beta.com.br",
        now=NOW,
    )
    sent = _outbox(uow)
    assert len(sent) == 1
    assert sent[0].to_address == "Pedro@Beta.com.br"
    assert "100003" in sent[0].body


@pytest.mark.parametrize(
    ("company_code", "document", "email"),
    [
        ("1001", CNPJ_B, "pedro@beta.com.br"),
        ("1002", CNPJ_A, "pedro@beta.com.br"),
        ("1002", CNPJ_B, "outro@beta.com.br"),
        ("1001", CNPJ_A, "u100004@example.com.br"),
    ],
    ids=["wrong-company-code", "wrong-document", "wrong-email", "inactive-user"],
)
def test_the_user_code_reminder_sends_nothing_unless_all_three_match(
    uow: UnitOfWork, world: World, company_code: str, document: str, email: str
) -> None:
    access.user_code_reminder(
        uow=uow, company_code=company_code, document=document, email=email, now=NOW
    )
    assert _count(uow, OutboxEmail) == 0


# ---------------------------------------------------------------- change password


def test_a_user_changes_its_own_password(uow: UnitOfWork, world: World) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    access.password_change(
        uow=uow,
        actor=actor,
        current=PASSWORD,
        new=NEW_PASSWORD,
        confirmation=NEW_PASSWORD,
        now=NOW,
    )
    assert access.verify_password(NEW_PASSWORD, _user_row(uow, "100002").password_hash)
    assert "password_change" in _audit_actions(uow)


@pytest.mark.parametrize(
    ("current", "new", "confirmation", "fields"),
    [
        ("Errada@123", NEW_PASSWORD, NEW_PASSWORD, {"current"}),
        (PASSWORD, "fraca", "fraca", {"new"}),
        (PASSWORD, PASSWORD, PASSWORD, {"new"}),
        (PASSWORD, NEW_PASSWORD, "Outra#Senha1", {"confirmation"}),
    ],
    ids=["wrong-current", "weak-new", "same-as-current", "different-confirmation"],
)
def test_a_password_change_is_refused_field_by_field(
    uow: UnitOfWork, world: World, current: str, new: str, confirmation: str, fields: set[str]
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    with pytest.raises(FieldErrors) as err:
        access.password_change(
            uow=uow, actor=actor, current=current, new=new, confirmation=confirmation, now=NOW
        )
    assert set(err.value.errors) == fields
    assert access.verify_password(PASSWORD, _user_row(uow, "100002").password_hash)


# ---------------------------------------------------------------- audit


def test_audit_records_store_json_safe_before_and_after(uow: UnitOfWork, world: World) -> None:
    with uow:
        audit_record(
            uow.session,
            user_id=world.manager_id,
            company_id=world.company_a,
            action="company_update",
            entity="company",
            entity_id=world.company_a,
            before={"cutoff": date(2025, 1, 20), "fine": Decimal("2.00")},
            after={"at": NOW, "roles": {Role.MASTER}, "nested": [{"v": Decimal("1.5")}]},
            now=NOW,
        )
        uow.commit()
    with uow:
        row = uow.session.scalars(select(AuditRecord)).one()
        assert row.entity_id == str(world.company_a)
        assert row.before == {"cutoff": "2025-01-20", "fine": "2.00"}
        assert row.after == {
            "at": "2025-03-10T12:00:00+00:00",
            "roles": ["master"],
            "nested": [{"v": "1.5"}],
        }


def test_the_password_check_holds_no_lock(
    uow: UnitOfWork, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While bcrypt runs, another transaction may write (SQLite) and lock the user's row
    (PostgreSQL): a slow login never holds up the others."""
    from sqlalchemy import update

    from data.db import make_session_factory

    real = access.verify_password
    seen: list[bool] = []

    def checking(password: str, password_hash: str | None) -> bool:
        other = UnitOfWork(make_session_factory(uow._session_factory.kw["bind"]))  # noqa: SLF001
        with other:
            if other.dialect == "postgresql":
                other.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            else:
                other.session.execute(text("PRAGMA busy_timeout = 200"))
            other.session.execute(
                update(User).where(User.user_code == "100001").values(failed_attempts=0)
            )
            other.commit()
        seen.append(True)
        return real(password, password_hash)

    monkeypatch.setattr(access, "verify_password", checking)
    access.auth_login(uow=uow, user_code="100001", password=PASSWORD, now=NOW)
    assert seen
