"""Rate limits of the public forms: first access, forgotten password, forgotten user code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from data.models import OutboxEmail, RateEvent
from data.uow import UnitOfWork
from services.access import accounts as access
from services.access import rate_limit
from services.rules.errors import DomainError, FieldErrors

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TOO_MANY = "Muitas tentativas em pouco tempo"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "BCRYPT_ROUNDS", 4)


def _events(uow: UnitOfWork) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(RateEvent)) or 0


def test_the_sixth_attempt_for_one_identifier_within_15_minutes_is_refused(uow: UnitOfWork):
    for i in range(5):
        rate_limit.rate_limit_take(
            uow=uow,
            form="f",
            identifier="100001",
            client="10.0.0.1",
            now=NOW + timedelta(minutes=i),
        )
    with pytest.raises(DomainError, match=TOO_MANY) as err:
        rate_limit.rate_limit_take(
            uow=uow,
            form="f",
            identifier=" 100001 ",
            client="10.0.0.2",
            now=NOW + timedelta(minutes=5),
        )
    assert "aguarde 15 minutos" in err.value.message
    assert _events(uow) == 10  # the refused attempt is not counted again
    # Another identifier, and another form, are not affected.
    rate_limit.rate_limit_take(
        uow=uow, form="f", identifier="100002", client="10.0.0.2", now=NOW + timedelta(minutes=5)
    )
    rate_limit.rate_limit_take(
        uow=uow, form="g", identifier="100001", client="10.0.0.2", now=NOW + timedelta(minutes=5)
    )
    # Once the first attempt leaves the window, one more is allowed.
    rate_limit.rate_limit_take(
        uow=uow,
        form="f",
        identifier="100001",
        client="10.0.0.3",
        now=NOW + timedelta(minutes=15, seconds=1),
    )


def test_one_client_trying_many_identifiers_is_stopped_too(uow: UnitOfWork):
    for i in range(rate_limit.PER_CLIENT.attempts):
        rate_limit.rate_limit_take(
            uow=uow, form="f", identifier=f"{100000 + i}", client="203.0.113.9", now=NOW
        )
    with pytest.raises(DomainError, match=TOO_MANY):
        rate_limit.rate_limit_take(
            uow=uow, form="f", identifier="199999", client="203.0.113.9", now=NOW
        )
    rate_limit.rate_limit_take(
        uow=uow, form="f", identifier="199999", client="203.0.113.10", now=NOW
    )


def test_events_older_than_a_day_are_dropped(uow: UnitOfWork):
    rate_limit.rate_limit_take(uow=uow, form="f", identifier="1", client="c", now=NOW)
    rate_limit.rate_limit_take(
        uow=uow, form="f", identifier="1", client="c", now=NOW + timedelta(days=2)
    )
    assert _events(uow) == 2


def test_first_access_counts_refused_attempts_and_then_refuses_even_right_data(
    uow: UnitOfWork,
):
    def attempt(document: str) -> None:
        access.company_activation_request(
            uow=uow,
            company_code="10004",
            email="rh@example.com.br",
            document=document,
            document_type="CNPJ",
            now=NOW,
            base_url="https://portal.example",
            client="198.51.100.7",
        )

    for _ in range(5):
        with pytest.raises(FieldErrors):
            attempt("00.000.000/0000-00")
    with pytest.raises(DomainError, match=TOO_MANY):
        attempt("11.222.333/0001-81")


def test_password_reset_requests_are_limited_without_telling_whether_the_user_exists(
    uow: UnitOfWork,
):
    for code in ("100001", "999999"):  # the second does not exist: same behaviour
        for _ in range(5):
            access.password_reset_request(
                uow=uow,
                user_code=code,
                document="11.222.333/0001-81",
                now=NOW,
                base_url="https://portal.example",
                client="198.51.100.8",
            )
        with pytest.raises(DomainError, match=TOO_MANY):
            access.password_reset_request(
                uow=uow,
                user_code=code,
                document="11.222.333/0001-81",
                now=NOW,
                base_url="https://portal.example",
                client="198.51.100.8",
            )
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_user_code_reminders_are_limited(uow: UnitOfWork):
    for _ in range(5):
        access.user_code_reminder(
            uow=uow,
            company_code="10001",
            document="11.222.333/0001-81",
            email="rh@example.com.br",
            now=NOW,
            client="c",
        )
    with pytest.raises(DomainError, match=TOO_MANY):
        access.user_code_reminder(
            uow=uow,
            company_code="10001",
            document="11.222.333/0001-81",
            email="rh@example.com.br",
            now=NOW,
            client="c",
        )


def test_a_client_failing_logins_across_many_codes_is_stopped(uow: UnitOfWork):
    from datetime import date

    from data.models import Company, Operator, User

    with uow:
        op = Operator(
            name="Op",
            ans_registration="123456",
            cnpj="33445566000190",
            pix_key="pix@op.example",
            city="São Paulo",
        )
        uow.session.add(op)
        uow.session.flush()
        company = Company(
            operator_id=op.id,
            code="10001",
            document="11222333000181",
            document_type="CNPJ",
            name="Empresa",
            contract_start=date(2024, 1, 1),
        )
        uow.session.add(company)
        uow.session.flush()
        uow.session.add(
            User(
                user_code="100001",
                name="Marta",
                email="m@example.com.br",
                role="master",
                permissions=[],
                company_id=company.id,
                status="active",
                password_hash=access.hash_password("Certa#2026"),
                created_at=NOW,
            )
        )
        uow.commit()
    limit = rate_limit.LOGIN_FAILURES_PER_CLIENT.attempts
    for i in range(limit):
        with pytest.raises(DomainError, match="inválidos"):
            access.auth_login(
                uow=uow, user_code=f"{200000 + i}", password="x", now=NOW, client="203.0.113.50"
            )
    with pytest.raises(DomainError, match=TOO_MANY):
        access.auth_login(
            uow=uow, user_code="100001", password="Certa#2026", now=NOW, client="203.0.113.50"
        )
    # Another client, and the same one once the window has passed, log in.
    assert (
        access.auth_login(
            uow=uow, user_code="100001", password="Certa#2026", now=NOW, client="203.0.113.51"
        ).user_code
        == "100001"
    )
    later = NOW + rate_limit.LOGIN_FAILURES_PER_CLIENT.window + timedelta(seconds=1)
    assert (
        access.auth_login(
            uow=uow, user_code="100001", password="Certa#2026", now=later, client="203.0.113.50"
        ).user_code
        == "100001"
    )
