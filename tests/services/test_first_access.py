"""First access proves control of the registered contact (issue 11, item 1).

A company's first access starts with a single-use link (24 hours) e-mailed to the contact
registered in its contract (Company.contact_email); a user created by a master activates
itself only through the single-use invitation (7 days) its registration e-mailed.
Identifiers alone (code, CNPJ/CAEPF, any e-mail) never create or hand over an account.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from data.models import AuditRecord, Company, Counter, OutboxEmail, PasswordResetToken, User
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import Permission, Role
from services.mail import outbox as mail
from services.rules.errors import DomainError, FieldErrors
from tests.services.test_access import (  # noqa: F401 - fixtures
    BASE_URL,
    CAEPF_D,
    CNPJ_A,
    CNPJ_C,
    NEW_PASSWORD,
    NOW,
    PASSWORD,
    World,
    _audit_actions,
    _count,
    _user_row,
)
from tests.services.test_access import fast_hashes_and_no_smtp as _no_smtp  # noqa: F401
from tests.services.test_access import world as _world  # noqa: F401 - the `world` fixture


@pytest.fixture
def world(_world: World) -> World:  # noqa: F811 - the imported fixture
    """The world of test_access: companies D (CAEPF) and E have no users and a contact."""
    return _world


def _mails(uow: UnitOfWork, to: str | None = None) -> list[OutboxEmail]:
    """The recorded e-mails, oldest first (optionally to one address)."""
    with uow:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        if to:
            query = query.where(func.lower(OutboxEmail.to_address) == to.lower())
        rows = list(uow.session.scalars(query))
        uow.session.expunge_all()
        return rows


def _request_reset(uow: UnitOfWork) -> str:
    access.password_reset_request(
        uow=uow, user_code="100001", document=CNPJ_A, now=NOW, base_url=BASE_URL
    )
    bodies = [m.body for m in _mails(uow, "u100001@example.com.br")]
    (token,) = [t for b in bodies for t in re.findall(r"\?reset=([\w-]+)", b)]
    return token


# ---------------------------------------------------------------- first access: company
#
# The company's registered contact (Company.contact_email) receives a single-use link;
# identifiers alone (code, CNPJ, any e-mail) never create or hand over an account.

CONTACT_E = "rh@estrela.com.br"


def _activation_tokens(uow: UnitOfWork, to: str = CONTACT_E) -> list[str]:
    bodies = [m.body for m in _mails(uow, to)]
    return [t for b in bodies for t in re.findall(r"\?ativar=([\w-]+)", b)]


def _request_activation(uow: UnitOfWork, now: datetime = NOW, **overrides: str) -> None:
    values = {
        "company_code": "4001",
        "email": CONTACT_E,
        "document": "12.345.678/0001-95",
        "document_type": "CNPJ",
    }
    values.update(overrides)
    access.company_activation_request(uow=uow, now=now, base_url=BASE_URL, **values)


def _activate(
    uow: UnitOfWork, token: str, now: datetime = NOW, password: str = PASSWORD
) -> access.FirstAccessResult:
    return access.company_activation_confirm(
        uow=uow,
        token=token,
        password=password,
        confirmation=password,
        now=now,
        base_url=BASE_URL,
    )


def _masters_of(uow: UnitOfWork, company_id: int) -> int:
    return _count(uow, User, User.company_id == company_id)


def test_first_access_of_a_company_mails_a_link_to_its_registered_contact_and_creates_nothing(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(uow, email="  RH@Estrela.com.br ")
    assert _masters_of(uow, world.company_e) == 0
    (message,) = _mails(uow)
    assert message.to_address == CONTACT_E  # the registered address, not the typed one
    (token,) = _activation_tokens(uow)
    assert f"{BASE_URL}/?ativar={token}" in message.body
    assert "24 horas" in message.body
    with uow:
        stored = uow.session.scalars(select(PasswordResetToken)).one()
        assert (stored.purpose, stored.company_id, stored.user_id) == (
            "company_activation",
            world.company_e,
            None,
        )
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert stored.expires_at == NOW + timedelta(hours=24)
    assert _audit_actions(uow) == ["first_access_request"]


def test_the_activation_link_shows_the_company_and_creates_its_master_once(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(uow)
    (token,) = _activation_tokens(uow)
    link = access.access_link_check(
        uow=uow, token=token, purpose=access.PURPOSE_ACTIVATION, now=NOW
    )
    assert (link.company_code, link.company_name, link.user_code) == ("4001", "Estrela Ltda", None)

    result = _activate(uow, token, NOW + timedelta(hours=1))
    assert result == access.FirstAccessResult(user_code="100006", name="Estrela Ltda")
    master = _user_row(uow, "100006")
    assert (master.role, master.status, master.company_id, master.email) == (
        "master",
        "active",
        world.company_e,
        CONTACT_E,
    )
    assert set(master.permissions) == {p.value for p in Permission}
    assert access.auth_login(uow=uow, user_code="100006", password=PASSWORD, now=NOW).role is (
        Role.MASTER
    )
    welcome = [m for m in _mails(uow, CONTACT_E) if "100006" in m.body]
    assert len(welcome) == 1
    assert _audit_actions(uow)[:2] == ["first_access_request", "first_access_company"]
    # Single use: the same link again creates nothing.
    with pytest.raises(DomainError) as err:
        _activate(uow, token, NOW + timedelta(hours=2), password=NEW_PASSWORD)
    assert err.value.message == access.INVALID_ACTIVATION_MESSAGE
    assert _masters_of(uow, world.company_e) == 1


def test_first_access_uses_the_contact_name_when_the_company_has_one(
    uow: UnitOfWork, world: World
) -> None:
    with uow:
        uow.session.get_one(Company, world.company_e).contact_name = "Eva Souza"
        uow.commit()
    _request_activation(uow)
    assert "Olá, Eva Souza." in _mails(uow)[0].body
    assert _activate(uow, _activation_tokens(uow)[0]).name == "Eva Souza"


def test_first_access_of_a_caepf_company_checks_the_caepf_digits(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(
        uow,
        company_code="3001",
        document=CAEPF_D,
        document_type="CAEPF",
        email="dono@fazenda.com.br",
    )
    (token,) = _activation_tokens(uow, "dono@fazenda.com.br")
    assert _activate(uow, token).user_code == "100006"
    assert _user_row(uow, "100006").company_id == world.company_d


@pytest.mark.parametrize(
    "email",
    ["outro@estrela.com.br", "atacante@example.com", "rh@estrela.com.br.evil.example"],
    ids=["colleague", "stranger", "lookalike"],
)
def test_an_e_mail_that_is_not_the_registered_contact_gets_nothing_and_the_same_answer(
    uow: UnitOfWork, world: World, email: str
) -> None:
    answer = _request_activation(uow, email=email)
    assert answer is None  # the same (silent) answer as for the right e-mail
    assert _count(uow, OutboxEmail) == 0
    assert _count(uow, PasswordResetToken) == 0
    assert _masters_of(uow, world.company_e) == 0
    # The attempt is in the company's audit trail for its account manager, without the
    # address typed.
    with uow:
        record = uow.session.scalars(select(AuditRecord)).one()
        assert (record.action, record.company_id) == (
            "first_access_request_refused",
            world.company_e,
        )
        assert email not in str(record.after)


def test_a_company_without_a_registered_contact_gets_no_link(uow: UnitOfWork, world: World) -> None:
    with uow:
        uow.session.get_one(Company, world.company_e).contact_email = None
        uow.commit()
    _request_activation(uow)
    assert _count(uow, OutboxEmail) == 0 and _count(uow, PasswordResetToken) == 0


def test_identifiers_alone_never_create_or_hand_over_an_account(
    uow: UnitOfWork, world: World
) -> None:
    """Code + CNPJ/CAEPF + e-mail (even the right contact) and a password: no account.
    The old `first_access_company`/`first_access_user` created the master and activated
    the pending user from exactly these; no public function of the module may."""
    for name in ("first_access_company", "first_access_user"):
        assert not hasattr(access, name), name
    _request_activation(uow)
    _request_activation(uow, email="atacante@example.com")
    assert _masters_of(uow, world.company_e) == 0
    assert _user_row(uow, "100003").status == "pending"
    assert _user_row(uow, "100003").password_hash is None
    # Every public function that takes a password from a visitor needs an e-mailed token.
    takers = {
        name
        for name, fn in vars(access).items()
        if inspect.isfunction(fn)
        and not name.startswith("_")
        and fn.__module__ == access.__name__
        and {"uow", "password"} <= set(inspect.signature(fn).parameters)
        and "actor" not in inspect.signature(fn).parameters
    }
    assert takers == {
        "auth_login",  # an existing account's own password
        "company_activation_confirm",
        "user_invitation_accept",
        "password_reset_confirm",
    }
    for name in takers - {"auth_login"}:
        assert "token" in inspect.signature(getattr(access, name)).parameters, name


def test_a_new_activation_request_invalidates_the_older_link(uow: UnitOfWork, world: World) -> None:
    _request_activation(uow)
    _request_activation(uow, now=NOW + timedelta(minutes=5))
    older, newer = _tokens_oldest_first(uow)
    with pytest.raises(DomainError, match="inválido, expirado ou já usado"):
        _activate(uow, older)
    assert _activate(uow, newer, NOW + timedelta(minutes=6)).user_code == "100006"


def _tokens_oldest_first(uow: UnitOfWork) -> list[str]:
    return [t for r in _mails(uow) for t in re.findall(r"\?ativar=([\w-]+)", r.body)]


def test_an_activation_link_older_than_24_hours_is_refused(uow: UnitOfWork, world: World) -> None:
    _request_activation(uow)
    (token,) = _activation_tokens(uow)
    late = NOW + timedelta(hours=24)
    with pytest.raises(DomainError) as err:
        access.access_link_check(uow=uow, token=token, purpose=access.PURPOSE_ACTIVATION, now=late)
    assert err.value.message == access.INVALID_ACTIVATION_MESSAGE
    with pytest.raises(DomainError, match="inválido, expirado ou já usado"):
        _activate(uow, token, late)
    assert _masters_of(uow, world.company_e) == 0


def test_a_token_of_another_purpose_opens_nothing(uow: UnitOfWork, world: World) -> None:
    """A reset link is no activation or invitation link, and the other way round."""
    reset = _request_reset(uow)
    _request_activation(uow)
    (activation,) = _activation_tokens(uow)
    assert reset is not None
    with pytest.raises(DomainError, match="Link de ativação inválido"):
        _activate(uow, reset)
    with pytest.raises(DomainError, match="Convite inválido"):
        access.user_invitation_accept(
            uow=uow, token=activation, password=PASSWORD, confirmation=PASSWORD, now=NOW
        )
    with pytest.raises(DomainError, match="Link de redefinição inválido"):
        access.password_reset_confirm(
            uow=uow,
            token=activation,
            password=NEW_PASSWORD,
            confirmation=NEW_PASSWORD,
            now=NOW,
        )
    assert _masters_of(uow, world.company_e) == 0
    assert _activate(uow, activation).user_code == "100006"  # still good for its purpose


def test_an_activation_link_dies_when_the_contact_changes_or_a_master_exists(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(uow)
    (token,) = _activation_tokens(uow)
    with uow:
        uow.session.get_one(Company, world.company_e).contact_email = "novo@estrela.com.br"
        uow.commit()
    with pytest.raises(DomainError, match="inválido, expirado ou já usado"):
        _activate(uow, token)
    # Company 1001 already has a master: no request goes through, nothing is sent.
    with pytest.raises(DomainError) as err:
        _request_activation(uow, company_code="1001", document=CNPJ_A)
    assert err.value.message == access.FIRST_ACCESS_DONE_MESSAGE


def test_activation_checks_the_password_policy_and_keeps_the_link_usable(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(uow)
    (token,) = _activation_tokens(uow)
    with pytest.raises(FieldErrors) as err:
        access.company_activation_confirm(
            uow=uow, token=token, password="fraca", confirmation="outra", now=NOW
        )
    assert set(err.value.errors) == {"password", "confirmation"}
    assert _activate(uow, token).user_code == "100006"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"document": "12.345.678/0001-96"}, "document"),
        ({"document": ""}, "document"),
        ({"document_type": "CAEPF"}, "document"),
        ({"email": "rh@estrela"}, "email"),
        ({"email": ""}, "email"),
        ({"company_code": "  "}, "company_code"),
    ],
    ids=[
        "cnpj-check-digit",
        "no-document",
        "cnpj-is-not-a-caepf",
        "bad-email",
        "no-email",
        "no-company-code",
    ],
)
def test_the_activation_request_refuses_each_bad_field(
    uow: UnitOfWork, world: World, overrides: dict[str, str], field: str
) -> None:
    with pytest.raises(FieldErrors) as err:
        _request_activation(uow, **overrides)
    assert set(err.value.errors) == {field}
    assert _count(uow, OutboxEmail) == 0


@pytest.mark.parametrize(
    "overrides",
    [{"company_code": "9999"}, {"document": CNPJ_C}, {"company_code": "2001"}],
    ids=["unknown-code", "document-of-another-company", "code-of-another-company"],
)
def test_an_activation_request_with_a_code_and_document_that_do_not_match_does_not_say_which(
    uow: UnitOfWork, world: World, overrides: dict[str, str]
) -> None:
    with pytest.raises(DomainError) as err:
        _request_activation(uow, **overrides)
    assert err.value.message == access.PAIR_MISMATCH_MESSAGE
    assert _count(uow, OutboxEmail) == 0 and _count(uow, User) == 6


def test_new_user_codes_come_from_the_counter_and_never_repeat(
    uow: UnitOfWork, world: World
) -> None:
    _request_activation(uow)
    first = _activate(uow, _activation_tokens(uow)[0])
    _request_activation(
        uow,
        company_code="3001",
        document=CAEPF_D,
        document_type="CAEPF",
        email="dono@fazenda.com.br",
    )
    second = _activate(uow, _activation_tokens(uow, "dono@fazenda.com.br")[0])
    assert (first.user_code, second.user_code) == ("100006", "100007")
    with uow:
        assert uow.session.get_one(Counter, "user_code").value == 100007


def test_the_rate_limit_still_applies_to_the_activation_request(
    uow: UnitOfWork, world: World
) -> None:
    for minute in range(5):
        _request_activation(uow, email="errado@estrela.com.br", now=NOW + timedelta(minutes=minute))
    with pytest.raises(DomainError, match="Muitas tentativas"):
        _request_activation(uow, now=NOW + timedelta(minutes=6))
    assert _count(uow, OutboxEmail) == 0


def test_the_rate_limit_applies_to_the_link_forms(uow: UnitOfWork, world: World) -> None:
    for _ in range(30):
        with pytest.raises(DomainError, match="inválido"):
            access.company_activation_confirm(
                uow=uow,
                token="palpite",
                password=PASSWORD,
                confirmation=PASSWORD,
                now=NOW,
                client="203.0.113.9",
            )
    with pytest.raises(DomainError, match="Muitas tentativas"):
        access.user_invitation_accept(
            uow=uow,
            token="palpite",
            password=PASSWORD,
            confirmation=PASSWORD,
            now=NOW,
            client="203.0.113.9",
        )


# ---------------------------------------------------------------- first access: user


def _invite(uow: UnitOfWork, code: str = "100003", now: datetime = NOW) -> str:
    """The master's registration (or a re-send) e-mails the invitation: the token."""
    with uow:
        s = uow.session
        user = s.scalars(select(User).where(User.user_code == code)).one()
        company = s.get_one(Company, user.company_id)
        invitation = access.user_invitation_send(
            s, user=user, company=company, inviter="Ana RH", now=now, base_url=BASE_URL
        )
        uow.commit()
    mail.mail_deliver(uow=uow, ids=[invitation.queued], now=now)
    (body,) = [m.body for m in _mails(uow) if m.id == invitation.queued.id]
    (token,) = re.findall(r"\?convite=([\w-]+)", body)
    assert f"{BASE_URL}/?convite={token}" in body
    return token


def _accept(
    uow: UnitOfWork, token: str, now: datetime = NOW, password: str = PASSWORD
) -> access.FirstAccessResult:
    return access.user_invitation_accept(
        uow=uow, token=token, password=password, confirmation=password, now=now
    )


def test_the_invitation_link_activates_the_user_and_then_login_works(
    uow: UnitOfWork, world: World
) -> None:
    token = _invite(uow)
    link = access.access_link_check(
        uow=uow, token=token, purpose=access.PURPOSE_INVITATION, now=NOW
    )
    assert (link.user_code, link.name, link.company_code) == ("100003", "Pessoa 100003", "1002")
    result = _accept(uow, token, NOW + timedelta(days=6))
    assert result == access.FirstAccessResult(user_code="100003", name="Pessoa 100003")
    assert _user_row(uow, "100003").status == "active"
    actor = access.auth_login(uow=uow, user_code="100003", password=PASSWORD, now=NOW)
    assert actor.permissions == {Permission.FINANCE}
    assert "first_access_user" in _audit_actions(uow)
    with pytest.raises(DomainError) as err:  # single use
        _accept(uow, token, password=NEW_PASSWORD)
    assert err.value.message == access.INVALID_INVITATION_MESSAGE
    assert access.verify_password(PASSWORD, _user_row(uow, "100003").password_hash)


def test_an_invitation_older_than_7_days_is_refused(uow: UnitOfWork, world: World) -> None:
    token = _invite(uow)
    with pytest.raises(DomainError, match="Convite inválido, expirado ou já usado"):
        _accept(uow, token, NOW + timedelta(days=7))
    assert _user_row(uow, "100003").status == "pending"


def test_a_new_invitation_invalidates_the_older_one(uow: UnitOfWork, world: World) -> None:
    older = _invite(uow)
    newer = _invite(uow, now=NOW + timedelta(minutes=1))
    with pytest.raises(DomainError, match="Convite inválido"):
        _accept(uow, older)
    assert _accept(uow, newer).user_code == "100003"


def test_an_invitation_of_a_user_already_active_or_inactive_opens_nothing(
    uow: UnitOfWork, world: World
) -> None:
    token = _invite(uow)
    with uow:
        uow.session.scalars(
            select(User).where(User.user_code == "100003")
        ).one().status = "inactive"
        uow.commit()
    with pytest.raises(DomainError, match="Convite inválido"):
        _accept(uow, token)
    # An active user's invitation (made before it became active) is moot too.
    active_token = _invite(uow, "100002")
    with pytest.raises(DomainError, match="Convite inválido"):
        _accept(uow, active_token, password=NEW_PASSWORD)
    assert access.verify_password(PASSWORD, _user_row(uow, "100002").password_hash)


def test_an_invitation_dies_when_the_user_e_mail_changes(uow: UnitOfWork, world: World) -> None:
    token = _invite(uow)
    with uow:
        uow.session.scalars(
            select(User).where(User.user_code == "100003")
        ).one().email = "certo@beta.com.br"
        uow.commit()
    with pytest.raises(DomainError, match="Convite inválido"):
        _accept(uow, token)


def test_accepting_an_invitation_checks_the_password_policy_and_keeps_the_link(
    uow: UnitOfWork, world: World
) -> None:
    token = _invite(uow)
    with pytest.raises(FieldErrors) as err:
        access.user_invitation_accept(
            uow=uow, token=token, password="100003Aa@", confirmation="x", now=NOW
        )
    assert set(err.value.errors) == {"password", "confirmation"}
    assert "código do usuário" in err.value.errors["password"]
    assert _accept(uow, token).user_code == "100003"


# ---------------------------------------------------------------- re-sending an invitation


def test_the_master_re_sends_an_invitation_and_only_the_new_link_works(
    uow: UnitOfWork, world: World
) -> None:
    from services.access import users

    older = _invite(uow)
    master = access.actor_for_user(uow=uow, user_code="100001", now=NOW)
    assert master is not None
    pending = _user_row(uow, "100003")
    later = NOW + timedelta(days=1)
    row = users.user_invitation_resend(
        uow=uow.for_company(world.company_b),
        actor=master,
        user_id=pending.id,
        now=later,
        base_url=BASE_URL,
    )
    assert row.invitation_delivered is True and row.status == "pending"
    newer = re.findall(r"\?convite=([\w-]+)", _mails(uow, pending.email)[-1].body)[0]
    assert newer != older
    with uow:
        record = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user_invitation_resend")
        ).one()
        assert (record.user_id, record.company_id, record.entity_id) == (
            master.user_id,
            world.company_b,
            str(pending.id),
        )
    with pytest.raises(DomainError, match="Convite inválido"):
        _accept(uow, older, later)
    assert _accept(uow, newer, later + timedelta(days=6)).user_code == "100003"


def test_an_invitation_is_re_sent_only_to_a_pending_user_of_a_company_one_administers(
    uow: UnitOfWork, world: World
) -> None:
    from services.access import users

    master = access.actor_for_user(uow=uow, user_code="100001", now=NOW)
    other_master = access.actor_for_user(uow=uow, user_code="100005", now=NOW)
    plain = access.actor_for_user(uow=uow, user_code="100002", now=NOW)
    assert master and other_master and plain
    active = _user_row(uow, "100002")
    pending = _user_row(uow, "100003")
    with pytest.raises(DomainError, match="já está ativo"):
        users.user_invitation_resend(
            uow=uow.for_company(world.company_a), actor=master, user_id=active.id, now=NOW
        )
    with pytest.raises(DomainError):  # another company's master
        users.user_invitation_resend(
            uow=uow.for_company(world.company_b), actor=other_master, user_id=pending.id, now=NOW
        )
    with pytest.raises(DomainError):  # the user's id under a company it is not in
        users.user_invitation_resend(
            uow=uow.for_company(world.company_c), actor=other_master, user_id=pending.id, now=NOW
        )
    with pytest.raises(DomainError):  # a user without the administration permission
        users.user_invitation_resend(
            uow=uow.for_company(world.company_b), actor=plain, user_id=pending.id, now=NOW
        )
    assert _count(uow, PasswordResetToken) == 0 and _count(uow, OutboxEmail) == 0


# ---------------------------------------------------------------- migration


def test_the_migration_keeps_existing_reset_links_working(engine) -> None:  # noqa: ANN001
    """0007 upgrades a database with reset links without loss: they become
    `password_reset` links of their user's company and still reset the password."""
    from datetime import date

    from sqlalchemy import MetaData, insert

    from data.db import make_session_factory, migrate

    migrate(engine, "0006_personal_data_access", down=True)
    old = MetaData()
    old.reflect(engine)
    assert "purpose" not in old.tables["password_reset_token"].c
    token = "token-de-antes-da-migracao-0123456789abcdef"
    with engine.begin() as conn:
        conn.execute(
            insert(old.tables["operator"]).values(
                id=1,
                name="Sorriso",
                ans_registration="123456",
                cnpj=CNPJ_C,
                pix_key="pix",
                city="São Paulo",
                bank_code="001",
                card_prefix="0001",
                protocol_template="{ans}{date:%Y%m%d}{seq:06d}",
                protocol_deadline_days=7,
            )
        )
        conn.execute(
            insert(old.tables["company"]).values(
                id=1,
                operator_id=1,
                code="1001",
                document=CNPJ_A,
                document_type="CNPJ",
                name="Alfa",
                contract_start=date(2024, 1, 1),
                status="active",
                cutoff_day=20,
                due_day=10,
                retroactive_months=3,
                fine_pct=200,
                monthly_interest_pct=100,
                overdue_update_limit_days=59,
                dependents_follow_holder=True,
                eligibility={},
            )
        )
        conn.execute(
            insert(old.tables["app_user"]).values(
                id=1,
                user_code="100001",
                name="Ana",
                email="ana@alfa.com.br",
                role="master",
                permissions=[],
                company_id=1,
                status="active",
                password_hash=access.hash_password(PASSWORD),
                failed_attempts=0,
                created_at=NOW,
                session_epoch=0,
                password_history=[],
            )
        )
        conn.execute(
            insert(old.tables["password_reset_token"]).values(
                id=1,
                user_id=1,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=30),
                used_at=None,
            )
        )
    migrate(engine, "head")  # foreign keys checked at the end, as the portal migrates
    uow = UnitOfWork(make_session_factory(engine))
    with uow:
        row = uow.session.scalars(select(PasswordResetToken)).one()
        assert (row.purpose, row.user_id, row.company_id, row.email) == (
            "password_reset",
            1,
            1,
            None,
        )
    code = access.password_reset_confirm(
        uow=uow,
        token=token,
        password=NEW_PASSWORD,
        confirmation=NEW_PASSWORD,
        now=NOW + timedelta(minutes=1),
    )
    assert code == "100001"
