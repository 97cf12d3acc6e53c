"""Coverage periods as the one source: scheduled movements wait for their date (no nightly
job), can be cancelled with a protocol and an audit record, and the arts. 30/31 stay keeps
the whole family covered until its end. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import demo.generator
from data.models import AuditRecord, Beneficiary, Company, CoveragePeriod, Movement, Protocol
from services.movements import coverage
from services.movements.service import (
    ExclusionRequest,
    InclusionRequest,
    PlanChangeRequest,
    ReactivationRequest,
    TransferRequest,
    beneficiary_search,
    movement_apply,
)
from services.rules.errors import DomainError
from tests.services.movements_support import (
    NOW,
    TODAY,
    World,
    child_person,
    holder_person,
    make_world,
)

NEXT_MONTH = date(2026, 12, 15)
AFTER = datetime(2026, 12, 15, 15, 0, tzinfo=UTC)  # noon in Brasília on NEXT_MONTH


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def _family(world: World) -> tuple[str, str]:
    holder = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=InclusionRequest(holder_person(), plan_id=2),
        now=NOW,
    )
    child = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=InclusionRequest(
            child_person(), relationship_code=4, holder_card=holder.affected[0].card_number
        ),
        now=NOW,
    )
    return holder.affected[0].card_number, child.affected[0].card_number


def _periods(world: World, card: str) -> list[tuple[date, date | None, int, int, str]]:
    b = world.by_card(card)
    return [
        (p.start_date, p.end_date, p.company_id, p.plan_id, p.kind)
        for p in world.all(
            select(CoveragePeriod)
            .where(CoveragePeriod.beneficiary_id == b.id)
            .order_by(CoveragePeriod.start_date, CoveragePeriod.id)
        )
    ]


def test_an_inclusion_opens_a_coverage_period(world: World):
    holder, child = _family(world)
    company = world.company["10001"]
    assert _periods(world, holder) == [(TODAY, None, company, 2, "regular")]
    assert _periods(world, child) == [(TODAY, None, company, 2, "regular")]


def test_a_future_exclusion_is_scheduled_then_takes_effect_on_its_date(world: World):
    holder, child = _family(world)
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder,
            reason="demissao_justa_causa",
            effective_date=NEXT_MONTH,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    assert result.scheduled
    assert result.scheduled_text == "Exclusão agendada para 15/12/2026"
    # Until the date the family stays as it is, and the screens say what is coming...
    for card in (holder, child):
        assert world.by_card(card).status == "active"
        assert world.by_card(card).exclusion_date is None
    rows = beneficiary_search(uow=world.uow(), actor=world.master, text=holder, now=NOW)
    assert [r.scheduled for r in rows] == ["exclusão agendada para 15/12/2026"]
    # ...while billing already sees the end of the coverage.
    company = world.company["10001"]
    assert _periods(world, holder) == [(TODAY, NEXT_MONTH, company, 2, "regular")]
    listed = coverage.scheduled_list(uow=world.uow(), actor=world.master, now=NOW)
    assert [(s.protocol_number, s.kind, s.effective_date) for s in listed] == [
        (result.protocol_number, "exclusion", NEXT_MONTH)
    ]
    assert {name for name, _card in listed[0].beneficiaries} == {
        world.by_card(holder).name,
        world.by_card(child).name,
    }
    # The day before nothing changes; on the day the first request settles it.
    assert coverage.settle(world.uow(), NOW, NEXT_MONTH - timedelta(days=1)) == 0
    rows = beneficiary_search(uow=world.uow(), actor=world.master, text=holder, now=AFTER)
    assert rows[0].status == "inactive" and rows[0].scheduled is None
    for card in (holder, child):
        b = world.by_card(card)
        assert (b.status, b.exclusion_date) == ("inactive", NEXT_MONTH)
    assert coverage.settle(world.uow(), AFTER) == 0  # idempotent
    states = world.all(
        select(Movement.state).where(Movement.beneficiary_id == world.by_card(holder).id)
    )
    assert states == ["applied", "applied"]  # inclusion, exclusion
    audits = world.all(
        select(AuditRecord.action).where(AuditRecord.action == "movement_take_effect")
    )
    assert len(audits) == 2


def test_a_scheduled_exclusion_is_cancelled_with_a_protocol_and_an_audit(world: World):
    holder, child = _family(world)
    before = _periods(world, holder), _periods(world, child)
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder,
            reason="outros",
            effective_date=NEXT_MONTH,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    # Another movement for the same people waits for the cancellation.
    with pytest.raises(DomainError, match="exclusão agendada para 15/12/2026"):
        movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=PlanChangeRequest(card_number=holder, plan_id=1),
            now=NOW,
        )
    cancelled = coverage.scheduled_cancel(
        uow=world.uow(), actor=world.master, protocol_number=result.protocol_number, now=NOW
    )
    assert cancelled.cancelled_protocol == result.protocol_number
    assert cancelled.protocol_number != result.protocol_number
    assert (_periods(world, holder), _periods(world, child)) == before
    assert coverage.scheduled_list(uow=world.uow(), actor=world.master, now=NOW) == []
    protocol = world.all(select(Protocol).where(Protocol.number == cancelled.protocol_number))[0]
    assert (protocol.kind, protocol.status) == ("cancellation", "closed")
    assert len(world.all(select(AuditRecord).where(AuditRecord.action == "movement_cancel"))) == 2
    # Nothing takes effect on the date any more, and it cannot be cancelled twice.
    coverage.settle(world.uow(), AFTER)
    assert world.by_card(holder).status == "active"
    with pytest.raises(DomainError, match="Não há movimentação agendada"):
        coverage.scheduled_cancel(
            uow=world.uow(), actor=world.master, protocol_number=result.protocol_number, now=NOW
        )


def test_another_company_cannot_cancel_a_scheduled_movement(world: World):
    holder, _child = _family(world)
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder,
            reason="outros",
            effective_date=NEXT_MONTH,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    with pytest.raises(DomainError, match="Protocolo não encontrado"):
        coverage.scheduled_cancel(
            uow=world.uow("10004"),
            actor=world.manager,
            protocol_number=result.protocol_number,
            now=NOW,
        )


def test_a_future_transfer_keeps_the_family_in_its_company_until_the_date(world: World):
    holder, child = _family(world)
    source, target = world.company["10001"], world.company["10002"]
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=TransferRequest(
            card_number=holder, target_company_id=target, effective_date=NEXT_MONTH
        ),
        now=NOW,
    )
    assert result.scheduled
    assert world.by_card(holder).company_id == source
    assert world.by_card(child).company_id == source
    assert _periods(world, child) == [
        (TODAY, NEXT_MONTH, source, 2, "regular"),
        (NEXT_MONTH, None, target, 2, "regular"),
    ]
    coverage.settle(world.uow(), AFTER)
    assert world.by_card(holder).company_id == target
    assert world.by_card(child).company_id == target


def test_an_exclusion_at_the_beneficiarys_request_takes_effect_on_the_request_date(
    world: World,
):
    holder, _child = _family(world)
    with pytest.raises(DomainError, match="vale na data do pedido") as info:
        movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=ExclusionRequest(
                card_number=holder,
                reason="pedido",
                effective_date=NEXT_MONTH,
                dependents_confirmed=True,
            ),
            now=NOW,
        )
    assert info.value.field == "effective_date"
    done = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder, reason="pedido", effective_date=None, dependents_confirmed=True
        ),
        now=NOW,
    )
    assert not done.scheduled and done.effective_date == TODAY
    assert world.by_card(holder).status == "inactive"


def test_the_arts_30_31_stay_keeps_the_family_covered_until_its_end(world: World):
    holder, child = _family(world)
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder,
            reason="demissao",
            effective_date=None,
            dependents_confirmed=True,
            contributed=True,
            contribution_months=36,
            stay_accepted=True,
        ),
        now=NOW,
    )
    end = date(2027, 11, 26)
    assert (result.stay_accepted, result.stay_months, result.stay_until) == (True, 12, end)
    company = world.company["10001"]
    for card in (holder, child):
        b = world.by_card(card)
        assert (b.status, b.stay_until) == ("active", end)
        assert _periods(world, card) == [(TODAY, end, company, 2, "stay")]
    # Excluded on the stay's end, the whole family: no dependent left under an excluded holder.
    coverage.settle(world.uow(), datetime(2027, 11, 26, 15, tzinfo=UTC))
    assert {world.by_card(c).status for c in (holder, child)} == {"inactive"}
    assert world.by_card(holder).exclusion_reason == "demissao"
    assert world.by_card(child).exclusion_date == end


def test_the_stay_is_refused_when_the_law_does_not_grant_it(world: World):
    holder, _child = _family(world)
    with pytest.raises(DomainError, match="arts. 30/31") as info:
        movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=ExclusionRequest(
                card_number=holder,
                reason="demissao_justa_causa",
                effective_date=None,
                dependents_confirmed=True,
                contributed=True,
                contribution_months=36,
                stay_accepted=True,
            ),
            now=NOW,
        )
    assert info.value.field == "stay_accepted"


def test_excluding_a_holder_always_takes_the_dependents(world: World):
    with world.factory() as s:
        company = s.get(Company, world.company["10001"])
        assert company is not None
        company.dependents_follow_holder = False
        s.commit()
    holder, child = _family(world)
    movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder, reason="outros", effective_date=None, dependents_confirmed=True
        ),
        now=NOW,
    )
    assert world.by_card(child).status == "inactive"
    left = world.all(
        select(Beneficiary).where(
            Beneficiary.holder_id == world.by_card(holder).id, Beneficiary.status == "active"
        )
    )
    assert left == []


def _dismiss(world: World, card: str, months: int = 36) -> None:
    movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=card,
            reason="demissao",
            effective_date=None,
            dependents_confirmed=True,
            contributed=True,
            contribution_months=months,
        ),
        now=NOW,
    )


def test_the_holder_may_opt_for_the_stay_within_30_days_of_the_exclusion(world: World):
    holder, child = _family(world)
    _dismiss(world, holder)
    assert {world.by_card(c).status for c in (holder, child)} == {"inactive"}
    later = NOW + timedelta(days=20)
    result = movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ReactivationRequest(card_number=holder, stay=True),
        now=later,
    )
    end = date(2027, 11, 26)
    assert (result.stay_accepted, result.stay_until, result.effective_date) == (True, end, TODAY)
    assert "art. 30/31 a partir da competência 12/2026" in (result.invoice_effect or "")
    company = world.company["10001"]
    for card in (holder, child):
        b = world.by_card(card)
        assert (b.status, b.exclusion_date, b.stay_until) == ("active", None, end)
        # Covered again from the exclusion date: nothing of the stay is lost.
        assert _periods(world, card) == [(TODAY, end, company, 2, "stay")]
    coverage.settle(world.uow(), datetime(2027, 11, 26, 15, tzinfo=UTC))
    assert world.by_card(holder).exclusion_reason == "demissao"
    assert {world.by_card(c).status for c in (holder, child)} == {"inactive"}


def test_the_stay_option_ends_30_days_after_the_exclusion(world: World):
    holder, _child = _family(world)
    _dismiss(world, holder)
    with pytest.raises(DomainError, match="prazo de 30 dias"):
        movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=ReactivationRequest(card_number=holder, stay=True),
            now=NOW + timedelta(days=31),
        )
    other, _ = _family(world)
    _dismiss(world, other, months=0)  # contributed for no month: no stay
    with pytest.raises(DomainError, match="não há direito a permanência"):
        movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=ReactivationRequest(card_number=other, stay=True),
            now=NOW,
        )
