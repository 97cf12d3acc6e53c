"""Reports in a real browser: the active report filtered by plan and downloaded, and the
utilization page where a click on a procedure group bar filters the procedures table."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_access_and_home import login

pytestmark = pytest.mark.e2e
WAIT = 30_000  # a busy machine can take seconds per rerun


def _login(page: Page, user_code: str) -> None:
    # The first page of a fresh server can take a while on a busy machine.
    expect(page.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
    expect(page.get_by_label("Senha", exact=True)).to_have_count(1, timeout=30_000)
    login(page, user_code)
    expect(page.get_by_role("heading", name="Página inicial")).to_be_visible(timeout=WAIT)


def _open(page: Page, title: str) -> None:
    # The sidebar is the menu (the home page keeps only dates and shortcuts).
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=WAIT)


def _metric(page: Page, label: str) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text=label).first
    return int(metric.get_by_test_id("stMetricValue").inner_text().replace(".", ""))


def test_the_active_report_filtered_by_plan_downloads_the_rows_on_screen(page: Page):
    _login(page, "100001")
    _open(page, "Beneficiários ativos")
    expect(page.get_by_text("Filtros aplicados: Nenhum")).to_be_visible(timeout=WAIT)
    everyone = _metric(page, "Beneficiários ativos")

    page.get_by_role("combobox", name="Plano").click()
    page.get_by_role("option", name="Sorriso Plus", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Beneficiários ativos").click()  # leave the field
    expect(page.get_by_text("Filtros aplicados: Plano: Sorriso Plus")).to_be_visible(timeout=WAIT)
    expect(
        page.get_by_test_id("stMetric")
        .filter(has_text="Beneficiários ativos")
        .first.get_by_test_id("stMetricValue")
    ).not_to_have_text(f"{everyone:,}".replace(",", "."), timeout=WAIT)
    on_plan = _metric(page, "Beneficiários ativos")
    assert 0 < on_plan < everyone
    page.get_by_role("tab", name="Gráficos").click()  # built when opened
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT)
    shot(page, "report_active")
    page.get_by_role("tab", name="Lista de beneficiários").click()

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Baixar Excel", exact=True).click()
    path = Path(download.value.path())
    assert download.value.suggested_filename == "beneficiarios_ativos_10001.xlsx"
    book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Relatório de beneficiários ativos"
    header = {r[0]: r[1] for r in rows[1:7] if r and r[0]}
    assert header["Filtros"] == "Plano: Sorriso Plus"
    assert header["Período"].startswith("Posição em ")
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Nome")
    data = rows[start + 1 :]
    assert len(data) == on_plan
    plan_column = rows[start].index("Plano")
    assert {r[plan_column] for r in data} == {"Sorriso Plus"}


def test_a_click_on_a_procedure_group_filters_the_procedures_table(page: Page):
    _login(page, "100001")
    _open(page, "Utilização")
    no_filter = page.get_by_text(re.compile(r"^Filtro dos gráficos: Nenhum"))
    expect(no_filter).to_be_visible(timeout=WAIT)
    page.get_by_role("tab", name="Por procedimento").click()
    heading = page.get_by_role("heading", name="Por grupo de procedimento")
    expect(heading).to_be_visible(timeout=WAIT)  # the tab is built when opened
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.nth(1)).to_be_visible(timeout=WAIT)
    group_chart = charts.nth(0)
    bar = group_chart.locator("g.point path").first
    expect(bar).to_be_attached(timeout=WAIT)
    group_chart.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)

    caption = page.get_by_text(re.compile(r"^Filtro dos gráficos: Grupo: "))
    expect(caption).to_be_visible(timeout=WAIT)
    group = re.match(r"Filtro dos gráficos: Grupo: ([^.;]+)\.", caption.inner_text()).group(1)
    shot(page, "utilization")

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Baixar CSV", exact=True).nth(1).click()
    assert download.value.suggested_filename == "utilizacao_procedimentos_10001.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert ["Filtros", f"Grupo: {group}"] in lines
    start = lines.index(
        ["Código TUSS", "Procedimento", "Grupo", "Quantidade", "Custo (R$)", "Custo médio (R$)"]
    )
    groups = {line[2] for line in lines[start + 1 :]}
    assert groups == {group}
