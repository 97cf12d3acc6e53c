"""Movements racing each other on PostgreSQL: threads, each with its own unit of work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

import demo.generator
from data.models import Beneficiary, Counter, Protocol
from services.movements.service import (
    CPF_TAKEN,
    ExclusionRequest,
    InclusionRequest,
    MovementResult,
    movement_apply,
)
from services.rules.card_numbers import is_valid_card_number
from services.rules.errors import DomainError, FieldErrors
from tests.services.movements_support import (
    NOW,
    World,
    adult_dependent,
    child_person,
    delta,
    holder_person,
    make_world,
    new_cpf,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def world(postgres_engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(postgres_engine)


def at_once(*calls: Callable[[], MovementResult]) -> list[MovementResult | DomainError]:
    """Run the calls in threads released together; any other exception fails the test."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[MovementResult | DomainError | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for outcome in outcomes:
        if not isinstance(outcome, MovementResult | DomainError):
            raise AssertionError(f"unexpected outcome: {outcome!r}") from (
                outcome if isinstance(outcome, BaseException) else None
            )
    return outcomes  # type: ignore[return-value]


def _include(world: World, request: InclusionRequest, code: str = "10001") -> Callable[[], Any]:
    return lambda: movement_apply(uow=world.uow(code), actor=world.master, request=request, now=NOW)


def _errors(exc: DomainError) -> dict[str | None, str]:
    return exc.errors if isinstance(exc, FieldErrors) else {exc.field: exc.message}


def test_two_sessions_including_the_same_cpf_at_once_one_succeeds(world):
    for _ in range(5):
        cpf = new_cpf()
        before = world.snapshot()
        outcomes = at_once(
            _include(world, InclusionRequest(holder_person(cpf=cpf), plan_id=2)),
            _include(
                world,
                InclusionRequest(holder_person(cpf=cpf, name="Bruno Costa Dias"), plan_id=3),
            ),
        )
        won = [o for o in outcomes if isinstance(o, MovementResult)]
        lost = [o for o in outcomes if isinstance(o, DomainError)]
        assert len(won) == 1 and len(lost) == 1
        assert _errors(lost[0]) == {"cpf": CPF_TAKEN}
        active = world.all(
            select(Beneficiary).where(Beneficiary.cpf == cpf, Beneficiary.status == "active")
        )
        assert [b.card_number for b in active] == [won[0].card_number]
        # The loser wrote nothing: one beneficiary, one movement, one protocol in all.
        assert delta(before, world.snapshot()) | {"counter": 0} == {
            "beneficiary": 1,
            "coverage_period": 1,
            "movement": 1,
            "audit_record": 1,
            "protocol": 1,
            "protocol_event": 2,
            "counter": 0,
        }


def test_an_enrolment_committed_meanwhile_turns_the_inclusion_into_a_clear_refusal(world):
    """The service's own check cannot see a row another session has not committed yet;
    the unique index waits for it and the service answers with the CPF message."""
    cpf = new_cpf()
    template = world.holder()
    other = world.factory()
    other.add(
        Beneficiary(
            **{
                c: getattr(template, c)
                for c in Beneficiary.__table__.columns.keys()  # noqa: SIM118
                if c not in ("id", "card_number", "cpf")
            },
            card_number="9999000000000001",
            cpf=cpf,
        )
    )
    other.flush()  # inserted, not committed: the row is locked and invisible to others
    before = world.snapshot()
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            _catch(_include(world, InclusionRequest(holder_person(cpf=cpf), plan_id=2)))
        )
    )
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive(), "the inclusion should wait for the other session"
    other.commit()
    other.close()
    thread.join(timeout=30)
    (exc,) = outcome
    assert isinstance(exc, DomainError) and _errors(exc) == {"cpf": CPF_TAKEN}
    after = world.snapshot()
    assert delta(before, after) == {"beneficiary": 1}  # only the other session's row
    assert after["counters"] == before["counters"]


def _catch(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DomainError as exc:
        return exc


def test_two_sessions_excluding_the_same_holder_at_once_one_succeeds(world):
    holder = world.holder(dependents=False)

    def exclude() -> MovementResult:
        return movement_apply(
            uow=world.uow(),
            actor=world.master,
            request=ExclusionRequest(
                card_number=holder.card_number, reason="pedido", effective_date=None
            ),
            now=NOW,
        )

    outcomes = at_once(exclude, exclude)
    assert sorted(type(o).__name__ for o in outcomes) == ["DomainError", "MovementResult"]
    (lost,) = [o for o in outcomes if isinstance(o, DomainError)]
    assert lost.field == "card_number"
    assert (
        len(
            world.all(
                select(Protocol).where(Protocol.kind == "exclusion", Protocol.opened_at == NOW)
            )
        )
        == 1
    )


def test_two_spouses_included_at_once_for_the_same_holder_only_one_is_accepted(world):
    """The second session waits on the holder's row and must then see the first spouse."""
    holder = world.holder(spouse=False)

    def spouse() -> Callable[[], Any]:
        return _include(
            world,
            InclusionRequest(
                adult_dependent(), relationship_code=3, holder_card=holder.card_number
            ),
        )

    for _ in range(3):
        at_once(spouse(), spouse())
    spouses = world.all(
        select(Beneficiary).where(
            Beneficiary.holder_id == holder.id,
            Beneficiary.relationship_code == 3,
            Beneficiary.status == "active",
        )
    )
    assert len(spouses) == 1


def test_a_holder_excluded_while_a_dependent_is_included_never_leaves_it_active(world):
    holders = world.all(
        select(Beneficiary)
        .where(
            Beneficiary.company_id == world.company["10001"],
            Beneficiary.relationship_code == 1,
            Beneficiary.status == "active",
        )
        .order_by(Beneficiary.id)
        .limit(4)
    )
    for holder in holders:
        at_once(
            _include(
                world,
                InclusionRequest(
                    child_person(), relationship_code=4, holder_card=holder.card_number
                ),
            ),
            lambda holder=holder: movement_apply(
                uow=world.uow(),
                actor=world.master,
                request=ExclusionRequest(
                    card_number=holder.card_number,
                    reason="pedido",
                    effective_date=None,
                    dependents_confirmed=True,
                ),
                now=NOW,
            ),
        )
        assert world.get(holder.id).status == "inactive"
        assert world.dependents(holder.id) == []  # no active dependent left behind


def test_a_thousand_concurrent_inclusions_issue_a_thousand_distinct_card_numbers(world):
    codes = ["10001", "10002", "10003"]  # one card sequence for the whole operator
    requests = [
        (codes[i % 3], InclusionRequest(holder_person(cpf=new_cpf()), plan_id=2))
        for i in range(1000)
    ]
    before = world.snapshot()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(
                lambda job: movement_apply(
                    uow=world.uow(job[0]), actor=world.master, request=job[1], now=NOW
                ),
                requests,
            )
        )
    cards = [r.card_number for r in results]
    assert len(set(cards)) == 1000
    assert all(is_valid_card_number(c) for c in cards)
    assert len({r.protocol_number for r in results}) == 1000
    stored = world.all(select(Beneficiary.card_number))
    assert len(stored) == len(set(stored))
    with world.factory() as s:
        counter = s.scalar(select(Counter.value).where(Counter.name == "card_number"))
    assert counter == max(int(c[4:15]) for c in stored)
    assert counter == before["counters"]["card_number"] + 1000
    assert delta(before, world.snapshot())["beneficiary"] == 1000
