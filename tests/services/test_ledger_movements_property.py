"""The ledger property driven through the real movement services (hypothesis, SQLite and
PostgreSQL): random days of inclusions (today or back-dated: late), exclusions and plan
changes (today, back-dated or in the future: scheduled), transfers to the other company of
the group (today or scheduled), cancellations of scheduled movements and settling on the
day, interleaved with billing runs of random months in any order, re-runs included.

After each run the set-based run's lines equal the pure reference (`reference_lines`);
at the end, every month billed, the invariant holds (see test_ledger_property.py, whose
checks this reuses: there the histories are coverage edits, here they are movements)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from data.db import make_session_factory
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Beneficiary,
    Company,
    Counter,
    CoveragePeriod,
    EconomicGroup,
    Invoice,
    InvoiceLine,
    Movement,
    Operator,
    PersonalDataAccess,
    Plan,
    Protocol,
    ProtocolEvent,
    User,
)
from data.uow import UnitOfWork
from services.actors import ALL_PERMISSIONS, Actor, Role
from services.movements import coverage
from services.movements.service import (
    ExclusionRequest,
    InclusionRequest,
    PlanChangeRequest,
    TransferRequest,
    movement_apply,
)
from services.rules.errors import DomainError
from services.rules.ledger import month_index, month_of
from services.rules.movements import Channel
from services.rules.retroactive import retroactive_dates
from tests.services.billing_support import band_prices, contract
from tests.services.movements_support import holder_person
from tests.services.test_ledger_property import _check_invariant, _run_and_compare

START = date(2025, 1, 6)  # the first day of the simulated clock
BILLING_START = date(2025, 1, 1)
RANDOM = os.environ.get("PORTAL_FUZZ_RANDOM") == "1"
EXAMPLES = int(os.environ.get("PORTAL_LEDGER_EXAMPLES", "40"))
D = Decimal


@dataclass
class World:
    uow: UnitOfWork
    manager: Actor
    companies: list[int]
    plans: list[int]
    people: list[int] = field(default_factory=list)  # every beneficiary included so far


def _at(day: date) -> datetime:
    return datetime.combine(day, time(15, 0), tzinfo=UTC)  # noon in Brasília


def build_world(engine) -> World:  # noqa: ANN001
    factory = make_session_factory(engine)
    with factory() as s:
        op = Operator(
            name="Sorriso",
            ans_registration="421839",
            cnpj="11222333000181",
            pix_key="11222333000181",
            city="São Paulo",
        )
        group = EconomicGroup(name="Grupo")
        s.add_all([op, group])
        s.flush()
        plans = [
            Plan(operator_id=op.id, code=c, name=f"Plano {c}", ans_registration=c, segment="Odonto")
            for c in ("A", "B")
        ]
        companies = [
            Company(
                operator_id=op.id,
                group_id=group.id,
                code=code,
                document="11444777000161",
                document_type="CNPJ",
                name=f"Empresa {code}",
                contract_start=date(2020, 1, 1),
                billing_start=BILLING_START,
                band_change=band,
                due_day=10,
                cutoff_day=20,
                retroactive_months=3,
            )
            for code, band in (("30001", "next_month"), ("30002", "birthday_month"))
        ]
        s.add_all([*plans, *companies])
        s.flush()
        a, b = plans[0].id, plans[1].id
        c1, c2 = companies[0].id, companies[1].id
        contract(
            s,
            c1,
            a,
            [
                (date(2020, 1, 1), date(2025, 6, 30), band_prices(D("100.00"), D("5.00"))),
                (date(2025, 7, 1), None, band_prices(D("110.00"), D("5.50"))),
            ],
        )
        contract(s, c1, b, [(date(2020, 1, 1), None, [D("150.00")])])
        contract(s, c2, a, [(date(2020, 1, 1), None, band_prices(D("120.00"), D("6.00")))])
        contract(s, c2, b, [(date(2020, 1, 1), None, band_prices(D("160.00"), D("8.00")))])
        manager = User(
            user_code="900001",
            name="Gestora",
            email="g@x.com.br",
            role="account_manager",
            permissions=sorted(ALL_PERMISSIONS),
            status="active",
            created_at=_at(START),
        )
        s.add(manager)
        s.flush()
        for c in (c1, c2):
            s.add(AccountManagerCompany(user_id=manager.id, company_id=c))
        s.commit()
        actor = Actor(
            manager.id,
            "900001",
            "Gestora",
            Role.ACCOUNT_MANAGER,
            frozenset(ALL_PERMISSIONS),
            frozenset([c1, c2]),
        )
        return World(UnitOfWork(factory), actor, [c1, c2], [a, b])


def _reset(w: World) -> None:
    with w.uow as uow:
        s = uow.session
        for model in (
            InvoiceLine,
            Invoice,
            CoveragePeriod,
            PersonalDataAccess,
            AuditRecord,
        ):
            s.execute(delete(model))
        s.execute(delete(Movement))
        s.execute(delete(ProtocolEvent))
        s.execute(delete(Protocol))
        s.execute(delete(Beneficiary))
        s.execute(delete(Counter))
        uow.commit()
    w.people = []


# ---------------------------------------------------------------- histories

step = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.just("include"),
            "retro": st.integers(0, 2),
            "plan": st.integers(0, 1),
            "company": st.integers(0, 1),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("exclude"),
            "who": st.integers(0, 9),
            "ahead": st.sampled_from([0, 0, 9, 40]),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("plan"),
            "who": st.integers(0, 9),
            "when": st.sampled_from(["today", "retro", "ahead"]),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("transfer"), "who": st.integers(0, 9), "ahead": st.sampled_from([0, 12])}
    ),
    st.fixed_dictionaries({"op": st.just("cancel"), "which": st.integers(0, 9)}),
    st.fixed_dictionaries(
        {"op": st.just("bill"), "offset": st.integers(-2, 2), "both": st.booleans()}
    ),
    st.fixed_dictionaries({"op": st.just("wait"), "days": st.sampled_from([3, 17, 31, 45])}),
)
histories = st.lists(step, min_size=6, max_size=22)


def _holder(w: World, who: int, company: int | None = None) -> tuple[str, int] | None:
    """The card and company of the `who`-th active holder (by id), if any."""
    with w.uow as uow:
        rows = uow.session.execute(
            select(Beneficiary.card_number, Beneficiary.company_id)
            .where(Beneficiary.status == "active", Beneficiary.relationship_code == 1)
            .order_by(Beneficiary.id)
        ).all()
    if company is not None:
        rows = [r for r in rows if r[1] == company]
    return tuple(rows[who % len(rows)]) if rows else None  # type: ignore[return-value]


def _do(w: World, e: dict, today: date, seen: set[str]) -> None:  # noqa: C901 - one case per op
    now = _at(today)
    op = e["op"]
    if op == "include":
        company = w.companies[e["company"]]
        effective = retroactive_dates(today, 3)[e["retro"]] if e["retro"] else None
        channel = Channel.RETROACTIVE if e["retro"] else Channel.INDIVIDUAL
        done = movement_apply(
            uow=w.uow.for_company(company),
            actor=w.manager,
            request=InclusionRequest(
                holder_person(admission_date=date(2024, 1, 2)),
                plan_id=w.plans[e["plan"]],
                effective_date=effective,
                channel=channel,
            ),
            now=now,
        )
        w.people.append(done.affected[0].id)
        return
    if op == "bill":
        month = month_of(month_index(today) + e["offset"])
        if month < BILLING_START:
            return
        chosen = list(w.companies) if e["both"] else [w.companies[0]]
        _run_and_compare(w, month, chosen, seen)  # type: ignore[arg-type]
        return
    if op == "cancel":
        with w.uow as uow:
            numbers = [
                number
                for _id, number in uow.session.execute(
                    select(Protocol.id, Protocol.number)
                    .join(Movement, Movement.protocol_id == Protocol.id)
                    .where(Movement.state == "scheduled", Movement.coverage_before.is_not(None))
                    .order_by(Protocol.id)
                    .distinct()
                )
            ]
            companies = dict(
                uow.session.execute(select(Protocol.number, Protocol.company_id)).all()
            )
        if numbers:
            number = numbers[e["which"] % len(numbers)]
            coverage.scheduled_cancel(
                uow=w.uow.for_company(companies[number]),
                actor=w.manager,
                protocol_number=number,
                now=now,
            )
        return
    found = _holder(w, e["who"])
    if found is None:
        return
    card, company = found
    uow = w.uow.for_company(company)
    if op == "exclude":
        movement_apply(
            uow=uow,
            actor=w.manager,
            request=ExclusionRequest(
                card_number=card,
                reason="outros",
                effective_date=today + timedelta(days=e["ahead"]),
                dependents_confirmed=True,
            ),
            now=now,
        )
    elif op == "plan":
        with w.uow as u:
            current = u.session.scalar(
                select(Beneficiary.plan_id).where(Beneficiary.card_number == card)
            )
        other = next(p for p in w.plans if p != current)
        if e["when"] == "retro":
            back = retroactive_dates(today, 3)[2]
            kwargs = {"effective_date": back, "channel": Channel.RETROACTIVE}
        elif e["when"] == "ahead":
            kwargs = {"effective_date": today + timedelta(days=20)}
        else:
            kwargs = {}
        movement_apply(
            uow=uow,
            actor=w.manager,
            request=PlanChangeRequest(card_number=card, plan_id=other, **kwargs),
            now=now,
        )
    elif op == "transfer":
        target = next(c for c in w.companies if c != company)
        movement_apply(
            uow=uow,
            actor=w.manager,
            request=TransferRequest(
                card_number=card,
                target_company_id=target,
                effective_date=today + timedelta(days=e["ahead"]),
            ),
            now=now,
        )


def _play(w: World, history: list[dict], seen: set[str]) -> None:
    _reset(w)
    today = START
    for e in history:
        if e["op"] == "wait":
            today += timedelta(days=e["days"])
            coverage.settle(w.uow, _at(today))
            continue
        with contextlib.suppress(DomainError):  # a refusal writes nothing: go on
            _do(w, e, today, seen)
    # Everything billed in order, for both companies, up to a month no run has billed yet
    # (bills reach two months ahead): the catch-up of the last changes lands there.
    last = month_of(month_index(today) + 3)
    for i in range(month_index(BILLING_START), month_index(last) + 1):
        _run_and_compare(w, month_of(i), list(w.companies), seen)  # type: ignore[arg-type]
    _check_invariant(w, last)  # type: ignore[arg-type]


def test_the_set_based_run_equals_the_reference_on_movement_histories(engine):  # noqa: ANN001
    w = build_world(engine)
    seen: set[str] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # Each example replays a whole history on a database: shrinking would take minutes.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(histories)
    def check(history: list[dict]) -> None:
        _play(w, history, seen)

    check()
    # The histories reach every kind of line the movements can produce.
    assert {"monthly", "retroactive", "credit", "plan_change_difference"} <= seen, seen
