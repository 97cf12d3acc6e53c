"""Dependents ageing out, on both databases: who is listed and when, the home page's
important dates, the company scope, and the one-click exclusion through the ordinary
exclusion service (protocol, movement with reason "perda_elegibilidade", never
retroactive, at most 60 days ahead)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from data.models import AuditRecord, Beneficiary, Company, Movement, Protocol
from services import home
from services.actors import Permission
from services.movements import ageing
from services.rules.errors import DomainError
from tests.services.movements_support import NOW, PROTOCOL_RE, TODAY, World, make_world

LIMITED = {"allowed": True, "max_age": 21, "student_max_age": 24}
TABLE = {str(code): LIMITED for code in (3, 4, 6, 8, 10)}


def _born_for_end(end: date, years: int = 22) -> date:
    """The birth date whose `years`-th birthday is `end`."""
    return end.replace(year=end.year - years)


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    return make_world(engine)


@pytest.fixture
def people(world: World) -> dict[str, int]:
    """Company 10001 with an age limit on every relationship, every dependent young
    except four: one ageing out in 10 days, one already past the limit, one in 100
    days, and a student whose student limit is far away."""
    cid = world.company["10001"]
    with world.factory() as s:
        s.execute(update(Company).where(Company.id == cid).values(eligibility=TABLE))
        s.execute(
            update(Beneficiary)
            .where(Beneficiary.company_id == cid, Beneficiary.relationship_code != 1)
            .values(birth_date=date(2015, 1, 1), is_student=False)
        )
        holders_active = select(Beneficiary.id).where(
            Beneficiary.company_id == cid,
            Beneficiary.relationship_code == 1,
            Beneficiary.status == "active",
        )
        deps = s.scalars(
            select(Beneficiary.id)
            .where(
                Beneficiary.company_id == cid,
                Beneficiary.status == "active",
                Beneficiary.relationship_code != 1,
                Beneficiary.holder_id.in_(holders_active),
            )
            .order_by(Beneficiary.id)
        ).all()
        assert len(deps) >= 4, "the seed has too few active dependents"
        chosen = dict(zip(("soon", "passed", "far", "student"), deps, strict=False))
        births = {
            "soon": (_born_for_end(TODAY + timedelta(days=10)), False),
            "passed": (_born_for_end(TODAY - timedelta(days=5)), False),
            "far": (_born_for_end(TODAY + timedelta(days=100)), False),
            "student": (_born_for_end(TODAY + timedelta(days=10)), True),
        }
        for key, bid in chosen.items():
            birth, student = births[key]
            s.execute(
                update(Beneficiary)
                .where(Beneficiary.id == bid)
                .values(birth_date=birth, is_student=student)
            )
        s.commit()
    return chosen


def test_the_list_has_who_ages_out_in_the_window_and_who_already_has(world, people):
    rows = ageing.ageing_dependents(uow=world.uow(), actor=world.master, today=TODAY)
    assert [r.beneficiary_id for r in rows] == [people["passed"], people["soon"]]
    passed, soon = rows
    assert passed.passed and passed.eligibility_end == TODAY - timedelta(days=5)
    assert passed.exclusion_date == TODAY  # never retroactive
    assert not soon.passed and soon.eligibility_end == TODAY + timedelta(days=10)
    assert soon.exclusion_date == soon.eligibility_end and soon.age_limit == 21
    assert soon.card_formatted.replace(" ", "") == world.get(people["soon"]).card_number


def test_a_period_and_the_passed_switch_narrow_the_report(world, people):
    rows = ageing.ageing_dependents(
        uow=world.uow(),
        actor=world.master,
        today=TODAY,
        start=TODAY,
        end=TODAY + timedelta(days=120),
        include_passed=False,
    )
    assert [r.beneficiary_id for r in rows] == [people["soon"], people["far"]]
    far = rows[1]
    assert not far.can_schedule  # 100 days ahead: beyond what an exclusion may be given
    table = ageing.ageing_table(rows)
    assert list(table.columns) == ageing.AGEING_COLUMNS
    assert list(table["Fim da elegibilidade"]) == [r.eligibility_end for r in rows]
    with pytest.raises(DomainError):
        ageing.ageing_dependents(
            uow=world.uow(),
            actor=world.master,
            today=TODAY,
            start=TODAY,
            end=TODAY - timedelta(days=1),
        )


def test_the_student_limit_is_the_students(world, people):
    rows = ageing.ageing_dependents(
        uow=world.uow(), actor=world.master, today=TODAY, end=TODAY + timedelta(days=4 * 366)
    )
    student = next(r for r in rows if r.beneficiary_id == people["student"])
    assert student.age_limit == 24
    assert student.eligibility_end == date(2029, 12, 6)  # 25th birthday (22nd: 06/12/2026)


def test_the_report_needs_the_reports_permission_and_stays_in_its_company(world, people):
    no_reports = replace(world.master, permissions=world.master.permissions - {Permission.REPORTS})
    with pytest.raises(DomainError):
        ageing.ageing_dependents(uow=world.uow(), actor=no_reports, today=TODAY)
    other = ageing.ageing_dependents(uow=world.uow("10002"), actor=world.master, today=TODAY)
    assert not {r.beneficiary_id for r in other} & set(people.values())
    with pytest.raises(DomainError):  # 10004 is outside the master's group
        ageing.ageing_dependents(uow=world.uow("10004"), actor=world.master, today=TODAY)


def test_the_home_page_lists_them_among_the_important_dates(world, people):
    dates = home.important_dates(
        uow=world.uow().for_company(world.company["10001"]), actor=world.master, today=TODAY
    )
    assert [d.beneficiary_id for d in dates.ageing] == [people["passed"], people["soon"]]
    nobody = replace(world.master, permissions=frozenset())
    dates = home.important_dates(
        uow=world.uow().for_company(world.company["10001"]), actor=nobody, today=TODAY
    )
    assert dates.ageing == []


def test_one_click_exclusion_is_an_ordinary_exclusion_on_the_eligibility_end(world, people):
    bid = people["soon"]
    audits_before = len(world.all(select(AuditRecord)))
    result = ageing.exclude_aged_out(uow=world.uow(), actor=world.user, beneficiary_id=bid, now=NOW)
    assert re.match(PROTOCOL_RE, result.protocol_number)
    assert result.effective_date == TODAY + timedelta(days=10)
    assert [a.id for a in result.affected] == [bid]
    movement = world.all(
        select(Movement).where(Movement.beneficiary_id == bid, Movement.kind == "exclusion")
    )
    assert len(movement) == 1 and movement[0].reason == "perda_elegibilidade"
    assert movement[0].effective_date == TODAY + timedelta(days=10)
    protocol = world.all(select(Protocol).where(Protocol.id == movement[0].protocol_id))[0]
    assert protocol.number == result.protocol_number and protocol.kind == "exclusion"
    assert len(world.all(select(AuditRecord))) > audits_before
    # Excluded (or scheduled): no longer in the list.
    rows = ageing.ageing_dependents(uow=world.uow(), actor=world.master, today=TODAY)
    assert bid not in {r.beneficiary_id for r in rows}


def test_an_eligibility_already_ended_is_excluded_from_today(world, people):
    result = ageing.exclude_aged_out(
        uow=world.uow(), actor=world.master, beneficiary_id=people["passed"], now=NOW
    )
    assert result.effective_date == TODAY
    b = world.get(people["passed"])
    assert b.status == "inactive" and b.exclusion_reason == "perda_elegibilidade"


def test_one_click_exclusion_refuses_what_it_must(world, people):
    with pytest.raises(DomainError, match="a partir de"):  # 100 days ahead
        ageing.exclude_aged_out(
            uow=world.uow(), actor=world.master, beneficiary_id=people["far"], now=NOW
        )
    holder = world.holder("10001")
    with pytest.raises(DomainError, match="dependentes"):
        ageing.exclude_aged_out(
            uow=world.uow(), actor=world.master, beneficiary_id=holder.id, now=NOW
        )
    with pytest.raises(DomainError, match="não encontrado"):  # another company's person
        ageing.exclude_aged_out(
            uow=world.uow("10002"), actor=world.master, beneficiary_id=people["soon"], now=NOW
        )
    no_moves = replace(world.master, permissions=world.master.permissions - {Permission.MOVEMENTS})
    with pytest.raises(DomainError, match="permissão"):
        ageing.exclude_aged_out(
            uow=world.uow(), actor=no_moves, beneficiary_id=people["soon"], now=NOW
        )
    assert world.get(people["soon"]).status == "active"
    assert world.get(people["far"]).status == "active"


def test_a_contract_without_age_limits_has_nobody_ageing_out(world, people):
    unlimited = {
        str(c): {"allowed": True, "max_age": None, "student_max_age": None}
        for c in (3, 4, 6, 8, 10)
    }
    with world.factory() as s:
        s.execute(
            update(Company)
            .where(Company.id == world.company["10001"])
            .values(eligibility=unlimited)
        )
        s.commit()
    assert ageing.ageing_dependents(uow=world.uow(), actor=world.master, today=TODAY) == []
