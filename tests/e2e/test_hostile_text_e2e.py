"""User text is shown as text in the browser (issue 11, item 2): a batch file whose name
and header cell are hostile Markdown creates no link, no image and no HTML on the batch
pages and in the refusal box, and reads exactly as written."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from services.batch.layout import COLUMN_NAMES
from tests.e2e.test_movements_e2e import go, log_in, settle

pytestmark = pytest.mark.e2e

HOSTILE = (
    "[clique](http://evil.example) ![x](http://evil.example/x.png) "
    "<img src=x onerror=alert(1)> **negrito** $x^2$ :material/home: www.evil.example "
    "evil@evil.example"
)
WORD_JOINER = "\u2060"  # invisible; components.safe_text puts it where autolinks would start


def _nothing_live(page: Page) -> None:
    # (a heading's own "#conferencia-...-evil-example" anchor is a link within the page)
    assert page.locator('a[href*="evil"]:not([href^="#"])').count() == 0
    assert page.locator('a[href^="mailto"]').count() == 0
    assert page.locator('img[src*="evil"]').count() == 0
    assert page.locator("img[onerror]").count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator(".katex").count() == 0  # no math typeset from $x^2$
    main = page.get_by_test_id("stMain")
    assert main.locator("strong", has_text="negrito").count() == 0
    # A Material icon shortcode would turn into an icon named "home", not its text.
    assert main.locator("[data-testid=stIconMaterial]", has_text="home").count() == 0


def _reads(locator, expected: str) -> None:  # noqa: ANN001 - Playwright Locator
    """The element shows `expected` literally (once rendered; the joiners are invisible)."""
    expect(locator).to_contain_text("**negrito** $x^2$", timeout=30_000)
    shown = " ".join(locator.inner_text().replace(WORD_JOINER, "").split())
    assert expected in shown, shown


def _upload(page: Page, name: str, content: bytes) -> None:
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    settle(page)
    page.get_by_role("button", name="Conferir arquivo").click()
    settle(page)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_a_hostile_file_name_and_header_cell_are_shown_as_text(page: Page):
    log_in(page, "100001")
    go(page, "Cadastro em lote")

    # A header cell that is not in the layout: the refusal quotes it.
    _upload(page, f"{HOSTILE}.csv", _csv([["nome", HOSTILE], ["MARIA", "1"]]))
    refusal = page.get_by_test_id("stAlertContentError").filter(has_text="colunas desconhecidas")
    _reads(refusal, HOSTILE)
    _nothing_live(page)

    # The layout's header and one wrong line: the check shows the file's name.
    _upload(page, f"{HOSTILE}.csv", _csv([list(COLUMN_NAMES), ["INCLUSAO"] * 3]))
    heading = page.get_by_test_id("stHeading").filter(has_text="Conferência do lote")
    _reads(heading, f"· {HOSTILE}.csv")
    _nothing_live(page)

    go(page, "Acompanhar lotes")
    chosen = page.get_by_test_id("stHeading").filter(has_text=re.compile(r"Lote \d+ ·"))
    _reads(chosen, f"{HOSTILE}.csv")
    _nothing_live(page)
