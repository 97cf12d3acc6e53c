"""Tabelas de preço (account managers) and the contract's prices on Planos contratados."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select

from components.navigation import pages_for
from components.plan_pdf import general_conditions_pdf
from data.db import make_engine, make_session_factory
from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    PriceBand,
    PriceTable,
)
from data.uow import UnitOfWork
from services import companies
from services.access import accounts as access
from services.billing import prices
from services.rules.age_bands import age_band_label
from services.rules.prices import anniversary_months, month_options, next_anniversary
from tests.pages.conftest import by_label, log_in
from tests.pages.test_br_formats import table_problems

PAGE = "pages/price_tables.py"
SPEC_VECTOR = [
    "100,00",
    "120,00",
    "140,00",
    "160,00",
    "180,00",
    "200,00",
    "300,00",
    "400,00",
    "500,00",
    "600,00",
]


def _session(url: str):  # noqa: ANN202
    return make_session_factory(make_engine(url))()


def _company(url: str, code: str = "10001") -> Company:
    with _session(url) as s:
        company = s.scalars(select(Company).where(Company.code == code)).one()
        s.expunge(company)
        return company


def _with_contract_tables(url: str, code: str = "10001") -> list[int]:
    """Every contracted plan of the company holds a contract table (a copy of the plan's
    reference tables where the seed gave it none); the contracted plan ids, by plan."""
    with _session(url) as s:
        company = s.scalars(select(Company).where(Company.code == code)).one()
        cps = s.scalars(
            select(ContractedPlan)
            .where(ContractedPlan.company_id == company.id)
            .order_by(ContractedPlan.plan_id)
        ).all()
        for cp in cps:
            has = s.scalars(select(PriceTable.id).where(PriceTable.contracted_plan_id == cp.id))
            if has.first() is None:
                prices.copy_reference_tables(s, cp)
        s.commit()
        return [cp.id for cp in cps]


def _set_lives(url: str, company_id: int, n: int) -> None:
    """Exactly ``n`` people covered by the company from long ago (coverage periods)."""
    with _session(url) as s:
        s.execute(delete(CoveragePeriod).where(CoveragePeriod.company_id == company_id))
        people = s.execute(
            select(Beneficiary.id, Beneficiary.plan_id)
            .where(Beneficiary.company_id == company_id)
            .order_by(Beneficiary.id)
            .limit(n)
        ).all()
        assert len(people) == n
        s.add_all(
            CoveragePeriod(
                beneficiary_id=b, company_id=company_id, plan_id=p, start_date=date(2000, 1, 1)
            )
            for b, p in people
        )
        s.commit()


def _open(at, page: str = PAGE):  # noqa: ANN001, ANN202
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _submit(at, label: str):  # noqa: ANN001, ANN202
    by_label(at.get("form_submit_button"), label).click().run()
    assert not at.exception, at.exception
    return at


def _errors(at) -> str:  # noqa: ANN001
    return " ".join(e.value for e in at.error)


def _next_anniversary(start: date, today: date) -> date:
    year = today.year if start.month > today.month else today.year + 1
    return date(year, start.month, 1)


def test_the_price_tables_page_is_for_account_managers_only(app):
    at = log_in(app(), "100001")
    assert "Tabelas de preço" not in [p.title for p in pages_for(at.session_state["actor"])]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    manager = log_in(app(), "900001")
    assert "Tabelas de preço" in [p.title for p in pages_for(manager.session_state["actor"])]


def test_manager_sees_each_contracts_tables_and_saves_a_new_one_checked_by_rn_63(app, portal_db):
    cps = _with_contract_tables(portal_db)
    at = _open(log_in(app(), "900001"))
    assert at.title[0].value == "Tabelas de preço"
    assert {"Início do contrato", "Mês de aniversário", "Vidas hoje", "Mudança de faixa"} <= {
        m.label for m in at.metric
    }
    assert table_problems(at) == []  # headers labelled, no index column
    history = [d.value for d in at.dataframe if "Vigente de" in d.value.columns]
    assert len(history) == len(cps)
    current = [d.value for d in at.dataframe if "Mensalidade" in d.value.columns]
    assert all(list(c.columns) == ["Faixa", "Mensalidade"] and len(c) == 10 for c in current)

    months = month_options(date.today(), 12, 24)
    by_label(at.selectbox, "Vigente a partir de").select_index(len(months) - 2)
    for band, value in enumerate([*SPEC_VECTOR[:9], "600,01"], start=1):
        by_label(at.text_input, f"Faixa {age_band_label(band)} (R$)").input(value)
    _submit(at, "Salvar tabela")
    assert "RN 63/2003, art. 3º, I" in _errors(at) and "600,01" in _errors(at)
    with _session(portal_db) as s:
        assert (
            s.scalars(
                select(PriceTable).where(
                    PriceTable.contracted_plan_id == cps[0], PriceTable.valid_from == months[-2]
                )
            ).first()
            is None
        )

    by_label(at.text_input, "Faixa 59 ou mais (R$)").input("600,00")
    _submit(at, "Salvar tabela")
    assert not _errors(at), _errors(at)
    assert any("salva, vigente a partir de" in s.value for s in at.success)
    with _session(portal_db) as s:
        saved = s.scalars(
            select(PriceTable).where(
                PriceTable.contracted_plan_id == cps[0], PriceTable.valid_from == months[-2]
            )
        ).one()
        assert [b.price for b in saved.bands] == [Decimal(v.replace(",", ".")) for v in SPEC_VECTOR]
        assert (
            s.scalars(select(AuditRecord).where(AuditRecord.action == "price_table_save")).first()
            is not None
        )

    # A single-price table: one field, no age band.
    by_label(at.radio, "Tipo de tabela").set_value("single").run()
    assert not [t for t in at.text_input if t.label.startswith("Faixa ")]
    by_label(at.selectbox, "Vigente a partir de").select_index(len(months) - 1)
    by_label(at.text_input, "Preço único (R$)").input("39,90")
    _submit(at, "Salvar tabela")
    assert not _errors(at), _errors(at)
    with _session(portal_db) as s:
        single = s.scalars(
            select(PriceTable).where(
                PriceTable.contracted_plan_id == cps[0], PriceTable.valid_from == months[-1]
            )
        ).one()
        assert single.kind == "single"
        assert [(b.band, b.min_age, b.max_age, b.price) for b in single.bands] == [
            (1, 0, None, Decimal("39.90"))
        ]
        previous = s.get(PriceTable, saved.id)
        assert previous is not None and previous.valid_to == months[-1] - timedelta(days=1)
    history = [d.value for d in at.dataframe if "Vigente de" in d.value.columns][0]
    assert history["Tipo"].iloc[0] == "Preço único"


def test_a_small_contract_is_readjusted_with_the_pool_not_on_its_own(app, portal_db):
    cps = _with_contract_tables(portal_db)
    company = _company(portal_db)
    _set_lives(portal_db, company.id, 5)
    today = date.today()
    month = _next_anniversary(company.contract_start, today)
    at = _open(log_in(app(), "900001"))
    assert any("menos de 30 vidas" in i.value for i in at.info)

    options = month_options(today, 12, 12)
    by_label(at.selectbox, "Mês").select_index(options.index(month))
    by_label(at.text_input, "Percentual do agrupamento (%)").input("10,00")
    _submit(at, "Aplicar ao agrupamento")
    assert not _errors(at), _errors(at)
    assert any("10001 (5 vidas)" in s.value for s in at.success), [s.value for s in at.success]
    with _session(portal_db) as s:
        new = s.scalars(
            select(PriceTable).where(
                PriceTable.contracted_plan_id.in_(cps), PriceTable.valid_from == month
            )
        ).all()
        assert len(new) == len(cps)
        assert {(t.pooled, t.readjustment_pct) for t in new} == {(True, Decimal("10.00"))}

    # Again: 10001 is left out, with the reason.
    by_label(at.selectbox, "Mês").select_index(options.index(month))
    by_label(at.text_input, "Percentual do agrupamento (%)").input("10,00")
    _submit(at, "Aplicar ao agrupamento")
    assert any(w.value.startswith("10001") and "já foi aplicado" in w.value for w in at.warning)

    # On its own, the contract is refused: it takes the pool's percentage.
    by_label(at.text_input, "Percentual de reajuste (%)").input("7,5")
    _submit(at, "Aplicar reajuste ao contrato")
    assert "menos de 30" in _errors(at)


def test_a_contract_of_30_lives_is_readjusted_on_its_anniversary(app, portal_db):
    cps = _with_contract_tables(portal_db)
    company = _company(portal_db)
    _set_lives(portal_db, company.id, 30)
    today = date.today()
    month = _next_anniversary(company.contract_start, today)
    at = _open(log_in(app(), "900001"))
    options = anniversary_months(company.contract_start, today)
    assert len(by_label(at.selectbox, "Mês de aniversário").options) == len(options)
    assert by_label(at.selectbox, "Mês de aniversário").value == next_anniversary(
        company.contract_start, today
    )
    by_label(at.text_input, "Percentual de reajuste (%)").input("abc")
    _submit(at, "Aplicar reajuste ao contrato")
    assert "Percentual de reajuste: informe um número" in _errors(at)

    by_label(at.selectbox, "Mês de aniversário").select_index(options.index(month))
    by_label(at.text_input, "Percentual de reajuste (%)").input("7,35")
    _submit(at, "Aplicar reajuste ao contrato")
    assert not _errors(at), _errors(at)
    assert any("reajustado a partir de" in s.value for s in at.success)
    with _session(portal_db) as s:
        new = s.scalars(
            select(PriceTable).where(
                PriceTable.contracted_plan_id.in_(cps), PriceTable.valid_from == month
            )
        ).all()
        assert len(new) == len(cps)
        assert {(t.pooled, t.readjustment_pct) for t in new} == {(False, Decimal("7.35"))}


def test_manager_sets_the_band_change_rule(app, portal_db):
    at = _open(log_in(app(), "900001"))
    by_label(at.radio, "Quando muda a faixa etária").set_value("birthday_month")
    _submit(at, "Salvar regra")
    assert not _errors(at), _errors(at)
    assert any("no mês do aniversário" in s.value for s in at.success)
    assert _company(portal_db).band_change == "birthday_month"
    metric = by_label(at.metric, "Mudança de faixa")
    assert metric.value == "No mês do aniversário"


# ---------------------------------------------------------------- Planos contratados


def test_company_users_see_the_contracts_single_price_with_no_band(app, portal_db):
    cps = _with_contract_tables(portal_db)
    today = date.today()
    with _session(portal_db) as s:  # the first plan's current contract table: one price
        table = s.scalars(
            select(PriceTable)
            .where(PriceTable.contracted_plan_id == cps[0], PriceTable.valid_from <= today)
            .order_by(PriceTable.valid_from.desc())
        ).first()
        assert table is not None
        s.execute(delete(PriceBand).where(PriceBand.price_table_id == table.id))
        table.kind, table.valid_to = "single", None
        plan_id = table.plan_id
        s.add(
            PriceBand(
                price_table_id=table.id, band=1, min_age=0, max_age=None, price=Decimal("39.90")
            )
        )
        s.execute(
            delete(PriceTable).where(
                PriceTable.contracted_plan_id == cps[0], PriceTable.valid_from > table.valid_from
            )
        )
        s.commit()
    factory = make_session_factory(make_engine(portal_db))
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    assert actor is not None
    plans = companies.company_plans(
        uow=UnitOfWork(factory).for_company(actor.home_company_id or 0), actor=actor, today=today
    )
    first = next(p for p in plans if p.plan_id == plan_id)
    assert first.single_price and [b.price for b in first.bands] == [Decimal("39.90")]

    at = _open(log_in(app(), "100001"), "pages/plans.py")
    assert "R$ 39,90" in [m.value for m in at.metric if m.label == "Mensalidade"]
    assert any("Preço único" in m.value for m in at.markdown)
    for frame in (d.value for d in at.dataframe):
        assert "R$ 39,90" not in set(frame.get("Mensalidade", []))
    banded = [p for p in plans if p.bands and not p.single_price]
    assert len([d for d in at.dataframe if "Faixa" in d.value.columns]) == len(banded)
    pdf = general_conditions_pdf(first, "10001 · Teste")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    prices_part = text.split("Preço único do contrato", 1)[1]  # after the conditions
    assert "Mensalidade (todas as idades)" in prices_part and "R$ 39,90" in prices_part
    assert "Faixa" not in prices_part and "faixa" not in prices_part
    banded = next((p for p in plans if p.bands and not p.single_price), None)
    if banded is not None:
        text = "".join(
            page.extract_text()
            for page in PdfReader(BytesIO(general_conditions_pdf(banded, "x"))).pages
        )
        assert "Tabela de preços do contrato por faixa etária" in text and "Faixa 10" in text
