"""Beneficiary movements on both databases: inclusion, exclusion, update, reactivation,
transfer and plan change; every refusal names its field and writes nothing.

Accepted movements run on a fresh world each. The refusal tables share one world per
database (`shared`): each refusal asserts that it wrote nothing, so they cannot disturb
each other, and the suite stays fast."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select

import demo.generator
from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    Movement,
    Protocol,
    ProtocolEvent,
    User,
)
from data.uow import UnitOfWork
from services.access import accounts as access
from services.actors import Actor, Permission
from services.movements import service as movements_service
from services.movements.service import (
    CPF_TAKEN,
    ExclusionRequest,
    InclusionRequest,
    MovementResult,
    PlanChangeRequest,
    ReactivationRequest,
    TransferPlans,
    TransferRequest,
    UpdateRequest,
    beneficiary_detail,
    exclusion_preview,
    movement_apply,
    transfer_plans,
)
from services.rules.card_numbers import card_number, is_valid_card_number
from services.rules.documents import cpf_check_digits, format_cpf
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import (
    EXCLUSION_REASONS,
    MARITAL_STATUSES,
    STATES,
    UPDATABLE_FIELDS,
    Channel,
    MovementKind,
    PersonData,
)
from tests.conftest import _fresh_postgres, _fresh_sqlite
from tests.services.movements_support import (
    NOW,
    PROTOCOL_RE,
    TODAY,
    World,
    adult_dependent,
    child_person,
    delta,
    fields_of,
    holder_person,
    make_world,
    new_cpf,
    without_permissions,
)

RETRO = Channel.RETROACTIVE
NEXT_BILLING = date(2027, 1, 1)  # received on the 26th, after the cut-off day (20)
ADDRESS = {"cep": "13010-000", "municipality": "Campinas", "state": "SP"}
REPORTS_ONLY_USER = "100099"


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    """A fresh seeded world for a test that changes it."""
    # The demo password hash (cost 12) is most of the seeding time; nobody logs in here.
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[World]:
    """One seeded world per database for the refusal tables (which write nothing)."""
    fresh = _fresh_sqlite(tmp_path_factory) if request.param == "sqlite" else _fresh_postgres()
    engine = next(fresh)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo.generator, "BCRYPT_COST", 4)
        w = make_world(engine)
    # A holder and a child typed through the service, so their data is already normalised.
    holder = include(w, InclusionRequest(holder_person(), plan_id=2))
    include(
        w,
        InclusionRequest(child_person(), relationship_code=4, holder_card=holder.card_number),
    )
    w.clean_holder_card = holder.card_number
    with w.factory() as s:
        s.add(
            User(
                user_code=REPORTS_ONLY_USER,
                name="Paula Reis Monteiro",
                email="paula.monteiro@example.com.br",
                role="user",
                permissions=["reports"],
                company_id=w.company["10001"],
                status="active",
                created_at=NOW,
            )
        )
        s.commit()
    yield w
    next(fresh, None)  # dispose of the engine, drop the PostgreSQL schema


def include(
    world: World,
    request: InclusionRequest,
    *,
    code: str = "10001",
    actor: Actor | None = None,
    now: datetime = NOW,
) -> MovementResult:
    return movement_apply(
        uow=world.uow(code), actor=actor or world.master, request=request, now=now
    )


def refused(world: World, call: Callable[[], Any]) -> DomainError:
    """Run `call`, expect a DomainError and that nothing at all was written."""
    before = world.snapshot()
    with pytest.raises(DomainError) as info:
        call()
    assert world.snapshot() == before, "a refused movement wrote to the database"
    assert info.value.message
    return info.value


def movements_of(world: World, beneficiary_id: int, kind: str) -> list[Movement]:
    return world.all(
        select(Movement)
        .where(Movement.beneficiary_id == beneficiary_id, Movement.kind == kind)
        .order_by(Movement.id)
    )


def protocol(world: World, number: str) -> Protocol:
    found = world.all(select(Protocol).where(Protocol.number == number))
    assert len(found) == 1
    return found[0]


def audits_of(world: World, beneficiary_id: int, action: str) -> list[AuditRecord]:
    return world.all(
        select(AuditRecord)
        .where(
            AuditRecord.entity == "beneficiary",
            AuditRecord.entity_id == str(beneficiary_id),
            AuditRecord.action == action,
        )
        .order_by(AuditRecord.id)
    )


def assert_one_protocol_for(world: World, result: MovementResult, kind: str) -> None:
    """Each affected beneficiary got one movement and one audit record, all under the
    result's protocol."""
    assert re.match(PROTOCOL_RE, result.protocol_number)
    p = protocol(world, result.protocol_number)
    assert (p.kind, p.status) == (kind, "closed")
    for a in result.affected:
        (m,) = [m for m in movements_of(world, a.id, kind) if m.received_at == NOW]
        assert m.protocol_id == p.id
        assert len(audits_of(world, a.id, f"movement_{kind}")) == 1


@contextmanager
def failing_insert(engine: Engine, table: str) -> Iterator[None]:
    """Make every INSERT into `table` fail, as a full disk would."""

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            raise RuntimeError("disk full")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


# ================================================================ inclusion


def test_including_a_holder_issues_a_valid_card_a_protocol_and_the_records(world):
    before = world.snapshot()
    sequence = world.counter("card_number")
    cpf = new_cpf()
    result = include(world, InclusionRequest(holder_person(cpf=format_cpf(cpf)), plan_id=2))

    assert delta(before, world.snapshot()) == {
        "beneficiary": 1,
        "coverage_period": 1,  # covered from the effective date
        "movement": 1,
        "audit_record": 1,
        "protocol": 1,
        "protocol_event": 2,
        "counter": 1,  # the first protocol of the day opens its daily counter
    }
    assert result.kind is MovementKind.INCLUSION
    assert is_valid_card_number(result.card_number)
    assert result.card_number == card_number("0001", sequence + 1)
    assert world.counter("card_number") == sequence + 1
    assert re.match(PROTOCOL_RE, result.protocol_number)
    assert result.protocol_number == "42183920261126000001"
    assert (result.effective_date, result.billing_month) == (TODAY, NEXT_BILLING)

    b = world.by_card(result.card_number)
    assert (b.company_id, b.plan_id, b.relationship_code, b.holder_id, b.status) == (
        world.company["10001"],
        2,
        1,
        None,
        "active",
    )
    assert (b.name, b.cpf, b.cep, b.phone) == ("Ana Beatriz Souza", cpf, "01310100", "11987654321")
    assert (b.effective_date, b.exclusion_date) == (TODAY, None)

    (m,) = movements_of(world, b.id, "inclusion")
    assert (m.channel, m.effective_date, m.billing_month, m.is_retroactive) == (
        "individual",
        TODAY,
        NEXT_BILLING,
        False,
    )
    assert (m.actor_user_id, m.new_plan_id, m.before) == (world.master.user_id, 2, None)
    assert (m.after["cpf"], m.after["plan_id"], m.after["relationship_code"]) == (cpf, 2, 1)

    (audit,) = audits_of(world, b.id, "movement_inclusion")
    assert (audit.user_id, audit.company_id) == (world.master.user_id, world.company["10001"])
    assert audit.before is None and audit.after["cpf"] == cpf

    p = protocol(world, result.protocol_number)
    assert m.protocol_id == p.id
    assert (p.company_id, p.kind, p.status, p.deadline) == (
        world.company["10001"],
        "inclusion",
        "closed",
        date(2026, 12, 7),  # 7 business days
    )
    assert p.opened_by_user_id == world.master.user_id
    events = world.all(select(ProtocolEvent.status).where(ProtocolEvent.protocol_id == p.id))
    assert sorted(events) == ["closed", "open"]


def test_protocol_numbers_of_the_same_day_follow_in_sequence(world):
    first = include(world, InclusionRequest(holder_person(), plan_id=2))
    second = include(world, InclusionRequest(holder_person(), plan_id=3))
    assert (first.protocol_number[-6:], second.protocol_number[-6:]) == ("000001", "000002")
    assert first.card_number != second.card_number


@pytest.mark.parametrize(
    ("now", "billing_month", "day"),
    [
        (datetime(2026, 11, 20, 15, 0, tzinfo=UTC), date(2026, 12, 1), "20261120"),
        # 23:59 in Brasília is still the cut-off day.
        (datetime(2026, 11, 21, 2, 59, tzinfo=UTC), date(2026, 12, 1), "20261120"),
        (datetime(2026, 11, 21, 3, 0, tzinfo=UTC), date(2027, 1, 1), "20261121"),
        (NOW, NEXT_BILLING, "20261126"),
    ],
    ids=["cut-off day", "cut-off day late evening", "day after cut-off", "today"],
)
def test_the_billing_month_follows_the_cut_off_day_in_brasilia_time(
    world, now: datetime, billing_month: date, day: str
):
    result = include(world, InclusionRequest(holder_person(), plan_id=2), now=now)
    assert result.billing_month == billing_month
    assert result.protocol_number[6:14] == day
    (m,) = movements_of(world, result.affected[0].id, "inclusion")
    assert m.billing_month == billing_month
    assert m.effective_date == date(int(day[:4]), int(day[4:6]), int(day[6:]))


def test_a_dependent_follows_the_holders_plan_and_takes_the_holders_address(world):
    holder = world.holder(plan_id=2)
    result = include(
        world,
        InclusionRequest(
            child_person(), relationship_code=4, plan_id=3, holder_card=holder.card_number
        ),
    )
    child = world.by_card(result.card_number)
    assert is_valid_card_number(child.card_number)
    assert (child.holder_id, child.plan_id, child.relationship_code) == (holder.id, 2, 4)
    assert (child.cep, child.street, child.municipality, child.state) == (
        holder.cep,
        holder.street,
        holder.municipality,
        holder.state,
    )
    assert child.cpf is None and child.admission_date is None
    (m,) = movements_of(world, child.id, "inclusion")
    assert m.new_plan_id == 2


@pytest.mark.parametrize(
    ("person", "relationship"),
    [
        (adult_dependent(), 3),
        (child_person(birth_date=date(2004, 6, 1), cpf=new_cpf(), is_student=True), 4),
        (child_person(birth_date=date(2005, 11, 26), cpf=new_cpf()), 4),
        (adult_dependent(birth_date=date(1950, 1, 1)), 8),
    ],
    ids=["spouse", "student child aged 22", "child aged 21 today", "parent (10001 admits)"],
)
def test_dependents_within_the_eligibility_table_are_accepted(
    world, person: PersonData, relationship: int
):
    holder = world.holder(spouse=False)
    result = include(
        world,
        InclusionRequest(person, relationship_code=relationship, holder_card=holder.card_number),
    )
    assert world.by_card(result.card_number).holder_id == holder.id


@pytest.mark.parametrize("effective", [date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)])
def test_a_retroactive_inclusion_takes_one_of_the_three_first_days(world, effective: date):
    result = include(
        world,
        InclusionRequest(holder_person(), plan_id=2, effective_date=effective, channel=RETRO),
    )
    assert (result.effective_date, result.billing_month) == (effective, NEXT_BILLING)
    b = world.by_card(result.card_number)
    assert b.effective_date == effective
    (m,) = movements_of(world, b.id, "inclusion")
    assert (m.channel, m.is_retroactive, m.effective_date) == ("retroactive", True, effective)


def test_an_individual_inclusion_may_take_effect_up_to_60_days_ahead(world):
    later = TODAY + timedelta(days=60)
    result = include(world, InclusionRequest(holder_person(), plan_id=2, effective_date=later))
    assert world.by_card(result.card_number).effective_date == later


def test_a_second_inclusion_of_the_same_cpf_says_the_cpf_is_taken(world):
    cpf = new_cpf()
    include(world, InclusionRequest(holder_person(cpf=cpf), plan_id=2))
    exc = refused(
        world,
        lambda: include(world, InclusionRequest(holder_person(cpf=format_cpf(cpf)), plan_id=3)),
    )
    assert isinstance(exc, FieldErrors) and exc.errors == {"cpf": CPF_TAKEN}


def test_the_same_cpf_may_be_active_in_two_companies_of_the_group(world):
    cpf = new_cpf()
    include(world, InclusionRequest(holder_person(cpf=cpf), plan_id=2))
    include(world, InclusionRequest(holder_person(cpf=cpf), plan_id=2), code="10002")
    rows = world.all(select(Beneficiary).where(Beneficiary.cpf == cpf))
    assert {b.company_id for b in rows} == {world.company["10001"], world.company["10002"]}


def test_a_holder_with_the_longest_name_allowed_is_included(world):
    name = "A" * 99 + " " + "B" * 100
    result = include(world, InclusionRequest(holder_person(name=name), plan_id=2))
    assert world.by_card(result.card_number).name == name
    assert len(protocol(world, result.protocol_number).subject) <= 200


def _holder(**person: Any) -> Callable[[World], InclusionRequest]:
    return lambda w: InclusionRequest(holder_person(**person), plan_id=2)


def _dated(effective: date | None, channel: Channel) -> Callable[[World], InclusionRequest]:
    return lambda w: InclusionRequest(
        holder_person(), plan_id=2, effective_date=effective, channel=channel
    )


def _dependent(
    person: Callable[[], PersonData], relationship: int, holder: Callable[[World], str | None]
) -> Callable[[World], InclusionRequest]:
    return lambda w: InclusionRequest(
        person(), relationship_code=relationship, holder_card=holder(w)
    )


def _a_dependent_card(w: World) -> str:
    return w.dependents(w.holder(dependents=True).id)[0].card_number


def _spouse_cpf(w: World) -> str:
    spouse = [d for d in w.dependents(w.holder(spouse=True).id) if d.relationship_code == 3]
    return spouse[0].cpf


INCLUSION_REFUSALS: list[tuple[str, Callable[[World], InclusionRequest], set[str]]] = [
    ("cpf with a wrong check digit", _holder(cpf="529.982.247-24"), {"cpf"}),
    ("cpf with all digits equal", _holder(cpf="111.111.111-11"), {"cpf"}),
    ("cpf with a letter", _holder(cpf="529.982.247-2X"), {"cpf"}),
    ("holder without cpf", _holder(cpf=None), {"cpf"}),
    (
        "adult dependent without cpf",
        _dependent(
            lambda: adult_dependent(cpf=None), 3, lambda w: w.holder(spouse=False).card_number
        ),
        {"cpf"},
    ),
    (
        "cpf of an active holder of the company",
        lambda w: InclusionRequest(holder_person(cpf=w.holder().cpf), plan_id=2),
        {"cpf"},
    ),
    (
        "cpf of an active dependent of the company",
        lambda w: InclusionRequest(holder_person(cpf=_spouse_cpf(w)), plan_id=2),
        {"cpf"},
    ),
    ("name with one word", _holder(name="Ana"), {"name"}),
    ("name with digits", _holder(name="Ana Souza 2"), {"name"}),
    ("name of blanks", _holder(name="  "), {"name"}),
    ("name over 200 characters", _holder(name="A" * 100 + " " + "B" * 100), {"name"}),
    ("mother's name missing", _holder(mother_name=""), {"mother_name"}),
    ("birth date missing", _holder(birth_date=None), {"birth_date"}),
    ("birth date in the future", _holder(birth_date=TODAY + timedelta(days=1)), {"birth_date"}),
    ("birth date 121 years ago", _holder(birth_date=date(1905, 1, 1)), {"birth_date"}),
    ("sex other than M or F", _holder(sex="X"), {"sex"}),
    ("cep with 7 digits", _holder(cep="0131010"), {"cep"}),
    ("cep missing", _holder(cep=None), {"cep"}),
    ("municipality missing", _holder(municipality=""), {"municipality"}),
    ("state that is not a UF", _holder(state="XX"), {"state"}),
    ("admission date missing", _holder(admission_date=None), {"admission_date"}),
    ("admission date far ahead", _holder(admission_date=date(2027, 3, 1)), {"admission_date"}),
    ("cns with a wrong check digit", _holder(cns="700000000000006"), {"cns"}),
    ("e-mail without domain", _holder(email="ana@"), {"email"}),
    ("phone without area code", _holder(phone="98765432"), {"phone"}),
    ("marital status off the list", _holder(marital_status="Enrolado(a)"), {"marital_status"}),
    ("street over 200 characters", _holder(street="Rua " + "A" * 200), {"street"}),
    ("number over 20 characters", _holder(number="1" * 21), {"number"}),
    ("neighbourhood over 100 characters", _holder(neighbourhood="B" * 101), {"neighbourhood"}),
    ("municipality over 100 characters", _holder(municipality="M" * 101), {"municipality"}),
    ("complement with a NUL character", _holder(complement="Apto\x001"), {"complement"}),
    ("several problems at once", _holder(cpf="123", sex="", cep=None), {"cpf", "sex", "cep"}),
    (
        "plan the company did not contract",
        lambda w: InclusionRequest(holder_person(), plan_id=4),
        {"plan"},
    ),
    ("holder without a plan", lambda w: InclusionRequest(holder_person()), {"plan"}),
    (
        "dependent without the holder's card",
        _dependent(lambda: child_person(**ADDRESS), 4, lambda w: None),
        {"holder"},
    ),
    (
        "dependent with an unknown holder card",
        _dependent(lambda: child_person(**ADDRESS), 4, lambda w: "0001 9999 9999 9999"),
        {"holder"},
    ),
    (
        "dependent whose holder card is a dependent's",
        _dependent(lambda: child_person(**ADDRESS), 4, _a_dependent_card),
        {"holder"},
    ),
    (
        "dependent of a holder of another company",
        _dependent(lambda: child_person(**ADDRESS), 4, lambda w: w.holder("10002").card_number),
        {"holder"},
    ),
    (
        "dependent of an inactive holder",
        _dependent(child_person, 4, lambda w: w.holder(status="inactive").card_number),
        {"holder"},
    ),
    (
        "child aged 22 who is not a student",
        _dependent(
            lambda: child_person(birth_date=date(2004, 6, 1), cpf=new_cpf()),
            4,
            lambda w: w.holder().card_number,
        ),
        {"birth_date"},
    ),
    (
        "student aged 25",
        _dependent(
            lambda: child_person(birth_date=date(2001, 6, 1), cpf=new_cpf(), is_student=True),
            4,
            lambda w: w.holder().card_number,
        ),
        {"birth_date"},
    ),
    (
        "second active spouse",
        _dependent(adult_dependent, 3, lambda w: w.holder(spouse=True).card_number),
        {"relationship_code"},
    ),
    (
        "relationship the contract does not admit",
        _dependent(adult_dependent, 10, lambda w: w.holder().card_number),
        {"relationship_code"},
    ),
    (
        "relationship code that does not exist",
        _dependent(adult_dependent, 2, lambda w: w.holder().card_number),
        {"relationship_code"},
    ),
    (
        "effective date yesterday",
        _dated(TODAY - timedelta(days=1), Channel.INDIVIDUAL),
        {"effective_date"},
    ),
    (
        "effective date 61 days ahead",
        _dated(TODAY + timedelta(days=61), Channel.INDIVIDUAL),
        {"effective_date"},
    ),
    (
        "batch effective date yesterday",
        _dated(TODAY - timedelta(days=1), Channel.BATCH),
        {"effective_date"},
    ),
    ("retroactive to the fourth month back", _dated(date(2026, 8, 1), RETRO), {"effective_date"}),
    (
        "retroactive to a day other than the first",
        _dated(date(2026, 10, 15), RETRO),
        {"effective_date"},
    ),
    ("retroactive without a date", _dated(None, RETRO), {"effective_date"}),
]
# A dependent without a holder and without an address hears about both.
_HOLDER_NOT_REPORTED = pytest.param(
    _dependent(child_person, 4, lambda w: None),
    {"holder", "cep", "municipality", "state"},
    id="dependent without the holder's card nor an address",
)


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(b, f, id=i) for i, b, f in INCLUSION_REFUSALS] + [_HOLDER_NOT_REPORTED],
)
def test_an_inclusion_is_refused_naming_the_field_and_writing_nothing(
    shared, build: Callable[[World], InclusionRequest], expected: set[str]
):
    request = build(shared)
    exc = refused(shared, lambda: include(shared, request))
    assert fields_of(exc) == expected
    if isinstance(exc, FieldErrors):
        assert all(exc.errors.values())


# ================================================================ card numbers


def test_card_numbers_are_never_reused(world):
    first = include(world, InclusionRequest(holder_person(), plan_id=2))
    movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=first.card_number, reason="pedido", effective_date=None
        ),
        now=NOW,
    )
    # A refused inclusion gives nothing away either.
    refused(world, lambda: include(world, InclusionRequest(holder_person(cpf=None), plan_id=2)))
    second = include(world, InclusionRequest(holder_person(), plan_id=2))
    reactivated = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ReactivationRequest(card_number=first.card_number, effective_date=None),
        now=NOW,
    )
    assert reactivated.card_number == first.card_number
    assert int(second.card_number[4:15]) == int(first.card_number[4:15]) + 1
    cards = world.all(select(Beneficiary.card_number))
    assert len(cards) == len(set(cards))
    assert all(is_valid_card_number(c) for c in cards)
    assert world.counter("card_number") == max(int(c[4:15]) for c in cards)


@pytest.mark.parametrize("table", ["beneficiary", "protocol", "protocol_event", "audit_record"])
def test_a_failure_while_writing_an_inclusion_rolls_everything_back(world, table: str):
    before = world.snapshot()
    with failing_insert(world.engine, table), pytest.raises(RuntimeError):
        include(world, InclusionRequest(holder_person(), plan_id=2))
    assert world.snapshot() == before


# ================================================================ exclusion


def _exclude(world: World, code: str = "10001", **kwargs: Any) -> MovementResult:
    kwargs.setdefault("reason", "pedido")
    kwargs.setdefault("effective_date", None)
    return movement_apply(
        uow=world.uow(code), actor=world.master, request=ExclusionRequest(**kwargs), now=NOW
    )


def test_excluding_a_holder_with_dependents_needs_a_confirmation_then_takes_them_all(world):
    holder = world.holder(dependents=True)
    dependents = world.dependents(holder.id)
    family = [holder.id, *(d.id for d in dependents)]
    preview = exclusion_preview(uow=world.uow(), actor=world.master, card_number=holder.card_number)
    assert sorted(r.id for r in preview) == sorted(family)

    exc = refused(world, lambda: _exclude(world, card_number=holder.card_number))
    assert exc.field == "dependents_confirmed"
    assert all(d.name in exc.message for d in dependents)

    before = world.snapshot()
    result = _exclude(
        world, card_number=holder.card_number, reason="demissao", dependents_confirmed=True
    )
    n = len(family)
    assert delta(before, world.snapshot()) == {
        "movement": n,
        "audit_record": n,
        "protocol": 1,
        "protocol_event": 2,
        "counter": 1,
    }
    assert sorted(a.id for a in result.affected) == sorted(family)
    assert_one_protocol_for(world, result, "exclusion")
    for beneficiary_id in family:
        b = world.get(beneficiary_id)
        assert (b.status, b.exclusion_date) == ("inactive", TODAY)
        assert b.exclusion_reason == ("demissao" if b.id == holder.id else "perda_elegibilidade")
    (m,) = movements_of(world, holder.id, "exclusion")
    assert (m.reason, m.before["status"], m.after["status"]) == ("demissao", "active", "inactive")


@pytest.mark.parametrize(
    ("reason", "contributed", "months", "stay_months", "stay_until"),
    [
        ("demissao", True, 36, 12, date(2027, 11, 26)),
        ("demissao", True, 6, 6, date(2027, 5, 26)),
        ("demissao", True, 90, 24, date(2028, 11, 26)),
        ("demissao", False, 36, 0, None),
        ("aposentadoria", True, 60, 60, date(2031, 11, 26)),
        ("aposentadoria", True, 130, None, None),
        ("pedido", True, 36, 0, None),
    ],
    ids=[
        "dismissed 36 months",
        "dismissed 6 months (minimum 6)",
        "dismissed 90 months (maximum 24)",
        "dismissed without contribution",
        "retired 5 years",
        "retired 10+ years (indefinite)",
        "on request",
    ],
)
def test_a_dismissed_or_retired_holder_who_contributed_may_stay(
    world,
    reason: str,
    contributed: bool,
    months: int,
    stay_months: int | None,
    stay_until: date | None,
):
    holder = world.holder(dependents=False)
    result = _exclude(
        world,
        card_number=holder.card_number,
        reason=reason,
        contributed=contributed,
        contribution_months=months,
    )
    assert (result.stay_months, result.stay_until) == (stay_months, stay_until)
    b = world.get(holder.id)
    assert (b.status, b.exclusion_reason, b.stay_until) == ("inactive", reason, stay_until)
    (m,) = movements_of(world, holder.id, "exclusion")
    assert (m.after["stay_months"], m.after["contribution_months"]) == (stay_months, months)


def test_an_exclusion_may_be_scheduled_up_to_60_days_ahead(world):
    holder = world.holder(dependents=False)
    later = TODAY + timedelta(days=60)
    result = _exclude(world, card_number=holder.card_number, effective_date=later, reason="outros")
    assert (result.effective_date, result.scheduled) == (later, True)
    # Scheduled: the row changes on the date (see test_coverage.py), the coverage now.
    assert world.get(holder.id).status == "active"
    periods = world.all(
        select(CoveragePeriod.end_date)
        .where(CoveragePeriod.beneficiary_id == holder.id)
        .order_by(CoveragePeriod.start_date)
    )
    assert periods[-1] == later


def test_excluding_a_dependent_keeps_the_holder_and_the_other_dependents(world):
    holder = world.holder(dependents=True, spouse=True)
    dependents = world.dependents(holder.id)
    result = _exclude(world, card_number=dependents[0].card_number)
    assert [a.id for a in result.affected] == [dependents[0].id]
    assert result.stay_months == 0
    assert world.get(holder.id).status == "active"
    assert [d.id for d in world.dependents(holder.id)] == [d.id for d in dependents[1:]]


EXCLUSION_REFUSALS: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    (
        "yesterday (never retroactive)",
        lambda w: {
            "card_number": w.holder(dependents=False).card_number,
            "effective_date": TODAY - timedelta(days=1),
        },
        "effective_date",
    ),
    (
        "retroactive channel",
        lambda w: {
            "card_number": w.holder(dependents=False).card_number,
            "effective_date": date(2026, 11, 1),
            "channel": RETRO,
        },
        "effective_date",
    ),
    (
        "61 days ahead",
        lambda w: {
            "card_number": w.holder(dependents=False).card_number,
            "effective_date": TODAY + timedelta(days=61),
        },
        "effective_date",
    ),
    (
        "reason off the list",
        lambda w: {"card_number": w.holder(dependents=False).card_number, "reason": "ferias"},
        "reason",
    ),
    (
        "beneficiary already inactive",
        lambda w: {"card_number": w.holder(status="inactive").card_number},
        "card_number",
    ),
    ("unknown card", lambda w: {"card_number": "0001 9999 9999 9999"}, "card_number"),
    ("empty card", lambda w: {"card_number": " "}, "card_number"),
    (
        "card of another company",
        lambda w: {"card_number": w.holder("10002").card_number},
        "card_number",
    ),
    (
        "negative contribution time",
        lambda w: {
            "card_number": w.holder(dependents=False).card_number,
            "reason": "demissao",
            "contributed": True,
            "contribution_months": -1,
        },
        "contribution_months",
    ),
    (
        "holder with dependents, not confirmed",
        lambda w: {"card_number": w.holder(dependents=True).card_number},
        "dependents_confirmed",
    ),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=i) for i, b, f in EXCLUSION_REFUSALS]
)
def test_an_exclusion_is_refused_naming_the_field_and_writing_nothing(
    shared, build: Callable[[World], dict[str, Any]], field: str
):
    kwargs = build(shared)
    exc = refused(shared, lambda: _exclude(shared, **kwargs))
    assert fields_of(exc) == {field}


# ================================================================ update


def _update(world: World, card: str, changes: dict[str, Any], **kwargs: Any) -> MovementResult:
    return movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=UpdateRequest(card_number=card, changes=changes, **kwargs),
        now=NOW,
    )


def test_an_update_records_before_and_after_in_the_movement_and_the_audit(world):
    card = include(world, InclusionRequest(holder_person(), plan_id=2)).card_number
    holder = world.by_card(card)
    changes = {
        "email": "novo.email@example.com",
        "phone": "(21) 99999-0000",
        "marital_status": "Divorciado(a)",
    }
    before = world.snapshot()
    result = _update(world, card, changes)
    assert delta(before, world.snapshot()) == {
        "movement": 1,
        "audit_record": 1,
        "protocol": 1,
        "protocol_event": 2,
    }
    expected = {
        "email": (holder.email, "novo.email@example.com"),
        "phone": (holder.phone, "21999990000"),
        "marital_status": (holder.marital_status, "Divorciado(a)"),
    }
    assert result.changes == expected
    assert result.effective_date == TODAY
    b = world.get(holder.id)
    assert (b.email, b.phone, b.marital_status) == tuple(v[1] for v in expected.values())
    assert (b.name, b.cpf, b.status) == (holder.name, holder.cpf, "active")
    (m,) = movements_of(world, holder.id, "update")
    assert m.before == {k: v[0] for k, v in expected.items()}
    assert m.after == {k: v[1] for k, v in expected.items()}
    (audit,) = audits_of(world, holder.id, "movement_update")
    assert (audit.before, audit.after) == (m.before, m.after)
    assert_one_protocol_for(world, result, "update")


def test_an_update_of_a_name_keeps_it_as_typed(world):
    card = include(world, InclusionRequest(holder_person(), plan_id=2)).card_number
    result = _update(world, card, {"name": "  Ana  Beatriz de Souza Lima "})
    assert result.changes == {"name": ("Ana Beatriz Souza", "Ana Beatriz de Souza Lima")}
    assert world.by_card(card).name == "Ana Beatriz de Souza Lima"


def test_names_are_stored_as_typed_trimmed_never_upper_cased(world):
    """Inclusion of a holder and a dependent: name and mother's name keep their case
    (accents too), lose outer spaces and repeated inner ones (both databases)."""
    holder = include(
        world,
        InclusionRequest(
            holder_person(name="  João   d'Ávila  Conceição ", mother_name=" Maria  da Conceição"),
            plan_id=2,
        ),
    )
    stored = world.by_card(holder.card_number)
    assert (stored.name, stored.mother_name) == ("João d'Ávila Conceição", "Maria da Conceição")
    child = include(
        world,
        InclusionRequest(
            child_person(name="lúcia  d'ávila", mother_name="Maria da Conceição"),
            relationship_code=4,
            plan_id=2,
            holder_card=holder.card_number,
        ),
    )
    assert world.by_card(child.card_number).name == "lúcia d'ávila"
    # An update that changes only the case is a change, stored as typed.
    result = _update(world, holder.card_number, {"name": "JOÃO D'ÁVILA CONCEIÇÃO"})
    assert result.changes == {"name": ("João d'Ávila Conceição", "JOÃO D'ÁVILA CONCEIÇÃO")}
    assert world.by_card(holder.card_number).name == "JOÃO D'ÁVILA CONCEIÇÃO"
    # Searching ignores case, accented capitals included (SQLite's upper()/lower() change
    # ASCII letters only).
    for term in ("lúcia", "LÚCIA", "Lúcia d'Ávila", "d'ávila", "joão", "JOÃO D'ÁVILA"):
        found = movements_service.beneficiary_search(uow=world.uow(), actor=world.master, text=term)
        assert {child.card_number, holder.card_number} & {r.card_number for r in found}, term


def test_an_update_of_a_register_in_mixed_case_records_only_the_requested_fields(world):
    holder = world.holder()
    assert holder.name != holder.name.upper()
    result = _update(world, holder.card_number, {"email": "outro@example.com.br"})
    assert set(result.changes) == {"email"}
    assert world.get(holder.id).name == holder.name


@pytest.mark.parametrize(
    "changes",
    [
        lambda b: {},
        lambda b: {"email": b.email.upper()},
        lambda b: {"cep": f"{b.cep[:5]}-{b.cep[5:]}"},
        lambda b: {"cpf": format_cpf(b.cpf), "phone": f"({b.phone[:2]}) {b.phone[2:]}"},
        # names are kept as typed: spaces around and between words are not a change
        # (a change of case is: see test_names_are_stored_as_typed_trimmed_never_upper_cased)
        lambda b: {"name": "  " + "   ".join(b.name.split()) + " "},
    ],
    ids=["nothing", "same e-mail", "same cep", "same cpf and phone", "same name"],
)
def test_an_update_that_changes_nothing_is_refused(shared, changes):
    holder = shared.by_card(shared.clean_holder_card)
    exc = refused(shared, lambda: _update(shared, holder.card_number, changes(holder)))
    assert "Nenhum dado foi alterado" in exc.message


def test_an_update_of_a_field_that_cannot_change_names_it(shared):
    exc = refused(shared, lambda: _update(shared, shared.clean_holder_card, {"plan_id": 3}))
    assert "plan_id" in exc.message


def _young_child(w: World) -> Beneficiary:
    return w.all(
        select(Beneficiary)
        .where(
            Beneficiary.company_id == w.company["10001"],
            Beneficiary.relationship_code == 4,
            Beneficiary.status == "active",
            Beneficiary.birth_date > date(2012, 1, 1),
        )
        .order_by(Beneficiary.id)
        .limit(1)
    )[0]


UPDATE_REFUSALS: list[tuple[str, Callable[[World], tuple[str, dict[str, Any]]], str]] = [
    (
        "cpf of another active beneficiary",
        lambda w: (w.clean_holder_card, {"cpf": _spouse_cpf(w)}),
        "cpf",
    ),
    (
        "cpf with a wrong check digit",
        lambda w: (w.clean_holder_card, {"cpf": "52998224724"}),
        "cpf",
    ),
    ("holder's cpf removed", lambda w: (w.clean_holder_card, {"cpf": None}), "cpf"),
    ("name with one word", lambda w: (w.clean_holder_card, {"name": "Ana"}), "name"),
    ("invalid e-mail", lambda w: (w.clean_holder_card, {"email": "x@y"}), "email"),
    (
        "street over 200 characters",
        lambda w: (w.clean_holder_card, {"street": "R" * 201}),
        "street",
    ),
    (
        "birth date in the future",
        lambda w: (w.clean_holder_card, {"birth_date": TODAY + timedelta(days=3)}),
        "birth_date",
    ),
    (
        "child's new birth date past the age limit",
        lambda w: (_young_child(w).card_number, {"birth_date": date(2003, 1, 1), "cpf": new_cpf()}),
        "birth_date",
    ),
    ("unknown card", lambda w: ("0001 9999 9999 9999", {"email": "a@b.com"}), "card_number"),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=i) for i, b, f in UPDATE_REFUSALS]
)
def test_an_update_is_refused_naming_the_field_and_writing_nothing(shared, build, field: str):
    card, changes = build(shared)
    exc = refused(shared, lambda: _update(shared, card, changes))
    assert fields_of(exc) == {field}


def test_an_update_cannot_be_retroactive(shared):
    exc = refused(
        shared,
        lambda: _update(shared, shared.clean_holder_card, {"email": "a@b.com.br"}, channel=RETRO),
    )
    assert exc.field == "effective_date"


# ================================================================ reactivation


def _reactivate(world: World, card: str, **kwargs: Any) -> MovementResult:
    kwargs.setdefault("effective_date", None)
    return movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ReactivationRequest(card_number=card, **kwargs),
        now=NOW,
    )


def test_a_reactivation_keeps_the_card_number(world):
    holder = world.holder(status="inactive")
    sequence = world.counter("card_number")
    result = _reactivate(world, holder.card_number, changes={"phone": "11 3333-4444"})
    assert result.card_number == holder.card_number
    assert world.counter("card_number") == sequence
    b = world.get(holder.id)
    assert (b.status, b.exclusion_date, b.exclusion_reason, b.stay_until) == (
        "active",
        None,
        None,
        None,
    )
    assert (b.effective_date, b.phone, b.card_number) == (TODAY, "1133334444", holder.card_number)
    (m,) = movements_of(world, holder.id, "reactivation")
    assert (m.before["status"], m.after["status"]) == ("inactive", "active")
    assert m.before["exclusion_date"] == holder.exclusion_date.isoformat()
    assert m.new_plan_id == holder.plan_id
    assert_one_protocol_for(world, result, "reactivation")


def test_a_retroactive_reactivation_is_marked_retroactive(world):
    holder = world.holder(status="inactive")
    result = _reactivate(world, holder.card_number, effective_date=date(2026, 10, 1), channel=RETRO)
    assert result.effective_date == date(2026, 10, 1)
    (m,) = movements_of(world, holder.id, "reactivation")
    assert (m.is_retroactive, m.channel, m.effective_date) == (
        True,
        "retroactive",
        date(2026, 10, 1),
    )


def test_a_dependent_is_reactivated_once_the_holder_is(world):
    dependent = world.inactive_dependent_of_inactive_holder()
    holder = world.get(dependent.holder_id)
    _reactivate(world, holder.card_number)
    result = _reactivate(world, dependent.card_number)
    b = world.get(dependent.id)
    assert (b.status, b.plan_id) == ("active", holder.plan_id)
    assert result.card_number == dependent.card_number


def test_a_reactivation_is_refused_when_the_cpf_is_active_again(world):
    holder = world.holder(status="inactive")
    include(world, InclusionRequest(holder_person(cpf=holder.cpf), plan_id=2))
    exc = refused(world, lambda: _reactivate(world, holder.card_number))
    assert fields_of(exc) == {"cpf"}


REACTIVATION_REFUSALS: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    ("beneficiary already active", lambda w: {"card": w.holder().card_number}, "card_number"),
    (
        "dependent of an inactive holder",
        lambda w: {"card": w.inactive_dependent_of_inactive_holder().card_number},
        "holder",
    ),
    (
        "individual date in the past",
        lambda w: {
            "card": w.holder(status="inactive").card_number,
            "effective_date": TODAY - timedelta(days=1),
        },
        "effective_date",
    ),
    (
        "retroactive to the fourth month back",
        lambda w: {
            "card": w.holder(status="inactive").card_number,
            "effective_date": date(2026, 8, 1),
            "channel": RETRO,
        },
        "effective_date",
    ),
    (
        "edited with an invalid cpf",
        lambda w: {
            "card": w.holder(status="inactive").card_number,
            "changes": {"cpf": "12345678900"},
        },
        "cpf",
    ),
    ("unknown card", lambda w: {"card": "0001 9999 9999 9999"}, "card_number"),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=i) for i, b, f in REACTIVATION_REFUSALS]
)
def test_a_reactivation_is_refused_naming_the_field_and_writing_nothing(shared, build, field):
    kwargs = build(shared)
    card = kwargs.pop("card")
    exc = refused(shared, lambda: _reactivate(shared, card, **kwargs))
    assert fields_of(exc) == {field}


# ================================================================ transfer


def _transfer(
    world: World,
    card: str,
    target: str,
    actor: Actor | None = None,
    code: str = "10001",
    **kwargs: Any,
) -> MovementResult:
    return movement_apply(
        uow=world.uow(code),
        actor=actor or world.master,
        request=TransferRequest(
            card_number=card, target_company_id=world.company[target], **kwargs
        ),
        now=NOW,
    )


def test_a_transfer_within_the_group_moves_the_holder_and_the_dependents(world):
    holder = world.holder(dependents=True, plan_id=2)
    dependents = world.dependents(holder.id)
    inactive = world.dependents(holder.id, status="inactive")
    family = [holder.id, *(d.id for d in dependents)]
    history = world.all(select(Movement.id).where(Movement.beneficiary_id.in_(family)))
    before = world.snapshot()
    result = _transfer(world, holder.card_number, "10002")
    n = len(family)
    assert delta(before, world.snapshot()) == {
        "coverage_period": n,  # each one's period ends; one opens at the destination
        "movement": n,
        "audit_record": n,
        "protocol": 1,
        "protocol_event": 2,
        "counter": 1,
    }
    assert sorted(a.id for a in result.affected) == sorted(family)
    assert_one_protocol_for(world, result, "transfer")
    for a in result.affected:
        b = world.get(a.id)
        assert (b.company_id, b.plan_id, b.status, b.card_number) == (
            world.company["10002"],
            2,
            "active",
            a.card_number,
        )
        (m,) = movements_of(world, a.id, "transfer")
        assert (m.company_id, m.from_company_id) == (world.company["10002"], world.company["10001"])
        assert (m.old_plan_id, m.new_plan_id) == (2, 2)
        assert m.before["company_id"] == world.company["10001"]
    for d in inactive:  # the history stays where it was
        assert world.get(d.id).company_id == world.company["10001"]
    kept = world.all(select(Movement.id).where(Movement.beneficiary_id.in_(family)))
    assert set(history) < set(kept)
    detail = beneficiary_detail(
        uow=world.uow("10002"), actor=world.master, card_number=holder.card_number
    )
    assert [d.id for d in detail.dependents if d.status == "active"] == [d.id for d in dependents]


def test_a_transfer_to_a_company_without_the_holders_plan_needs_a_new_plan(world):
    holder = world.holder(dependents=True, plan_id=1)  # 10002 contracts plans 2 and 3 only
    exc = refused(world, lambda: _transfer(world, holder.card_number, "10002"))
    assert exc.field == "plan"
    assert exc.message.startswith("O plano Sorriso Essencial não é contratado pela empresa")
    result = _transfer(world, holder.card_number, "10002", plan_id=3)
    for a in result.affected:
        assert world.get(a.id).plan_id == 3
        (m,) = movements_of(world, a.id, "transfer")
        assert (m.old_plan_id, m.new_plan_id) == (1, 3)


@pytest.mark.parametrize("member", ["holder", "spouse"])
def test_a_transfer_is_refused_when_a_cpf_is_already_active_at_the_target(world, member: str):
    holder = world.holder(dependents=True, spouse=True, plan_id=2)
    person = holder if member == "holder" else world.by_card(_spouse_card(world, holder.id))
    include(world, InclusionRequest(holder_person(cpf=person.cpf), plan_id=2), code="10002")
    exc = refused(world, lambda: _transfer(world, holder.card_number, "10002"))
    assert fields_of(exc) == {"card_number"}
    assert person.name in exc.message


def _company_name(w: World, code: str) -> str:
    return w.all(select(Company.name).where(Company.code == code))[0]


@pytest.mark.parametrize("plan_id", [None, 1], ids=["keeping its plan", "naming it"])
def test_a_plan_the_destination_does_not_contract_is_refused_on_the_plan_field(shared, plan_id):
    holder = shared.holder(plan_id=1)  # Sorriso Essencial; 10002 contracts Plus and Orto
    exc = refused(shared, lambda: _transfer(shared, holder.card_number, "10002", plan_id=plan_id))
    assert fields_of(exc) == {"plan"}
    assert exc.message == (
        f"O plano Sorriso Essencial não é contratado pela empresa 10002 "
        f"({_company_name(shared, '10002')}): escolha um dos planos dela "
        "(Sorriso Orto ou Sorriso Plus)."
    )


def test_the_destination_plans_offer_keeping_the_plan_only_where_it_is_contracted(shared):
    def plans(card: str, target: str = "10002", actor: Actor | None = None) -> TransferPlans:
        return transfer_plans(
            uow=shared.uow(),
            actor=actor or shared.master,
            card_number=card,
            target_company_id=shared.company[target],
        )

    on_plus = plans(shared.holder(plan_id=2).card_number)
    assert [p.name for p in on_plus.plans] == ["Sorriso Orto", "Sorriso Plus"]
    assert (on_plus.current.name, on_plus.keep_current) == ("Sorriso Plus", True)
    assert on_plus.target_label == f"10002 · {_company_name(shared, '10002')}"
    on_essencial = plans(shared.holder(plan_id=1).card_number)
    assert [p.name for p in on_essencial.plans] == ["Sorriso Orto", "Sorriso Plus"]
    assert (on_essencial.current.name, on_essencial.keep_current) == ("Sorriso Essencial", False)
    # What the movement itself refuses, the plan list refuses too, on the same fields.
    card = shared.holder(plan_id=2).card_number
    with pytest.raises(DomainError) as info:
        plans(card, "10004", shared.manager)
    assert info.value.field == "target_company"
    with pytest.raises(DomainError) as info:
        plans("0001 9999 9999 9999")
    assert info.value.field == "card_number"
    with pytest.raises(DomainError, match="não tem permissão|não tem acesso"):
        plans(card, actor=without_permissions(shared.master, Permission.MOVEMENTS))


def test_the_result_says_what_a_movement_does_to_the_invoice(world):
    result = include(world, InclusionRequest(holder_person(), plan_id=2))
    # Received on 26/11, after the cut-off day: billed in 01/2027 with November and
    # December as retroactive months.
    assert result.billing_month == NEXT_BILLING
    assert result.invoice_effect == (
        "A fatura de 01/2027 cobra a mensalidade e, como retroativo, 2 meses (11/2026 a 12/2026)."
    )
    update = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=UpdateRequest(
            card_number=result.card_number, changes={"email": "outro.email@example.com.br"}
        ),
        now=NOW,
    )
    assert update.invoice_effect is None  # a correction of data does nothing to it
    moved = _transfer(world, result.card_number, "10002")
    assert moved.target_company == f"10002 · {_company_name(world, '10002')}"
    assert (
        moved.invoice_effect
        == "A partir da competência 12/2026, a cobrança passa à empresa de destino."
    )


def _spouse_card(w: World, holder_id: int) -> str:
    return [d for d in w.dependents(holder_id) if d.relationship_code == 3][0].card_number


TRANSFER_REFUSALS: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    (
        "company outside the group",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "target": "10004",
            "actor": w.manager,
        },
        "target_company",
    ),
    (
        "the same company",
        lambda w: {"card": w.holder().card_number, "target": "10001"},
        "target_company",
    ),
    (
        "a dependent's card",
        lambda w: {"card": _a_dependent_card(w), "target": "10002"},
        "card_number",
    ),
    (
        "an inactive holder",
        lambda w: {"card": w.holder(status="inactive").card_number, "target": "10002"},
        "card_number",
    ),
    (
        "a plan the target did not contract",
        lambda w: {"card": w.holder(plan_id=2).card_number, "target": "10002", "plan_id": 1},
        "plan",
    ),
    (
        "retroactive channel",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "target": "10002",
            "effective_date": date(2026, 11, 1),
            "channel": RETRO,
        },
        "effective_date",
    ),
    (
        "date in the past",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "target": "10002",
            "effective_date": TODAY - timedelta(days=1),
        },
        "effective_date",
    ),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=i) for i, b, f in TRANSFER_REFUSALS]
)
def test_a_transfer_is_refused_naming_the_field_and_writing_nothing(shared, build, field):
    kwargs = build(shared)
    card, target = kwargs.pop("card"), kwargs.pop("target")
    exc = refused(shared, lambda: _transfer(shared, card, target, **kwargs))
    assert fields_of(exc) == {field}


# ================================================================ plan change


def _change_plan(world: World, card: str, plan_id: int, **kwargs: Any) -> MovementResult:
    return movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=PlanChangeRequest(card_number=card, plan_id=plan_id, **kwargs),
        now=NOW,
    )


def test_a_plan_change_takes_the_dependents_along(world):
    holder = world.holder(dependents=True, plan_id=2)
    family = [holder.id, *(d.id for d in world.dependents(holder.id))]
    result = _change_plan(world, holder.card_number, 3)
    assert sorted(a.id for a in result.affected) == sorted(family)
    assert_one_protocol_for(world, result, "plan_change")
    for beneficiary_id in family:
        assert world.get(beneficiary_id).plan_id == 3
        (m,) = movements_of(world, beneficiary_id, "plan_change")
        assert (m.old_plan_id, m.new_plan_id, m.is_retroactive) == (2, 3, False)
        assert (m.before, m.after) == ({"plan_id": 2}, {"plan_id": 3})


def test_a_retroactive_plan_change_on_an_allowed_date_is_marked_retroactive(world):
    holder = world.holder(dependents=False, plan_id=1)
    result = _change_plan(
        world, holder.card_number, 2, effective_date=date(2026, 9, 1), channel=RETRO
    )
    assert result.effective_date == date(2026, 9, 1)
    (m,) = movements_of(world, holder.id, "plan_change")
    assert (m.is_retroactive, m.effective_date, m.billing_month) == (
        True,
        date(2026, 9, 1),
        NEXT_BILLING,
    )


PLAN_CHANGE_REFUSALS: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    (
        "plan not contracted",
        lambda w: {"card": w.holder(plan_id=2).card_number, "plan_id": 4},
        "plan",
    ),
    (
        "plan that does not exist",
        lambda w: {"card": w.holder(plan_id=2).card_number, "plan_id": 999},
        "plan",
    ),
    ("the same plan", lambda w: {"card": w.holder(plan_id=2).card_number, "plan_id": 2}, "plan"),
    ("a dependent's card", lambda w: {"card": _a_dependent_card(w), "plan_id": 3}, "card_number"),
    (
        "an inactive holder",
        lambda w: {"card": w.holder(status="inactive").card_number, "plan_id": 3},
        "card_number",
    ),
    (
        "retroactive to the fourth month back",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "plan_id": 3,
            "effective_date": date(2026, 8, 1),
            "channel": RETRO,
        },
        "effective_date",
    ),
    (
        "individual date in the past",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "plan_id": 3,
            "effective_date": TODAY - timedelta(days=1),
        },
        "effective_date",
    ),
    (
        "61 days ahead",
        lambda w: {
            "card": w.holder(plan_id=2).card_number,
            "plan_id": 3,
            "effective_date": TODAY + timedelta(days=61),
        },
        "effective_date",
    ),
]


@pytest.mark.parametrize(
    ("build", "field"), [pytest.param(b, f, id=i) for i, b, f in PLAN_CHANGE_REFUSALS]
)
def test_a_plan_change_is_refused_naming_the_field_and_writing_nothing(shared, build, field):
    kwargs = build(shared)
    card, plan_id = kwargs.pop("card"), kwargs.pop("plan_id")
    exc = refused(shared, lambda: _change_plan(shared, card, plan_id, **kwargs))
    assert fields_of(exc) == {field}


# ================================================================ who may act

SERVICES = ["include", "update", "change_plan", "reactivate", "transfer", "exclude"]
TRANSFER_TARGETS = {"10001": "10002", "10005": "10006"}


def _call(w: World, code: str, service: str) -> Callable[[UnitOfWork, Actor], MovementResult]:
    """A request on company `code` that its own staff may make (data chosen now)."""
    if service == "include":
        request = InclusionRequest(holder_person(), plan_id=2)  # all companies contract plan 2
        return lambda uow, actor: movement_apply(uow=uow, actor=actor, request=request, now=NOW)
    if service == "transfer":
        holder = w.holder(code, plan_id=2, last=True)
        target = w.company[TRANSFER_TARGETS[code]]
        return lambda uow, actor: movement_apply(
            uow=uow,
            actor=actor,
            request=TransferRequest(
                card_number=holder.card_number, target_company_id=target, plan_id=2
            ),
            now=NOW,
        )
    if service == "reactivate":
        card = w.holder(code, status="inactive").card_number
        return lambda uow, actor: movement_apply(
            uow=uow,
            actor=actor,
            request=ReactivationRequest(card_number=card, effective_date=None),
            now=NOW,
        )
    holder = w.holder(code)
    if service == "update":
        return lambda uow, actor: movement_apply(
            uow=uow,
            actor=actor,
            request=UpdateRequest(
                card_number=holder.card_number, changes={"email": "rh.teste@example.com.br"}
            ),
            now=NOW,
        )
    if service == "change_plan":
        contracted = w.all(
            select(ContractedPlan.plan_id).where(ContractedPlan.company_id == w.company[code])
        )
        plan = min(p for p in contracted if p != holder.plan_id)
        return lambda uow, actor: movement_apply(
            uow=uow,
            actor=actor,
            request=PlanChangeRequest(card_number=holder.card_number, plan_id=plan),
            now=NOW,
        )
    assert service == "exclude"
    return lambda uow, actor: movement_apply(
        uow=uow,
        actor=actor,
        request=ExclusionRequest(
            card_number=holder.card_number,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    )


def _actor(w: World, user_code: str) -> Actor:
    actor = access.actor_for_user(uow=UnitOfWork(w.factory), user_code=user_code, now=NOW)
    assert actor is not None
    return actor


@pytest.mark.parametrize("service", SERVICES)
def test_a_user_without_the_movements_permission_is_refused(shared, service: str):
    call = _call(shared, "10001", service)
    reports_only = _actor(shared, REPORTS_ONLY_USER)
    assert not reports_only.can(Permission.MOVEMENTS)
    for actor in (reports_only, without_permissions(shared.master, Permission.MOVEMENTS)):
        exc = refused(shared, lambda actor=actor: call(shared.uow(), actor))
        assert "permissão" in exc.message


@pytest.mark.parametrize("service", SERVICES)
def test_a_user_of_another_company_is_refused(shared, service: str):
    code = "10005" if service == "transfer" else "10004"
    call = _call(shared, code, service)
    exc = refused(shared, lambda: call(shared.uow(code), shared.master))
    assert "acesso" in exc.message


@pytest.mark.parametrize("service", ["update", "change_plan", "reactivate", "transfer", "exclude"])
def test_a_user_of_another_company_cannot_probe_card_numbers(shared, service: str):
    """Out of scope is refused before any lookup: the same answer for any card."""
    unknown = {
        "update": lambda uow: movement_apply(
            uow=uow,
            actor=shared.master,
            request=UpdateRequest(card_number="1", changes={"email": "a@b.com"}),
            now=NOW,
        ),
        "change_plan": lambda uow: movement_apply(
            uow=uow,
            actor=shared.master,
            request=PlanChangeRequest(card_number="1", plan_id=2),
            now=NOW,
        ),
        "reactivate": lambda uow: movement_apply(
            uow=uow,
            actor=shared.master,
            request=ReactivationRequest(card_number="1", effective_date=None),
            now=NOW,
        ),
        "transfer": lambda uow: movement_apply(
            uow=uow,
            actor=shared.master,
            request=TransferRequest(card_number="1", target_company_id=shared.company["10006"]),
            now=NOW,
        ),
        "exclude": lambda uow: movement_apply(
            uow=uow,
            actor=shared.master,
            request=ExclusionRequest(card_number="1", reason="pedido", effective_date=None),
            now=NOW,
        ),
    }[service]
    code = "10005" if service == "transfer" else "10004"
    exc = refused(shared, lambda: unknown(shared.uow(code)))
    assert "acesso" in exc.message


def test_a_transfer_to_a_company_the_user_cannot_see_is_refused(shared):
    card = shared.holder(plan_id=2).card_number
    exc = refused(shared, lambda: _transfer(shared, card, "10004"))
    assert "acesso" in exc.message


def test_permitted_users_make_every_movement(world):
    """The requests refused above go through for the right users: 100002 (movements and
    reports) on its group, the account manager on any company of the portfolio."""
    for code, actor, services in [
        ("10001", world.user, SERVICES),
        ("10004", world.manager, [s for s in SERVICES if s != "transfer"]),
        ("10005", world.manager, ["transfer"]),
    ]:
        for service in services:
            result = _call(world, code, service)(world.uow(code), actor)
            assert re.match(PROTOCOL_RE, result.protocol_number), (code, service)
            m = world.all(
                select(Movement).where(
                    Movement.protocol_id == protocol(world, result.protocol_number).id
                )
            )
            assert {x.actor_user_id for x in m} == {actor.user_id}


def test_a_group_user_may_move_beneficiaries_of_the_other_group_companies(world):
    result = include(
        world, InclusionRequest(holder_person(), plan_id=3), code="10003", actor=world.user
    )
    assert world.by_card(result.card_number).company_id == world.company["10003"]


# ================================================================ property tests

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text: short, ASCII with control characters (NUL...), or around the column sizes.
any_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(max_codepoint=127), max_size=30),
    st.text(min_size=95, max_size=230),
    st.sampled_from(["Rua\x00 1", "\x1b[31m", "9" * 21, "B" * 101, "C" * 201]),
)
some_dates = st.dates(min_value=date(1890, 1, 1), max_value=date(2100, 12, 31))
near_dates = st.one_of(
    st.none(),
    st.dates(min_value=date(2026, 7, 1), max_value=date(2027, 2, 28)),
    st.sampled_from([date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), TODAY]),
)
valid_cpfs = st.integers(100_000_000, 999_999_999).map(lambda n: f"{n}{cpf_check_digits(str(n))}")
names = st.one_of(
    any_text,
    st.sampled_from(["Ana Souza", "JOSÉ D'ÁVILA", "X", ""]),
    st.integers(3, 205).map(lambda n: "A " + "B" * (n - 2)),
)


# A random value for each register field, valid or not.
PERSON_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": names,
    "cpf": st.one_of(st.none(), valid_cpfs, any_text),
    "cns": st.one_of(st.none(), any_text, st.just("700000000000005")),
    "birth_date": st.one_of(st.none(), some_dates),
    "sex": st.one_of(st.sampled_from(["M", "F", "f", "X", ""]), any_text),
    "mother_name": names,
    "marital_status": st.one_of(st.none(), st.sampled_from(MARITAL_STATUSES), any_text),
    "is_student": st.booleans(),
    "email": st.one_of(st.none(), st.emails(), any_text),
    "phone": st.one_of(st.none(), st.from_regex(r"[0-9]{8,12}", fullmatch=True), any_text),
    "cep": st.one_of(st.none(), st.from_regex(r"[0-9]{5}-?[0-9]{3}", fullmatch=True), any_text),
    "street": st.one_of(st.none(), any_text),
    "number": st.one_of(st.none(), any_text),
    "complement": st.one_of(st.none(), any_text),
    "neighbourhood": st.one_of(st.none(), any_text),
    "municipality": st.one_of(st.none(), any_text),
    "state": st.one_of(st.sampled_from(STATES), any_text),
    "admission_date": st.one_of(st.none(), some_dates),
}
assert set(PERSON_VALUES) == set(UPDATABLE_FIELDS)


FREE_TEXT = ["street", "number", "complement", "neighbourhood", "municipality"]


def _changes(max_size: int = 3, min_size: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A few fields set to random values (free text more often; now and then a field
    that cannot change)."""
    fields = st.sampled_from([*UPDATABLE_FIELDS, *FREE_TEXT, "plan_id"])
    return st.lists(fields, min_size=min_size, max_size=max_size, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: PERSON_VALUES.get(k, st.integers()) for k in keys})
    )


def _person(data: st.DataObject, existing_cpfs: list[str], base: str) -> PersonData:
    """A valid register with a few fields spoilt, so that requests get deep into the
    service (and often through it) instead of failing on the first field."""
    # Mostly a CPF nobody has (hypothesis would draw the same few numbers again and again).
    existing = data.draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(existing_cpfs)))
    cpf = existing or new_cpf()
    person = {
        "holder": holder_person(cpf=cpf),
        "child": child_person(),
        "child with address": child_person(cpf=cpf, **ADDRESS),
    }[base]
    changes = data.draw(
        _changes(2, min_size=1).filter(lambda c: "plan_id" not in c), label="spoilt"
    )
    return replace(person, **changes)


REQUEST_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "relationship_code": st.sampled_from([1, 3, 4, 6, 8, 10, 2, 0]),
    "plan_id": st.sampled_from([None, 1, 2, 3, 4, 99]),
    "holder_card": st.one_of(st.none(), any_text),
    "effective_date": near_dates,
    "channel": st.sampled_from(list(Channel)),
}


def _cards(w: World) -> list[str]:
    return w.all(
        select(Beneficiary.card_number)
        .where(Beneficiary.company_id == w.company["10001"])
        .order_by(Beneficiary.id)
        .limit(40)
    )


def _check_property(world: World, call: Callable[[], Any]) -> None:
    """Only DomainError may escape; a refused request leaves the database as it was."""
    before = world.snapshot()
    try:
        call()
    except DomainError as exc:
        assert exc.message
        assert world.snapshot() == before


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_inclusions_either_succeed_or_are_refused_cleanly(world, data):
    cpfs = world.all(select(Beneficiary.cpf).where(Beneficiary.cpf.is_not(None)).limit(20))
    holders = world.all(
        select(Beneficiary.card_number)
        .where(Beneficiary.company_id == world.company["10001"], Beneficiary.relationship_code == 1)
        .order_by(Beneficiary.id)
        .limit(20)
    )
    base = data.draw(st.sampled_from(["holder", "child", "child with address"]), label="base")
    person = _person(data, cpfs, base)
    if base == "holder":
        request = InclusionRequest(person, plan_id=data.draw(st.sampled_from([1, 2, 3])))
    else:
        card = data.draw(st.sampled_from(holders), label="holder")
        request = InclusionRequest(person, relationship_code=4, holder_card=card)
    spoilt = data.draw(st.lists(st.sampled_from(sorted(REQUEST_VALUES)), max_size=1))
    request = replace(request, **{k: data.draw(REQUEST_VALUES[k], label=k) for k in spoilt})
    _check_property(world, lambda: include(world, request))


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_movements_either_succeed_or_are_refused_cleanly(world, data):
    card = data.draw(st.one_of(st.sampled_from(_cards(world)), any_text), label="card")
    effective = data.draw(near_dates, label="effective")
    channel = data.draw(st.sampled_from(list(Channel)), label="channel")
    kind = data.draw(
        st.sampled_from(["exclude", "update", "reactivate", "transfer", "change_plan"]),
        label="kind",
    )
    uow, actor = world.uow(), world.master
    if kind == "exclude":
        kwargs = data.draw(
            st.fixed_dictionaries(
                {
                    "reason": st.one_of(st.sampled_from(sorted(EXCLUSION_REASONS)), any_text),
                    "dependents_confirmed": st.booleans(),
                    "contributed": st.booleans(),
                    "contribution_months": st.integers(-5, 600),
                }
            )
        )

        def call() -> Any:
            return movement_apply(
                uow=uow,
                actor=actor,
                request=ExclusionRequest(
                    card_number=card, effective_date=effective, channel=channel, **kwargs
                ),
                now=NOW,
            )

    elif kind == "update":
        changes = data.draw(_changes(), label="changes")

        def call() -> Any:
            return movement_apply(
                uow=uow,
                actor=actor,
                request=UpdateRequest(card_number=card, changes=changes, channel=channel),
                now=NOW,
            )

    elif kind == "reactivate":
        edits = data.draw(st.one_of(st.none(), _changes()), label="changes")

        def call() -> Any:
            return movement_apply(
                uow=uow,
                actor=actor,
                request=ReactivationRequest(
                    card_number=card, effective_date=effective, changes=edits, channel=channel
                ),
                now=NOW,
            )

    elif kind == "transfer":
        target = data.draw(
            st.one_of(st.sampled_from(sorted(world.company.values())), st.integers(-3, 10**12)),
            label="target",
        )
        new_plan = data.draw(st.sampled_from([None, 1, 2, 3, 4, 99]), label="plan")

        def call() -> Any:
            return movement_apply(
                uow=uow,
                actor=actor,
                request=TransferRequest(
                    card_number=card,
                    target_company_id=target,
                    plan_id=new_plan,
                    effective_date=effective,
                    channel=channel,
                ),
                now=NOW,
            )

    else:
        plan = data.draw(st.sampled_from([1, 2, 3, 4, 99]), label="plan")

        def call() -> Any:
            return movement_apply(
                uow=uow,
                actor=actor,
                request=PlanChangeRequest(
                    card_number=card, plan_id=plan, effective_date=effective, channel=channel
                ),
                now=NOW,
            )

    _check_property(world, call)


def test_movement_apply_takes_a_request_of_every_kind_through_its_registered_check(world):
    """The one service entry: forms, retroactive forms and batch lines all end here."""
    apply = movements_service.movement_apply

    def run(request: Any, code: str = "10001") -> MovementResult:
        return apply(uow=world.uow(code), actor=world.master, request=request, now=NOW)

    card = run(InclusionRequest(holder_person(), plan_id=2)).card_number
    steps: list[tuple[Any, str]] = [
        (movements_service.UpdateRequest(card, {"email": "registro@example.com.br"}), "10001"),
        (movements_service.TransferRequest(card, world.company["10002"]), "10001"),
        (movements_service.PlanChangeRequest(card, 3), "10002"),
        (movements_service.ExclusionRequest(card, "pedido"), "10002"),
        (movements_service.ReactivationRequest(card), "10002"),
    ]
    holder_id = world.by_card(card).id
    for request, code in steps:
        result = run(request, code)
        assert result.kind is request.kind
        assert movements_of(world, holder_id, request.kind.value), request.kind
    assert world.by_card(card).status == "active"
    assert world.by_card(card).plan_id == 3
