"""Finance in a real browser: last year's invoices, the duplicate boleto's PDF, typed line
and PIX code, and the update of an overdue invoice."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from services.rules.boleto import is_valid_typed_line
from services.rules.pix import is_valid_pix_payload
from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_access_and_home import choose, login

pytestmark = pytest.mark.e2e
TYPED_LINE = re.compile(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}")


def log_in(page: Page, user_code: str) -> None:
    login(page, user_code)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=30_000)


def open_page(page: Page, link: str, heading: str) -> None:
    wait_idle(page)  # a click landing in a rerun would be lost
    page.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def test_master_sees_last_years_invoices_and_gets_the_boleto_pdf_typed_line_and_pix(
    page: Page, tmp_path: Path
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "100001")

    open_page(page, "Faturas", "Faturas")
    last_year = date.today().year - 1
    choose(page, "Ano", str(last_year))
    expect(page.get_by_text(f"Competência 12/{last_year} · vencimento")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Valor da fatura")).to_be_visible()
    expect(page.get_by_role("button", name="Baixar planilha (xlsx)")).to_be_visible()
    shot(page, "invoices")

    open_page(page, "2ª via de boleto", "2ª via de boleto")
    download_button = page.get_by_role("button", name="Baixar boleto em PDF")
    expect(download_button).to_be_visible()
    with page.expect_download(timeout=60_000) as info:
        download_button.click()
    pdf_path = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf_path)
    text = PdfReader(pdf_path).pages[0].extract_text()
    lines = TYPED_LINE.findall(text)
    assert lines and all(is_valid_typed_line(line) for line in lines)
    shown = page.get_by_text(lines[0], exact=True).first
    expect(shown).to_be_visible()

    pix_block = page.get_by_test_id("stCode").nth(1)
    pix_text = pix_block.inner_text().strip()
    assert pix_text.startswith("000201") and is_valid_pix_payload(pix_text)
    pix_block.hover()
    pix_block.get_by_role("button").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == pix_text
    expect(
        page.get_by_role("img", name="QR Code PIX").or_(page.get_by_text("QR Code PIX")).first
    ).to_be_visible()
    shot(page, "boleto")


def test_master_updates_an_overdue_invoice_and_sees_the_new_total(page: Page):
    log_in(page, "100001")
    open_page(page, "Atualização de faturas vencidas", "Atualização de faturas vencidas")
    total = page.get_by_test_id("stMetric").filter(has_text="Novo total")
    # A metric's code loads when a page first draws one: slow on a loaded machine.
    expect(total).to_be_visible(timeout=60_000)
    first_quote = total.inner_text()
    box = page.get_by_role("combobox", name="Nova data de pagamento")
    expect(box).to_be_enabled()
    box.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    later = options.count() > 1
    last = options.last
    chosen = last.inner_text().split(" ")[0]
    last.click()
    expect(page.get_by_text(chosen).first).to_be_visible()
    if later:
        # The quote of the chosen date replaces the first one: a later day, more interest.
        expect(total).not_to_have_text(first_quote)
    wait_idle(page)
    page.get_by_role("button", name="Emitir novo boleto").click()
    success = page.get_by_text(re.compile(r"Novo boleto emitido: R\$ [\d.]+,\d{2}"))
    expect(success).to_be_visible()
    new_total = re.search(r"R\$ [\d.]+,\d{2}", total.inner_text()).group(0)
    assert f"{new_total} com vencimento em {chosen}" in success.inner_text()
    assert "Protocolo nº" in success.inner_text()
    typed = page.get_by_test_id("stCode").first.inner_text().strip()
    assert is_valid_typed_line(typed)
    shot(page, "overdue_update")
