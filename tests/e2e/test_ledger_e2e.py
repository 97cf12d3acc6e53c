"""The billing ledger and the beneficiary lifecycle in a real browser (account manager, on
a company no other journey bills): schedule an exclusion for next month, see it marked as
scheduled, cancel it; include someone late and find their months on the next invoice with
their reference months; exclude someone in a month already invoiced and find the credit."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from components.clock import today_local
from data.db import make_engine
from data.models import Beneficiary, Company
from services.rules.billing import add_months
from services.rules.formats import format_month
from tests.e2e.conftest import shot
from tests.e2e.test_movements_e2e import (
    CARD,
    choose,
    fill_address,
    fill_person,
    go,
    log_in,
    new_cpf,
    search,
    settle,
    success,
    tab,
    textbox,
    type_date,
)

pytestmark = pytest.mark.e2e

CODE = "10007"


def _holders_without_dependents(url: str, count: int) -> list[str]:
    """Card numbers (formatted) of active holders of CODE without active dependents."""
    engine = make_engine(url)
    with engine.connect() as conn:
        company = conn.execute(select(Company.id).where(Company.code == CODE)).scalar_one()
        dependents = select(Beneficiary.holder_id).where(
            Beneficiary.holder_id.is_not(None), Beneficiary.status == "active"
        )
        cards = (
            conn.execute(
                select(Beneficiary.card_number)
                .where(
                    Beneficiary.company_id == company,
                    Beneficiary.status == "active",
                    Beneficiary.relationship_code == 1,
                    Beneficiary.id.not_in(dependents),
                )
                .order_by(Beneficiary.id)
                .limit(count)
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert len(cards) == count
    return [" ".join(c[i : i + 4] for i in range(0, 16, 4)) for c in cards]


def _include_holder(page: Page, name: str) -> str:
    """A holder on the company's first contracted plan; returns the card number."""
    expect(textbox(page, "Nome completo *")).to_have_count(1)
    plan = page.get_by_role("combobox", name="Plano *", exact=True)
    plan.click()
    page.get_by_role("option").first.click()
    settle(page)
    fill_person(page, name, new_cpf(), "04/05/1988", "Feminino")
    fill_address(page)
    type_date(page, "Data de admissão *", "01/02/2024")
    page.get_by_role("button", name="Incluir beneficiário").click()
    return CARD.search(success(page, name).inner_text()).group(1)


def _switch_company(page: Page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    switcher = sidebar.get_by_role("combobox", name="Empresa em contexto")
    switcher.scroll_into_view_if_needed()
    switcher.click()
    page.keyboard.type(CODE)
    page.get_by_role("option", name=re.compile(rf"^{CODE} · ")).click()
    expect(page.get_by_text(re.compile(rf"^{CODE} · .*(CNPJ|CAEPF)"))).to_be_visible()
    settle(page)


def _bill(page: Page, month: date) -> None:
    """Faturamento mensal of `month` for the company in context only."""
    go(page, "Faturamento mensal")
    choose(page, "Competência", format_month(month))
    # The company in context is the default scope (not the whole portfolio).
    expect(page.get_by_role("radio", name=re.compile(rf"^{CODE} · "))).to_be_checked()
    page.get_by_role("button", name="Faturar").click()
    expect(page.get_by_text(re.compile(rf"Competência {month:%m/%Y}: 1 fatura"))).to_be_visible(
        timeout=60_000
    )
    settle(page)


def _adjustments(page: Page):  # noqa: ANN202 - Playwright Locator
    table = page.get_by_test_id("stDataFrame").filter(has_text="Competência de referência")
    try:
        expect(table).to_have_count(1)
    except AssertionError:
        shot(page, "ledger_no_adjustments")
        main = page.get_by_test_id("stMain").inner_text()
        raise AssertionError(f"no adjustment lines; the page says: {main}") from None
    return table


@pytest.mark.timeout(900)
def test_scheduled_exclusion_late_inclusion_and_credit(page: Page, demo_db: str):
    scheduled_card, excluded_card = _holders_without_dependents(demo_db, 2)
    today = today_local()
    next_month, after = add_months(today, 1), add_months(today, 2)
    log_in(page, "900001")
    _switch_company(page)

    # 1. An exclusion dated next month is scheduled, shown as such, then cancelled.
    go(page, "Cadastro individual")
    tab(page, "Exclusão")
    search(page, scheduled_card)
    choose(page, "Motivo da exclusão *", "Outros")
    day = next_month + timedelta(days=9)
    type_date(page, "Data da exclusão *", f"{day:%d/%m/%Y}")
    settle(page)
    page.get_by_role("button", name="Excluir").click()
    card = success(page, f"Exclusão agendada para {day:%d/%m/%Y}")
    protocol = re.search(r"Protocolo nº (\d+)", card.inner_text()).group(1)
    shot(page, "ledger_scheduled_exclusion")
    page.get_by_role("button", name="Nova movimentação").click()
    settle(page)
    search(page, scheduled_card)
    expect(page.get_by_text(f"exclusão agendada para {day:%d/%m/%Y}")).to_be_visible()
    tab(page, "Agendadas")
    item = page.locator(f".st-key-ind_scheduled_{protocol}")
    expect(item).to_contain_text(f"Exclusão agendada para {day:%d/%m/%Y}")
    item.get_by_text("Confirmo o cancelamento").click()
    settle(page)
    item.get_by_role("button", name="Cancelar agendamento").click()
    settle(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"cancelada (protocolo {protocol})"
    )
    expect(page.get_by_text("Nenhuma movimentação agendada")).to_be_visible()

    # 2. A late (retroactive) inclusion: its past months come on the next invoice.
    go(page, "Cadastro retroativo")
    first_past = add_months(today, -1)
    page.get_by_role("radiogroup", name="Data de vigência retroativa").get_by_text(
        f"{first_past:%d/%m/%Y}"
    ).click()
    settle(page)
    late_card = _include_holder(page, "LUIZA ATRASADA DE SOUZA")
    _bill(page, next_month)
    lines = _adjustments(page)
    expect(lines).to_contain_text("LUIZA ATRASADA DE SOUZA")
    expect(lines).to_contain_text(late_card)
    for month in (first_past, today):
        expect(lines).to_contain_text(f"{month:%m/%Y}")  # reference months caught up
    expect(lines).to_contain_text("Retroativo")
    shot(page, "ledger_catch_up")

    # 3. Excluded today, after next month was invoiced: next month comes back as a credit.
    go(page, "Cadastro individual")
    tab(page, "Exclusão")
    search(page, excluded_card)
    choose(page, "Motivo da exclusão *", "Outros")
    page.get_by_role("button", name="Excluir").click()
    success(page, "Exclusão registrada")
    _bill(page, after)
    lines = _adjustments(page)
    expect(lines).to_contain_text("Crédito")
    expect(lines).to_contain_text(f"{next_month:%m/%Y}")
    expect(lines).to_contain_text("-R$ ")
    shot(page, "ledger_credit")
