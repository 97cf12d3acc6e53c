"""Documents on demand in a real browser: the master downloads an income-tax statement,
and a visitor (no login) validates its code on the public page, from the address printed
on the PDF and by typing it with the file alongside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_finance_e2e import log_in, open_page

pytestmark = pytest.mark.e2e
CODE = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}")


def test_an_income_tax_statement_is_downloaded_and_its_code_validated_by_a_visitor(
    page: Page, browser: Browser, portal_url: str, tmp_path: Path
):
    log_in(page, "100001")
    open_page(page, "Documentos", "Documentos")
    issue = page.get_by_role("button", name="Emitir demonstrativo do titular")
    expect(issue).to_be_visible()
    issue.click()
    issued = page.get_by_text("Documento emitido. Código de verificação:")
    expect(issued).to_be_visible(timeout=60_000)
    found = CODE.search(issued.inner_text())
    assert found, issued.inner_text()
    code = found.group(0)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Baixar PDF").click()
    pdf_path = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf_path)
    assert pdf_path.name.startswith("imposto_renda_") and pdf_path.suffix == ".pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert code in text and "Demonstrativo para Imposto de Renda" in text
    printed = re.search(r"(http\S+/validar-documento\?codigo=\S+)", text.replace("\n", ""))
    assert printed, text
    shot(page, "documents")

    visitor = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    visitor.set_default_timeout(30_000)
    try:
        v = visitor.new_page()
        # The address printed on the PDF validates its code at once.
        v.goto(f"{portal_url}/validar-documento?codigo={code}")
        expect(v.get_by_role("heading", name="Validar documento")).to_be_visible(timeout=60_000)
        expect(v.get_by_text("Documento autêntico")).to_be_visible(timeout=60_000)
        expect(v.get_by_test_id("stDataFrame")).to_be_visible()
        expect(v.get_by_text("Ano-calendário")).to_be_attached()  # a cell of the facts
        wait_idle(v)
        shot(v, "validate_document")
        # Typed in lower case without hyphens, with the downloaded PDF alongside.
        field = v.get_by_label("Código de verificação *")
        field.fill(code.replace("-", "").lower())
        v.locator('input[type="file"]').set_input_files(str(pdf_path))
        wait_idle(v)
        v.get_by_role("button", name="Validar").click()
        expect(v.get_by_text("O PDF enviado é exatamente o documento emitido")).to_be_visible(
            timeout=60_000
        )
        # A code never issued is told plainly.
        wait_idle(v)
        field.fill("2222-2222-2222")
        v.get_by_role("button", name="Validar").click()
        expect(v.get_by_text("Nenhum documento foi emitido com este código")).to_be_visible()
    finally:
        visitor.close()
