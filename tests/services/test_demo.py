"""Demo data (`portal-seed`): a small world on SQLite and PostgreSQL, reproducible and valid."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from data.db import make_engine, upgrade_to_head
from data.models import (
    AccountManagerCompany,
    Base,
    Beneficiary,
    Company,
    ContractedPlan,
    Counter,
    CoveragePeriod,
    EconomicGroup,
    Invoice,
    InvoiceLine,
    Movement,
    Operator,
    Payment,
    Plan,
    PriceTable,
    Protocol,
    ProtocolEvent,
    User,
    UtilizationEvent,
)
from demo.generator import DemoSummary, main, seed_demo

TODAY = date(2026, 11, 26)
SMALL = {"companies": 8, "beneficiaries": 400, "seed": 2026, "today": TODAY}
BILLING_START = date(2024, 12, 1)  # the first of the 24 invoiced months up to 11/2026
ALL_PERMISSIONS = ["finance", "movements", "personal_data", "protocols", "reports", "user_admin"]


@pytest.fixture
def seeded(engine: Engine) -> tuple[Engine, DemoSummary]:
    return engine, seed_demo(engine, **SMALL)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One seeded SQLite database shared by the read-only checks below."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    seed_demo(engine, **SMALL)  # type: ignore[arg-type]
    with Session(engine) as session:
        yield session
    engine.dispose()


def _ledger_gaps(session: Session) -> list[tuple[int, date, dict[int, int], dict[int, int]]]:
    """Every (beneficiary, reference month) from the company's billing_start to the last
    invoiced month whose net charge per company differs from the ledger's target: the
    price of the month (services.rules.ledger: coverage periods, the contract's table,
    the band_change rule) for the month's company if covered, else nothing."""
    from services.rules.ledger import (
        Period,
        Table,
        month_band,
        month_coverage,
        month_index,
        month_of,
        month_price,
    )

    companies = {c.id: c for c in session.scalars(select(Company))}
    births = dict(session.execute(select(Beneficiary.id, Beneficiary.birth_date)).all())
    periods: dict[int, list[Period]] = defaultdict(list)
    for p in session.scalars(select(CoveragePeriod)):
        periods[p.beneficiary_id].append(
            Period(
                p.beneficiary_id, p.company_id, p.plan_id, p.start_date, p.end_date, p.kind, p.id
            )
        )
    tables: dict[tuple[int, int], list[Table]] = defaultdict(list)
    for table, cp in session.execute(
        select(PriceTable, ContractedPlan).join(
            ContractedPlan, ContractedPlan.id == PriceTable.contracted_plan_id
        )
    ).all():
        tables[(cp.company_id, cp.plan_id)].append(
            Table(
                cp.company_id,
                cp.plan_id,
                table.valid_from,
                table.valid_to,
                tuple(int(b.price * 100) for b in table.bands),
                table.kind,
            )
        )
    charged: dict[tuple[int, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for bid, cid, month, amount in session.execute(
        select(
            InvoiceLine.beneficiary_id,
            Invoice.company_id,
            InvoiceLine.reference_month,
            InvoiceLine.amount,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status != "cancelled")
    ).all():
        charged[(bid, month)][cid] += int(amount * 100)
    last = session.scalar(select(func.max(Invoice.billing_month)))
    assert last is not None
    first = min(c.billing_start for c in companies.values() if c.billing_start)
    gaps = []
    for bid, birth in births.items():
        for idx in range(month_index(first), month_index(last) + 1):
            month = month_of(idx)
            expected: dict[int, int] = {}
            cover = month_coverage(periods[bid], month)
            if cover is not None:
                company = companies[cover.company_id]
                if company.billing_start is not None and month >= company.billing_start:
                    band = month_band(birth, month, company.band_change)
                    expected[cover.company_id] = month_price(
                        tables[(cover.company_id, cover.plan_id)],
                        cover.company_id,
                        cover.plan_id,
                        month,
                        band,
                    )[0]
            got = {c: v for c, v in charged.get((bid, month), {}).items() if v}
            if got != expected:
                gaps.append((bid, month, expected, got))
    return gaps


def _digest(engine: Engine) -> dict[str, str]:
    digests = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


# ---------------------------------------------------------------- both databases


def test_a_small_world_is_seeded_and_the_summary_counts_its_rows(
    seeded: tuple[Engine, DemoSummary],
) -> None:
    engine, summary = seeded
    with Session(engine) as session:

        def count(model: type[Base]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        assert count(Operator) == 1
        assert count(EconomicGroup) == summary.economic_groups == 3
        assert count(Company) == summary.companies == 8
        assert count(Plan) == summary.plans == 4
        assert count(Beneficiary) == summary.beneficiaries == 400
        assert count(Invoice) == summary.invoices == 8 * 24
        assert count(InvoiceLine) == summary.invoice_lines > 0
        changes = session.scalar(select(func.count()).where(Movement.kind == "plan_change"))
        assert changes and count(CoveragePeriod) == 400 + changes
        assert session.scalars(select(Movement.state).distinct()).all() == ["applied"]
        assert count(Payment) == summary.payments > 0
        assert count(UtilizationEvent) == summary.utilization_events > 0
        assert count(Protocol) == summary.protocols >= 8 * 5
        assert count(ProtocolEvent) == summary.protocol_events
        active = session.scalar(select(func.count()).where(Beneficiary.status == "active"))
        assert active == summary.active_beneficiaries
        assert 0.8 <= active / 400 <= 0.95
        mismatched = session.execute(
            select(Invoice.id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .group_by(Invoice.id, Invoice.amount)
            .having(func.sum(InvoiceLine.amount) != Invoice.amount)
        ).all()
        assert mismatched == []
        # The invoices come from the billing run: they obey the ledger on both databases.
        assert _ledger_gaps(session)[:5] == []


def test_new_rows_after_seeding_get_fresh_ids(seeded: tuple[Engine, DemoSummary]) -> None:
    engine, summary = seeded
    with Session(engine) as session:
        group = EconomicGroup(name="Grupo Novo")
        session.add(group)
        session.flush()
        assert group.id == summary.economic_groups + 1
        session.rollback()


def test_seeding_twice_without_reset_is_refused_and_reset_starts_over(
    seeded: tuple[Engine, DemoSummary],
) -> None:
    engine, first = seeded
    with pytest.raises(RuntimeError, match="already has data"):
        seed_demo(engine, **SMALL)  # type: ignore[arg-type]
    again = seed_demo(engine, **SMALL, reset=True)  # type: ignore[arg-type]
    assert again == first
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Beneficiary)) == 400


# ---------------------------------------------------------------- reproducibility


def test_the_same_seed_and_day_give_the_same_rows(sqlite_engine: Engine, tmp_path: Path) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    different = make_engine(f"sqlite:///{tmp_path / 'different.db'}")
    try:
        upgrade_to_head(other)
        seed_demo(sqlite_engine, **SMALL)  # type: ignore[arg-type]
        seed_demo(other, **SMALL)  # type: ignore[arg-type]
        seed_demo(different, **{**SMALL, "seed": 7})  # type: ignore[arg-type]
        assert _digest(sqlite_engine) == _digest(other)
        assert _digest(sqlite_engine)["beneficiary"] != _digest(different)["beneficiary"]
    finally:
        other.dispose()
        different.dispose()


# ---------------------------------------------------------------- content


def test_every_document_number_is_valid_and_cpfs_are_unique(world: Session) -> None:
    from services.rules.documents import (
        is_valid_cep,
        is_valid_cnpj,
        is_valid_cns,
        is_valid_company_document,
        is_valid_cpf,
        is_valid_email,
    )

    operator = world.scalars(select(Operator)).one()
    assert is_valid_cnpj(operator.cnpj)
    companies = world.scalars(select(Company)).all()
    for company in companies:
        assert is_valid_company_document(company.document, company.document_type), company.code
        assert len(company.document) == 14
        assert company.cep is not None and is_valid_cep(company.cep)
        assert company.contact_email is not None and is_valid_email(company.contact_email)
    by_code = {c.code: c for c in companies}
    assert by_code["10007"].document_type == "CAEPF"
    assert not by_code["10005"].document.isdigit()  # alphanumeric CNPJ
    assert by_code["10004"].document_type == "CNPJ" and by_code["10004"].document.isdigit()

    people = world.execute(
        select(Beneficiary.cpf, Beneficiary.cns, Beneficiary.cep, Beneficiary.email)
    ).all()
    users = world.scalars(select(User.cpf)).all()
    cpfs = [p.cpf for p in people if p.cpf] + [c for c in users if c]
    assert all(is_valid_cpf(c) for c in cpfs)
    assert len(set(cpfs)) == len(cpfs)
    cns = [p.cns for p in people if p.cns]
    assert cns and all(is_valid_cns(c) for c in cns)
    assert all(p.cep and is_valid_cep(p.cep) for p in people)
    assert all(is_valid_email(p.email) for p in people if p.email)


def test_cpf_is_present_for_holders_and_adults(world: Session) -> None:
    from services.rules.age_bands import age_on

    for b in world.scalars(select(Beneficiary)):
        if b.relationship_code == 1 or age_on(b.birth_date, TODAY) >= 18:
            assert b.cpf, b.id


def test_card_and_protocol_numbers_follow_the_rules(world: Session) -> None:
    from services.rules.card_numbers import card_number, is_valid_card_number
    from services.rules.protocols import protocol_deadline, protocol_number

    cards = world.execute(select(Beneficiary.id, Beneficiary.card_number)).all()
    assert all(card == card_number("0001", bid) for bid, card in cards)
    assert all(is_valid_card_number(card) for _, card in cards)
    counter = world.get(Counter, "card_number")
    assert counter is not None and counter.value == max(bid for bid, _ in cards)

    last_seq: dict[str, int] = defaultdict(int)
    for p in world.scalars(select(Protocol)):
        opened = p.opened_at.date()
        seq = int(p.number[-6:])
        assert p.number == protocol_number("421839", opened, seq)
        assert p.deadline == protocol_deadline(opened, 7)
        last_seq[f"protocol:{opened:%Y%m%d}"] = max(last_seq[f"protocol:{opened:%Y%m%d}"], seq)
        statuses = [e.status for e in p.events]
        assert statuses[0] == "open" and statuses[-1] == p.status
        assert (p.closed_at is not None) == (p.status == "closed")
    for name, value in last_seq.items():
        row = world.get(Counter, name)
        assert row is not None and row.value == value


def test_the_demo_accounts_have_the_right_roles_and_permissions(world: Session) -> None:
    from services.access.accounts import verify_password

    users = {u.user_code: u for u in world.scalars(select(User))}
    companies = {c.code: c for c in world.scalars(select(Company))}
    manager = users["900001"]
    assert manager.role == "account_manager" and manager.company_id is None
    assert manager.permissions == ALL_PERMISSIONS
    portfolio = world.scalars(
        select(AccountManagerCompany.company_id).where(AccountManagerCompany.user_id == manager.id)
    ).all()
    assert sorted(portfolio) == sorted(c.id for c in companies.values())

    master = users["100001"]
    assert master.role == "master" and master.company_id == companies["10001"].id
    assert master.permissions == ALL_PERMISSIONS
    assert master.email == companies["10001"].contact_email
    assert verify_password("Sorriso@2026", master.password_hash)
    assert verify_password("Sorriso@2026", manager.password_hash)

    helper = users["100002"]
    assert helper.role == "user" and helper.company_id == companies["10001"].id
    assert helper.permissions == ["movements", "reports"]
    assert verify_password("Sorriso@2026", helper.password_hash)

    pending = users["100003"]
    assert pending.status == "pending" and pending.password_hash is None

    assert not [u for u in users.values() if u.company_id == companies["10004"].id]
    masters = {u.company_id for u in users.values() if u.role == "master"}
    assert masters == {c.id for code, c in companies.items() if code != "10004"}
    assert all(len(code) == 6 and code.isdigit() for code in users)
    assert all(u.failed_attempts == 0 for u in users.values())


def test_reference_tables_are_legal_and_one_plan_has_a_single_price(world: Session) -> None:
    """The operator's reference tables (no contract): yearly from May 1, legal under RN
    63/2003; Sorriso Essencial is sold at a single price (one row, band 1, every age)."""
    from services.rules.age_bands import AGE_BANDS, check_price_table

    for plan in world.scalars(select(Plan)):
        tables = world.scalars(
            select(PriceTable)
            .where(PriceTable.plan_id == plan.id, PriceTable.contracted_plan_id.is_(None))
            .order_by(PriceTable.valid_from)
        ).all()
        assert tables[-1].valid_to is None
        for older, newer in zip(tables, tables[1:], strict=False):
            assert older.valid_to == newer.valid_from - timedelta(days=1)
            assert newer.valid_from.month == 5 and newer.valid_from.day == 1
        assert tables[0].valid_from <= date(2023, 12, 1)
        for table in tables:
            prices = [band.price for band in table.bands]
            assert table.kind == ("single" if plan.code == "ODT-ESS" else "bands")
            if table.kind == "single":
                assert [(b.band, b.min_age, b.max_age) for b in table.bands] == [(1, 0, None)]
            else:
                assert check_price_table(prices) == [], (plan.code, table.valid_from)
                assert [(b.min_age, b.max_age) for b in table.bands] == AGE_BANDS
            assert all(Decimal("20") <= p <= Decimal("150") for p in prices)
            assert all(p == p.quantize(Decimal("0.01")) for p in prices)


def test_every_contracted_plan_has_its_own_tables_readjusted_on_the_anniversary(
    world: Session,
) -> None:
    """Prices belong to the contract: each contracted plan has tables covering every
    invoiced month, readjusted on the contract's anniversary month by the contract's own
    percentage, or by the pool's one percentage of the year under 30 lives (RN 565/2022)."""
    from services.rules.age_bands import check_price_table
    from services.rules.prices import in_pool, is_anniversary_month, readjusted_prices

    companies = {c.id: c for c in world.scalars(select(Company))}
    lives = dict(
        world.execute(
            select(Beneficiary.company_id, func.count()).group_by(Beneficiary.company_id)
        ).all()
    )
    pool: dict[int, set[Decimal]] = defaultdict(set)
    own: dict[tuple[int, int], set[Decimal]] = defaultdict(set)
    pooled_contracts = 0
    for cp in world.scalars(select(ContractedPlan)):
        company = companies[cp.company_id]
        tables = world.scalars(
            select(PriceTable)
            .where(PriceTable.contracted_plan_id == cp.id)
            .order_by(PriceTable.valid_from)
        ).all()
        assert tables and all(t.plan_id == cp.plan_id for t in tables)
        assert tables[0].valid_from <= BILLING_START and tables[-1].valid_to is None
        assert tables[0].readjustment_pct is None
        reference = world.scalars(
            select(PriceTable.kind).where(
                PriceTable.plan_id == cp.plan_id, PriceTable.contracted_plan_id.is_(None)
            )
        ).first()
        pooled = in_pool(lives.get(cp.company_id, 0))
        pooled_contracts += pooled
        for older, newer in zip(tables, tables[1:], strict=False):
            assert older.valid_to == newer.valid_from - timedelta(days=1)
            assert is_anniversary_month(company.contract_start, newer.valid_from)
            assert newer.valid_from.day == 1
            assert newer.readjustment_pct is not None and newer.pooled == pooled
            before = [b.price for b in older.bands]
            assert [b.price for b in newer.bands] == readjusted_prices(
                before, newer.readjustment_pct
            )
            if pooled:
                pool[newer.valid_from.year].add(newer.readjustment_pct)
            else:
                own[(cp.company_id, newer.valid_from.year)].add(newer.readjustment_pct)
        for table in tables:
            assert table.kind == reference
            if table.kind == "bands":
                assert check_price_table([b.price for b in table.bands]) == []
            else:
                assert len(table.bands) == 1
    # One percentage per contract and year, and one for the whole pool in a year.
    assert all(len(pcts) == 1 for pcts in own.values())
    assert all(len(pcts) == 1 for pcts in pool.values())
    assert pooled_contracts and own
    assert all(c.billing_start == BILLING_START for c in companies.values())
    assert all(
        c.band_change == "next_month" and c.waiting_periods is None for c in companies.values()
    )


def test_every_beneficiary_has_its_coverage_periods(world: Session) -> None:
    """Coverage is the one source: each demo beneficiary has a regular period on its
    company from the effective date to the exclusion date (the first day not covered),
    linked to the inclusion movement when the demo wrote one; a plan change ends it on
    the change's date and opens one on the new plan, linked to the change."""
    people = {b.id: b for b in world.scalars(select(Beneficiary))}
    periods: dict[int, list[CoveragePeriod]] = defaultdict(list)
    for p in world.scalars(select(CoveragePeriod).order_by(CoveragePeriod.start_date)):
        periods[p.beneficiary_id].append(p)
    assert sorted(periods) == sorted(people)
    moves = {
        (m.beneficiary_id, m.kind): m
        for m in world.scalars(select(Movement).where(Movement.state == "applied"))
    }
    split = 0
    for bid, b in people.items():
        own = periods[bid]
        assert [p.kind for p in own] == ["regular"] * len(own)
        assert all(p.company_id == b.company_id for p in own)
        assert own[0].start_date == b.effective_date and own[-1].end_date == b.exclusion_date
        assert own[-1].plan_id == b.plan_id
        assert all(p.end_date is None or p.end_date > p.start_date for p in own)
        inclusion = moves.get((bid, "inclusion"))
        assert own[0].movement_id == (inclusion.id if inclusion else None)
        change = moves.get((bid, "plan_change"))
        if change is None:
            assert len(own) == 1
            continue
        split += 1
        old, new = own
        assert old.end_date == new.start_date == change.effective_date
        assert change.effective_date.day == 1 and new.movement_id == change.id
        assert (old.plan_id, new.plan_id) == (change.old_plan_id, change.new_plan_id)
        assert change.is_retroactive == (change.received_at.date() > change.effective_date)
    assert split


def test_the_demo_invoices_obey_the_ledger_invariant(world: Session) -> None:
    """For every beneficiary and reference month from billing_start, the net sum of its
    lines equals the month's price if covered, else zero: the 24 months of invoices come
    from the billing run itself, month after month."""
    assert _ledger_gaps(world)[:5] == []
    # Each run knew only the movements received before its day: late inclusions are
    # caught up on the next invoice, late exclusions credited.
    kinds = set(world.scalars(select(InvoiceLine.kind).distinct()))
    assert {"monthly", "retroactive", "credit", "plan_change_difference"} <= kinds
    assert kinds <= {"monthly", "retroactive", "plan_change_difference", "credit", "stay"}
    late = world.execute(
        select(InvoiceLine.kind, InvoiceLine.reference_month, Invoice.billing_month)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.kind != "monthly")
    ).all()
    assert all(month < billed for _, month, billed in late)
    first = world.scalar(select(func.min(Invoice.billing_month)))
    assert first == BILLING_START


def test_a_shorter_invoiced_history_starts_billing_later_and_obeys_the_ledger(
    sqlite_engine: Engine,
) -> None:
    """Big seeds invoice fewer months (`invoice_months`): billing_start is the first of
    them and the ledger holds from there."""
    seed_demo(sqlite_engine, companies=3, beneficiaries=90, today=TODAY, invoice_months=3)
    with Session(sqlite_engine) as session:
        months = session.scalars(select(Invoice.billing_month).distinct()).all()
        assert sorted(months) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
        starts = set(session.scalars(select(Company.billing_start)))
        assert starts == {date(2026, 9, 1)}
        assert _ledger_gaps(session)[:5] == []
    with pytest.raises(ValueError, match="invoice_months"):
        seed_demo(
            sqlite_engine, companies=3, beneficiaries=90, today=TODAY, reset=True, invoice_months=25
        )


def test_every_beneficiary_has_its_waiting_periods(world: Session) -> None:
    """Computed as at inclusion (services.rules.waiting, the contract's default days):
    exempt (every group null) or each group's last day of waiting from the effective date."""
    from services.rules.waiting import DEFAULT_WAITING_DAYS

    exempt = waiting = 0
    for b in world.scalars(select(Beneficiary)):
        assert b.waiting_periods is not None and set(b.waiting_periods) == set(DEFAULT_WAITING_DAYS)
        days = {g: d for g, d in b.waiting_periods.items() if d is not None}
        if not days:
            exempt += 1
            continue
        waiting += 1
        for group, day in days.items():
            n = DEFAULT_WAITING_DAYS[group]
            assert date.fromisoformat(day) == b.effective_date + timedelta(days=n - 1), group
    assert exempt and waiting


def test_the_operator_has_a_valid_bank_agreement(world: Session) -> None:
    from services.rules.boleto import bank_agreement_parse

    operator = world.scalars(select(Operator)).one()
    agreement = bank_agreement_parse(
        bank_code=operator.bank_code,
        bank_agreement=operator.bank_agreement,
        bank_wallet=operator.bank_wallet,
        bank_branch=operator.bank_branch,
        bank_account=operator.bank_account,
    )
    assert (agreement.agreement, agreement.wallet) == ("1234567", "17")
    assert agreement.beneficiary_code == "1234-5 / 12345-6"


def test_invoices_are_paid_except_the_last_months(world: Session) -> None:
    company = world.scalars(select(Company).where(Company.code == "10001")).one()
    invoices = world.scalars(
        select(Invoice).where(Invoice.company_id == company.id).order_by(Invoice.billing_month)
    ).all()
    assert len(invoices) == 24
    assert invoices[-1].billing_month == date(2026, 11, 1)
    assert invoices[-1].status == "open"
    assert invoices[-2].status == "open" and invoices[-2].due_date < TODAY  # overdue
    assert all(i.status == "paid" and i.paid_on is not None for i in invoices[:-2])
    for invoice in invoices:
        assert invoice.due_date == invoice.billing_month.replace(day=company.due_day)
    payments = world.execute(select(Payment, Invoice).join(Invoice)).all()
    assert payments
    for payment, invoice in payments:
        assert payment.paid_on == invoice.paid_on
        if payment.paid_on <= invoice.due_date:
            assert payment.amount == invoice.amount
        else:
            assert payment.amount > invoice.amount


def test_beneficiaries_respect_the_contract_and_the_holder_links(world: Session) -> None:
    from services.rules.age_bands import age_on

    companies = {c.id: c for c in world.scalars(select(Company))}
    contracted = defaultdict(set)
    for cp in world.scalars(select(ContractedPlan)):
        contracted[cp.company_id].add(cp.plan_id)
    premium = world.scalars(select(Plan.id).where(Plan.code == "ODT-PREM")).one()
    first = next(c for c in companies.values() if c.code == "10001")
    assert len(contracted[first.id]) == 3 and premium not in contracted[first.id]
    assert all(len(plans) in (2, 3) for plans in contracted.values())

    people = {b.id: b for b in world.scalars(select(Beneficiary))}
    assert sum(b.company_id == first.id for b in people.values()) >= 300
    for b in people.values():
        company = companies[b.company_id]
        assert b.plan_id in contracted[b.company_id]
        assert company.contract_start <= b.effective_date < TODAY
        assert b.effective_date >= b.birth_date
        if b.status == "inactive":
            assert b.exclusion_date is not None and b.effective_date <= b.exclusion_date < TODAY
            assert b.exclusion_reason in ("demissao", "aposentadoria", "pedido", "obito", "outros")
        if b.relationship_code == 1:
            continue
        holder = people[b.holder_id]  # type: ignore[index]
        assert holder.relationship_code == 1
        assert holder.company_id == b.company_id
        if b.status == "active":
            # A dependent excluded before the family's plan change kept the old plan.
            assert holder.status == "active" and holder.plan_id == b.plan_id
            rule = company.eligibility[str(b.relationship_code)]
            assert rule["allowed"]
            if rule["max_age"] is not None:
                limit = rule["student_max_age"] if b.is_student else rule["max_age"]
                assert age_on(b.birth_date, TODAY) <= limit


def test_utilization_happens_while_active_and_gives_a_plausible_loss_ratio(
    world: Session,
) -> None:
    people = {
        b.id: (b.effective_date, b.exclusion_date) for b in world.scalars(select(Beneficiary))
    }
    for event in world.scalars(select(UtilizationEvent)):
        effective, exclusion = people[event.beneficiary_id]
        assert effective <= event.event_date < (exclusion or TODAY)
        assert len(event.tuss_code) == 8 and event.amount > 0
    first = world.scalars(select(Company.id).where(Company.code == "10001")).one()
    premium = world.scalar(select(func.sum(Invoice.amount)).where(Invoice.company_id == first))
    cost = world.scalar(
        select(func.sum(UtilizationEvent.amount)).where(UtilizationEvent.company_id == first)
    )
    assert premium and cost
    assert 0.35 <= cost / premium <= 1.0


def test_protocol_deadlines_due_soon_exist_for_the_demo_company(world: Session) -> None:
    first = world.scalars(select(Company.id).where(Company.code == "10001")).one()
    soon = world.scalars(
        select(Protocol).where(
            Protocol.company_id == first,
            Protocol.status.in_(("open", "in_analysis")),
            Protocol.deadline >= TODAY,
            Protocol.deadline <= TODAY + timedelta(days=10),
        )
    ).all()
    assert soon


# ---------------------------------------------------------------- command line


def test_the_command_prints_a_summary_and_refuses_to_seed_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--database-url", url, "--companies", "4", "--beneficiaries", "60"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert re.search(
        r"4 empresas \(\d+ grupos econômicos\), \d+ planos \(\d+ tabelas de preço\), "
        r"60 beneficiários \(\d+ ativos\)",
        out,
    ), out
    assert "Beneficiários: 60/60" in err
    assert main(args) == 1
    assert "--reset" in capsys.readouterr().err
    assert main([*args, "--reset"]) == 0


# ---------------------------------------------------------------- demo of the first access


def test_the_pending_user_has_a_working_invitation_in_the_outbox(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from data.db import make_session_factory
    from data.models import OutboxEmail
    from data.uow import UnitOfWork
    from services.access import accounts as access

    monkeypatch.setattr(access, "BCRYPT_ROUNDS", 4)
    seed_demo(engine, **SMALL, base_url="http://localhost:8620/")  # type: ignore[arg-type]
    with Session(engine) as session:
        (mail,) = session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "juliana.ramos@horizontelog.com.br")
        ).all()
    assert mail.subject == "Portal Empresa: convite para o seu primeiro acesso"
    assert "Seu código de usuário: 100003" in mail.body
    (token,) = re.findall(r"^http://localhost:8620/\?convite=([\w-]{43})$", mail.body, re.M)
    uow = UnitOfWork(make_session_factory(engine))
    now = mail.created_at + timedelta(days=1)
    link = access.access_link_check(uow=uow, token=token, purpose="user_invitation", now=now)
    assert (link.user_code, link.company_code) == ("100003", "10001")
    result = access.user_invitation_accept(
        uow=uow, token=token, password="Juliana#2026", confirmation="Juliana#2026", now=now
    )
    assert result.user_code == "100003"
    assert access.auth_login(uow=uow, user_code="100003", password="Juliana#2026", now=now)
    # Valid for 7 days from the invitation, as the portal's own invitations.
    assert mail.created_at.date() == TODAY - timedelta(days=3)
    assert datetime(2026, 11, 30, 12, tzinfo=UTC) < mail.created_at + timedelta(days=7)


def test_the_company_without_users_does_its_first_access_by_the_e_mailed_link(
    seeded: tuple[Engine, DemoSummary], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from data.db import make_session_factory
    from data.models import OutboxEmail
    from data.uow import UnitOfWork
    from services.access import accounts as access

    monkeypatch.setattr(access, "BCRYPT_ROUNDS", 4)
    engine, _ = seeded
    with Session(engine) as session:
        company = session.scalars(select(Company).where(Company.code == "10004")).one()
    assert company.contact_email
    uow = UnitOfWork(make_session_factory(engine))
    now = datetime(2026, 11, 26, 15, tzinfo=UTC)
    access.company_activation_request(
        uow=uow,
        company_code="10004",
        email=company.contact_email,
        document=company.document,
        document_type="CNPJ",
        now=now,
        base_url="http://localhost:8501",
    )
    with Session(engine) as session:
        body = session.scalars(
            select(OutboxEmail.body).where(OutboxEmail.to_address == company.contact_email)
        ).one()
    (token,) = re.findall(r"\?ativar=([\w-]+)", body)
    result = access.company_activation_confirm(
        uow=uow, token=token, password="Padaria#2026", confirmation="Padaria#2026", now=now
    )
    assert result.user_code == "100019"  # after the demo's codes (counter)


def test_the_audit_trail_has_entries_from_the_recent_days(world: Session) -> None:
    from data.models import AuditRecord

    first = world.scalars(select(Company.id).where(Company.code == "10001")).one()
    records = world.scalars(select(AuditRecord).where(AuditRecord.company_id == first)).all()
    days = {r.at.date() for r in records}
    assert days and min(days) >= TODAY - timedelta(days=14) and max(days) < TODAY
    actions = {r.action for r in records}
    assert {"login", "user_add", "movement_inclusion"} <= actions
    users = {u.id: u.user_code for u in world.scalars(select(User))}
    assert {users[r.user_id] for r in records if r.action == "login"} == {"100001", "100002"}
    # Every company has recent entries; the one without users only the account manager's.
    for code in ("10002", "10004", "10005"):
        who = world.execute(
            select(AuditRecord.action, AuditRecord.user_id)
            .join(Company, Company.id == AuditRecord.company_id)
            .where(Company.code == code)
        ).all()
        assert who, code
        if code == "10004":
            assert {users[u] for _, u in who} == {"900001"}
            assert "login" not in {a for a, _ in who}


def test_the_command_links_the_seeded_e_mails_to_the_port_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run PORT=8620` seeds with --port 8620: the invitation links to 8620, unless
    PORTAL_BASE_URL says otherwise."""
    from config import get_settings
    from data.models import OutboxEmail

    for base, expected in (
        (None, "http://localhost:8620/?convite="),
        ("https://demo.example/", "https://demo.example/?convite="),
    ):
        if base is None:
            monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
        else:
            monkeypatch.setenv("PORTAL_BASE_URL", base)
        get_settings.cache_clear()
        url = f"sqlite:///{tmp_path / f'port-{bool(base)}.db'}"
        args = ["--database-url", url, "--companies", "4", "--beneficiaries", "40"]
        assert main([*args, "--port", "8620"]) == 0
        engine = make_engine(url)
        with Session(engine) as session:
            body = session.scalars(select(OutboxEmail.body)).one()
        engine.dispose()
        assert expected in body
    get_settings.cache_clear()
