"""Brazilian formats on screen (AppTest): card numbers in groups of four in every table
that has them, CPF pre-filled with its mask, and no table with a blank or unnamed column
header or a meaningless index column."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.db import make_engine, make_session_factory
from data.models import Beneficiary, Company
from data.uow import UnitOfWork
from services.access import accounts as access
from services.batch import processing as batch
from tests.pages.conftest import by_label, log_in
from tests.pages.test_batch_pages import _holder, _xlsx, new_cpf

CARD = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")
CARD_IN_TEXT = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
RAW_CARD_IN_TEXT = re.compile(r"\b\d{16}\b")
FULL_CPF = re.compile(r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")

# Every page a master (or an account manager) opens, with the tables it shows at once.
MAIN_PAGES = [
    ("100001", "pages/home.py"),
    ("100001", "pages/plans.py"),
    ("100001", "pages/users_admin.py"),
    ("100001", "pages/audit_trail.py"),
    ("100001", "pages/protocols.py"),
    ("100001", "pages/report_active.py"),
    ("100001", "pages/report_inactive.py"),
    ("100001", "pages/report_utilization.py"),
    ("100001", "pages/invoices.py"),
    ("100001", "pages/payment_status.py"),
    ("100001", "pages/billing_reports.py"),
    ("100001", "pages/support_files.py"),
    ("900001", "pages/portfolio_analysis.py"),
    ("900001", "pages/billing_run.py"),
]


def _open(app, user_code: str, page: str) -> AppTest:  # noqa: ANN001
    at = log_in(app(), user_code)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def table_problems(at: AppTest) -> list[str]:
    """Every dataframe on the screen: headers are non-blank text (no "Unnamed: 0", no
    number), and the index is hidden (a 0, 1, 2 column under a blank header)."""
    problems = []
    for i, element in enumerate(at.dataframe):
        frame = element.value
        for column in frame.columns:
            if not isinstance(column, str) or not column.strip() or column.startswith("Unnamed"):
                problems.append(f"table {i}: column header {column!r}")
        config = json.loads(element.proto.columns or "{}")
        if not config.get("_index", {}).get("hidden"):
            problems.append(f"table {i}: index column shown ({list(frame.columns)})")
    return problems


# The batch file layout (Arquivos de apoio) shows what a file for machines holds: the
# card number column of a batch file takes digits only, and its example says so.
MACHINE_LAYOUT_COLUMNS = {"Exemplo"}


def card_problems(at: AppTest, machine_columns: frozenset[str] = frozenset()) -> list[str]:
    """Every "Carteirinha" column in groups of four; no 16 digits in a row in any cell."""
    problems = []
    for i, element in enumerate(at.dataframe):
        frame = element.value
        for column in frame.columns:
            if column in machine_columns:
                continue
            for value in frame[column]:
                text = str(value)
                in_card_column = str(column).startswith("Carteirinha") and text
                if (in_card_column and not CARD.match(text)) or RAW_CARD_IN_TEXT.search(text):
                    problems.append(f"table {i} {column}: {text!r}")
    return problems


@pytest.mark.parametrize(("user_code", "page"), MAIN_PAGES)
def test_every_table_of_the_main_pages_is_labelled_and_shows_cards_in_groups_of_four(
    app, user_code, page
):
    at = _open(app, user_code, page)
    assert table_problems(at) == []
    machine = MACHINE_LAYOUT_COLUMNS if page == "pages/support_files.py" else set()
    assert card_problems(at, frozenset(machine)) == []


def test_the_checks_catch_a_blank_header_a_shown_index_and_a_card_in_one_block():
    script = """
import pandas as pd
import streamlit as st
st.dataframe(pd.DataFrame({"": [1], "Carteirinha": ["0001000000000123"]}))
"""
    at = AppTest.from_string(script).run()
    assert len(table_problems(at)) == 2  # blank header, index shown
    assert card_problems(at) == ["table 0 Carteirinha: '0001000000000123'"]


def test_the_beneficiary_report_lists_card_numbers_in_groups_of_four(app):
    at = _open(app, "100001", "pages/report_active.py")
    cards = list(at.dataframe[0].value["Carteirinha"])
    assert cards and all(CARD.match(c) for c in cards)
    at.switch_page("pages/report_utilization.py").run()
    at.session_state["util_view"] = "Prestadores e beneficiários"  # the tab with people
    at.run()
    people = at.dataframe[-1].value
    assert len(people) and all(CARD.match(c) for c in people["Carteirinha"])


def test_invoice_lines_show_card_numbers_in_groups_of_four(app):
    at = _open(app, "100001", "pages/invoices.py")
    by_label(at.selectbox, "Ano").select(date.today().year - 1).run()
    lines = at.dataframe[1].value
    assert len(lines) and all(CARD.match(c) for c in lines["Carteirinha"])
    assert table_problems(at) == []


def test_the_batch_tables_show_card_numbers_in_groups_of_four(app, portal_db):
    engine = make_engine(portal_db)
    factory = make_session_factory(engine)
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    with factory() as s:
        company_id = s.scalar(select(Company.id).where(Company.code == "10001"))
    check = batch.batch_receive(
        uow=UnitOfWork(factory, company_id),
        actor=actor,
        file_name="rh.xlsx",
        content=_xlsx([_holder(portal_db, new_cpf())]),
        now=datetime.now(UTC),
    )
    batch.batch_apply(
        uow=UnitOfWork(factory, company_id),
        actor=actor,
        batch_id=check.batch.id,
        now=datetime.now(UTC),
    )
    engine.dispose()

    at = _open(app, "100001", "pages/batch_track.py")
    by_label(at.selectbox, "Ver lote").select(check.batch.id).run()
    assert not at.exception, at.exception
    (message,) = at.dataframe[1].value["Mensagem"]
    assert message.startswith("Protocolo ") and CARD_IN_TEXT.search(message), message
    assert table_problems(at) == [] and card_problems(at) == []


def test_the_update_form_prefills_the_cpf_formatted_and_an_untouched_form_changes_nothing(
    app, portal_db
):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        card, cpf = conn.execute(
            select(Beneficiary.card_number, Beneficiary.cpf)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(
                Company.code == "10001",
                Beneficiary.status == "active",
                Beneficiary.relationship_code == 1,
                Beneficiary.cpf.is_not(None),
                Beneficiary.cep.is_not(None),
                Beneficiary.phone.is_not(None),
            )
            .order_by(Beneficiary.id)
            .limit(1)
        ).one()
    engine.dispose()
    at = log_in(app(), "100001")
    at.switch_page("pages/movements_individual.py").run()
    at.session_state["individual_tab"] = "Alteração cadastral"
    at.run()
    by_label(at.text_input, "Buscar beneficiário (nome, carteirinha ou CPF)").input(card).run()
    assert not at.exception, at.exception
    shown = by_label(at.text_input, "CPF *").value
    assert FULL_CPF.match(shown) and shown.replace(".", "").replace("-", "") == cpf
    assert re.fullmatch(r"\d{5}-\d{3}", by_label(at.text_input, "CEP *").value)
    assert re.fullmatch(r"\(\d{2}\) \d{4,5}-\d{4}", by_label(at.text_input, "Telefone").value)
    by_label(at.button, "Salvar alterações").click().run()
    assert any("Nenhum dado foi alterado" in e.value for e in at.error)


def test_the_user_list_and_edit_form_show_the_cpf_formatted(app):
    at = _open(app, "100001", "pages/users_admin.py")
    cpfs = [c for c in at.dataframe[0].value["CPF"] if c]
    assert cpfs and all(FULL_CPF.match(c) for c in cpfs)
    assert table_problems(at) == []


def test_the_lgpd_report_on_screen_has_portuguese_columns_and_pt_br_values(app, portal_db):
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        card = conn.execute(
            select(Beneficiary.card_number)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(Company.code == "10001", Beneficiary.relationship_code == 1)
            .where(
                Beneficiary.id.in_(
                    select(Beneficiary.holder_id).where(Beneficiary.holder_id.is_not(None))
                )
            )
            .order_by(Beneficiary.id)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    at = _open(app, "900001", "pages/lgpd_request.py")
    # typed with the mask of the screen: accepted with or without punctuation
    by_label(at.text_input, "CPF ou carteirinha do beneficiário *").input(
        f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}"
    )
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    register = at.dataframe[0].value
    fields = dict(zip(register["Campo"], register["Valor"], strict=True))
    assert CARD.match(fields["Carteirinha"])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", fields["Data de nascimento"])
    assert FULL_CPF.match(fields["CPF"])
    links = at.dataframe[1].value
    assert list(links.columns) == ["Vínculo", "Nome", "Carteirinha"]
    assert all(CARD.match(c) for c in links["Carteirinha"])
    for element in at.dataframe:
        headers = [str(c) for c in element.value.columns]
        assert not [h for h in headers if "_" in h], headers  # no database column names
    assert table_problems(at) == [] and card_problems(at) == []
