"""Movement pages (Cadastro individual, Cadastro retroativo) driven through the frame."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from components import navigation
from data.db import make_engine
from data.models import Beneficiary, Company
from services.actors import Actor, Permission, Role
from services.rules.documents import cpf_check_digits
from tests.pages.conftest import by_label, log_in

INDIVIDUAL = "pages/movements_individual.py"
RETROACTIVE = "pages/movements_retroactive.py"
TABS = [
    "Inclusão",
    "Exclusão",
    "Alteração cadastral",
    "Reativação",
    "Transferência",
    "Alteração de plano",
]
_cpf_bases = itertools.count(731_000_001)


def new_cpf() -> str:
    base = f"{next(_cpf_bases):09d}"
    return base + cpf_check_digits(base)


def _scalar(url: str, query):  # noqa: ANN001, ANN202
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    engine.dispose()
    return value


def _company_id(url: str, code: str = "10001") -> int:
    return _scalar(url, select(Company.id).where(Company.code == code))


def _holder_with_dependents(url: str) -> str:
    dependent = select(Beneficiary.holder_id).where(
        Beneficiary.status == "active", Beneficiary.holder_id.is_not(None)
    )
    return _scalar(
        url,
        select(Beneficiary.card_number)
        .where(
            Beneficiary.company_id == _company_id(url),
            Beneficiary.status == "active",
            Beneficiary.relationship_code == 1,
            Beneficiary.id.in_(dependent),
        )
        .order_by(Beneficiary.id)
        .limit(1),
    )


def _open(at: AppTest, page: str, tab: str | None = None) -> AppTest:
    at.switch_page(page).run()
    if tab is not None:
        at.session_state["individual_tab"] = tab
        at.run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _fill_holder(at: AppTest, cpf: str, name: str = "MARIANA TESTE DE SOUZA") -> None:
    by_label(at.text_input, "Nome completo *").input(name)
    by_label(at.text_input, "CPF *").input(cpf)
    by_label(at.date_input, "Data de nascimento *").set_value(date(1990, 5, 4))
    by_label(at.selectbox, "Sexo *").select("F")
    by_label(at.text_input, "Nome da mãe *").input("JOANA TESTE DE SOUZA")
    by_label(at.text_input, "CEP *").input("01310-100")
    by_label(at.text_input, "Logradouro").input("Avenida Paulista")
    by_label(at.text_input, "Número").input("1000")
    by_label(at.text_input, "Município *").input("São Paulo")
    by_label(at.selectbox, "UF *").select("SP")
    by_label(at.date_input, "Data de admissão *").set_value(date(2024, 2, 1))
    by_label(at.selectbox, "Plano *").select_index(0)


def _pick(at: AppTest, card: str, search: str = "Buscar beneficiário (nome, carteirinha ou CPF)"):
    by_label(at.text_input, search).input(card).run()
    picker = next(s for s in at.selectbox if s.label in ("Beneficiário *", "Titular *"))
    assert picker.value == card, picker.options


@pytest.mark.parametrize("user_code", ["100001", "900001"])
def test_every_movement_form_renders_for_the_master_and_the_account_manager(app, user_code):
    at = log_in(app(), user_code)
    for tab in TABS:
        _open(at, INDIVIDUAL, tab)
        assert at.title[0].value == "Cadastro individual"
        assert at.caption[0].value.startswith("10001 · ")
        assert not _errors(at), (tab, _errors(at))
    for kind in ["Inclusão", "Alteração de plano", "Reativação"]:
        _open(at, RETROACTIVE)
        by_label(at.radio, "Movimentação").set_value(kind).run()
        assert not at.exception, at.exception
        assert not _errors(at), (kind, _errors(at))


def test_a_holder_included_through_the_form_gets_a_card_number_and_a_protocol(app, portal_db):
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    _fill_holder(at, new_cpf())
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    message = at.success[0].value
    assert "MARIANA TESTE DE SOUZA" in message
    assert "Carteirinha nº **" in message and "Protocolo nº **" in message
    download = at.get("download_button")
    assert download and download[0].proto.label == "Baixar carteirinha virtual (PNG)"
    # The result survives a rerun, and the form is fresh for the next inclusion.
    at.run()
    assert "MARIANA TESTE DE SOUZA" in at.success[0].value
    assert by_label(at.text_input, "Nome completo *").value == ""


def test_a_dependent_is_included_under_an_active_holder(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    by_label(at.radio, "Tipo de beneficiário").set_value("Dependente").run()
    _pick(at, holder, "Buscar titular (nome, carteirinha ou CPF)")
    by_label(at.selectbox, "Parentesco *").select_index(1).run()
    assert by_label(at.selectbox, "Parentesco *").value.label == "Filho(a)"
    by_label(at.text_input, "Nome completo *").input("PEDRO TESTE DEPENDENTE")
    by_label(at.date_input, "Data de nascimento *").set_value(date(2015, 3, 9))
    by_label(at.selectbox, "Sexo *").select("M")
    by_label(at.text_input, "Nome da mãe *").input("JOANA TESTE DE SOUZA")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    assert "PEDRO TESTE DEPENDENTE" in at.success[0].value


def test_a_refused_inclusion_shows_the_message_next_to_the_field_and_writes_nothing(app, portal_db):
    before = _scalar(portal_db, select(func.count()).select_from(Beneficiary))
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    _fill_holder(at, "123.456.789-00")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    field_messages = [e for e in errors if not e.startswith("Corrija")]
    assert any("CPF" in e for e in field_messages), errors
    assert any(e.startswith("Corrija os campos indicados") for e in errors)
    # The message sits in the form, next to the CPF field, not only in the summary.
    form = next(iter(at.get("form")))
    assert any("CPF" in e.value for e in form.error)
    assert not at.success
    assert _scalar(portal_db, select(func.count()).select_from(Beneficiary)) == before


def test_excluding_a_holder_with_dependents_asks_for_the_confirmation(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("pedido").run()
    assert any("exclui também" in w.value for w in at.warning)
    confirm = by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados")
    by_label(at.button, "Excluir").click().run()
    assert any("Confirme para continuar" in e for e in _errors(at))
    assert (
        _scalar(portal_db, select(Beneficiary.status).where(Beneficiary.card_number == holder))
        == "active"
    )

    confirm = by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados")
    confirm.check().run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    assert "Exclusão registrada" in at.success[0].value
    excluded = at.dataframe[0].value
    assert len(excluded) >= 2 and holder[-4:] in " ".join(excluded["Carteirinha"])
    assert (
        _scalar(portal_db, select(Beneficiary.status).where(Beneficiary.card_number == holder))
        == "inactive"
    )


def test_a_dismissed_holder_who_contributed_sees_the_legal_stay(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("demissao").run()
    assert any("1/3 do tempo" in i.value for i in at.info)
    by_label(at.radio, "O titular contribuía com o pagamento do plano?").set_value("Sim").run()
    by_label(at.number_input, "Por quantos meses contribuiu?").set_value(36).run()
    assert any("12 meses" in c.value for c in at.caption)
    by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados").check().run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    assert any("12 meses" in i.value for i in at.info), [i.value for i in at.info]


def test_an_update_shows_the_data_before_and_after(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Alteração cadastral")
    _pick(at, holder)
    by_label(at.text_input, "E-mail").input("novo.email@empresa.com.br")
    by_label(at.text_input, "Telefone").input("(11) 3333-4444")
    by_label(at.button, "Salvar alterações").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    assert "Alteração cadastral registrada" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table.columns) == ["Campo", "Antes", "Depois"]
    assert {"E-mail", "Telefone"} <= set(table["Campo"])
    assert "novo.email@empresa.com.br" in set(table["Depois"])


def test_an_update_without_changes_is_refused(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Alteração cadastral")
    _pick(at, holder)
    by_label(at.button, "Salvar alterações").click().run()
    assert any("Nenhum dado foi alterado" in e for e in _errors(at))


def test_the_retroactive_page_offers_three_dates_and_warns_about_billing(app):
    at = _open(log_in(app(), "100001"), RETROACTIVE)
    dates = by_label(at.radio, "Data de vigência retroativa")
    assert len(dates.options) == 3
    assert all(o.startswith("01/") for o in dates.options)
    assert any("Cobrança retroativa" in w.value for w in at.warning)
    assert any("retroativa" in m.value for m in at.markdown)


def test_a_retroactive_inclusion_takes_the_chosen_past_date(app):
    at = _open(log_in(app(), "100001"), RETROACTIVE)
    oldest = by_label(at.radio, "Data de vigência retroativa").options[-1]
    by_label(at.radio, "Data de vigência retroativa").set_value(
        date(int(oldest[6:]), int(oldest[3:5]), 1)
    ).run()
    _fill_holder(at, new_cpf(), "RETRO TESTE DA SILVA")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    assert "RETRO TESTE DA SILVA" in at.success[0].value
    assert any(f"Vigência em {oldest}" in c.value for c in at.caption)


def _actor(*permissions: Permission) -> Actor:
    return Actor(
        user_id=1,
        user_code="100099",
        name="Teste",
        role=Role.USER,
        permissions=frozenset(permissions),
        company_ids=frozenset({1}),
        home_company_id=1,
    )


def test_a_user_without_movements_permission_has_no_movement_pages():
    without = {p.path for p in navigation.pages_for(_actor(Permission.REPORTS))}
    with_it = {p.path for p in navigation.pages_for(_actor(Permission.MOVEMENTS))}
    assert INDIVIDUAL not in without and RETROACTIVE not in without
    assert {INDIVIDUAL, RETROACTIVE} <= with_it


def test_a_user_without_protocols_permission_has_no_protocols_page(app):
    at = log_in(app(), "100002")  # movements and reports only
    menu = [link.proto.label for link in at.get("page_link")]
    assert "Cadastro individual" in menu
    assert "Protocolos" not in menu
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/protocols.py")
