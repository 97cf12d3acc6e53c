"""Beneficiary movements in a real browser: include a holder and a dependent, exclude,
reactivate, change plan, transfer, a retroactive inclusion, and every protocol found."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from services.rules.documents import cpf_check_digits
from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e

_cpf_bases = itertools.count(642_100_001)
CARD = re.compile(r"Carteirinha nº (\d{4} \d{4} \d{4} \d{4})")
PROTOCOL = re.compile(r"Protocolo nº (\d+)")


def new_cpf() -> str:
    base = f"{next(_cpf_bases):09d}"
    return base + cpf_check_digits(base)


def settle(page: Page) -> None:
    """Wait until the app is not running a script (reruns replace elements)."""
    page.wait_for_timeout(300)
    expect(page.locator("[data-testid=stApp][data-test-script-state=notRunning]")).to_have_count(
        1, timeout=30_000
    )


def log_in(page: Page, user_code: str) -> None:
    login(page, user_code)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=30_000)
    settle(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick a selectbox option by typing it; again if a rerun closed the list meanwhile."""
    for attempt in range(3):
        settle(page)
        box = page.get_by_role("combobox", name=label, exact=True)
        try:
            box.click(timeout=5_000)
            box.fill(option, timeout=5_000)
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            continue
        break
    settle(page)
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(option)


def textbox(page: Page, label: str):  # noqa: ANN201 - Playwright Locator
    return page.get_by_role("textbox", name=label, exact=True)


def type_date(page: Page, label: str, value: str) -> None:
    """Type dd/mm/aaaa into a date input (one spin button per part, auto-advancing)."""
    page.get_by_role("spinbutton", name=f"day, {label}", exact=True).click()
    page.keyboard.type(value.replace("/", ""))
    page.keyboard.press("Tab")


def go(page: Page, title: str) -> None:
    wait_idle(page)  # a click landing in a rerun would be lost
    sidebar = page.get_by_test_id("stSidebar")
    link = sidebar.get_by_role("link", name=title, exact=True)
    more = sidebar.get_by_text(re.compile(r"^View \d+ more$"))
    if not link.is_visible() and more.count():
        more.click()  # long menus show only the first pages
    link.click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    settle(page)


def tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    settle(page)


def search(page: Page, card: str, *, holder: bool = False) -> None:
    """Find a beneficiary by card number and check the picker selected it."""
    who = "titular" if holder else "beneficiário"
    box = textbox(page, f"Buscar {who} (nome, carteirinha ou CPF)")
    expect(box).to_have_count(1)
    box.fill(card.replace(" ", ""))
    box.press("Enter")
    settle(page)
    picker = page.get_by_role("combobox", name="Titular *" if holder else "Beneficiário *")
    expect(picker).to_have_value(re.compile(re.escape(card)))


def fill_person(page: Page, name: str, cpf: str, birth: str, sex: str) -> None:
    textbox(page, "Nome completo *").fill(name)
    textbox(page, "CPF *" if page.get_by_role("textbox", name="CPF *").count() else "CPF").fill(cpf)
    type_date(page, "Data de nascimento *", birth)
    choose(page, "Sexo *", sex)
    textbox(page, "Nome da mãe *").fill("JOANA EXEMPLO DE LIMA")


def fill_address(page: Page) -> None:
    textbox(page, "CEP *").fill("01310-100")
    textbox(page, "Logradouro").fill("Avenida Paulista")
    textbox(page, "Número").fill("1500")
    textbox(page, "Município *").fill("São Paulo")
    choose(page, "UF *", "SP")


def success(page: Page, pattern: str):  # noqa: ANN201 - Playwright Locator
    """The one result card on the screen, headed by a success matching `pattern`."""
    try:
        expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(1)
    except AssertionError:
        errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
        shot(page, "movements_no_result")
        raise AssertionError(f"no result card; refusals on the page: {errors}") from None
    found = page.get_by_test_id("stAlertContentSuccess").filter(has_text=re.compile(pattern))
    expect(found).to_have_count(1)
    card = page.locator(".st-key-movement_result")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(re.compile(r"Vigência: \d{2}/\d{2}/\d{4}"))
    return card


def new_movement(page: Page) -> None:
    """Click "Nova movimentação": the card goes, an empty form comes back."""
    page.get_by_role("button", name="Nova movimentação").click()
    settle(page)
    expect(page.locator(".st-key-movement_result")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)


def include_holder(page: Page, name: str) -> tuple[str, str]:
    expect(textbox(page, "Nome completo *")).to_have_count(1)
    choose(page, "Plano *", "Sorriso Essencial (ANS 483920191)")
    fill_person(page, name, new_cpf(), "04/05/1988", "Feminino")
    fill_address(page)
    type_date(page, "Data de admissão *", "01/02/2024")
    page.get_by_role("button", name="Incluir beneficiário").click()
    text = success(page, name).inner_text()
    assert "Fatura:" in text, text  # what the inclusion does to the invoice
    return CARD.search(text).group(1), PROTOCOL.search(text).group(1)


@pytest.mark.timeout(900)  # a long journey on a loaded 2-core machine
def test_master_runs_every_movement_and_finds_each_protocol(page: Page):
    log_in(page, "100001")
    protocols: list[str] = []

    go(page, "Cadastro individual")
    holder_card, protocol = include_holder(page, "HELENA EXEMPLO DE LIMA")
    protocols.append(protocol)
    expect(page.get_by_role("button", name="Baixar carteirinha virtual (PNG)")).to_be_visible()
    expect(page.get_by_test_id("stImage")).to_be_visible()
    page.get_by_role("heading", name="Cadastro individual").scroll_into_view_if_needed()
    shot(page, "movements_inclusion")

    new_movement(page)
    expect(textbox(page, "Nome completo *")).to_have_value("")
    page.get_by_text("Dependente", exact=True).click()
    settle(page)
    search(page, holder_card, holder=True)
    choose(page, "Parentesco *", "Cônjuge/Companheiro(a)")
    fill_person(page, "RAFAEL EXEMPLO DE LIMA", new_cpf(), "10/10/1986", "Masculino")
    page.get_by_role("button", name="Incluir beneficiário").click()
    text = success(page, "RAFAEL EXEMPLO DE LIMA").inner_text()
    dependent_card = CARD.search(text).group(1)
    protocols.append(PROTOCOL.search(text).group(1))
    assert dependent_card != holder_card

    tab(page, "Exclusão")
    search(page, holder_card)
    choose(page, "Motivo da exclusão *", "A pedido do beneficiário")
    listed = page.get_by_test_id("stDataFrame").filter(has_text="RAFAEL EXEMPLO DE LIMA")
    expect(listed).to_have_count(1)
    page.get_by_text("Confirmo a exclusão dos dependentes listados").click()
    page.get_by_role("button", name="Excluir").click()
    protocols.append(PROTOCOL.search(success(page, "Exclusão registrada").inner_text()).group(1))
    excluded = page.get_by_test_id("stDataFrame").first
    expect(excluded).to_contain_text("HELENA EXEMPLO DE LIMA")
    expect(excluded).to_contain_text("RAFAEL EXEMPLO DE LIMA")

    tab(page, "Reativação")
    search(page, holder_card)
    page.get_by_role("button", name="Reativar").click()
    text = success(page, "Reativação registrada").inner_text()
    assert CARD.search(text).group(1) == holder_card
    protocols.append(PROTOCOL.search(text).group(1))

    tab(page, "Alteração de plano")
    search(page, holder_card, holder=True)
    choose(page, "Novo plano *", "Sorriso Plus (ANS 483921199)")
    page.get_by_role("button", name="Alterar plano").click()
    protocols.append(
        PROTOCOL.search(success(page, "Alteração de plano registrada").inner_text()).group(1)
    )

    tab(page, "Transferência")
    search(page, holder_card, holder=True)
    choose(page, "Empresa de destino *", "10002 · Horizonte Transportes Ltda.")
    plan = page.get_by_role("combobox", name="Plano na empresa de destino *", exact=True)
    expect(plan).to_have_count(1)
    if plan.input_value().startswith("Manter o plano atual"):  # Plus is contracted there
        expect(plan).to_have_value(re.compile(r"^Manter o plano atual: Sorriso Plus"))
    else:  # not contracted there: only the destination's plans, one to choose
        expect(plan).to_have_value("")
        plan.click()
        page.get_by_role("option").first.click()
        settle(page)
        expect(plan).to_have_value(re.compile(r"\(ANS \d+\)$"))
    page.get_by_role("button", name="Transferir").click()
    card = success(page, "Transferência registrada")
    protocols.append(PROTOCOL.search(card.inner_text()).group(1))
    expect(card).to_contain_text(re.compile(r"Empresa de destino: 10002"))
    assert CARD.search(card.inner_text()).group(1) == holder_card

    go(page, "Cadastro retroativo")
    expect(page.get_by_text("Cobrança retroativa")).to_be_visible()
    dates = page.get_by_role("radiogroup", name="Data de vigência retroativa")
    expect(dates.get_by_role("radio")).to_have_count(3)
    dates.get_by_text(re.compile(r"^01/")).nth(1).click()
    text = include_holder(page, "OTAVIO RETROATIVO DE LIMA")
    protocols.append(text[1])
    card = page.locator(".st-key-movement_result")
    expect(card).to_contain_text(re.compile(r"como retroativo, \d+ mes"))
    page.get_by_role("heading", name="Cadastro retroativo").scroll_into_view_if_needed()
    shot(page, "movements_retroactive")

    # "Ver protocolo" opens it in Protocolos.
    page.get_by_role("button", name="Ver protocolo").click()
    expect(page.get_by_role("heading", name=f"Protocolo nº {protocols[-1]}")).to_be_visible()
    settle(page)

    go(page, "Protocolos")
    for number in protocols:
        textbox(page, "Número do protocolo").fill(number)
        textbox(page, "Número do protocolo").press("Enter")
        expect(page.get_by_text("1 protocolo(s) encontrado(s)")).to_be_visible()
    choose(page, "Abrir protocolo", f"{protocols[-1]} · Inclusão: OTAVIO RETROATIVO DE LIMA")
    expect(page.get_by_role("heading", name=f"Protocolo nº {protocols[-1]}")).to_be_visible()
    shot(page, "protocols")
