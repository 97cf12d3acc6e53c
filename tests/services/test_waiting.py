"""Waiting periods computed at inclusion and stored on the beneficiary, on both databases.

The demo world: company 10001 has about 150 active beneficiaries (RN 195 art. 6 applies),
10002 only a handful (it does not). Today is 26/11/2026."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

import demo.generator
from data.models import AuditRecord, Company, Movement
from services import companies
from services.movements.service import InclusionRequest, movement_apply
from services.rules.errors import DomainError, FieldErrors
from services.rules.waiting import (
    DEFAULT_WAITING_DAYS,
    REASON_ADMISSION,
    REASON_NEWBORN,
    WAITING_GROUPS,
)
from tests.services.movements_support import (
    NOW,
    TODAY,
    World,
    child_person,
    holder_person,
    make_world,
)

OLD_ADMISSION = date(2019, 3, 4)


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def include(world: World, request: InclusionRequest, code: str = "10001"):
    result = movement_apply(uow=world.uow(code), actor=world.master, request=request, now=NOW)
    return world.by_card(result.card_number), result


def _reason(world: World, beneficiary_id: int) -> str:
    (after,) = world.all(
        select(Movement.after).where(
            Movement.beneficiary_id == beneficiary_id, Movement.kind == "inclusion"
        )
    )
    return after["waiting_reason"]


def _set_waiting(world: World, code: str, days: dict[str, int] | None) -> None:
    with world.factory() as s:
        company = s.scalars(select(Company).where(Company.code == code)).one()
        company.waiting_periods = days
        s.commit()


def test_inclusion_within_30_days_of_admission_in_a_30_plus_contract_is_exempt(world: World):
    b, _ = include(
        world, InclusionRequest(holder_person(admission_date=TODAY - timedelta(10)), plan_id=2)
    )
    assert b.waiting_periods == {g: None for g in DEFAULT_WAITING_DAYS}
    assert _reason(world, b.id) == REASON_ADMISSION


def test_a_late_inclusion_stores_the_contracts_last_days_of_waiting(world: World):
    _set_waiting(world, "10001", {"Urgência": 1, "Prevenção": 0, "Ortodontia": 180})
    b, result = include(
        world, InclusionRequest(holder_person(admission_date=OLD_ADMISSION), plan_id=2)
    )
    start = result.effective_date
    assert b.effective_date == start
    assert b.waiting_periods == {
        "Urgência": start.isoformat(),
        "Prevenção": None,
        "Ortodontia": (start + timedelta(days=179)).isoformat(),
    }
    assert "mais de 30 dias após a admissão (04/03/2019)" in _reason(world, b.id)


def test_a_small_contract_has_waiting_even_right_after_the_admission(world: World):
    b, result = include(
        world, InclusionRequest(holder_person(admission_date=TODAY), plan_id=2), code="10002"
    )
    start = result.effective_date
    assert b.waiting_periods["Prótese"] == (start + timedelta(days=179)).isoformat()
    assert b.waiting_periods["Urgência"] == start.isoformat()
    assert "menos de 30" in _reason(world, b.id)


def test_a_dependent_follows_its_holders_admission_and_a_newborn_is_exempt(world: World):
    recent, _ = include(world, InclusionRequest(holder_person(), plan_id=2))
    old, _ = include(
        world, InclusionRequest(holder_person(admission_date=OLD_ADMISSION), plan_id=2)
    )
    child = InclusionRequest(child_person(), relationship_code=4, holder_card=recent.card_number)
    exempt, _ = include(world, child)
    assert set(exempt.waiting_periods.values()) == {None}
    waiting, _ = include(
        world, InclusionRequest(child_person(), relationship_code=4, holder_card=old.card_number)
    )
    assert waiting.waiting_periods["Ortodontia"] is not None
    newborn, _ = include(
        world,
        InclusionRequest(
            child_person(birth_date=TODAY - timedelta(days=12)),
            relationship_code=4,
            holder_card=old.card_number,
        ),
    )
    assert set(newborn.waiting_periods.values()) == {None}
    assert _reason(world, newborn.id) == REASON_NEWBORN


# ---------------------------------------------------------------- the contract's setting


def test_the_account_manager_sets_the_contracts_periods_audited_and_used_next(world: World):
    cid = world.company["10001"]
    changed = companies.company_waiting_periods_update(
        uow=world.uow().for_company(cid),
        actor=world.manager,
        days={g: 0 for g in WAITING_GROUPS} | {"Ortodontia": 120, "Urgência": 1},
        now=NOW,
    )
    assert changed["Ortodontia"] == (DEFAULT_WAITING_DAYS["Ortodontia"], 120)
    assert changed["Prevenção"] == (DEFAULT_WAITING_DAYS["Prevenção"], 0)
    assert "Urgência" not in changed  # 1 day before and after
    details = companies.company_details(uow=world.uow().for_company(cid), actor=world.manager)
    assert details.waiting_days["Ortodontia"] == 120 and not details.waiting_default
    assert details.can_edit_waiting
    (audit,) = world.all(
        select(AuditRecord).where(AuditRecord.action == "company_waiting_periods_update")
    )
    assert audit.before == {"waiting_periods": None}
    assert audit.after["waiting_periods"]["Ortodontia"] == 120
    assert audit.company_id == cid and audit.user_id == world.manager.user_id

    b, result = include(
        world, InclusionRequest(holder_person(admission_date=OLD_ADMISSION), plan_id=2)
    )
    start = result.effective_date
    assert b.waiting_periods["Ortodontia"] == (start + timedelta(days=119)).isoformat()
    assert b.waiting_periods["Prevenção"] is None  # 0 days: no waiting

    # Saving the same again changes and records nothing; None goes back to the defaults.
    assert (
        companies.company_waiting_periods_update(
            uow=world.uow().for_company(cid),
            actor=world.manager,
            days={g: 0 for g in WAITING_GROUPS} | {"Ortodontia": 120, "Urgência": 1},
            now=NOW,
        )
        == {}
    )
    back = companies.company_waiting_periods_update(
        uow=world.uow().for_company(cid), actor=world.manager, days=None, now=NOW
    )
    assert back["Ortodontia"] == (120, DEFAULT_WAITING_DAYS["Ortodontia"])
    with world.factory() as s:
        assert s.get(Company, cid).waiting_periods is None
    # The beneficiary's own periods, computed at inclusion, do not change.
    assert world.get(b.id).waiting_periods == b.waiting_periods


def test_only_the_account_manager_changes_them_and_never_beyond_the_law(world: World):
    cid = world.company["10001"]
    before = world.snapshot()
    with pytest.raises(DomainError, match="Só o gestor de contas"):
        companies.company_waiting_periods_update(
            uow=world.uow().for_company(cid),
            actor=world.master,
            days={"Ortodontia": 10},
            now=NOW,
        )
    with pytest.raises(FieldErrors) as refused:
        companies.company_waiting_periods_update(
            uow=world.uow().for_company(cid),
            actor=world.manager,
            days={"Ortodontia": 181, "Urgência": 2},
            now=NOW,
        )
    assert set(refused.value.errors) == {"Ortodontia", "Urgência"}
    assert world.snapshot() == before
    with world.factory() as s:
        assert s.get(Company, cid).waiting_periods is None
    details = companies.company_details(uow=world.uow().for_company(cid), actor=world.master)
    assert details.waiting_days == dict(DEFAULT_WAITING_DAYS) and details.waiting_default
    assert not details.can_edit_waiting
