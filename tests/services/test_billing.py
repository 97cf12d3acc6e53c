"""Billing on both databases: the monthly ledger run over a small hand-made world with
exact amounts, invoices and their lines, downloads and billing reports.

Coverage comes from coverage_period rows and prices from the contracts' price tables
(tests/services/billing_support.py). A "late" movement is a coverage row written after
the months it reaches were invoiced: the ledger catches it up on the next run."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from data.db import make_session_factory
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    Movement,
    Operator,
    Payment,
    Plan,
    PriceBand,
    PriceTable,
    User,
)
from data.uow import UnitOfWork
from services import billing
from services.actors import ALL_PERMISSIONS, Actor, Permission, Role
from services.rules.errors import DomainError
from tests.services.billing_support import contract, cover, invoice_lines, reference

NOW = datetime(2025, 9, 2, 13, 0, tzinfo=UTC)
JUN, JUL, AUG, SEP = date(2025, 6, 1), date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 1)
OCT = date(2025, 10, 1)
D = Decimal

# Band k (1..10) prices: base + step * (k - 1); the new tables start on 2025-06-01.
PRICES = {
    ("A", "old"): (D("90.10"), D("5.00")),
    ("A", "new"): (D("100.10"), D("5.00")),
    ("B", "old"): (D("140.35"), D("8.00")),
    ("B", "new"): (D("150.35"), D("8.00")),
}


def price(plan: str, table: str, band: int) -> Decimal:
    base, step = PRICES[(plan, table)]
    return base + step * (band - 1)


@dataclass
class World:
    uow: UnitOfWork
    manager: Actor
    master: Actor
    company_id: int
    other_company_id: int
    plan_a: int
    plan_b: int
    ids: dict[str, int]

    def company_uow(self, company_id: int | None = None) -> UnitOfWork:
        return self.uow.for_company(company_id or self.company_id)

    def cover(self, who: str, plan: int, start: date, end: date | None = None, **kw) -> None:
        """A coverage period written now (after whatever was already invoiced)."""
        with self.uow as uow:
            company = kw.pop("company_id", self.company_id)
            cover(uow.session, self.ids[who], company, plan, start, end, **kw)
            uow.commit()

    def end(self, who: str, at: date) -> None:
        """Truncate the person's open period at ``at`` (an exclusion)."""
        with self.uow as uow:
            uow.session.execute(
                update(CoveragePeriod)
                .where(CoveragePeriod.beneficiary_id == self.ids[who])
                .where(CoveragePeriod.end_date.is_(None))
                .values(end_date=at)
            )
            uow.commit()

    def change_plan(self, who: str, plan: int, at: date) -> None:
        self.end(who, at)
        self.cover(who, plan, at)


def _at(d: date, hour: int = 15) -> datetime:
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC)


def _person(
    session: Session, company_id: int, plan_id: int, name: str, birth: date, effective: date
) -> Beneficiary:
    b = Beneficiary(
        company_id=company_id,
        plan_id=plan_id,
        card_number=f"0001{abs(hash(name)) % 10**12:012d}",
        relationship_code=1,
        name=name,
        birth_date=birth,
        sex="F",
        mother_name="Maria da Silva",
        effective_date=effective,
        status="active",
        created_at=_at(effective),
        updated_at=_at(effective),
    )
    session.add(b)
    session.flush()
    return b


def _movement(session: Session, b: Beneficiary, kind: str, effective: date) -> Movement:
    m = Movement(
        company_id=b.company_id,
        beneficiary_id=b.id,
        kind=kind,
        channel="retroactive",
        effective_date=effective,
        received_at=NOW,
        billing_month=OCT,
        is_retroactive=True,
    )
    session.add(m)
    session.flush()
    return m


def _tables(letter: str) -> list[tuple[date, date | None, list[Decimal]]]:
    return [
        (date(2024, 6, 1), date(2025, 5, 31), [price(letter, "old", k) for k in range(1, 11)]),
        (date(2025, 6, 1), None, [price(letter, "new", k) for k in range(1, 11)]),
    ]


def build_world(engine) -> World:  # noqa: ANN001
    """Company 20001 (ledger from June 2025) and 20002 (from July 2025).

    Covered from the start (coverage periods):
    - Alice (plan A, born 1996-07-20): band 3 in July, band 4 from August (29 in July;
      the band changes the month after the birthday).
    - Dan (A, born 1970-02-02, band 9) since 2024.
    - Eva (A, born 2000-12-12, band 3) until 2025-07-15 (excluded then: July is charged).
    - Hugo (company 20002, plan B, born 1990-03-03, band 5).
    Bob (born 1980-01-10, band 7) and Carla (born 1985-05-05, band 6) exist without
    coverage: tests write their periods late.
    """
    factory = make_session_factory(engine)
    with factory() as session:
        op = Operator(
            name="Sorriso Odontologia S.A.",
            ans_registration="421839",
            cnpj="11222333000181",
            bank_code="001",
            pix_key="11222333000181",
            city="São Paulo",
        )
        session.add(op)
        session.flush()
        plan_a = Plan(
            operator_id=op.id,
            code="A",
            name="Sorriso Essencial",
            ans_registration="111",
            segment="Odontológico",
        )
        plan_b = Plan(
            operator_id=op.id,
            code="B",
            name="Sorriso Premium",
            ans_registration="222",
            segment="Odontológico",
        )
        session.add_all([plan_a, plan_b])
        session.flush()
        companies = []
        for code, due_day, start in (("20001", 10, JUN), ("20002", 31, JUL)):
            c = Company(
                operator_id=op.id,
                code=code,
                document="11444777000161",
                document_type="CNPJ",
                name=f"Empresa {code} Ltda.",
                contract_start=date(2024, 1, 1),
                billing_start=start,
                cutoff_day=20,
                due_day=due_day,
                contact_email=f"rh@{code}.com.br",
            )
            session.add(c)
            companies.append(c)
        session.flush()
        cid, other = companies[0].id, companies[1].id
        contract(session, cid, plan_a.id, _tables("A"), start=date(2024, 1, 1))
        contract(session, cid, plan_b.id, _tables("B"), start=date(2024, 1, 1))
        contract(session, other, plan_b.id, _tables("B"), start=date(2024, 1, 1))
        manager = User(
            user_code="900001",
            name="Gestora",
            email="g@sorriso.com.br",
            role="account_manager",
            permissions=sorted(ALL_PERMISSIONS),
            status="active",
            created_at=NOW,
        )
        master = User(
            user_code="100001",
            name="Master",
            email="m@20001.com.br",
            role="master",
            permissions=sorted(ALL_PERMISSIONS),
            company_id=cid,
            status="active",
            created_at=NOW,
        )
        session.add_all([manager, master])
        session.flush()
        for c in companies:
            session.add(AccountManagerCompany(user_id=manager.id, company_id=c.id))
        a = plan_a.id
        alice = _person(session, cid, a, "Alice Souza", date(1996, 7, 20), date(2025, 1, 1))
        cover(session, alice.id, cid, a, date(2025, 1, 1))
        bob = _person(session, cid, a, "Bob Lima", date(1980, 1, 10), date(2025, 8, 10))
        carla = _person(session, cid, a, "Carla Dias", date(1985, 5, 5), date(2025, 5, 1))
        dan = _person(session, cid, a, "Dan Rocha", date(1970, 2, 2), date(2024, 1, 1))
        cover(session, dan.id, cid, a, date(2024, 1, 1))
        eva = _person(session, cid, a, "Eva Nunes", date(2000, 12, 12), date(2024, 3, 1))
        cover(session, eva.id, cid, a, date(2024, 3, 1), date(2025, 7, 15))
        hugo = _person(session, other, plan_b.id, "Hugo Reis", date(1990, 3, 3), date(2024, 2, 1))
        cover(session, hugo.id, other, plan_b.id, date(2024, 2, 1))
        session.commit()
        ids = {
            "alice": alice.id,
            "bob": bob.id,
            "carla": carla.id,
            "dan": dan.id,
            "eva": eva.id,
            "hugo": hugo.id,
        }
        company_ids = frozenset(c.id for c in companies)
        manager_actor = Actor(
            manager.id,
            "900001",
            "Gestora",
            Role.ACCOUNT_MANAGER,
            frozenset(ALL_PERMISSIONS),
            company_ids,
        )
        master_actor = Actor(
            master.id,
            "100001",
            "Master",
            Role.MASTER,
            frozenset(ALL_PERMISSIONS),
            frozenset({cid}),
            cid,
        )
        return World(
            UnitOfWork(factory),
            manager_actor,
            master_actor,
            cid,
            other,
            plan_a.id,
            plan_b.id,
            ids,
        )


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    return build_world(engine)


def run(w: World, month: date, company_ids: list[int] | None = None) -> billing.BillingRunResult:
    return billing.billing_run(
        uow=w.company_uow(),
        actor=w.manager,
        billing_month=month,
        company_ids=[w.company_id] if company_ids is None else company_ids,
        now=NOW,
    )


def lines_of(w: World, month: date, company_id: int | None = None) -> set[tuple]:
    with w.uow as uow:
        rows = uow.session.execute(
            select(
                InvoiceLine.beneficiary_id,
                InvoiceLine.kind,
                InvoiceLine.reference_month,
                InvoiceLine.plan_id,
                InvoiceLine.age_band,
                InvoiceLine.amount,
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                Invoice.company_id == (company_id or w.company_id), Invoice.billing_month == month
            )
        ).all()
    return {tuple(r) for r in rows}


def of(w: World, who: str, month: date) -> list[tuple]:
    """(kind, reference month, amount) of one person's lines on the invoice of ``month``."""
    return sorted(
        (line[1], line[2], line[5]) for line in lines_of(w, month) if line[0] == w.ids[who]
    )


def invoice_of(w: World, month: date, company_id: int | None = None) -> Invoice:
    with w.uow as uow:
        inv = uow.session.scalars(
            select(Invoice).where(
                Invoice.company_id == (company_id or w.company_id), Invoice.billing_month == month
            )
        ).one()
        uow.session.expunge(inv)
        return inv


def history(w: World) -> None:
    """June billed; Carla's inclusion effective 2025-05-01 arrives; July billed; Dan's
    plan change A -> B effective 2025-07-01 arrives; August billed; Bob's inclusion
    effective 2025-07-25 arrives; September billed."""
    run(w, JUN)
    w.cover("carla", w.plan_a, date(2025, 5, 1))
    run(w, JUL)
    w.change_plan("dan", w.plan_b, JUL)
    run(w, AUG)
    w.cover("bob", w.plan_a, date(2025, 7, 25))
    run(w, SEP)


# ---------------------------------------------------------------- the billing run


def test_june_charges_everyone_covered_on_the_ledger_start(world: World):
    result = run(world, JUN)
    i, a = world.ids, world.plan_a
    assert lines_of(world, JUN) == {
        (i["alice"], "monthly", JUN, a, 3, price("A", "new", 3)),
        (i["dan"], "monthly", JUN, a, 9, price("A", "new", 9)),
        (i["eva"], "monthly", JUN, a, 3, price("A", "new", 3)),
    }
    assert result.total == invoice_of(world, JUN).amount == D("360.30")
    assert result.kinds == {"monthly": 3}


def test_a_late_inclusion_is_charged_from_the_ledger_start_on_the_next_invoice(world: World):
    """Carla's inclusion effective 2025-05-01 arrives after June was invoiced: July's
    invoice carries June as a retroactive line (May is before the ledger's start)."""
    run(world, JUN)
    world.cover("carla", world.plan_a, date(2025, 5, 1))
    result = run(world, JUL)
    i, a = world.ids, world.plan_a
    assert lines_of(world, JUL) == {
        (i["alice"], "monthly", JUL, a, 3, price("A", "new", 3)),
        (i["carla"], "monthly", JUL, a, 6, price("A", "new", 6)),
        (i["carla"], "retroactive", JUN, a, 6, price("A", "new", 6)),
        (i["dan"], "monthly", JUL, a, 9, price("A", "new", 9)),
        (i["eva"], "monthly", JUL, a, 3, price("A", "new", 3)),
    }
    inv = invoice_of(world, JUL)
    assert inv.amount == D("610.50")
    assert (inv.due_date, inv.status) == (date(2025, 7, 10), "open")
    [billed] = result.billed
    assert (billed.amount, billed.lines, result.total, result.lines) == (
        D("610.50"),
        5,
        D("610.50"),
        5,
    )
    assert billed.kinds == {"monthly": 4, "retroactive": 1}
    assert billed.kind_totals == {"monthly": D("485.40"), "retroactive": D("125.10")}


def test_months_invoiced_before_an_inclusion_arrives_are_caught_up_as_retroactive(
    world: World,
):
    """The issue's case: months up to September invoiced, then an inclusion effective
    10/08 arrives: October carries August and September as retroactive lines."""
    for month in (JUN, JUL, AUG, SEP):
        run(world, month)
    with world.uow as uow:
        bob = uow.session.get(Beneficiary, world.ids["bob"])
        movement = _movement(uow.session, bob, "inclusion", date(2025, 8, 10))
        cover(
            uow.session,
            bob.id,
            world.company_id,
            world.plan_a,
            date(2025, 8, 10),
            movement_id=movement.id,
        )
        uow.commit()
    run(world, OCT)
    assert of(world, "bob", OCT) == [
        ("monthly", OCT, D("130.10")),
        ("retroactive", AUG, D("130.10")),
        ("retroactive", SEP, D("130.10")),
    ]
    with world.uow as uow:
        linked = set(
            uow.session.scalars(
                select(InvoiceLine.movement_id).where(
                    InvoiceLine.beneficiary_id == world.ids["bob"]
                )
            )
        )
    assert linked == {movement.id}


def test_a_back_dated_plan_change_bills_the_new_price_and_the_difference(world: World):
    run(world, JUL)
    world.change_plan("dan", world.plan_b, JUL)
    run(world, AUG)
    dan = world.ids["dan"]
    assert {line for line in lines_of(world, AUG) if line[0] == dan} == {
        (dan, "monthly", AUG, world.plan_b, 9, price("B", "new", 9)),
        (
            dan,
            "plan_change_difference",
            JUL,
            world.plan_b,
            9,
            price("B", "new", 9) - price("A", "new", 9),
        ),
    }
    assert price("B", "new", 9) - price("A", "new", 9) == D("74.25")


def test_an_exclusion_reaching_invoiced_months_is_credited(world: World):
    for month in (JUL, AUG, SEP):
        run(world, month)
    world.end("alice", AUG)  # not covered from 1 August: August and September credited
    result = run(world, OCT)
    assert of(world, "alice", OCT) == [
        ("credit", AUG, -price("A", "new", 4)),
        ("credit", SEP, -price("A", "new", 4)),
    ]
    assert result.kinds["credit"] == 2


def test_an_excluded_beneficiary_is_charged_the_month_of_the_exclusion_only(world: World):
    for month in (JUN, JUL, AUG):
        run(world, month)
    assert [line[1] for line in lines_of(world, JUL) if line[0] == world.ids["eva"]] == ["monthly"]
    assert not of(world, "eva", AUG)


def test_stay_months_are_billed_on_their_own_lines(world: World):
    world.cover("eva", world.plan_a, date(2025, 7, 15), date(2025, 10, 15), kind="stay")
    for month in (JUN, JUL, AUG):
        run(world, month)
    assert of(world, "eva", JUL) == [("monthly", JUL, price("A", "new", 3))]
    assert of(world, "eva", AUG) == [("stay", AUG, price("A", "new", 3))]


def test_each_month_is_priced_with_the_band_the_contract_says(world: World):
    for month in (JUN, JUL, AUG):
        run(world, month)
    alice = world.ids["alice"]
    # next_month (default): 29 on 20 July, band 4 from August
    assert [line[4] for line in lines_of(world, JUL) if line[0] == alice] == [3]
    assert [line[4] for line in lines_of(world, AUG) if line[0] == alice] == [4]
    with world.uow as uow:
        uow.session.execute(
            update(Company)
            .where(Company.id == world.other_company_id)
            .values(band_change="birthday_month")
        )
        uow.commit()
    world.end("alice", JUL)  # transferred to 20002 on 1 July
    world.cover("alice", world.plan_b, JUL, company_id=world.other_company_id)
    run(world, JUL, [world.other_company_id])
    assert (world.ids["alice"], "monthly", JUL, world.plan_b, 4, price("B", "new", 4)) in (
        lines_of(world, JUL, world.other_company_id)
    )


def test_a_single_price_table_charges_one_price_at_every_age(world: World):
    with world.uow as uow:
        cp = uow.session.scalars(
            select(ContractedPlan).where(ContractedPlan.company_id == world.other_company_id)
        ).one()
        contract(uow.session, world.other_company_id, world.plan_b, [(JUL, None, [D("99.90")])])
        assert cp.id
        uow.commit()
    run(world, JUL, [world.other_company_id])
    assert lines_of(world, JUL, world.other_company_id) == {
        (world.ids["hugo"], "monthly", JUL, world.plan_b, 1, D("99.90"))
    }
    # A single price has no age band: the invoice says "Preço único", not band 1's ages.
    july = invoice_of(world, JUL, world.other_company_id)
    detail = billing.invoice_detail(
        uow=world.company_uow(world.other_company_id),
        actor=world.manager,
        invoice_id=july.id,
        today=JUL,
    )
    assert list(detail.lines["Faixa etária"]) == ["Preço único"]


def test_four_months_of_invoices_reconcile_to_the_cent_and_keep_the_invariant(world: World):
    history(world)
    expected = {JUN: D("360.30"), JUL: D("610.50"), AUG: D("528.80"), SEP: D("844.85")}
    for month, amount in expected.items():
        inv = invoice_of(world, month)
        assert inv.amount == amount == sum((line[5] for line in lines_of(world, month)), D(0))
    with world.uow as uow:
        stored = uow.session.scalar(
            select(func.sum(Invoice.amount)).where(Invoice.company_id == world.company_id)
        )
        line_sum = uow.session.scalar(select(func.sum(InvoiceLine.amount)))
        # every covered month from June is charged once at its price, and nothing else
        net: dict[tuple[int, date], Decimal] = {}
        for bid, month, amount in uow.session.execute(
            select(InvoiceLine.beneficiary_id, InvoiceLine.reference_month, InvoiceLine.amount)
        ).all():
            net[(bid, month)] = net.get((bid, month), D(0)) + amount
    assert stored == line_sum == D("2344.45")
    i = world.ids
    assert net == {
        (i["alice"], JUN): price("A", "new", 3),
        (i["alice"], JUL): price("A", "new", 3),
        (i["alice"], AUG): price("A", "new", 4),
        (i["alice"], SEP): price("A", "new", 4),
        (i["dan"], JUN): price("A", "new", 9),
        (i["dan"], JUL): price("B", "new", 9),
        (i["dan"], AUG): price("B", "new", 9),
        (i["dan"], SEP): price("B", "new", 9),
        (i["eva"], JUN): price("A", "new", 3),
        (i["eva"], JUL): price("A", "new", 3),
        (i["carla"], JUN): price("A", "new", 6),
        (i["carla"], JUL): price("A", "new", 6),
        (i["carla"], AUG): price("A", "new", 6),
        (i["carla"], SEP): price("A", "new", 6),
        (i["bob"], JUL): price("A", "new", 7),
        (i["bob"], AUG): price("A", "new", 7),
        (i["bob"], SEP): price("A", "new", 7),
    }


def test_a_portfolio_too_big_for_an_in_list_is_filtered_in_pandas_with_the_same_result(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """Also with beneficiary ids too sparse for a dense key table (sorted search)."""
    import services.billing.frames
    import services.billing.ledger_lines
    import services.billing.run

    monkeypatch.setattr(services.billing.frames, "MAX_IN_IDS", 0)
    monkeypatch.setattr(services.billing.run, "MAX_IN_IDS", 0)
    monkeypatch.setattr(services.billing.ledger_lines.KeyIndex, "DENSE_LIMIT", 0)
    history(world)
    world.end("alice", AUG)
    run(world, OCT)
    amounts = [invoice_of(world, m).amount for m in (JUN, JUL, AUG, SEP)]
    assert amounts == [D("360.30"), D("610.50"), D("528.80"), D("844.85")]
    assert ("credit", AUG, -price("A", "new", 4)) in of(world, "alice", OCT)
    with world.uow as uow:
        assert reference(uow.session, world.company_id, date(2025, 11, 1)) == [
            ln
            for ln in reference(uow.session, world.company_id, date(2025, 11, 1))
            if ln.reference_month == date(2025, 11, 1)
        ]


def test_months_billed_out_of_order_charge_each_month_once(world: World):
    run(world, SEP)
    assert of(world, "alice", SEP) == [
        ("monthly", SEP, price("A", "new", 4)),
        ("retroactive", JUN, price("A", "new", 3)),
        ("retroactive", JUL, price("A", "new", 3)),
        ("retroactive", AUG, price("A", "new", 4)),
    ]
    result = run(world, AUG)  # every month up to August is already charged
    assert result.billed == []
    assert result.skipped[0].reason == "Nenhum beneficiário a faturar nesta competência."
    with world.uow as uow:
        assert reference(uow.session, world.company_id, SEP) == []


def test_lines_of_a_cancelled_invoice_are_charged_again(world: World):
    run(world, JUL)
    with world.uow as uow:
        uow.session.execute(
            update(Invoice).where(Invoice.billing_month == JUL).values(status="cancelled")
        )
        uow.commit()
    run(world, AUG)
    assert of(world, "eva", AUG) == [
        ("retroactive", JUN, price("A", "new", 3)),
        ("retroactive", JUL, price("A", "new", 3)),
    ]
    assert ("retroactive", JUN, price("A", "new", 3)) in of(world, "alice", AUG)


def test_the_run_equals_the_pure_reference(world: World):
    run(world, JUN)
    world.cover("carla", world.plan_a, date(2025, 5, 1))
    world.change_plan("dan", world.plan_b, JUN)  # back-dated to the invoiced June
    with world.uow as uow:
        expected = reference(uow.session, world.company_id, AUG)
    run(world, AUG)
    with world.uow as uow:
        assert invoice_lines(uow.session, world.company_id, AUG) == expected
    assert {ln.kind for ln in expected} == {"monthly", "retroactive", "plan_change_difference"}


def test_running_again_for_the_same_month_skips_the_company_and_duplicates_nothing(
    world: World,
):
    first = run(world, JUL)
    with world.uow as uow:
        before = uow.session.scalar(select(func.count()).select_from(InvoiceLine))
    world.cover("bob", world.plan_a, JUN)  # even with news, an issued invoice stays as it is
    again = run(world, JUL)
    assert again.billed == [] and again.total == D("0.00")
    [skipped] = again.skipped
    assert (skipped.company_id, skipped.reason) == (
        world.company_id,
        "Já faturada para a competência 07/2025.",
    )
    with world.uow as uow:
        assert uow.session.scalar(select(func.count()).select_from(InvoiceLine)) == before
        assert uow.session.scalar(select(func.count()).select_from(Invoice)) == 1
    assert first.billed[0].invoice_id == invoice_of(world, JUL).id


def test_the_portfolio_run_bills_every_company_and_reports_the_ones_already_invoiced(
    world: World,
):
    run(world, JUL)
    progress: list[tuple[float, str]] = []
    result = billing.billing_run(
        uow=world.company_uow(),
        actor=world.manager,
        billing_month=date(2025, 7, 18),
        company_ids=None,
        now=NOW,
        progress=lambda f, m: progress.append((f, m)),
    )
    assert [b.company_id for b in result.billed] == [world.other_company_id]
    assert [s.company_id for s in result.skipped] == [world.company_id]
    hugo = invoice_of(world, JUL, world.other_company_id)
    # Hugo, born 1990-03-03, is 35 (band 5) on plan B; due day 31 clamps to July 31.
    assert (hugo.amount, hugo.due_date) == (price("B", "new", 5), date(2025, 7, 31))
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    with world.uow as uow:
        audited = set(
            uow.session.scalars(
                select(AuditRecord.company_id).where(AuditRecord.action == "invoice_issue")
            )
        )
    assert audited == {world.company_id, world.other_company_id}


def test_the_summary_of_a_portfolio_run_shown_on_a_companys_screen_has_every_company(
    world: World,
):
    # The billing screen's unit of work has the current company in context; the run and
    # its summary cover the portfolio on purpose.
    result = billing.billing_run(
        uow=world.company_uow(), actor=world.manager, billing_month=JUL, company_ids=None, now=NOW
    )
    ids = [b.invoice_id for b in result.billed]
    assert {b.company_id for b in result.billed} == {world.company_id, world.other_company_id}
    summary = billing.run_summary(
        uow=world.company_uow(), actor=world.manager, billing_month=JUL, invoice_ids=ids
    )
    assert set(summary.kinds) == set(ids)


def test_a_system_run_is_audited_without_a_user(world: World):
    system = Actor(
        0,
        "sistema",
        "Sistema",
        Role.ACCOUNT_MANAGER,
        frozenset(ALL_PERMISSIONS),
        frozenset({world.company_id}),
    )
    billing.billing_run(
        uow=world.company_uow(),
        actor=system,
        billing_month=JUL,
        company_ids=[world.company_id],
        now=NOW,
    )
    with world.uow as uow:
        user_id, after = uow.session.execute(
            select(AuditRecord.user_id, AuditRecord.after).where(
                AuditRecord.action == "invoice_issue"
            )
        ).one()
    assert user_id is None
    # June (the ledger's start) was never invoiced: it comes as retroactive lines
    assert after["kinds"] == {"monthly": 3, "retroactive": 3}


def test_only_account_managers_run_billing_and_only_on_their_companies(world: World):
    with pytest.raises(DomainError, match="gestor de contas"):
        billing.billing_run(
            uow=world.company_uow(),
            actor=world.master,
            billing_month=JUL,
            company_ids=[world.company_id],
            now=NOW,
        )
    with pytest.raises(DomainError, match="não tem acesso"):
        billing.billing_run(
            uow=world.company_uow(),
            actor=world.manager,
            billing_month=JUL,
            company_ids=[world.company_id, 999_999],
            now=NOW,
        )
    with world.uow as uow:
        assert uow.session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_plan_without_a_price_table_refuses_that_company_and_bills_the_others(world: World):
    with world.uow as uow:
        tables = select(PriceTable.id).where(PriceTable.plan_id == world.plan_b)
        uow.session.execute(delete(PriceBand).where(PriceBand.price_table_id.in_(tables)))
        uow.session.execute(delete(PriceTable).where(PriceTable.plan_id == world.plan_b))
        uow.commit()
    result = run(world, JUL, [world.company_id, world.other_company_id])
    assert [b.company_id for b in result.billed] == [world.company_id]
    [skipped] = result.skipped
    assert skipped.company_id == world.other_company_id
    assert "Sem tabela de preço vigente para o plano Sorriso Premium em 07/2025" in skipped.reason


def test_a_company_without_anyone_to_bill_gets_no_invoice(world: World):
    world.end("hugo", JUN)
    result = run(world, JUL, [world.other_company_id])
    assert result.billed == []
    assert result.skipped[0].reason == "Nenhum beneficiário a faturar nesta competência."


def test_billing_month_options_offer_next_month_first():
    assert billing.billing_month_options(date(2025, 12, 15)) == [
        date(2026, 1, 1),
        date(2025, 12, 1),
        date(2026, 2, 1),
        date(2025, 11, 1),
        date(2025, 10, 1),
    ]


# ---------------------------------------------------------------- invoices


def _billed_world(w: World) -> None:
    history(w)
    with w.uow as uow:
        jul = uow.session.scalars(
            select(Invoice).where(Invoice.billing_month == JUL, Invoice.company_id == w.company_id)
        ).one()
        jul.status, jul.paid_on = "paid", date(2025, 7, 9)
        uow.session.add(
            Payment(invoice_id=jul.id, paid_on=jul.paid_on, amount=jul.amount, method="pix")
        )
        uow.commit()


def test_invoices_of_a_year_show_paid_overdue_and_open(world: World):
    _billed_world(world)
    rows = billing.invoice_list(
        uow=world.company_uow(), actor=world.master, today=date(2025, 9, 5), year=2025
    )
    assert [(r.billing_month, r.status, r.amount) for r in rows] == [
        (JUN, "overdue", D("360.30")),
        (JUL, "paid", D("610.50")),
        (AUG, "overdue", D("528.80")),
        (SEP, "open", D("844.85")),
    ]
    assert [r.status_label for r in rows] == ["Vencida", "Paga", "Vencida", "Em aberto"]
    assert billing.invoice_years(uow=world.company_uow(), actor=world.master) == [2025]
    assert (
        billing.invoice_list(
            uow=world.company_uow(), actor=world.master, today=date(2025, 9, 5), year=2024
        )
        == []
    )


def test_invoice_detail_lists_every_charge_and_adjustment(world: World):
    _billed_world(world)
    sep = invoice_of(world, SEP)
    detail = billing.invoice_detail(
        uow=world.company_uow(), actor=world.master, invoice_id=sep.id, today=date(2025, 9, 5)
    )
    assert list(detail.lines.columns) == billing.LINE_COLUMNS
    assert (detail.monthly_total, detail.adjustments_total) == (D("584.65"), D("260.20"))
    assert detail.monthly_total + detail.adjustments_total == detail.invoice.amount
    assert detail.beneficiaries == 4
    bob = detail.lines[detail.lines["Beneficiário"] == "Bob Lima"]
    assert list(bob["Tipo"]) == ["Mensalidade", "Retroativo", "Retroativo"]
    assert list(bob["Faixa etária"]) == ["44 a 48"] * 3
    assert list(bob["Competência de referência"]) == [SEP, JUL, AUG]
    assert list(bob["Valor"]) == [D("130.10")] * 3


def test_an_invoice_of_another_company_is_not_found(world: World):
    run(world, JUL, [world.other_company_id])
    other = invoice_of(world, JUL, world.other_company_id)
    with pytest.raises(DomainError, match="não encontrada"):
        billing.invoice_detail(
            uow=world.company_uow(), actor=world.master, invoice_id=other.id, today=date(2025, 9, 5)
        )
    with pytest.raises(DomainError, match="não tem acesso"):
        billing.invoice_list(
            uow=world.company_uow(world.other_company_id),
            actor=world.master,
            today=date(2025, 9, 5),
        )


def test_a_user_without_finance_permission_is_refused(world: World):
    no_finance = Actor(
        world.master.user_id,
        "100001",
        "Master",
        Role.USER,
        frozenset({Permission.MOVEMENTS}),
        frozenset({world.company_id}),
    )
    with pytest.raises(DomainError, match="Financeiro"):
        billing.invoice_years(uow=world.company_uow(), actor=no_finance)


def _rename(w: World, who: str, name: str) -> None:
    with w.uow as uow:
        uow.session.execute(
            Beneficiary.__table__.update().where(Beneficiary.id == w.ids[who]).values(name=name)
        )
        uow.commit()


def test_invoice_downloads_neutralise_formulas_and_keep_money_as_numbers(world: World):
    _billed_world(world)
    _rename(world, "bob", '=HYPERLINK("http://x","Bob")')
    _rename(world, "alice", "+Alice")
    sep = invoice_of(world, SEP)
    detail = billing.invoice_detail(
        uow=world.company_uow(), actor=world.master, invoice_id=sep.id, today=date(2025, 9, 5)
    )
    book = load_workbook(io.BytesIO(billing.invoice_download(detail, "xlsx", generated_at=NOW)))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    names = {c.value for c in cells if isinstance(c.value, str) and "Bob" in c.value}
    assert names == {'\'=HYPERLINK("http://x","Bob")'}
    assert "'+Alice" in {c.value for c in cells}
    money_cells = [c for c in cells if c.number_format == "#,##0.00"]
    assert sum((D(str(c.value)) for c in money_cells), D(0)) == D("844.85")
    assert sheet["A4"].value == "Competência" and sheet["B4"].value == "09/2025"

    text = billing.invoice_download(detail, "csv", generated_at=NOW).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Fatura", f"nº {sep.id}"]
    header = rows.index(billing.LINE_COLUMNS)
    body = rows[header + 1 :]
    assert len(body) == len(detail.lines)
    assert all(not row[0].startswith(("=", "+", "-", "@")) for row in body)
    assert {row[0] for row in body} >= {"'+Alice", '\'=HYPERLINK("http://x","Bob")'}
    total = sum(D(row[-1].replace(",", ".")) for row in body)
    assert total == D("844.85")
    assert [row[5] for row in body if "Bob" in row[0]] == ["09/2025", "07/2025", "08/2025"]


# ---------------------------------------------------------------- reports


def test_billing_report_by_month_plan_and_beneficiary_add_up(world: World):
    _billed_world(world)
    uow, actor = world.company_uow(), world.master
    options = billing.billing_report_options(uow=uow, actor=actor)
    assert options.months == [JUN, JUL, AUG, SEP]
    assert options.default_start == JUN
    assert {p.name for p in options.plans} == {"Sorriso Essencial", "Sorriso Premium"}
    report = billing.billing_report(uow=uow, actor=actor, start=JUL, end=SEP)
    assert report.total == D("1984.15")
    assert list(report.by_month["Total"]) == [D("610.50"), D("528.80"), D("844.85")]
    assert list(report.by_month["Retroativos e diferenças"]) == [
        D("125.10"),
        D("74.25"),
        D("260.20"),
    ]
    assert list(report.by_month["Beneficiários"]) == [4, 3, 4]
    assert sum(report.by_plan["Total"], D(0)) == report.total
    assert sum(report.by_beneficiary["Total"], D(0)) == report.total
    premium = report.by_plan[report.by_plan["Plano"] == "Sorriso Premium"]
    assert list(premium["Total"]) == [D("74.25") + 2 * price("B", "new", 9)]

    only_a = billing.billing_report(
        uow=uow, actor=actor, start=AUG, end=AUG, plan_ids=[world.plan_a]
    )
    assert only_a.plan_filter == "Sorriso Essencial"
    assert only_a.total == D("240.20")  # Alice 115.10 + Carla 125.10

    with pytest.raises(DomainError, match="mês final"):
        billing.billing_report(uow=uow, actor=actor, start=SEP, end=JUL)


def test_report_downloads_state_the_period_and_filters_first(world: World):
    _billed_world(world)
    report = billing.billing_report(
        uow=world.company_uow(), actor=world.master, start=JUL, end=SEP, plan_ids=[world.plan_b]
    )
    text = billing.billing_report_download(
        report, "csv", company_label="20001 · Empresa", generated_at=NOW, view="plan"
    ).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Relatório de faturamento", "20001 · Empresa"]
    assert rows[1] == ["Período (competência)", "07/2025 a 09/2025"]
    assert rows[2] == ["Planos", "Sorriso Premium"]
    assert rows[3] == ["Visão", "Por plano"]
    assert ["Plano", "Beneficiários", "Lançamentos", "Total"] in rows
    book = load_workbook(
        io.BytesIO(
            billing.billing_report_download(
                report, "xlsx", company_label="20001 · Empresa", generated_at=NOW
            )
        )
    )
    assert book.sheetnames == ["Por mês", "Por plano", "Por beneficiário"]
    for sheet in book.worksheets:
        assert sheet["A2"].value == "Período (competência)"
        assert sheet["B2"].value == "07/2025 a 09/2025"
        assert sheet["B3"].value == "Sorriso Premium"
