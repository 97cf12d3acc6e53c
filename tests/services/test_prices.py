"""Contract price tables, readjustment on the anniversary (per contract and the pool of
contracts under 30 lives, RN 565/2022), RN 63/2003 on save, band change setting and the
copy of the reference tables to a new contract; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select

from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    Operator,
    Plan,
    PriceBand,
    PriceTable,
    User,
)
from data.uow import UnitOfWork
from services import companies
from services.actors import ALL_PERMISSIONS, Actor, Role
from services.billing import prices
from services.rules.documents import cnpj_check_digits
from services.rules.errors import DomainError

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
BANDS = [Decimal(v) for v in ("100", "120", "140", "160", "180", "200", "300", "400", "500", "600")]
ILLEGAL = [*BANDS[:9], Decimal("600.01")]  # 600.01 > 6 x 100
_seq = count(1)


@dataclass(frozen=True)
class World:
    big: int  # 40 lives, anniversary in March (contract from 2024-03-01), plans P1 and P2
    small: int  # 5 lives, anniversary in March, plan P1
    small_may: int  # 3 lives, anniversary in May, plan P1
    outside: int  # 2 lives, anniversary in March, NOT in the manager's portfolio
    p1: int
    p2: int
    manager: Actor
    master: Actor  # master of `big`
    other_manager: Actor  # manager of `outside` only

    def cp(self, uow: UnitOfWork, company_id: int, plan_id: int) -> int:
        with uow:
            return uow.session.scalars(
                select(ContractedPlan.id).where(
                    ContractedPlan.company_id == company_id, ContractedPlan.plan_id == plan_id
                )
            ).one()


def _company(operator_id: int, code: str, start: date) -> Company:
    base = f"{next(_seq):08d}0001"
    return Company(
        operator_id=operator_id,
        code=code,
        document=base + cnpj_check_digits(base),
        document_type="CNPJ",
        name=f"Empresa {code}",
        contract_start=start,
    )


def _table(
    plan_id: int,
    cp_id: int | None,
    valid_from: date,
    values: list[Decimal],
    valid_to: date | None = None,
) -> PriceTable:
    rows = (
        [(1, 0, None)]
        if len(values) == 1
        else [
            (i + 1, lo, hi)
            for i, (lo, hi) in enumerate(
                [
                    (0, 18),
                    (19, 23),
                    (24, 28),
                    (29, 33),
                    (34, 38),
                    (39, 43),
                    (44, 48),
                    (49, 53),
                    (54, 58),
                    (59, None),
                ]
            )
        ]
    )
    return PriceTable(
        plan_id=plan_id,
        contracted_plan_id=cp_id,
        kind="single" if len(values) == 1 else "bands",
        valid_from=valid_from,
        valid_to=valid_to,
        bands=[
            PriceBand(band=b, min_age=lo, max_age=hi, price=p)
            for (b, lo, hi), p in zip(rows, values, strict=True)
        ],
    )


def _lives(company_id: int, plan_id: int, n: int, start: date) -> list[object]:
    out: list[object] = []
    for _ in range(n):
        k = next(_seq)
        person = Beneficiary(
            company_id=company_id,
            plan_id=plan_id,
            card_number=f"9{k:015d}",
            relationship_code=1,
            name=f"Pessoa {k}",
            birth_date=date(1990, 1, 1),
            sex="F",
            mother_name="Mãe",
            effective_date=start,
            status="active",
            created_at=NOW,
            updated_at=NOW,
        )
        person.id = 10_000 + k
        out += [
            person,
            CoveragePeriod(
                beneficiary_id=person.id, company_id=company_id, plan_id=plan_id, start_date=start
            ),
        ]
    return out


def _actor(user: User, role: Role, company_ids: set[int]) -> Actor:
    return Actor(
        user.id,
        user.user_code,
        user.name,
        role,
        ALL_PERMISSIONS,
        frozenset(company_ids),
        home_company_id=user.company_id,
    )


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    with uow:
        s = uow.session
        op = Operator(
            name="Sorriso",
            ans_registration="123456",
            cnpj="33445566000190",
            pix_key="pix@sorriso.example",
            city="São Paulo",
        )
        s.add(op)
        s.flush()
        p1 = Plan(
            operator_id=op.id,
            code="P1",
            name="Plano Um",
            ans_registration="411",
            segment="Odontológico",
        )
        p2 = Plan(
            operator_id=op.id,
            code="P2",
            name="Plano Dois",
            ans_registration="412",
            segment="Odontológico",
        )
        big = _company(op.id, "1001", date(2024, 3, 1))
        small = _company(op.id, "1002", date(2024, 3, 20))
        small_may = _company(op.id, "1003", date(2024, 5, 1))
        outside = _company(op.id, "1004", date(2024, 3, 1))
        s.add_all([p1, p2, big, small, small_may, outside])
        s.flush()
        # Reference tables of the operator (contracted_plan_id NULL).
        s.add_all(
            [
                _table(p1.id, None, date(2024, 1, 1), [Decimal("50")] * 10),
                _table(p2.id, None, date(2024, 1, 1), [Decimal("30")]),
            ]
        )
        cps = {}
        for company, plan in ((big, p1), (big, p2), (small, p1), (small_may, p1), (outside, p1)):
            cp = ContractedPlan(
                company_id=company.id, plan_id=plan.id, start_date=company.contract_start
            )
            s.add(cp)
            s.flush()
            cps[company.code, plan.code] = cp.id
        s.add_all(
            [
                _table(p1.id, cps["1001", "P1"], date(2024, 3, 1), BANDS),
                _table(p2.id, cps["1001", "P2"], date(2024, 3, 1), [Decimal("39.90")]),
                _table(p1.id, cps["1002", "P1"], date(2024, 3, 1), BANDS),
                _table(p1.id, cps["1003", "P1"], date(2024, 5, 1), BANDS),
                _table(p1.id, cps["1004", "P1"], date(2024, 3, 1), BANDS),
            ]
        )
        s.add_all(_lives(big.id, p1.id, 40, date(2024, 3, 1)))
        s.add_all(_lives(small.id, p1.id, 5, date(2024, 3, 1)))
        s.add_all(_lives(small_may.id, p1.id, 3, date(2024, 5, 1)))
        s.add_all(_lives(outside.id, p1.id, 2, date(2024, 3, 1)))
        users = [
            User(
                user_code=code,
                name=name,
                email=f"{code}@example.com",
                role=role,
                company_id=company,
                status="active",
                created_at=NOW,
            )
            for code, name, role, company in (
                ("900001", "Gestora", "account_manager", None),
                ("100001", "Master", "master", big.id),
                ("900002", "Outro gestor", "account_manager", None),
            )
        ]
        s.add_all(users)
        s.flush()
        mine = {big.id, small.id, small_may.id}
        s.add_all([AccountManagerCompany(user_id=users[0].id, company_id=c) for c in mine])
        s.add(AccountManagerCompany(user_id=users[2].id, company_id=outside.id))
        uow.commit()
        return World(
            big.id,
            small.id,
            small_may.id,
            outside.id,
            p1.id,
            p2.id,
            _actor(users[0], Role.ACCOUNT_MANAGER, mine),
            _actor(users[1], Role.MASTER, {big.id}),
            _actor(users[2], Role.ACCOUNT_MANAGER, {outside.id}),
        )


def _tables(uow: UnitOfWork, cp_id: int) -> list[tuple[date, date | None, list[Decimal]]]:
    with uow:
        rows = uow.session.scalars(
            select(PriceTable)
            .where(PriceTable.contracted_plan_id == cp_id)
            .order_by(PriceTable.valid_from)
        ).all()
        return [(t.valid_from, t.valid_to, [b.price for b in t.bands]) for t in rows]


def _count(uow: UnitOfWork, model: type) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _audits(uow: UnitOfWork, action: str) -> list[AuditRecord]:
    with uow:
        rows = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        ).all()
        uow.session.expunge_all()
        return list(rows)


def _refused(call, **kw) -> DomainError:  # noqa: ANN001
    with pytest.raises(DomainError) as err:
        call(**kw)
    return err.value


# ---------------------------------------------------------------- list


def test_the_list_shows_each_contracted_plan_with_its_history_and_current_table(uow, world):
    prices.price_table_save(
        uow=uow.for_company(world.big),
        actor=world.manager,
        contracted_plan_id=world.cp(uow, world.big, world.p1),
        kind="bands",
        prices=[p * 2 for p in BANDS],
        valid_from=date(2026, 6, 1),
        now=NOW,
    )
    listed = prices.price_tables_list(
        uow=uow.for_company(world.big), actor=world.manager, today=TODAY
    )
    assert (listed.code, listed.anniversary_month, listed.lives) == ("1001", 3, 40)
    assert not listed.pooled and listed.band_change == "next_month"
    assert [p.plan_code for p in listed.plans] == ["P1", "P2"]
    p1, p2 = listed.plans
    assert [(t.valid_from, t.valid_to) for t in p1.tables] == [
        (date(2026, 6, 1), None),
        (date(2024, 3, 1), date(2026, 5, 31)),
    ]
    assert p1.current is not None and p1.current.valid_from == date(2024, 3, 1)
    assert p1.current.prices == tuple(BANDS)
    assert p2.current is not None and p2.current.single
    assert p2.current.prices == (Decimal("39.90"),)


def test_the_list_is_for_account_managers_of_the_company(uow, world):
    err = _refused(
        prices.price_tables_list, uow=uow.for_company(world.big), actor=world.master, today=TODAY
    )
    assert "gestor de contas" in err.message
    err = _refused(
        prices.price_tables_list,
        uow=uow.for_company(world.big),
        actor=world.other_manager,
        today=TODAY,
    )
    assert "não tem acesso" in err.message


# ---------------------------------------------------------------- save


def test_a_new_table_closes_the_previous_one_the_day_before_and_is_audited(uow, world):
    cp = world.cp(uow, world.big, world.p1)
    new = [p + 10 for p in BANDS]
    view = prices.price_table_save(
        uow=uow.for_company(world.big),
        actor=world.manager,
        contracted_plan_id=cp,
        kind="bands",
        prices=new,
        valid_from=date(2026, 4, 1),
        now=NOW,
    )
    assert view.prices == tuple(new) and view.valid_to is None
    assert _tables(uow, cp) == [
        (date(2024, 3, 1), date(2026, 3, 31), BANDS),
        (date(2026, 4, 1), None, new),
    ]
    [audit] = _audits(uow, "price_table_save")
    assert audit.company_id == world.big and audit.entity_id == str(view.id)
    assert audit.before == {
        "previous_table_id": audit.before["previous_table_id"],
        "previous_valid_to": None,
    }
    assert audit.after["prices"] == [str(p) + ".00" for p in new]
    assert audit.user_id == world.manager.user_id


def test_a_single_price_table_has_one_row_for_every_age(uow, world):
    cp = world.cp(uow, world.big, world.p1)
    view = prices.price_table_save(
        uow=uow.for_company(world.big),
        actor=world.manager,
        contracted_plan_id=cp,
        kind="single",
        prices=[Decimal("45.00")],
        valid_from=date(2026, 4, 1),
        now=NOW,
    )
    assert view.single and view.prices == (Decimal("45.00"),)
    with uow:
        [band] = uow.session.scalars(select(PriceBand).where(PriceBand.price_table_id == view.id))
        assert (band.band, band.min_age, band.max_age) == (1, 0, None)


@pytest.mark.parametrize(
    ("kind", "values", "valid_from", "fragment"),
    [
        ("bands", ILLEGAL, date(2026, 4, 1), "RN 63/2003, art. 3º, I"),
        (
            "bands",
            [*BANDS[:6], Decimal("160"), *BANDS[7:9], Decimal("300")],
            date(2026, 4, 1),
            "art. 3º, II",
        ),
        ("bands", BANDS[:9], date(2026, 4, 1), "10 preços"),
        ("single", [Decimal("0")], date(2026, 4, 1), "maior que zero"),
        ("single", BANDS, date(2026, 4, 1), "um só preço"),
        ("other", BANDS, date(2026, 4, 1), "tipo da tabela"),
        ("bands", BANDS, date(2026, 4, 15), "primeiro dia"),
        ("bands", BANDS, date(2024, 3, 1), "já tem tabela a partir de 01/03/2024"),
        ("bands", BANDS, date(2024, 2, 1), "antes do início"),
    ],
)
def test_a_table_is_refused_with_the_reason_and_nothing_is_written(
    uow, world, kind, values, valid_from, fragment
):
    cp = world.cp(uow, world.big, world.p1)
    before = _tables(uow, cp), _count(uow, AuditRecord), _count(uow, PriceBand)
    err = _refused(
        prices.price_table_save,
        uow=uow.for_company(world.big),
        actor=world.manager,
        contracted_plan_id=cp,
        kind=kind,
        prices=values,
        valid_from=valid_from,
        now=NOW,
    )
    assert fragment in err.message
    assert (_tables(uow, cp), _count(uow, AuditRecord), _count(uow, PriceBand)) == before


def test_the_spec_vector_is_saved_as_legal(uow, world):
    cp = world.cp(uow, world.small, world.p1)
    prices.price_table_save(
        uow=uow.for_company(world.small),
        actor=world.manager,
        contracted_plan_id=cp,
        kind="bands",
        prices=BANDS,
        valid_from=date(2026, 1, 1),
        now=NOW,
    )
    assert _tables(uow, cp)[-1][2] == BANDS


def test_only_an_account_manager_of_the_company_saves_a_table(uow, world):
    cp = world.cp(uow, world.big, world.p1)
    kw = {
        "uow": uow.for_company(world.big),
        "contracted_plan_id": cp,
        "kind": "bands",
        "prices": BANDS,
        "valid_from": date(2026, 4, 1),
        "now": NOW,
    }
    assert "gestor de contas" in _refused(prices.price_table_save, actor=world.master, **kw).message
    assert (
        "não tem acesso"
        in _refused(prices.price_table_save, actor=world.other_manager, **kw).message
    )
    # A contracted plan of another company, asked in this company's name.
    other_cp = world.cp(uow, world.outside, world.p1)
    err = _refused(
        prices.price_table_save, actor=world.manager, **{**kw, "contracted_plan_id": other_cp}
    )
    assert "não encontrado nesta empresa" in err.message
    assert len(_tables(uow, cp)) == 1 and len(_tables(uow, other_cp)) == 1


# ---------------------------------------------------------------- readjust one contract


def test_a_contract_is_readjusted_on_its_anniversary_every_plan_rounded_half_up(uow, world):
    result = prices.readjust_contract(
        uow=uow.for_company(world.big),
        actor=world.manager,
        pct=Decimal("7.35"),
        month=date(2026, 3, 1),
        now=NOW,
    )
    assert (result.code, result.lives) == ("1001", 40)
    p1 = _tables(uow, world.cp(uow, world.big, world.p1))
    assert p1[0][1] == date(2026, 2, 28)
    assert p1[1][0:2] == (date(2026, 3, 1), None)
    assert p1[1][2][0] == Decimal("107.35") and p1[1][2][1] == Decimal("128.82")  # 128.82
    p2 = _tables(uow, world.cp(uow, world.big, world.p2))
    assert p2[1][2] == [Decimal("42.83")]  # 39.90 x 1.0735 = 42.83265 -> 42.83
    with uow:
        new = uow.session.scalars(
            select(PriceTable).where(PriceTable.valid_from == date(2026, 3, 1))
        ).all()
        assert {(t.readjustment_pct, t.pooled, t.kind) for t in new} == {
            (Decimal("7.35"), False, "bands"),
            (Decimal("7.35"), False, "single"),
        }
    audits = _audits(uow, "price_table_readjust")
    assert len(audits) == 2 and audits[0].before["prices"][0] == "100.00"


@pytest.mark.parametrize(
    ("company", "month", "fragment"),
    [
        ("big", date(2026, 4, 1), "mês de aniversário (março"),
        ("big", date(2024, 3, 1), "a partir de 03/2025"),  # the contract's own first month
        ("big", date(2026, 3, 15), "primeiro dia"),
        ("small", date(2026, 3, 1), "menos de 30"),  # the pool's
    ],
)
def test_a_contract_readjustment_is_refused_off_its_anniversary_or_for_a_pool_contract(
    uow, world, company, month, fragment
):
    before = _count(uow, PriceTable), _count(uow, AuditRecord)
    err = _refused(
        prices.readjust_contract,
        uow=uow.for_company(getattr(world, company)),
        actor=world.manager,
        pct=Decimal("5"),
        month=month,
        now=NOW,
    )
    assert fragment in err.message
    assert (_count(uow, PriceTable), _count(uow, AuditRecord)) == before


def test_a_contract_is_not_readjusted_twice_in_the_same_month(uow, world):
    kw = {
        "uow": uow.for_company(world.big),
        "actor": world.manager,
        "pct": Decimal("5"),
        "month": date(2026, 3, 1),
        "now": NOW,
    }
    prices.readjust_contract(**kw)
    before = _count(uow, PriceTable)
    assert "já foi aplicado" in _refused(prices.readjust_contract, **kw).message
    assert _count(uow, PriceTable) == before


def test_a_contract_readjustment_is_for_its_account_manager(uow, world):
    kw = {
        "uow": uow.for_company(world.big),
        "pct": Decimal("5"),
        "month": date(2026, 3, 1),
        "now": NOW,
    }
    assert (
        "gestor de contas" in _refused(prices.readjust_contract, actor=world.master, **kw).message
    )
    assert (
        "não tem acesso"
        in _refused(prices.readjust_contract, actor=world.other_manager, **kw).message
    )


def test_a_percentage_with_three_places_is_refused(uow, world):
    err = _refused(
        prices.readjust_contract,
        uow=uow.for_company(world.big),
        actor=world.manager,
        pct=Decimal("5.125"),
        month=date(2026, 3, 1),
        now=NOW,
    )
    assert err.field == "pct"


# ---------------------------------------------------------------- the pool


def test_the_pool_readjusts_every_small_contract_of_the_month_with_one_percentage(uow, world):
    result = prices.readjust_pool(
        uow=uow, actor=world.manager, pct=Decimal("10"), month=date(2026, 3, 1), now=NOW
    )
    # 1002 (5 lives, March): in. 1001 has 40 lives, 1003's anniversary is May, 1004 is
    # another manager's.
    assert [(r.code, r.lives) for r in result.readjusted] == [("1002", 5)]
    assert result.skipped == ()
    [(valid_from, valid_to, values)] = _tables(uow, world.cp(uow, world.small, world.p1))[1:]
    assert (valid_from, valid_to) == (date(2026, 3, 1), None)
    assert values == [p * Decimal("1.1") for p in BANDS]
    small_cp = world.cp(uow, world.small, world.p1)
    with uow:
        table = uow.session.scalars(
            select(PriceTable).where(
                PriceTable.contracted_plan_id == small_cp, PriceTable.valid_from == date(2026, 3, 1)
            )
        ).one()
        assert (table.pooled, table.readjustment_pct) == (True, Decimal("10.00"))
    assert len(_tables(uow, world.cp(uow, world.big, world.p1))) == 1
    assert len(_tables(uow, world.cp(uow, world.outside, world.p1))) == 1
    assert [a.company_id for a in _audits(uow, "price_table_readjust_pool")] == [world.small]


def test_a_pool_contract_already_readjusted_is_left_out_with_the_reason(uow, world):
    kw = {
        "uow": uow,
        "actor": world.manager,
        "pct": Decimal("10"),
        "month": date(2026, 3, 1),
        "now": NOW,
    }
    prices.readjust_pool(**kw)
    again = prices.readjust_pool(**kw)
    assert again.readjusted == ()
    [(label, reason)] = again.skipped
    assert label.startswith("1002") and "já foi aplicado" in reason
    assert len(_tables(uow, world.cp(uow, world.small, world.p1))) == 2


def test_the_pool_counts_lives_on_the_first_day_of_the_month(uow, world):
    # 26 more lives for 1002 from 2026-03-01 make 31 that day: out of the pool.
    with uow:
        uow.session.add_all(_lives(world.small, world.p1, 26, date(2026, 3, 1)))
        uow.commit()
    err = _refused(
        prices.readjust_pool,
        uow=uow,
        actor=world.manager,
        pct=Decimal("10"),
        month=date(2026, 3, 1),
        now=NOW,
    )
    assert "Nenhum contrato" in err.message
    # On the 2025 anniversary they were not covered yet: 5 lives, pooled.
    result = prices.readjust_pool(
        uow=uow, actor=world.manager, pct=Decimal("4"), month=date(2025, 3, 1), now=NOW
    )
    assert [(r.code, r.lives) for r in result.readjusted] == [("1002", 5)]


def test_the_pool_is_for_account_managers(uow, world):
    err = _refused(
        prices.readjust_pool,
        uow=uow,
        actor=world.master,
        pct=Decimal("10"),
        month=date(2026, 3, 1),
        now=NOW,
    )
    assert "gestor de contas" in err.message
    assert _count(uow, AuditRecord) == 0


# ---------------------------------------------------------------- band change


def test_the_band_change_rule_is_a_contract_setting_changed_by_its_manager(uow, world):
    assert (
        prices.band_change_set(
            uow=uow.for_company(world.big), actor=world.manager, rule="birthday_month", now=NOW
        )
        == "birthday_month"
    )
    with uow:
        assert uow.session.get(Company, world.big).band_change == "birthday_month"
    [audit] = _audits(uow, "company_band_change")
    assert (audit.before, audit.after) == (
        {"band_change": "next_month"},
        {"band_change": "birthday_month"},
    )
    assert (
        "gestor de contas"
        in _refused(
            prices.band_change_set,
            uow=uow.for_company(world.big),
            actor=world.master,
            rule="next_month",
            now=NOW,
        ).message
    )
    assert (
        "faixa etária"
        in _refused(
            prices.band_change_set,
            uow=uow.for_company(world.big),
            actor=world.manager,
            rule="never",
            now=NOW,
        ).message
    )
    with uow:
        assert uow.session.get(Company, world.big).band_change == "birthday_month"


# ---------------------------------------------------------------- new contracts


def test_a_new_contracted_plan_gets_a_copy_of_the_reference_tables(uow, world):
    with uow:
        s = uow.session
        s.add(
            _table(
                world.p1, None, date(2023, 1, 1), [Decimal("20")] * 10, valid_to=date(2023, 12, 31)
            )
        )  # ended before the contract: not copied
        s.add(_table(world.p1, None, date(2026, 5, 1), [Decimal("55")] * 10))
        reference = s.scalars(
            select(PriceTable).where(
                PriceTable.plan_id == world.p1,
                PriceTable.contracted_plan_id.is_(None),
                PriceTable.valid_from == date(2024, 1, 1),
            )
        ).one()
        reference.valid_to = date(2026, 4, 30)
        fresh = _company(s.scalars(select(Operator.id)).one(), "1005", date(2026, 2, 10))
        s.add(fresh)
        s.flush()
        cp_p1 = ContractedPlan(company_id=fresh.id, plan_id=world.p1, start_date=date(2026, 2, 10))
        cp_p2 = ContractedPlan(
            company_id=world.small_may, plan_id=world.p2, start_date=date(2026, 2, 10)
        )
        s.add_all([cp_p1, cp_p2])
        assert prices.copy_reference_tables(s, cp_p1) == 2
        assert prices.copy_reference_tables(s, cp_p2) == 1
        s.commit()
        ids = cp_p1.id, cp_p2.id
    copied = _tables(uow, ids[0])
    assert [(f, t) for f, t, _ in copied] == [
        (date(2024, 1, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), None),
    ]
    assert copied[0][2] == [Decimal("50.00")] * 10 and copied[1][2] == [Decimal("55.00")] * 10
    assert _tables(uow, ids[1]) == [(date(2024, 1, 1), None, [Decimal("30.00")])]
    with uow:  # the copies are the contract's; the reference tables stay the operator's
        kinds = (
            uow.session.execute(
                select(PriceTable.kind).where(PriceTable.contracted_plan_id == ids[1])
            )
            .scalars()
            .all()
        )
        assert kinds == ["single"]
        assert (
            uow.session.scalar(
                select(func.count())
                .select_from(PriceTable)
                .where(PriceTable.contracted_plan_id.is_(None))
            )
            == 4
        )


# ---------------------------------------------------------------- company users


def test_company_plans_show_the_contracts_table_not_the_plans(uow, world):
    prices.price_table_save(
        uow=uow.for_company(world.big),
        actor=world.manager,
        contracted_plan_id=world.cp(uow, world.big, world.p1),
        kind="bands",
        prices=[p + 1 for p in BANDS],
        valid_from=date(2026, 3, 1),
        now=NOW,
    )
    views = companies.company_plans(uow=uow.for_company(world.big), actor=world.master, today=TODAY)
    p1, p2 = views
    assert p1.price_kind == "bands" and p1.price_valid_from == date(2026, 3, 1)
    assert [b.price for b in p1.bands] == [p + 1 for p in BANDS]  # not the reference 50s
    assert p2.price_kind == "single" and [b.price for b in p2.bands] == [Decimal("39.90")]
    earlier = companies.company_plans(
        uow=uow.for_company(world.big), actor=world.master, today=date(2026, 2, 28)
    )
    assert [b.price for b in earlier[0].bands] == BANDS


def test_lives_are_counted_from_coverage_periods_open_on_the_day(uow, world):
    with uow:
        s = uow.session
        s.execute(
            CoveragePeriod.__table__.update()
            .where(CoveragePeriod.company_id == world.small)
            .values(end_date=date(2026, 3, 1))
        )  # first day not covered
        s.commit()
        counted = prices.lives_on(s, [world.small, world.big], date(2026, 3, 1))
        assert counted == {world.small: 0, world.big: 40}
        assert prices.lives_on(s, [world.small], date(2026, 2, 28)) == {world.small: 5}
        assert prices.lives_on(s, [world.small], date(2024, 2, 29)) == {world.small: 0}
