"""Reports on both databases: every total equals an independent count over the same data,
personal data is masked on screen and in the exports, and no company reaches another's
rows through a filter."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import Date, Engine, case, func, literal, select, update

from components.report_widgets import ExportHeader, to_csv, to_xlsx
from data.db import make_session_factory
from data.models import (
    Beneficiary,
    Company,
    Invoice,
    Movement,
    Plan,
    Provider,
    UtilizationEvent,
)
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services.access import accounts as access
from services.actors import Actor, Permission, Role
from services.exports import neutralise
from services.reports import analytics
from services.reports import beneficiaries as reports
from services.reports.beneficiaries import (
    ACTIVE,
    INACTIVE,
    MASKED_DATE,
    BeneficiaryFilters,
    Period,
    UtilizationSelection,
)
from services.rules.age_bands import age_band, age_on
from services.rules.card_numbers import format_card_number
from services.rules.documents import format_cpf, mask_cpf
from services.rules.errors import DomainError
from tests.conftest import _fresh_postgres, _fresh_sqlite

TODAY = date(2026, 11, 26)
PERIOD = Period.last(12, today=TODAY)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UnitOfWork]:
    """One seeded database per engine, shared by the read-only tests of this module."""
    fresh = _fresh_sqlite(tmp_path_factory) if request.param == "sqlite" else _fresh_postgres()
    engine = next(fresh)
    seed_demo(engine, companies=8, beneficiaries=400, today=TODAY)
    yield UnitOfWork(make_session_factory(engine))
    fresh.close()


def _actor(uow: UnitOfWork, code: str) -> Actor:
    actor = access.actor_for_user(uow=uow, user_code=code)
    assert actor is not None
    return actor


def _company_id(uow: UnitOfWork, code: str) -> int:
    with uow:
        return uow.session.scalars(select(Company.id).where(Company.code == code)).one()


def _people(uow: UnitOfWork, company_id: int) -> list[Beneficiary]:
    with uow:
        rows = uow.session.scalars(
            select(Beneficiary).where(Beneficiary.company_id == company_id)
        ).all()
        uow.session.expunge_all()
        return list(rows)


def _matches(b: Beneficiary, status: str | None, f: BeneficiaryFilters) -> bool:
    """The filters written again, plainly, in Python."""
    if status and b.status != status:
        return False
    if f.plan_ids and b.plan_id not in f.plan_ids:
        return False
    if f.holders is not None and (b.relationship_code == 1) != f.holders:
        return False
    if f.relationships and b.relationship_code not in f.relationships:
        return False
    if f.age_bands and age_band(age_on(b.birth_date, TODAY)) not in f.age_bands:
        return False
    if f.effective_from and b.effective_date < f.effective_from:
        return False
    if f.effective_to and b.effective_date > f.effective_to:
        return False
    if f.exclusion_from and (b.exclusion_date is None or b.exclusion_date < f.exclusion_from):
        return False
    if f.exclusion_to and (b.exclusion_date is None or b.exclusion_date > f.exclusion_to):
        return False
    if f.exclusion_reasons and b.exclusion_reason not in f.exclusion_reasons:
        return False
    if f.search:
        term = f.search.lower()
        digits = "".join(ch for ch in f.search if ch.isdigit())
        by_card = len(digits) >= 4 and digits in b.card_number
        if term not in b.name.lower() and not by_card:
            return False
    return True


# ---------------------------------------------------------------- beneficiaries


def _filter_cases(people: list[Beneficiary]) -> list[BeneficiaryFilters]:
    sample = next(b for b in people if b.relationship_code == 1 and b.status == ACTIVE)
    plan = sample.plan_id
    return [
        BeneficiaryFilters(),
        BeneficiaryFilters(plan_ids=(plan,)),
        BeneficiaryFilters(holders=True),
        BeneficiaryFilters(holders=False),
        BeneficiaryFilters(relationships=(3, 4)),
        BeneficiaryFilters(age_bands=(1,)),
        BeneficiaryFilters(age_bands=(2, 5, 10)),
        BeneficiaryFilters(effective_from=date(2025, 1, 1), effective_to=date(2025, 12, 31)),
        BeneficiaryFilters(plan_ids=(plan,), holders=False, age_bands=(1, 2)),
        BeneficiaryFilters(search=sample.name.split()[0].upper()),
        BeneficiaryFilters(search=sample.card_number[-6:]),
        BeneficiaryFilters(exclusion_reasons=("demissao",)),
        BeneficiaryFilters(exclusion_from=date(2026, 1, 1), exclusion_to=date(2026, 11, 30)),
    ]


@pytest.mark.parametrize("status", [ACTIVE, INACTIVE])
def test_beneficiary_report_totals_equal_an_independent_count(world, status):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    people = _people(world, company_id)
    for f in _filter_cases(people):
        report = reports.beneficiary_report(
            uow=world.for_company(company_id),
            actor=actor,
            status=status,
            filters=f,
            today=TODAY,
        )
        expected = [b for b in people if _matches(b, status, f)]
        assert report.total == len(expected), f
        assert report.holders == sum(b.relationship_code == 1 for b in expected), f
        assert report.dependents == report.total - report.holders
        # card numbers shown in groups of four (0001 0000 0000 0123), on screen and in files
        assert sorted(report.table["Carteirinha"]) == sorted(
            format_card_number(b.card_number) for b in expected
        )
        assert int(report.by_plan["Beneficiários"].sum()) == report.total
        assert int(report.pyramid["Beneficiários"].sum()) == report.total
        assert int(report.by_relationship["Beneficiários"].sum()) == report.total


def test_the_age_pyramid_uses_the_rn63_bands_and_sex(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    people = [b for b in _people(world, company_id) if b.status == ACTIVE]
    report = reports.beneficiary_report(
        uow=world.for_company(company_id),
        actor=actor,
        status=ACTIVE,
        filters=BeneficiaryFilters(),
        today=TODAY,
    )
    expected = Counter((age_band(age_on(b.birth_date, TODAY)), b.sex) for b in people)
    got = {
        (int(r.Faixa), {"Masculino": "M", "Feminino": "F"}[r.Sexo]): int(r.Beneficiários)
        for r in report.pyramid.itertuples()
    }
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert len(report.pyramid) == 20  # every band and sex, zeros included


def test_inclusions_and_exclusions_by_month_count_every_status(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    people = _people(world, company_id)
    report = reports.beneficiary_report(
        uow=world.for_company(company_id),
        actor=actor,
        status=INACTIVE,
        filters=BeneficiaryFilters(),
        today=TODAY,
    )
    first = reports.add_months(TODAY, -11)
    inclusions = Counter(
        reports.month_start(b.effective_date) for b in people if b.effective_date >= first
    )
    exclusions = Counter(
        reports.month_start(b.exclusion_date)
        for b in people
        if b.exclusion_date and b.exclusion_date >= first
    )
    assert len(report.flow) == 12
    for row in report.flow.itertuples():
        assert row.Inclusões == inclusions.get(row.Mês, 0)
        assert row.Exclusões == exclusions.get(row.Mês, 0)


def test_cpf_and_birth_date_are_masked_without_the_personal_data_permission(world):
    company_id = _company_id(world, "10001")
    helper = _actor(world, "100002")  # reports, no personal_data
    master = _actor(world, "100001")
    assert not helper.can(Permission.PERSONAL_DATA) and master.can(Permission.PERSONAL_DATA)
    people = {format_card_number(b.card_number): b for b in _people(world, company_id)}
    masked = reports.beneficiary_report(
        uow=world.for_company(company_id),
        actor=helper,
        status=ACTIVE,
        filters=BeneficiaryFilters(),
        today=TODAY,
    )
    full = reports.beneficiary_report(
        uow=world.for_company(company_id),
        actor=master,
        status=ACTIVE,
        filters=BeneficiaryFilters(),
        today=TODAY,
    )
    assert not masked.personal_data and full.personal_data
    for row in masked.table.itertuples():
        person = people[row.Carteirinha]
        assert (mask_cpf(person.cpf) if person.cpf else "") == row.CPF
        assert row.Nascimento == MASKED_DATE
    for row in full.table.itertuples():
        person = people[row.Carteirinha]
        assert (format_cpf(person.cpf) if person.cpf else "") == row.CPF
        assert row.Nascimento == person.birth_date

    header = ExportHeader("Relatório", (("Período", "x"), ("Filtros", "Nenhum")))
    text = to_csv(masked.table, header).decode("utf-8-sig")
    book = load_workbook(io.BytesIO(to_xlsx(masked.table, header)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    start = rows.index(tuple(masked.table.columns))
    cells = [c for row in rows for c in row if isinstance(c, str)]
    for person in people.values():
        if person.cpf:
            assert person.cpf not in text and format_cpf(person.cpf) not in text
            assert format_cpf(person.cpf) not in cells and person.cpf not in cells
    assert {row[3] for row in rows[start + 1 :]} == {MASKED_DATE}
    assert {line.split(";")[3] for line in text.splitlines()[len(rows) - len(masked.table) :]} == {
        MASKED_DATE
    }

    top = reports.utilization_by_beneficiary(
        uow=world.for_company(company_id), actor=helper, period=PERIOD
    )
    assert all(cpf.startswith("***.") or cpf == "" for cpf in top["CPF"])


def test_exports_open_with_the_header_rows_and_every_table_row(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    report = reports.beneficiary_report(
        uow=world.for_company(company_id),
        actor=actor,
        status=ACTIVE,
        filters=BeneficiaryFilters(),
        today=TODAY,
    )
    header = ExportHeader(
        "Relatório de beneficiários ativos",
        (
            ("Empresa", "10001"),
            ("Período", "Posição em 26/11/2026"),
            ("Filtros", 'Nome ou carteirinha contém: =HYPERLINK("http://x")'),
        ),
    )
    book = load_workbook(io.BytesIO(to_xlsx(report.table, header)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Relatório de beneficiários ativos"
    assert rows[2][:2] == ("Período", "Posição em 26/11/2026")
    assert rows[3][1] == 'Nome ou carteirinha contém: =HYPERLINK("http://x")'  # not a formula
    table_start = rows.index(tuple(report.table.columns))
    assert len(rows) - table_start - 1 == report.total
    data_rows = rows[table_start + 1 :]
    assert sorted(r[1] for r in data_rows) == sorted(report.table["Carteirinha"])
    assert all(isinstance(r[9], date) for r in data_rows)  # dates stay dates

    lines = list(
        csv.reader(io.StringIO(to_csv(report.table, header).decode("utf-8-sig")), delimiter=";")
    )
    assert lines[0] == ["Relatório de beneficiários ativos"]
    assert lines[2] == ["Período", "Posição em 26/11/2026"]
    start = lines.index(list(report.table.columns))
    assert len(lines) - start - 1 == report.total


def test_text_that_looks_like_a_formula_is_neutralised_in_every_export():
    assert [neutralise(v) for v in ["=1+1", "+55", "-2", "@SUM(A1)", "\tx", "Ana", ""]] == [
        "'=1+1",
        "'+55",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "Ana",
        "",
    ]
    import pandas as pd

    df = pd.DataFrame(
        {"Nome": ["=cmd|' /C calc'!A0", "Bia"], "Custo (R$)": [Decimal("-1.50"), Decimal("2")]}
    )
    header = ExportHeader("=título", (("Filtros", "@evil"),))
    book = load_workbook(io.BytesIO(to_xlsx(df, header)))
    cells = {c.coordinate: c for row in book.active.iter_rows() for c in row}
    assert cells["A1"].value == "'=título" and cells["A1"].data_type == "s"
    assert cells["B2"].value == "'@evil"
    assert cells["A5"].value == "'=cmd|' /C calc'!A0" and cells["A5"].data_type == "s"
    assert cells["B5"].value == Decimal("-1.5") or cells["B5"].value == -1.5  # numbers kept
    text = to_csv(df, header).decode("utf-8-sig")
    assert "'=cmd" in text and ";-1,50" in text and "'@evil" in text


def test_a_company_user_never_reaches_another_company(world):
    actor = _actor(world, "100001")  # group Horizonte: 10001-10003
    outsider = _company_id(world, "10004")
    for call in (
        lambda: reports.beneficiary_report(
            uow=world.for_company(outsider),
            actor=actor,
            status=ACTIVE,
            filters=BeneficiaryFilters(),
            today=TODAY,
        ),
        lambda: reports.beneficiary_options(uow=world.for_company(outsider), actor=actor),
        lambda: reports.utilization_overview(
            uow=world.for_company(outsider), actor=actor, period=PERIOD
        ),
        lambda: reports.utilization_by_beneficiary(
            uow=world.for_company(outsider), actor=actor, period=PERIOD
        ),
        lambda: reports.utilization_overview(
            uow=world.for_company(_company_id(world, "10001")),
            actor=actor,
            period=PERIOD,
            company_ids=[outsider],
        ),
        lambda: analytics.portfolio_companies(uow=world, actor=actor),
    ):
        with pytest.raises(DomainError):
            call()

    # Filters with another company's plan or card number find nothing there.
    own = _company_id(world, "10001")
    foreign = _people(world, outsider)[0]
    for f in (
        BeneficiaryFilters(plan_ids=(foreign.plan_id,)),
        BeneficiaryFilters(search=foreign.card_number),
    ):
        for status in (ACTIVE, INACTIVE):
            report = reports.beneficiary_report(
                uow=world.for_company(own), actor=actor, status=status, filters=f, today=TODAY
            )
            assert format_card_number(foreign.card_number) not in set(report.table["Carteirinha"])
            own_cards = {format_card_number(b.card_number) for b in _people(world, own)}
            assert set(report.table["Carteirinha"]) <= own_cards


def test_a_user_without_the_reports_permission_is_refused(world):
    company_id = _company_id(world, "10001")
    finance_only = replace(_actor(world, "100001"), permissions=frozenset({Permission.FINANCE}))
    with pytest.raises(DomainError, match="Relatórios"):
        reports.beneficiary_report(
            uow=world.for_company(company_id),
            actor=finance_only,
            status=ACTIVE,
            filters=BeneficiaryFilters(),
            today=TODAY,
        )


def test_contradictory_date_ranges_are_refused_with_a_message():
    with pytest.raises(DomainError, match="anterior"):
        reports._check_filters(
            BeneficiaryFilters(effective_from=date(2026, 2, 1), effective_to=date(2026, 1, 1))
        )
    with pytest.raises(DomainError):
        Period(date(2026, 5, 1), date(2026, 4, 1))
    with pytest.raises(DomainError):
        Period(date(2026, 5, 2), date(2026, 6, 1))


@pytest.mark.parametrize("today", [date(2026, 11, 26), date(2028, 2, 29), date(2027, 3, 1)])
def test_the_sql_age_band_agrees_with_the_rule_on_every_birthday_edge(world, today):
    births = [date(2008, 2, 29), date(2000, 2, 29)]
    for years in (18, 19, 23, 24, 58, 59):
        edge = reports.years_before(today, years)
        births += [edge - timedelta(days=1), edge, edge + timedelta(days=1)]
    expected = [age_band(age_on(b, today)) for b in births]
    with world:
        got = list(
            world.session.execute(
                select(*[reports.age_band_expr(literal(b, Date), today) for b in births])
            ).one()
        )
        picked = list(
            world.session.execute(
                select(
                    *[
                        case(
                            (reports._age_band_where(literal(b, Date), (band,), today), 1), else_=0
                        )
                        for b, band in zip(births, expected, strict=True)
                    ]
                )
            ).one()
        )
        others = list(
            world.session.execute(
                select(
                    *[
                        case(
                            (reports._age_band_where(literal(b, Date), (band % 10 + 1,), today), 1),
                            else_=0,
                        )
                        for b, band in zip(births, expected, strict=True)
                    ]
                )
            ).one()
        )
    assert got == expected
    assert picked == [1] * len(births)
    assert others == [0] * len(births)


# ---------------------------------------------------------------- utilization


def _events(uow: UnitOfWork, company_ids: set[int], period: Period) -> list[tuple]:
    u = UtilizationEvent
    with uow:
        return uow.session.execute(
            select(
                u.company_id,
                u.beneficiary_id,
                u.provider_id,
                u.event_date,
                u.tuss_code,
                u.procedure_group,
                u.amount,
                u.procedure_name,
            ).where(
                u.company_id.in_(company_ids),
                u.event_date >= period.start,
                u.event_date < period.end_exclusive,
            )
        ).all()


def _premiums(uow: UnitOfWork, company_ids: set[int], period: Period) -> dict[date, Decimal]:
    out: dict[date, Decimal] = defaultdict(Decimal)
    with uow:
        for month, amount in uow.session.execute(
            select(Invoice.billing_month, Invoice.amount).where(
                Invoice.company_id.in_(company_ids),
                Invoice.status != "cancelled",
                Invoice.billing_month >= period.start,
                Invoice.billing_month < period.end_exclusive,
            )
        ):
            out[month] += amount
    return out


def _pct(num: Decimal, den: Decimal) -> Decimal | None:
    return None if not den else (num * 100 / den).quantize(Decimal("0.01"))


def test_utilization_figures_equal_independent_sums(world):
    actor = _actor(world, "100002")
    company_id = _company_id(world, "10001")
    events = _events(world, {company_id}, PERIOD)
    premiums = _premiums(world, {company_id}, PERIOD)
    assert events and premiums
    ov = reports.utilization_overview(uow=world.for_company(company_id), actor=actor, period=PERIOD)
    summary = ov.summary()
    cost = sum((e.amount for e in events), Decimal(0))
    assert summary.procedures == len(events)
    assert summary.cost == cost
    assert summary.beneficiaries_using == len({e.beneficiary_id for e in events})
    assert summary.premiums == sum(premiums.values(), Decimal(0))
    assert summary.loss_ratio == _pct(cost, summary.premiums)

    by_month = ov.by_month()
    assert list(by_month["Mês"]) == PERIOD.months
    for row in by_month.itertuples(index=False):
        month, n, month_cost, billed, ratio = row
        mine = [e for e in events if reports.month_start(e.event_date) == month]
        assert n == len(mine)
        assert month_cost == sum((e.amount for e in mine), Decimal(0))
        assert billed == premiums.get(month, Decimal(0))
        assert ratio == _pct(month_cost, billed)

    by_group = ov.by_group()
    groups = Counter(e.procedure_group for e in events)
    assert dict(zip(by_group["Grupo"], by_group["Procedimentos"], strict=True)) == groups
    assert sum(by_group["Custo (R$)"]) == cost

    by_procedure = reports.utilization_by_procedure(
        uow=world.for_company(company_id), actor=actor, period=PERIOD
    )
    assert dict(
        zip(by_procedure["Código TUSS"], by_procedure["Quantidade"], strict=True)
    ) == Counter(e.tuss_code for e in events)
    assert sum(by_procedure["Custo (R$)"]) == cost

    provider_cost: dict[int, Decimal] = defaultdict(Decimal)
    for e in events:
        provider_cost[e.provider_id] += e.amount
    top = reports.utilization_by_provider(
        uow=world.for_company(company_id), actor=actor, period=PERIOD, top=5
    )
    expected = sorted(provider_cost.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    with world:
        names = dict(world.session.execute(select(Provider.id, Provider.name)).all())
    assert list(top["Prestador"]) == [names[pid] for pid, _ in expected]
    assert list(top["Custo (R$)"]) == [c for _, c in expected]

    person_cost: dict[int, Decimal] = defaultdict(Decimal)
    for e in events:
        person_cost[e.beneficiary_id] += e.amount
    top_people = reports.utilization_by_beneficiary(
        uow=world.for_company(company_id), actor=actor, period=PERIOD, top=7
    )
    assert list(top_people["Custo (R$)"]) == sorted(person_cost.values(), reverse=True)[:7]


def test_a_click_on_a_month_group_or_procedure_narrows_the_figures_below(world):
    actor = _actor(world, "100001")
    company_id = _company_id(world, "10001")
    events = _events(world, {company_id}, PERIOD)
    month = PERIOD.months[3]
    group = Counter(e.procedure_group for e in events).most_common(1)[0][0]
    ov = reports.utilization_overview(uow=world.for_company(company_id), actor=actor, period=PERIOD)
    in_month = [e for e in events if reports.month_start(e.event_date) == month]
    assert sum(ov.by_group(month)["Procedimentos"]) == len(in_month)

    selection = UtilizationSelection(month=month, procedure_group=group)
    chosen = [e for e in in_month if e.procedure_group == group]
    procs = reports.utilization_by_procedure(
        uow=world.for_company(company_id), actor=actor, period=PERIOD, selection=selection
    )
    assert set(procs["Grupo"]) == {group}
    assert sum(procs["Quantidade"]) == len(chosen)
    code = procs["Código TUSS"].iloc[0]
    narrowed = replace(selection, tuss_code=code)
    providers = reports.utilization_by_provider(
        uow=world.for_company(company_id), actor=actor, period=PERIOD, selection=narrowed, top=500
    )
    assert sum(providers["Procedimentos"]) == sum(e.tuss_code == code for e in chosen)


def test_beneficiaries_using_follow_the_events_company_after_a_transfer(engine: Engine):
    seed_demo(engine, companies=3, beneficiaries=120, today=TODAY)
    uow = UnitOfWork(make_session_factory(engine))
    manager = _actor(uow, "900001")
    source, target = _company_id(uow, "10001"), _company_id(uow, "10002")
    with uow:
        moved = uow.session.scalars(
            select(UtilizationEvent.beneficiary_id)
            .where(
                UtilizationEvent.company_id == source,
                UtilizationEvent.event_date >= PERIOD.start,
                UtilizationEvent.event_date < PERIOD.end_exclusive,
            )
            .limit(1)
        ).one()
        uow.session.execute(
            update(Beneficiary).where(Beneficiary.id == moved).values(company_id=target)
        )
        uow.session.add(
            Movement(
                company_id=target,
                beneficiary_id=moved,
                kind="transfer",
                channel="individual",
                effective_date=TODAY,
                received_at=reports_now(),
                billing_month=date(2026, 12, 1),
                from_company_id=source,
            )
        )
        uow.commit()
    ov = reports.utilization_overview(
        uow=uow, actor=manager, period=PERIOD, company_ids=[source, target]
    )
    u = UtilizationEvent
    with uow:
        expected = dict(
            uow.session.execute(
                select(u.company_id, func.count(func.distinct(u.beneficiary_id)))
                .where(
                    u.company_id.in_([source, target]),
                    u.event_date >= PERIOD.start,
                    u.event_date < PERIOD.end_exclusive,
                )
                .group_by(u.company_id)
            ).all()
        )
    assert (
        dict(zip(ov.using["company_id"], ov.using["beneficiaries_using"], strict=True)) == expected
    )
    # The source company's own report (its unit of work scoped to it) counts the moved
    # person too: the scoping does not hide a transfer's history from the old company.
    own = reports.utilization_overview(uow=uow.for_company(source), actor=manager, period=PERIOD)
    assert own.using["beneficiaries_using"].sum() == expected[source]


def reports_now():  # noqa: ANN201
    from datetime import UTC, datetime

    return datetime(2026, 11, 26, 12, tzinfo=UTC)


# ---------------------------------------------------------------- portfolio


def test_the_portfolio_ranking_and_lives_equal_independent_counts(world):
    manager = _actor(world, "900001")
    companies = analytics.portfolio_companies(uow=world, actor=manager)
    ids = [c.id for c in companies]
    assert len(ids) == 8
    ov = reports.utilization_overview(uow=world, actor=manager, period=PERIOD, company_ids=ids)
    lives = analytics.portfolio_lives(
        uow=world, actor=manager, period=PERIOD, company_ids=ids, today=TODAY
    )
    ranking = analytics.portfolio_ranking(ov, lives, companies)
    events = _events(world, set(ids), PERIOD)
    last_day = PERIOD.end_exclusive - timedelta(days=1)
    with world:
        people = world.session.execute(
            select(Beneficiary.company_id, Beneficiary.effective_date, Beneficiary.exclusion_date)
        ).all()
    by_label = {c.label: c.id for c in companies}
    ratios = []
    for row in ranking.to_dict("records"):
        cid = by_label[row["Empresa"]]
        mine = [e for e in events if e.company_id == cid]
        cost = sum((e.amount for e in mine), Decimal(0))
        billed = sum(_premiums(world, {cid}, PERIOD).values(), Decimal(0))
        assert row["Procedimentos"] == len(mine)
        assert row["Custo (R$)"] == cost
        assert row["Faturado (R$)"] == billed
        assert row["Sinistralidade (%)"] == _pct(cost, billed)
        assert row["Beneficiários atendidos"] == len({e.beneficiary_id for e in mine})

        def active_on(day: date, cid: int = cid) -> int:
            return sum(
                1
                for c, eff, exc in people
                if c == cid and eff <= day and (exc is None or exc > day)
            )

        assert row["Vidas no início"] == active_on(PERIOD.start)
        assert row["Vidas no fim"] == active_on(last_day)
        ratios.append(row["Sinistralidade (%)"])
    assert ratios == sorted(ratios, reverse=True)
    assert ov.summary().procedures == len(events)


def test_comparing_series_gives_each_its_own_totals(world):
    manager = _actor(world, "900001")
    ids = sorted(manager.company_ids)[:3]
    before, recent = analytics.default_compare_periods(TODAY)
    series = [analytics.CompareSeries(str(c), (c,), recent) for c in ids]
    series.append(analytics.CompareSeries("antes", tuple(ids), before))
    compared = analytics.utilization_compare(uow=world, actor=manager, series=series)
    for s, row in zip(series, compared.to_dict("records"), strict=True):
        summary = reports.utilization_overview(
            uow=world, actor=manager, period=s.period, company_ids=s.company_ids
        ).summary()
        events = _events(world, set(s.company_ids), s.period)
        assert row["Procedimentos"] == summary.procedures == len(events)
        assert row["Custo (R$)"] == summary.cost
        assert row["Faturado (R$)"] == summary.premiums
        assert row["Sinistralidade (%)"] == summary.loss_ratio
        assert row["Beneficiários atendidos"] == len({e.beneficiary_id for e in events})
    with pytest.raises(DomainError, match="duas"):
        analytics.utilization_compare(uow=world, actor=manager, series=series[:1])


@pytest.mark.parametrize(
    ("rows", "columns", "measure"),
    [
        ("company", "month", "cost"),
        ("group", None, "procedures"),
        ("plan", "kind", "using"),
        ("age_band", "sex", "cost_per_beneficiary"),
        ("group", "company", "loss_ratio"),
        ("provider_state", None, "cost"),
        ("procedure", "month", "loss_ratio"),
        ("month", "group", "using"),
    ],
)
def test_the_pivot_cells_equal_independent_sums(world, rows, columns, measure):
    manager = _actor(world, "900001")
    ids = tuple(sorted(manager.company_ids))
    request = analytics.PivotRequest(
        rows=rows, columns=columns, measure=measure, period=PERIOD, company_ids=ids
    )
    result = analytics.utilization_pivot(uow=world, actor=manager, request=request)
    events = _events(world, set(ids), PERIOD)
    last_day = PERIOD.end_exclusive - timedelta(days=1)
    with world:
        people = {b.id: b for b in world.session.scalars(select(Beneficiary))}
        plans = dict(world.session.execute(select(Plan.id, Plan.name)).all())
        states = dict(world.session.execute(select(Provider.id, Provider.state)).all())
        codes = {
            cid: f"{code} · {trade or name}"
            for cid, code, trade, name in world.session.execute(
                select(Company.id, Company.code, Company.trade_name, Company.name)
            )
        }
        world.session.expunge_all()
    sexes = {"M": "Masculino", "F": "Feminino"}

    def label(dim: str, e) -> str:  # noqa: ANN001
        b = people[e.beneficiary_id]
        return {
            "company": lambda: codes[e.company_id],
            "month": lambda: f"{e.event_date:%m/%Y}",
            "group": lambda: e.procedure_group,
            "plan": lambda: plans[b.plan_id],
            "kind": lambda: "Titular" if b.relationship_code == 1 else "Dependente",
            "sex": lambda: sexes[b.sex],
            "age_band": lambda: reports.age_band_label(age_band(age_on(b.birth_date, last_day))),
            "provider_state": lambda: states[e.provider_id],
            "procedure": lambda: f"{e.tuss_code} · {e.procedure_name}",
        }[dim]()

    cells: dict[tuple, list] = defaultdict(list)
    for e in events:
        key = (label(rows, e), label(columns, e) if columns else "")
        cells[key].append(e)
    premiums = _premiums(world, set(ids), PERIOD)
    total_premium = sum(premiums.values(), Decimal(0))
    with world:
        by_company = dict(
            world.session.execute(
                select(Invoice.company_id, func.sum(Invoice.amount))
                .where(
                    Invoice.billing_month >= PERIOD.start,
                    Invoice.billing_month < PERIOD.end_exclusive,
                    Invoice.status != "cancelled",
                )
                .group_by(Invoice.company_id)
            ).all()
        )
    got = {}
    for rec in result.long.to_dict("records"):
        values = list(rec.values())
        key = (values[0], values[1] if columns else "")
        got[key] = values[-1]
    assert set(got) == set(cells)
    for key, evs in cells.items():
        cost = sum((e.amount for e in evs), Decimal(0))
        users = len({e.beneficiary_id for e in evs})
        expected = {
            "cost": cost,
            "procedures": len(evs),
            "using": users,
            "cost_per_beneficiary": (cost / users).quantize(Decimal("0.01")),
        }.get(measure)
        if measure == "loss_ratio" and columns == "company":
            company_id = next(c for c, lbl in codes.items() if lbl == key[1])
            expected = _pct(cost, by_company[company_id])
        elif measure == "loss_ratio":  # by month
            month = date(int(key[1][3:]), int(key[1][:2]), 1)
            expected = _pct(cost, premiums[month])
        assert got[key] == expected, key
    assert total_premium > 0


def test_the_loss_ratio_cannot_be_opened_by_who_used_the_plan(world):
    manager = _actor(world, "900001")
    request = analytics.PivotRequest(
        rows="sex", measure="loss_ratio", period=PERIOD, company_ids=tuple(manager.company_ids)
    )
    with pytest.raises(DomainError, match="sinistralidade"):
        analytics.utilization_pivot(uow=world, actor=manager, request=request)


def test_an_account_manager_reaches_only_the_companies_of_the_portfolio(world):
    manager = _actor(world, "900001")
    some = frozenset(sorted(manager.company_ids)[:2])
    narrow = replace(manager, company_ids=some)
    outside = sorted(manager.company_ids)[-1]
    assert narrow.role is Role.ACCOUNT_MANAGER
    with pytest.raises(DomainError):
        reports.utilization_overview(
            uow=world, actor=narrow, period=PERIOD, company_ids=[*some, outside]
        )
    with pytest.raises(DomainError):
        analytics.utilization_pivot(
            uow=world,
            actor=narrow,
            request=analytics.PivotRequest(
                rows="company", measure="cost", period=PERIOD, company_ids=(outside,)
            ),
        )
    assert {c.id for c in analytics.portfolio_companies(uow=world, actor=narrow)} == some
