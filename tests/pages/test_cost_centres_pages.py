"""Cost centres on screen (AppTest): the company's list page (add, refuse, deactivate,
import), the holder's cost centre in the inclusion and update forms, and the filters and
splits of the invoices, billing reports and beneficiary reports."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.db import make_engine
from data.models import Beneficiary, Company, CostCentre
from tests.pages.conftest import by_label, log_in

PAGE = "pages/cost_centres.py"
INDIVIDUAL = "pages/movements_individual.py"
CPF = "73900000158"  # valid, and no demo beneficiary has it


def _scalar(url: str, query: Any) -> Any:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    engine.dispose()
    return value


def _codes(url: str, company: str = "10001") -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        codes = list(
            conn.execute(
                select(CostCentre.code)
                .join(Company, Company.id == CostCentre.company_id)
                .where(Company.code == company)
                .order_by(CostCentre.code)
            ).scalars()
        )
    engine.dispose()
    return codes


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_the_page_lists_the_companys_cost_centres_with_their_holders(app):
    at = _open(log_in(app(), "100001"), PAGE)
    assert at.title[0].value == "Centros de custo"
    table = at.dataframe[0].value
    assert list(table["Código"]) == ["ADM", "COM", "OPE", "TI"]
    assert set(table["Situação"]) == {"Ativo"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Titulares ativos sem centro de custo"] == "0"
    assert int(metrics["Titulares ativos com centro de custo"].replace(".", "")) == sum(
        table["Titulares ativos"]
    )


def test_a_cost_centre_is_added_and_a_taken_code_is_refused_next_to_the_field(app, portal_db):
    at = _open(log_in(app(), "100001"), PAGE)
    by_label(at.text_input, "Código *").input(" fin ")
    by_label(at.text_input, "Nome *").input("Financeiro")
    by_label(at.button, "Cadastrar centro de custo").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Centro de custo FIN cadastrado."
    assert "FIN" in list(at.dataframe[0].value["Código"])
    by_label(at.text_input, "Código *").input("ADM")
    by_label(at.text_input, "Nome *").input("Outro")
    by_label(at.button, "Cadastrar centro de custo").click().run()
    errors = [_unescaped(e.value) for e in at.error]
    assert any("ADM já existe nesta empresa" in e for e in errors), errors
    assert _codes(portal_db) == ["ADM", "COM", "FIN", "OPE", "TI"]


def test_a_cost_centre_with_holders_is_not_deactivated(app, portal_db):
    at = _open(log_in(app(), "100001"), PAGE)
    by_label(at.button, "Desativar").click().run()
    errors = [_unescaped(e.value) for e in at.error]
    assert any("titular(es) ativo(s)" in e for e in errors), errors
    assert _scalar(portal_db, select(CostCentre.active).where(CostCentre.code == "ADM"))


def test_an_import_with_a_bad_line_lists_it_and_a_good_one_is_taken(app, portal_db):
    at = _open(log_in(app(), "100001"), PAGE)
    bad = "codigo;nome\nNEW;Novo\n;Sem código\n".encode()
    at.file_uploader[0].upload("centros.csv", bad).run()
    by_label(at.button, "Importar").click().run()
    assert not at.exception, at.exception
    assert "Nada foi importado" in at.error[0].value
    problems = list(at.dataframe[-1].value["Problema"])
    assert problems == ["Linha 3: codigo: Informe o código do centro de custo."]
    assert "NEW" not in _codes(portal_db)
    good = "codigo;nome\nNEW;Novo\nADM;Administração Geral\n".encode()
    at.file_uploader[0].upload("centros.csv", good).run()
    by_label(at.button, "Importar").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Lista importada: 1 incluído(s), 1 renomeado(s)")
    assert "NEW" in _codes(portal_db)
    assert [b.label for b in at.get("download_button")] == [
        "Baixar modelo (xlsx)",
        "Baixar modelo (CSV)",
    ]


def test_the_inclusion_form_sets_the_holders_cost_centre(app, portal_db):
    at = log_in(app(), "100001")
    at.switch_page(INDIVIDUAL).run()
    by_label(at.text_input, "Nome completo *").input("MARIANA CENTRO DE CUSTO")
    by_label(at.text_input, "CPF *").input(CPF)
    by_label(at.date_input, "Data de nascimento *").set_value(date(1990, 5, 4))
    by_label(at.selectbox, "Sexo *").select("F")
    by_label(at.text_input, "Nome da mãe *").input("JOANA TESTE DE SOUZA")
    by_label(at.text_input, "CEP *").input("01310-100")
    by_label(at.text_input, "Município *").input("São Paulo")
    by_label(at.selectbox, "UF *").select("SP")
    by_label(at.date_input, "Data de admissão *").set_value(date(2024, 2, 1))
    by_label(at.selectbox, "Plano *").select_index(0)
    centre = by_label(at.selectbox, "Centro de custo")
    assert centre.value is None and centre.options[0].startswith("ADM")
    centre.select("OPE")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    assert at.success, [e.value for e in at.error]
    assert "MARIANA CENTRO DE CUSTO" in at.success[0].value
    stored = _scalar(
        portal_db,
        select(CostCentre.code)
        .join(Beneficiary, Beneficiary.cost_centre_id == CostCentre.id)
        .where(Beneficiary.cpf == CPF),
    )
    assert stored == "OPE"


def test_the_update_form_moves_a_holder_to_another_cost_centre(app, portal_db):
    card, current = _scalar(
        portal_db,
        select(Beneficiary.card_number + "|" + CostCentre.code)
        .join(CostCentre, CostCentre.id == Beneficiary.cost_centre_id)
        .where(Beneficiary.status == "active", Beneficiary.company_id == 1)
        .order_by(Beneficiary.id)
        .limit(1),
    ).split("|")
    other = "TI" if current != "TI" else "ADM"
    at = log_in(app(), "100001")
    at.switch_page(INDIVIDUAL).run()
    at.session_state["individual_tab"] = "Alteração cadastral"
    at.run()
    by_label(at.text_input, "Buscar beneficiário (nome, carteirinha ou CPF)").input(card).run()
    centre = by_label(at.selectbox, "Centro de custo")
    assert centre.value == current
    centre.select(other)
    by_label(at.button, "Salvar alterações").click().run()
    assert not at.exception, at.exception
    assert at.success, [e.value for e in at.error]
    changed = at.dataframe[-1].value
    assert list(changed["Campo"]) == ["Centro de custo"]
    assert list(changed["Depois"]) == [other]
    assert (
        _scalar(
            portal_db,
            select(CostCentre.code)
            .join(Beneficiary, Beneficiary.cost_centre_id == CostCentre.id)
            .where(Beneficiary.card_number == card),
        )
        == other
    )


def test_the_invoice_shows_its_split_and_filters_its_lines_by_cost_centre(app):
    at = _open(log_in(app(), "100001"), "pages/invoices.py")
    split = next(d.value for d in at.dataframe if "Centro de custo" in d.value.columns[:1])
    labels = list(split["Centro de custo"])
    assert labels[0].startswith("ADM")
    picker = by_label(at.selectbox, "Centro de custo")
    picker.select(labels[0]).run()
    assert not at.exception, at.exception
    lines = next(d.value for d in at.dataframe if "Beneficiário" in d.value.columns)
    assert set(lines["Centro de custo"]) == {labels[0]}
    assert len(lines) == int(split["Lançamentos"].iloc[0])


def _adm(url: str) -> int:
    return _scalar(
        url,
        select(CostCentre.id)
        .join(Company, Company.id == CostCentre.company_id)
        .where(Company.code == "10001", CostCentre.code == "ADM"),
    )


def test_the_billing_report_has_a_cost_centre_tab_and_filter(app, portal_db):
    at = _open(log_in(app(), "100001"), "pages/billing_reports.py")
    assert [t.label for t in at.tabs][-1] == "Por centro de custo"
    by_label(at.multiselect, "Centros de custo").select(_adm(portal_db)).run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "Centro de custo" in d.value.columns[:1]]
    assert (
        tables and len(tables[-1]) == 1 and tables[-1]["Centro de custo"].iloc[0].startswith("ADM")
    )


def test_the_active_report_filters_by_cost_centre_and_shows_the_column(app, portal_db):
    at = _open(log_in(app(), "100001"), "pages/report_active.py")
    total = next(m.value for m in at.metric if m.label == "Beneficiários ativos")
    by_label(at.multiselect, "Centro de custo").select(_adm(portal_db)).run()
    assert not at.exception, at.exception
    narrowed = next(m.value for m in at.metric if m.label == "Beneficiários ativos")
    assert int(narrowed.replace(".", "")) < int(total.replace(".", ""))
    table = at.dataframe[0].value
    assert set(table["Centro de custo"]) == {"ADM · Administração"}
    assert any("Centro de custo: ADM · Administração" in c.value for c in at.caption)


def test_the_requirement_is_switched_on_the_page_and_marks_the_form_field(app, portal_db):
    at = _open(log_in(app(), "100001"), PAGE)
    by_label(at.button, "Exigir na inclusão de titulares").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Centro de custo agora é obrigatório na inclusão de titulares."
    assert _scalar(portal_db, select(Company.cost_centre_required).where(Company.code == "10001"))
    by_label(at.button, "Deixar de exigir na inclusão")  # the button now turns it off
    at.switch_page(INDIVIDUAL).run()
    assert by_label(at.selectbox, "Centro de custo *").value is None
