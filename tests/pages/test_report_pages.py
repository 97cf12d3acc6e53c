"""Report pages through the frame with AppTest: every page renders for every role, the
totals on screen are the services' totals, filters narrow them, personal data is masked
for users without the permission, and the portfolio is for account managers only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data.db import make_engine
from data.models import Beneficiary, Company, Plan
from tests.pages.conftest import by_label, log_in

ROOT = Path(__file__).resolve().parents[2]
REPORT_PAGES = ["pages/report_active.py", "pages/report_inactive.py", "pages/report_utilization.py"]
MASKED_CPF = re.compile(r"^\*\*\*\.\d{3}\.\d{3}-\*\*$")
FULL_CPF = re.compile(r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")


def _open(app, user_code: str, page: str) -> AppTest:  # noqa: ANN001
    at = log_in(app(), user_code)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> int:
    value = next(m.value for m in at.metric if m.label == label)
    return int(value.replace(".", ""))


def _count(url: str, company_code: str, status: str, plan_name: str | None = None) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        query = (
            select(func.count())
            .select_from(Beneficiary)
            .join(Company, Company.id == Beneficiary.company_id)
            .join(Plan, Plan.id == Beneficiary.plan_id)
            .where(Company.code == company_code, Beneficiary.status == status)
        )
        if plan_name:
            query = query.where(Plan.name == plan_name)
        n = conn.execute(query).scalar_one()
    engine.dispose()
    return int(n)


def _plan_id(url: str, name: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        plan_id = conn.execute(select(Plan.id).where(Plan.name == name)).scalar_one()
    engine.dispose()
    return int(plan_id)


@pytest.mark.parametrize("user_code", ["100001", "100002", "900001"])
@pytest.mark.parametrize("page", REPORT_PAGES)
def test_every_report_page_renders_for_every_role(app, user_code, page):
    at = _open(app, user_code, page)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value in {"Beneficiários ativos", "Beneficiários inativos", "Utilização"}
    assert len(at.metric) >= 3
    assert [b.label for b in at.download_button][:2] == ["Baixar Excel", "Baixar CSV"]


def test_the_active_report_shows_the_count_of_the_database_and_filters_by_plan(app, portal_db):
    at = _open(app, "100001", "pages/report_active.py")
    assert _metric(at, "Beneficiários ativos") == _count(portal_db, "10001", "active")
    plans = by_label(at.multiselect, "Plano")
    plan = plans.options[0]
    plans.select(_plan_id(portal_db, plan)).run()
    assert not at.exception
    expected = _count(portal_db, "10001", "active", plan)
    assert _metric(at, "Beneficiários ativos") == expected
    table = at.dataframe[0].value
    assert len(table) == expected and set(table["Plano"]) == {plan}
    assert any(f"Plano: {plan}" in c.value for c in at.caption)


def test_the_inactive_report_filters_by_exclusion_reason(app, portal_db):
    at = _open(app, "100001", "pages/report_inactive.py")
    total = _metric(at, "Beneficiários inativos")
    assert total == _count(portal_db, "10001", "inactive")
    by_label(at.multiselect, "Motivo da exclusão").select("demissao").run()
    narrowed = _metric(at, "Beneficiários inativos")
    assert 0 < narrowed < total
    assert set(at.dataframe[0].value["Motivo da exclusão"]) == {"Demissão sem justa causa"}


def test_a_search_that_finds_nobody_says_so(app):
    at = _open(app, "100001", "pages/report_active.py")
    by_label(at.text_input, "Nome ou número da carteirinha").input("zzz-ninguém").run()
    assert _metric(at, "Beneficiários ativos") == 0
    assert any("Nenhum beneficiário" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("user_code", "pattern", "birth_masked"),
    [("100002", MASKED_CPF, True), ("100001", FULL_CPF, False)],
)
def test_cpf_and_birth_date_on_screen_follow_the_personal_data_permission(
    app, user_code, pattern, birth_masked
):
    at = _open(app, user_code, "pages/report_active.py")
    table = at.dataframe[0].value
    cpfs = [c for c in table["CPF"] if c]
    assert cpfs and all(pattern.match(c) for c in cpfs)
    births = set(map(str, table["Nascimento"]))
    assert (births == {"**/**/****"}) is birth_masked
    masked_note = any("mascarados (LGPD)" in c.value for c in at.caption)
    assert masked_note is birth_masked

    at.switch_page("pages/report_utilization.py").run()
    at.session_state["util_view"] = "Prestadores e beneficiários"
    at.run()
    people = at.dataframe[-1].value
    assert list(people.columns) == ["Nome", "Carteirinha", "CPF", "Procedimentos", "Custo (R$)"]
    assert all(pattern.match(c) for c in people["CPF"] if c)


def test_the_utilization_page_shows_the_period_figures_and_a_narrower_period(app):
    at = _open(app, "100002", "pages/report_utilization.py")
    year = _metric(at, "Procedimentos")
    assert year > 0
    assert re.match(
        r"^\d+,\d{2}%$", next(m.value for m in at.metric if m.label == "Sinistralidade")
    )
    slider = by_label(at.select_slider, "Período")
    first, last = slider.value
    slider.set_value((last, last)).run()
    assert not at.exception
    month = _metric(at, "Procedimentos")
    assert 0 < month < year
    at.session_state["util_view"] = "Por procedimento"
    at.run()
    procedures = at.dataframe[0].value
    assert int(procedures["Quantidade"].sum()) == month


def test_the_utilization_page_builds_only_the_open_tab_and_keeps_the_chart_filter(app):
    at = _open(app, "100002", "pages/report_utilization.py")
    assert [t.label for t in at.tabs] == [
        "Por mês",
        "Por procedimento",
        "Prestadores e beneficiários",
    ]
    assert len(at.get("plotly_chart")) == 2  # the month tab's two charts, nothing else
    assert not at.dataframe
    at.session_state["util_view"] = "Por procedimento"
    at.run()
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe) == 1
    everything = at.dataframe[0].value
    group = everything["Grupo"].iloc[0]

    # A click on a group bar (its chart's callback) is remembered for the other tabs.
    at.session_state["util_filter"] = {"month": None, "group": group, "tuss": None}
    at.session_state["util_view"] = "Prestadores e beneficiários"
    at.run()
    assert any(f"Grupo: {group}" in c.value for c in at.caption)
    at.session_state["util_view"] = "Por procedimento"
    at.run()
    narrowed = at.dataframe[0].value
    assert set(narrowed["Grupo"]) == {group} and len(narrowed) < len(everything)

    by_label(at.button, "Limpar filtro").click().run()
    assert any("Filtro dos gráficos: Nenhum" in c.value for c in at.caption)
    assert len(at.dataframe[0].value) == len(everything)
    assert by_label(at.button, "Limpar filtro").disabled


def test_the_portfolio_is_only_for_account_managers(app):
    at = log_in(app(), "100001")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/portfolio_analysis.py")  # not in a company user's menu

    page = AppTest.from_file(str(ROOT / "pages" / "portfolio_analysis.py"), default_timeout=60)
    page.session_state["actor"] = at.session_state["actor"]
    page.run()
    assert any("exclusiva dos gestores" in e.value for e in page.error)


def test_the_portfolio_shows_every_section_for_the_account_manager(app):
    at = _open(app, "900001", "pages/portfolio_analysis.py")
    assert at.title[0].value == "Análise da carteira"
    assert _metric(at, "Procedimentos") > 0
    ranking = at.dataframe[0].value
    assert len(ranking) == 8
    assert list(ranking["Sinistralidade (%)"]) == sorted(
        ranking["Sinistralidade (%)"], reverse=True
    )
    by_label(at.radio, "Ordenar por").set_value("Crescimento de vidas (%)").run()
    growth = at.dataframe[0].value["Crescimento de vidas (%)"]
    assert list(growth) == sorted(growth, reverse=True)

    section = by_label(at.segmented_control, "Análise")
    section.set_value("Comparação").run()
    assert not at.exception and not at.error
    compared = at.dataframe[0].value
    assert len(compared) == 2
    by_label(at.radio, "Comparar").set_value("Períodos").run()
    assert not at.exception and len(at.dataframe[0].value) == 2

    by_label(at.segmented_control, "Análise").set_value("Tabela dinâmica").run()
    assert not at.exception and not at.error
    pivot = at.dataframe[0].value
    assert pivot.shape == (8, 13)  # companies x 12 months
    by_label(at.selectbox, "Linhas").set_value("sex").run()
    by_label(at.selectbox, "Medida").set_value("loss_ratio").run()
    assert any("sinistralidade só pode" in e.value.lower() for e in at.error)
    by_label(at.selectbox, "Linhas").set_value("group").run()
    by_label(at.selectbox, "Colunas").set_value(None).run()
    assert not at.error
    assert [b.label for b in at.download_button][-1] == "Baixar gráfico"

    by_label(at.segmented_control, "Análise").set_value(
        "Procedimentos, prestadores e beneficiários"
    ).run()
    assert not at.exception and not at.error
    assert len(at.dataframe) == 2


def test_a_company_user_cannot_point_a_report_at_another_company(app, portal_db):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        outsider = conn.execute(select(Company.id).where(Company.code == "10004")).scalar_one()
    engine.dispose()
    at = log_in(app(company_id=str(outsider), company="10004"), "100002")
    at.session_state["company_id"] = outsider  # as if tampered with
    at.switch_page("pages/report_active.py").run()
    assert not at.exception
    assert at.caption[0].value.startswith("10001 · ")
    assert _metric(at, "Beneficiários ativos") == _count(portal_db, "10001", "active")


def test_the_beneficiary_report_draws_its_charts_only_in_their_tab(app):
    at = _open(app, "100001", "pages/report_active.py")
    assert [t.label for t in at.tabs] == ["Lista de beneficiários", "Gráficos"]
    assert at.get("plotly_chart") == [] and len(at.dataframe) == 1  # the list only
    at.session_state["rep_active_view"] = "Gráficos"
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 4 and not at.dataframe
