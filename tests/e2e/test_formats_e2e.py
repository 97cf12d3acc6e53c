"""Brazilian formats as the browser draws them: chart axes read "10.000" (never
plotly's SI "10k", which the invoice chart showed before it went through charts.pt_br)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_movements_e2e import go
from tests.e2e.test_reports_e2e import WAIT, _login

pytestmark = pytest.mark.e2e
SI_TICK = re.compile(r"\d\s*[kMG]$")


def test_chart_ticks_are_pt_br_numbers_without_si_suffixes(page: Page):
    _login(page, "100001")
    texts = _ticks(page, "Faturas")  # monthly invoices of R$ 9.000 to 13.000
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", t) for t in texts), texts
    texts = _ticks(page, "Utilização")
    # The monthly cost of the demo company runs into the thousands: grouped with a dot.
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", t) for t in texts), texts


def _ticks(page: Page, title: str) -> list[str]:
    """The value-axis tick labels of the page's charts, none with an SI suffix."""
    go(page, title)
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=WAIT)
    ticks = page.locator(".js-plotly-plot g.ytick text, .js-plotly-plot g.y2tick text")
    expect(ticks.first).to_be_attached(timeout=WAIT)
    page.wait_for_timeout(500)
    texts = [t.strip() for t in ticks.all_text_contents() if t and t.strip()]
    assert texts and not [t for t in texts if SI_TICK.search(t)], texts
    return texts
