"""Protocolos: list with filters, detail with history, new request, added information."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import by_label, log_in

PAGE = "pages/protocols.py"


def _open(at: AppTest) -> AppTest:
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _count(at: AppTest) -> int:
    found = [c.value for c in at.caption if "protocolo(s) encontrado(s)" in c.value]
    return int(re.match(r"(\d+)", found[0]).group(1)) if found else 0


@pytest.mark.parametrize("user_code", ["100001", "900001"])
def test_the_protocols_page_lists_the_company_protocols(app, user_code):
    at = _open(log_in(app(), user_code))
    assert at.title[0].value == "Protocolos"
    assert at.caption[0].value.startswith("10001 · ")
    assert _count(at) > 0
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Protocolo",
        "Tipo",
        "Assunto",
        "Situação",
        "Aberto em",
        "Prazo",
        "Atraso",
    ]


def test_filters_narrow_the_list_by_type_status_and_number(app):
    at = _open(log_in(app(), "100001"))
    everything = _count(at)
    first = at.dataframe[0].value.iloc[0]
    by_label(at.text_input, "Número do protocolo").input(first["Protocolo"]).run()
    assert _count(at) == 1
    by_label(at.text_input, "Número do protocolo").input("").run()
    by_label(at.multiselect, "Situação").select("closed").run()
    closed = _count(at)
    assert closed < everything or set(at.dataframe[0].value["Situação"]) == {"Encerrado"}
    if closed:
        assert set(at.dataframe[0].value["Situação"]) == {"Encerrado"}
    by_label(at.multiselect, "Tipo").select("invoice_question").run()
    if _count(at):
        assert set(at.dataframe[0].value["Tipo"]) == {"Dúvida sobre fatura"}
    else:
        assert any("Nenhum protocolo encontrado" in i.value for i in at.info)


def test_a_protocol_opens_with_its_history(app):
    at = _open(log_in(app(), "100001"))
    box = by_label(at.selectbox, "Abrir protocolo")
    box.select_index(0).run()
    assert not at.exception, at.exception
    number = at.dataframe[0].value.iloc[0]["Protocolo"]
    assert at.subheader[0].value == f"Protocolo nº {number}"
    history = at.dataframe[1].value
    assert list(history.columns) == ["Data", "Situação", "Registro", "Por"]
    assert any(note.startswith("Protocolo aberto") for note in history["Registro"])


def test_a_new_request_gets_a_number_and_takes_more_information(app):
    at = _open(log_in(app(), "100001"))
    by_label(at.button, "Abrir solicitação").click().run()
    assert any("Escolha o tipo" in e.value for e in at.error)
    assert any("assunto" in e.value for e in at.error)

    by_label(at.selectbox, "Tipo de solicitação *").select("invoice_question")
    by_label(at.text_input, "Assunto *").input("Valor da fatura de outubro")
    by_label(at.text_area, "Descrição *").input(
        "A fatura veio com um valor maior do que o previsto."
    )
    by_label(at.button, "Abrir solicitação").click().run()
    assert not at.exception, at.exception
    number = re.search(r"Protocolo nº \*\*(\d+)\*\*", at.success[0].value).group(1)

    by_label(at.text_input, "Número do protocolo").input(number).run()
    assert _count(at) == 1
    row = at.dataframe[0].value.iloc[0]
    assert (row["Tipo"], row["Situação"]) == ("Dúvida sobre fatura", "Aberto")
    by_label(at.selectbox, "Abrir protocolo").select_index(0).run()
    by_label(at.text_area, "Informação a acrescentar *").input("Segue o número do pedido: 4521.")
    by_label(at.button, "Acrescentar informação").click().run()
    assert not at.exception, at.exception
    assert any("Informação acrescentada" in s.value for s in at.success)
    assert "Segue o número do pedido: 4521." in set(at.dataframe[1].value["Registro"])
