"""Cached reports follow the companies' data version: a change committed by any process
(another replica behind the proxy, a queue worker) shows at the next call, with no
st.cache_data.clear() anywhere, and a change in one company leaves the others' reports
cached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import streamlit as st

from components import report_widgets
from components.context import Context
from data.uow import UnitOfWork
from services.companies import company_list_for_actor
from services.movements.service import InclusionRequest, movement_apply
from services.reports import beneficiaries as reports
from services.reports.beneficiaries import BeneficiaryFilters
from tests.conftest import _fresh_postgres, _fresh_sqlite
from tests.services.movements_support import NOW, TODAY, World, holder_person, make_world


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One seeded world per database for the module (the tests only add holders and
    compare before with after)."""
    fresh = _fresh_sqlite(tmp_path_factory) if request.param == "sqlite" else _fresh_postgres()
    yield make_world(next(fresh))
    next(fresh, None)  # dispose of the engine, drop the PostgreSQL schema


@pytest.fixture
def world(seeded: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The seeded world; the report loaders read it (each call a unit of work of its own,
    as in a portal process). The cache starts and ends empty (isolation only: the tests
    themselves never clear it)."""
    w = seeded
    monkeypatch.setattr(
        report_widgets, "new_uow", lambda company_id=None: UnitOfWork(w.factory, company_id)
    )
    st.cache_data.clear()
    yield w
    st.cache_data.clear()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The company ids the beneficiary report was really computed for (cache misses)."""
    calls: list[int] = []
    real: Callable[..., Any] = reports.beneficiary_report

    def counting(**kwargs: Any) -> reports.BeneficiaryReport:
        calls.append(kwargs["uow"].company_id)
        return real(**kwargs)

    monkeypatch.setattr(reports, "beneficiary_report", counting)
    return calls


def _context(world: World, code: str) -> Context:
    companies = company_list_for_actor(uow=UnitOfWork(world.factory), actor=world.master)
    company = next(c for c in companies if c.code == code)
    return Context(actor=world.master, company=company, companies=companies)


def _active(ctx: Context) -> int:
    report = report_widgets.beneficiary_report(
        ctx, status="active", filters=BeneficiaryFilters(), today=TODAY
    )
    return report.total


def _include_holder(world: World, code: str) -> None:
    movement_apply(
        uow=world.uow(code),
        actor=world.master,
        request=InclusionRequest(holder_person(), plan_id=2),
        now=NOW,
    )


def test_a_change_committed_elsewhere_shows_in_the_cached_report_at_once(
    world: World, computed: list[int]
):
    ctx = _context(world, "10001")
    before = _active(ctx)
    assert _active(ctx) == before
    assert len(computed) == 1  # the second call was served by the cache

    _include_holder(world, "10001")  # e.g. on another replica: nothing cleared here

    assert _active(ctx) == before + 1
    assert len(computed) == 2


def test_a_change_in_another_company_keeps_this_company_s_report_cached(
    world: World, computed: list[int]
):
    ours, theirs = _context(world, "10001"), _context(world, "10002")
    ours_before, theirs_before = _active(ours), _active(theirs)
    assert len(computed) == 2

    _include_holder(world, "10002")

    assert _active(ours) == ours_before
    assert _active(theirs) == theirs_before + 1
    assert computed[2:] == [theirs.company_id]  # only the changed company was computed


def test_the_data_version_moves_with_each_committed_write_of_the_companies(world: World):
    a, b = world.company["10001"], world.company["10002"]
    start_a, start_ab = report_widgets.data_version([a]), report_widgets.data_version([a, b])
    _include_holder(world, "10002")
    assert report_widgets.data_version([a]) == start_a
    assert report_widgets.data_version([b, a]) != start_ab
