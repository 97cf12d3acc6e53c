"""Company scoping is structural: a company's unit of work sees only that company's rows.

Each query below "forgets" its company filter on purpose; the unit of work adds it
(data/uow.py). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from data.db import make_session_factory
from data.models import (
    Beneficiary,
    Company,
    ContractedPlan,
    CostCentre,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    Movement,
    Protocol,
    UtilizationEvent,
)
from data.uow import (
    ALL_COMPANIES,
    COMPANY_SCOPED,
    NoCompanyInContext,
    UnitOfWork,
    across_companies,
)
from demo.generator import seed_demo
from tests.conftest import _fresh_postgres, _fresh_sqlite

TODAY = date(2026, 11, 26)


@dataclass(frozen=True)
class Two:
    """A seeded database with two companies: `a` is in context, `b` is the other one."""

    factory: sessionmaker[Session]
    a: int
    b: int

    def uow(self, company_id: int | None) -> UnitOfWork:
        return UnitOfWork(self.factory, company_id)

    def ids(self, model: type, company_id: int | None = None) -> set[int]:
        """The ids of `model` (of one company, or all), read without any scoping."""
        query = select(model.id)  # type: ignore[attr-defined]
        if company_id is not None:
            query = query.where(model.company_id == company_id)  # type: ignore[attr-defined]
        with self.factory() as session:
            return set(session.scalars(query))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def two(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    """One seeded database per engine for the module; the tests roll back their writes."""
    fresh = _fresh_sqlite(tmp_path_factory) if request.param == "sqlite" else _fresh_postgres()
    engine = next(fresh)
    try:
        seed_demo(engine, companies=3, beneficiaries=90, today=TODAY, invoice_months=2)
        factory = make_session_factory(engine)
        with factory() as session:
            a, b = session.scalars(select(Company.id).order_by(Company.id).limit(2)).all()
        world = Two(factory=factory, a=a, b=b)
        for model in (Beneficiary, CoveragePeriod, Protocol, Invoice, ContractedPlan, CostCentre):
            # Both companies have rows, so a query that leaked would show it.
            assert world.ids(model, a) and world.ids(model, b), model.__name__
        yield world
    finally:
        next(fresh, None)  # runs the fixture generator's cleanup


def test_an_entity_select_without_a_company_filter_returns_only_the_companys_rows(two: Two):
    for model in COMPANY_SCOPED:
        mine = two.ids(model, two.a)
        with two.uow(two.a) as uow:
            rows = uow.session.scalars(select(model)).all()
            assert {row.id for row in rows} == mine, model.__name__
            assert all(row.company_id == two.a for row in rows)


def test_a_column_select_and_an_aggregate_are_filtered(two: Two):
    with two.uow(two.a) as uow:
        ids = set(uow.session.scalars(select(Beneficiary.id)))
        count = uow.session.scalar(select(func.count(Beneficiary.id)))
        counted_from = uow.session.scalar(select(func.count()).select_from(Beneficiary))
    assert ids == two.ids(Beneficiary, two.a)
    assert count == counted_from == len(ids)


def test_a_join_and_an_alias_are_filtered_on_every_scoped_side(two: Two):
    holder = aliased(Beneficiary)
    with two.uow(two.a) as uow:
        # Company is not scoped: the join to Beneficiary brings the criteria with it.
        joined = uow.session.execute(
            select(Company.id, Beneficiary.id).join(
                Beneficiary, Beneficiary.company_id == Company.id
            )
        ).all()
        # An aliased entity gets the criteria too.
        holders = set(
            uow.session.scalars(
                select(holder.id).join(Beneficiary, Beneficiary.holder_id == holder.id)
            )
        )
        # A join from an unscoped child (invoice lines) to its scoped parent.
        line_invoices = set(
            uow.session.scalars(
                select(InvoiceLine.invoice_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            )
        )
        # An EXISTS on a scoped model: only the company in context has people.
        with_people = set(
            uow.session.scalars(
                select(Company.id).where(exists().where(Beneficiary.company_id == Company.id))
            )
        )
        # A subquery of a scoped model inside an ORM statement.
        in_subquery = set(
            uow.session.scalars(
                select(Movement.id).where(
                    Movement.beneficiary_id.in_(select(Beneficiary.id).scalar_subquery())
                )
            )
        )
    assert with_people == {two.a}
    assert joined and {cid for cid, _ in joined} == {two.a}
    assert {bid for _, bid in joined} == two.ids(Beneficiary, two.a)
    assert holders and holders <= two.ids(Beneficiary, two.a)
    assert line_invoices and line_invoices <= two.ids(Invoice, two.a)
    assert in_subquery == two.ids(Movement, two.a)


def test_an_update_without_a_company_filter_changes_only_the_companys_rows(two: Two):
    everyone = select(Protocol.company_id, Protocol.subject).execution_options(all_companies=True)
    mine = two.ids(Protocol, two.a)
    with two.uow(two.a) as uow:  # rolled back on exit
        changed = uow.session.execute(update(Protocol).values(subject="scoped"))
        assert changed.rowcount == len(mine)  # type: ignore[attr-defined]
        rows = uow.session.execute(everyone).all()
    assert {subject for cid, subject in rows if cid == two.a} == {"scoped"}
    others = [subject for cid, subject in rows if cid != two.a]
    assert others and "scoped" not in others


def test_a_delete_without_a_company_filter_removes_only_the_companys_rows(two: Two):
    everyone = select(UtilizationEvent.company_id).execution_options(all_companies=True)
    others = two.ids(UtilizationEvent) - two.ids(UtilizationEvent, two.a)
    assert others and two.ids(UtilizationEvent, two.a)
    with two.uow(two.a) as uow:  # rolled back on exit
        uow.session.execute(delete(UtilizationEvent))
        left = list(uow.session.scalars(everyone))
    assert len(left) == len(others) and two.a not in left


def test_get_does_not_return_another_companys_row(two: Two):
    mine = min(two.ids(Beneficiary, two.a))
    theirs = min(two.ids(Beneficiary, two.b))
    with two.uow(two.a) as uow:
        assert uow.session.get(Beneficiary, theirs) is None
        found = uow.session.get(Beneficiary, mine)
        assert found is not None and found.company_id == two.a


def test_a_relationship_lazy_load_is_filtered(two: Two):
    contract = two.ids(ContractedPlan, two.a)
    with two.uow(two.a) as uow:
        # Company is not scoped, so company b itself loads; its contract does not.
        other = uow.session.get(Company, two.b)
        assert other is not None
        assert other.contracted_plans == []
        mine = uow.session.get(Company, two.a)
        assert mine is not None
        assert {cp.id for cp in mine.contracted_plans} == contract


def test_an_expired_object_reloads_its_columns_under_the_scope(two: Two):
    with two.uow(two.a) as uow:
        person = uow.session.scalars(select(Beneficiary).limit(1)).one()
        uow.session.expire(person)
        assert person.company_id == two.a


def test_a_statement_may_cross_companies_on_purpose(two: Two):
    with two.uow(two.a) as uow:
        ids = set(
            uow.session.scalars(select(Beneficiary.id).execution_options(**{ALL_COMPANIES: True}))
        )
    assert ids == two.ids(Beneficiary)


def test_a_block_may_cross_companies_on_purpose_and_the_scope_comes_back_after_it(two: Two):
    everyone, mine = two.ids(Beneficiary), two.ids(Beneficiary, two.a)
    with two.uow(two.a) as uow:
        with across_companies(uow.session):
            inside = set(uow.session.scalars(select(Beneficiary.id)))
        after = set(uow.session.scalars(select(Beneficiary.id)))
    assert (inside, after) == (everyone, mine)


def test_a_unit_of_work_without_a_company_sees_every_company(two: Two):
    other = min(two.ids(Beneficiary, two.b))
    with two.uow(None) as uow:
        ids = set(uow.session.scalars(select(Beneficiary.id)))
        theirs = uow.session.get(Beneficiary, other)
    assert ids == two.ids(Beneficiary)
    assert two.ids(Beneficiary, two.a) < ids
    assert theirs is not None


def test_for_company_scopes_a_new_unit_of_work(two: Two):
    manager = two.uow(None)
    with manager.for_company(two.b) as uow:
        ids = set(uow.session.scalars(select(Beneficiary.id)))
    assert ids == two.ids(Beneficiary, two.b)


def test_plain_sql_is_not_scoped(two: Two):
    """The documented limit: text() and Core statements on a Table are not ORM statements."""
    table = Beneficiary.__table__
    with two.uow(two.a) as uow:
        raw = set(uow.session.scalars(text("SELECT id FROM beneficiary")))
        core = set(uow.session.scalars(select(table.c.id)))
    assert raw == core == two.ids(Beneficiary)


def test_require_company_raises_without_a_company(two: Two):
    with pytest.raises(NoCompanyInContext, match="for_company"):
        two.uow(None).require_company()
    assert two.uow(two.a).require_company() == two.a
