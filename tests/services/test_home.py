"""Home services on both databases: important dates, network search, company scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from data.db import make_session_factory
from data.models import Company, Invoice, Protocol, Provider
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services import home
from services.access import accounts as access
from services.actors import Permission
from services.companies import company_details, company_list_for_actor
from services.rules.errors import DomainError

TODAY = date(2026, 11, 26)


@pytest.fixture
def world(engine):
    seed_demo(engine, companies=8, beneficiaries=200, today=TODAY)
    return UnitOfWork(make_session_factory(engine))


def _actor(uow: UnitOfWork, code: str):
    actor = access.actor_for_user(uow=uow, user_code=code)
    assert actor is not None
    return actor


def _company_id(uow: UnitOfWork, code: str) -> int:
    with uow:
        return uow.session.scalars(select(Company.id).where(Company.code == code)).one()


def test_important_dates_follow_the_contract_and_the_protocols(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    dates = home.important_dates(uow=world.for_company(company_id), actor=actor, today=TODAY)
    with world:
        company = world.session.get(Company, company_id)
        cutoff_day, due_day = company.cutoff_day, company.due_day
        due_soon = world.session.scalars(
            select(Protocol.number).where(
                Protocol.company_id == company_id,
                Protocol.status.in_(("open", "in_analysis")),
                Protocol.deadline <= date(2026, 12, 6),
            )
        ).all()
    assert dates.cutoff == date(2026, 11, cutoff_day)
    assert dates.cutoff_passed is (TODAY.day > cutoff_day)
    assert dates.retroactive_dates == [date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)]
    expected_due = date(2026, 11, due_day) if due_day >= 26 else date(2026, 12, due_day)
    assert dates.next_due == expected_due
    assert sorted(p.number for p in dates.protocols_due) == sorted(due_soon)[:10]


def test_a_company_user_never_reaches_a_company_outside_its_group(world):
    actor = _actor(world, "100001")
    outsider = _company_id(world, "10004")
    with pytest.raises(DomainError):
        home.important_dates(uow=world.for_company(outsider), actor=actor, today=TODAY)
    with pytest.raises(DomainError):
        company_details(uow=world.for_company(outsider), actor=actor)
    codes = [c.code for c in company_list_for_actor(uow=world, actor=actor)]
    assert codes == ["10001", "10002", "10003"]


def test_the_account_manager_sees_the_whole_portfolio(world):
    actor = _actor(world, "900001")
    assert len(company_list_for_actor(uow=world, actor=actor)) == 8


def test_network_search_applies_every_filter(world):
    with world:
        p = world.session.scalars(select(Provider).order_by(Provider.id)).first()
        sample = Provider(
            name=p.name,
            specialties=list(p.specialties),
            state=p.state,
            city=p.city,
            neighbourhood=p.neighbourhood,
        )
        total = len(world.session.scalars(select(Provider.id)).all())
    everyone = home.provider_search(uow=world)
    assert len(everyone) == total
    found = home.provider_search(
        uow=world,
        specialty=sample.specialties[0],
        state=sample.state,
        city=sample.city,
        neighbourhood=sample.neighbourhood,
        name=sample.name.split()[-1],
    )
    assert sample.name in set(found["Nome"])
    assert set(found["UF"]) == {sample.state}
    assert all(sample.specialties[0] in s for s in found["Especialidades"])
    assert home.provider_search(uow=world, name="zz-nobody-zz").empty


def test_network_filter_options_list_states_cities_and_specialties(world):
    options = home.provider_filter_options(uow=world)
    assert len(options.states) >= 5
    assert all(options.cities[s] for s in options.states)
    assert "Ortodontia" in options.specialties


def _set_cutoff_day(uow: UnitOfWork, company_id: int, day: int) -> None:
    with uow:
        uow.session.get(Company, company_id).cutoff_day = day
        uow.session.commit()


def test_a_cutoff_on_a_weekend_or_holiday_says_the_last_business_day_before_it(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    today = date(2026, 11, 3)

    # 15/11/2026 is a Sunday and a national holiday: movements by Friday 13/11.
    _set_cutoff_day(world, company_id, 15)
    dates = home.important_dates(uow=world.for_company(company_id), actor=actor, today=today)
    assert dates.cutoff == date(2026, 11, 15)
    assert dates.cutoff_moved_to == date(2026, 11, 13)
    assert dates.cutoff_holiday == "Proclamação da República"

    # 20/11/2026 is a Friday, but Consciência Negra (Lei 14.759/2023): Thursday 19/11.
    _set_cutoff_day(world, company_id, 20)
    dates = home.important_dates(uow=world.for_company(company_id), actor=actor, today=today)
    assert dates.cutoff_moved_to == date(2026, 11, 19)
    assert dates.cutoff_holiday == "Dia Nacional de Zumbi e da Consciência Negra"

    # 28/11/2026 is a Saturday, not a holiday.
    _set_cutoff_day(world, company_id, 28)
    dates = home.important_dates(uow=world.for_company(company_id), actor=actor, today=today)
    assert (dates.cutoff_moved_to, dates.cutoff_holiday) == (date(2026, 11, 27), None)

    # 10/11/2026 is a Tuesday: nothing moves.
    _set_cutoff_day(world, company_id, 10)
    dates = home.important_dates(uow=world.for_company(company_id), actor=actor, today=today)
    assert (dates.cutoff, dates.cutoff_moved_to, dates.cutoff_holiday) == (
        date(2026, 11, 10),
        None,
        None,
    )


def test_overdue_invoices_are_listed_for_the_link_to_their_update(world):
    company_id = _company_id(world, "10001")
    with world:
        invoices = world.session.scalars(
            select(Invoice).where(Invoice.company_id == company_id).order_by(Invoice.billing_month)
        ).all()
        # Two invoices overdue and open, one open and not yet due, the rest paid.
        for inv in invoices:
            inv.status, inv.paid_on = "paid", inv.due_date
        late_a, late_b, current = invoices[-4], invoices[-3], invoices[-1]
        for inv, due in ((late_a, date(2026, 9, 10)), (late_b, date(2026, 10, 10))):
            inv.status, inv.paid_on, inv.due_date = "open", None, due
        current.status, current.paid_on, current.due_date = "open", None, date(2026, 12, 10)
        world.session.commit()
        expected = [
            home.OverdueItem(i.id, i.billing_month, i.due_date, i.amount) for i in (late_a, late_b)
        ]

    master = _actor(world, "100001")
    dates = home.important_dates(uow=world.for_company(company_id), actor=master, today=TODAY)
    assert dates.overdue == expected
    assert dates.overdue_invoices == 2
    assert dates.open_invoices == 1
    assert dates.next_open_invoice_due == date(2026, 12, 10)

    # A user without the finance permission learns there are overdue invoices, not which.
    user = _actor(world, "100002")
    assert not user.can(Permission.FINANCE)
    dates = home.important_dates(uow=world.for_company(company_id), actor=user, today=TODAY)
    assert dates.overdue == []
    assert dates.overdue_invoices == 2

    # Another company of the group shows its own invoices only.
    other = _company_id(world, "10002")
    dates = home.important_dates(uow=world.for_company(other), actor=master, today=TODAY)
    assert {o.invoice_id for o in dates.overdue}.isdisjoint(o.invoice_id for o in expected)
