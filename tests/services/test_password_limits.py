"""Alterar senha counts wrong current passwords toward the user's lock; passwords over
bcrypt's 72 bytes are refused with a message wherever a password is set."""

from __future__ import annotations

from datetime import timedelta

import bcrypt
import pytest

from data.uow import UnitOfWork
from services.access import accounts as access
from services.rules.errors import DomainError, FieldErrors
from services.rules.passwords import TOO_LONG_MESSAGE
from tests.services.test_access import (  # noqa: F401 - fixtures
    NEW_PASSWORD,
    NOW,
    PASSWORD,
    World,
    _audit_actions,
    _user_row,
    fast_hashes_and_no_smtp,
    world,
)

WRONG = "Errada#Senha1"


def _change(uow: UnitOfWork, actor: access.Actor, current: str, new: str = NEW_PASSWORD):  # noqa: ANN201
    return access.password_change(
        uow=uow, actor=actor, current=current, new=new, confirmation=new, now=NOW
    )


# ---------------------------------------------------------------- lock on password change


def test_five_wrong_current_passwords_lock_the_user_and_end_its_sessions(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    for attempt in range(1, access.MAX_FAILED_ATTEMPTS):
        with pytest.raises(FieldErrors) as refused:
            _change(uow, actor, WRONG)
        left = access.MAX_FAILED_ATTEMPTS - attempt
        assert f"Mais {left} tentativa(s)" in refused.value.errors["current"]
        assert _user_row(uow, "100002").failed_attempts == attempt
    with pytest.raises(access.AccountLocked, match="bloqueado por 15 minutos"):
        _change(uow, actor, WRONG)
    user = _user_row(uow, "100002")
    assert user.locked_until == NOW + access.LOCK_DURATION
    assert "login_locked" in _audit_actions(uow)
    # This session has ended, and nobody logs in with the right password while locked.
    assert access.actor_refresh(uow=uow, actor=actor, now=NOW) is None
    with pytest.raises(DomainError, match="inválidos"):
        access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    # A change from any session is refused until the lock passes (without extending it).
    with pytest.raises(DomainError, match="bloqueado") as refused_while_locked:
        _change(uow, actor, PASSWORD)
    assert not isinstance(refused_while_locked.value, FieldErrors)
    assert _user_row(uow, "100002").locked_until == NOW + access.LOCK_DURATION
    assert access.verify_password(PASSWORD, _user_row(uow, "100002").password_hash)
    # After 15 minutes the login works again, with a fresh series of attempts.
    later = NOW + access.LOCK_DURATION + timedelta(seconds=1)
    assert access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=later)
    assert _user_row(uow, "100002").failed_attempts == 0


def test_wrong_logins_and_wrong_current_passwords_share_one_counter(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    for _ in range(3):  # someone else fails the login meanwhile
        with pytest.raises(DomainError):
            access.auth_login(uow=uow, user_code="100002", password=WRONG, now=NOW)
    with pytest.raises(FieldErrors, match="Mais 1 tentativa"):
        _change(uow, actor, WRONG)
    with pytest.raises(access.AccountLocked):
        _change(uow, actor, WRONG)


def test_a_successful_change_starts_a_fresh_series_of_attempts(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    with pytest.raises(FieldErrors):
        _change(uow, actor, WRONG)
    assert _user_row(uow, "100002").failed_attempts == 1
    _change(uow, actor, PASSWORD)
    assert _user_row(uow, "100002").failed_attempts == 0


# ---------------------------------------------------------------- 72 bytes


LONG_ASCII = "Aa1!" + "x" * 69  # 73 bytes
LONG_ACCENTED = "Çã1!" + "ã" * 34  # 38 characters, 74 bytes


@pytest.mark.parametrize("new", [LONG_ASCII, LONG_ACCENTED], ids=["ascii-73", "accented-38"])
def test_a_password_change_refuses_a_password_over_72_bytes(
    uow: UnitOfWork,
    world: World,  # noqa: F811
    new: str,
) -> None:
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    with pytest.raises(FieldErrors) as refused:
        _change(uow, actor, PASSWORD, new)
    assert refused.value.errors == {"new": TOO_LONG_MESSAGE}
    assert access.verify_password(PASSWORD, _user_row(uow, "100002").password_hash)


def test_a_password_of_exactly_72_bytes_is_set_and_logs_in(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    exact = "Aa1!" + "x" * 68
    actor = access.auth_login(uow=uow, user_code="100002", password=PASSWORD, now=NOW)
    _change(uow, actor, PASSWORD, exact)
    assert access.auth_login(uow=uow, user_code="100002", password=exact, now=NOW)
    # One character more is another password, not the same one cut.
    with pytest.raises(DomainError, match="inválidos"):
        access.auth_login(uow=uow, user_code="100002", password=exact + "y", now=NOW)


def test_the_hash_refuses_more_than_72_bytes_instead_of_cutting() -> None:
    with pytest.raises(ValueError, match="72"):
        access.hash_password(LONG_ASCII)


def test_a_long_password_at_the_login_is_just_wrong(
    uow: UnitOfWork,
    world: World,  # noqa: F811
) -> None:
    with pytest.raises(DomainError, match="inválidos"):
        access.auth_login(uow=uow, user_code="100002", password="Aa1!" + "z" * 200, now=NOW)
    assert _user_row(uow, "100002").failed_attempts == 1  # counted like any wrong password
    # Not cut: a hash of the first 72 bytes does not match the longer password.
    long_password = "Antiga#1" + "w" * 80
    cut_hash = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    assert not access.verify_password(long_password, cut_hash)
    assert access.verify_password(long_password[:72], cut_hash)
