"""Movement pages (Cadastro individual, Cadastro retroativo) driven through the frame."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from sqlalchemy import func, insert, select, update
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from components import navigation
from data.db import make_engine
from data.models import Beneficiary, Company, ContractedPlan, Plan
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
    "Agendadas",
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


def _unescaped(markdown: str) -> str:
    """Text as the user reads it (messages are escaped so that Markdown shows them as is)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _errors(at: AppTest) -> list[str]:
    return [_unescaped(e.value) for e in at.error]


CARD_NUMBER = re.compile(r"\*\*Carteirinha nº\*\* (\d{4} \d{4} \d{4} \d{4})")
PROTOCOL = re.compile(r"\*\*Protocolo nº\*\* (\d+)")


def _card(at: AppTest) -> str:
    """The facts of the one result card on the screen (protocol, card, dates, invoice)."""
    facts = [m.value for m in at.markdown if m.value.startswith("**Protocolo nº**")]
    assert len(facts) == 1, facts
    assert len(at.success) == 1, [s.value for s in at.success]
    return facts[0]


def _no_card(at: AppTest) -> None:
    assert not at.success, [s.value for s in at.success]
    assert not [m.value for m in at.markdown if m.value.startswith("**Protocolo nº**")]


def _message_after(at: AppTest, widget) -> str:  # noqa: ANN001
    """The refusal shown right under `widget` (its slot), "" when there is none."""
    nodes = [n for n in at.main if not isinstance(n, Block)]
    index = next(i for i, n in enumerate(nodes) if getattr(n, "key", None) == widget.key)
    after = nodes[index + 1]
    return _unescaped(after.value) if after.type == "error" else ""


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
    # One result card: who, protocol, card number in groups of four, effective date and
    # what it does to the invoice (as the service says), the virtual card, two actions.
    assert at.success[0].value == "Inclusão registrada: **MARIANA TESTE DE SOUZA**"
    card = _card(at)
    assert PROTOCOL.search(card) and CARD_NUMBER.search(card), card
    assert re.search(r"\*\*Vigência:\*\* \d{2}/\d{2}/\d{4}", card), card
    assert re.search(r"\*\*Fatura:\*\* .*fatura de \d{2}/\d{4}", card), card
    download = at.get("download_button")
    assert download and download[0].proto.label == "Baixar carteirinha virtual (PNG)"
    by_label(at.button, "Ver protocolo")
    # The card takes the form's place (nothing stale under it) and survives a rerun.
    assert not [t for t in at.text_input if t.label == "Nome completo *"]
    assert not [i.value for i in at.info if "Nenhum beneficiário" in i.value]
    at.run()
    assert _card(at) == card
    # "Nova movimentação" clears the card and gives an empty form.
    by_label(at.button, "Nova movimentação").click().run()
    assert not at.exception, at.exception
    _no_card(at)
    assert by_label(at.text_input, "Nome completo *").value == ""
    assert by_label(at.selectbox, "Plano *").value is None


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
    assert CARD_NUMBER.search(_card(at))


def test_a_refused_inclusion_shows_the_message_next_to_the_field_and_writes_nothing(app, portal_db):
    before = _scalar(portal_db, select(func.count()).select_from(Beneficiary))
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    _fill_holder(at, "123.456.789-00")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    # The message sits in the form, next to the CPF field; under the form only a pointer.
    assert "CPF" in _message_after(at, by_label(at.text_input, "CPF *")), errors
    assert errors[-1] == "Corrija o campo indicado no formulário.", errors
    assert sum("CPF" in e for e in errors) == 1, errors
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
    assert at.success[0].value.startswith("Exclusão registrada: ")
    card = _card(at)
    assert CARD_NUMBER.search(card).group(1).replace(" ", "") == holder, card
    assert "**Fatura:** Sem cobrança a partir da competência " in card
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


def test_a_future_exclusion_is_scheduled_listed_and_cancelled(app, portal_db):
    from datetime import timedelta

    from components.clock import today_local
    from data.models import Movement, Protocol

    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("outros").run()
    day = today_local() + timedelta(days=20)
    by_label(at.date_input, "Data da exclusão *").set_value(day).run()
    by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados").check().run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith(f"Exclusão agendada para {day:%d/%m/%Y}: ")
    protocol = PROTOCOL.search(_card(at)).group(1)
    status = select(Beneficiary.status).where(Beneficiary.card_number == holder)
    assert _scalar(portal_db, status) == "active"  # nothing changes before the date

    # The picker says it, and the Agendadas tab lists it with a cancel button.
    _open(at, INDIVIDUAL, "Alteração de plano")
    _pick(at, holder, "Buscar titular (nome, carteirinha ou CPF)")
    assert any(f"exclusão agendada para {day:%d/%m/%Y}" in w.value for w in at.warning)
    _open(at, INDIVIDUAL, "Agendadas")
    assert any(
        f"Exclusão agendada para {day:%d/%m/%Y}" in m.value and protocol in m.value
        for m in at.markdown
    ), [m.value for m in at.markdown]
    cancel = by_label(at.button, "Cancelar agendamento")
    assert cancel.disabled
    by_label(at.checkbox, "Confirmo o cancelamento").check().run()
    by_label(at.button, "Cancelar agendamento").click().run()
    assert not at.exception, at.exception
    message = at.success[0].value
    assert f"(protocolo {protocol})" in message and "Protocolo do cancelamento" in message
    assert any("Nenhuma movimentação agendada" in i.value for i in at.info)
    states = _scalar(
        portal_db,
        select(func.count())
        .select_from(Movement)
        .join(Protocol, Protocol.id == Movement.protocol_id)
        .where(Protocol.number == protocol, Movement.state == "cancelled"),
    )
    assert states >= 2  # the holder and the dependents
    assert _scalar(portal_db, status) == "active"


def test_a_dismissed_holder_who_takes_the_stay_stays_covered_with_the_family(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("demissao").run()
    by_label(at.radio, "O titular contribuía com o pagamento do plano?").set_value("Sim").run()
    by_label(at.number_input, "Por quantos meses contribuiu?").set_value(36).run()
    stay = "O ex-empregado optou por permanecer no plano (arts. 30/31)? *"
    by_label(at.radio, stay).set_value("Sim").run()
    by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados").check().run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    assert any("Permanência (Lei 9.656, arts. 30/31)" in i.value for i in at.info)
    assert any(m.value == "**Em permanência (arts. 30/31)**" for m in at.markdown)
    row = select(Beneficiary.status, Beneficiary.stay_until).where(
        Beneficiary.card_number == holder
    )
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        status, until = conn.execute(row).one()
    engine.dispose()
    assert status == "active" and until is not None


def test_a_dismissed_holder_opts_for_the_stay_afterwards_from_the_reactivation_tab(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("demissao").run()
    by_label(at.radio, "O titular contribuía com o pagamento do plano?").set_value("Sim").run()
    by_label(at.number_input, "Por quantos meses contribuiu?").set_value(36).run()
    by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados").check().run()
    by_label(at.button, "Excluir").click().run()
    assert at.success[0].value.startswith("Exclusão registrada: ")

    _open(at, INDIVIDUAL, "Reativação")
    _pick(at, holder)
    assert any("pode optar pela permanência" in i.value for i in at.info)
    by_label(at.button, "Registrar opção pela permanência (arts. 30/31)").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Reativação registrada: ")
    assert any("Permanência (Lei 9.656, arts. 30/31)" in i.value for i in at.info)
    status = select(Beneficiary.status).where(Beneficiary.card_number == holder)
    assert _scalar(portal_db, status) == "active"


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
    # A correction of data does nothing to the invoice: the card says nothing about it.
    assert "Fatura" not in _card(at)


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
    card = _card(at)
    assert f"**Vigência:** {oldest}" in card
    # The months since the retroactive date are charged on the next invoice.
    assert re.search(rf"como retroativo, \d+ meses \({oldest[3:]} a \d{{2}}/\d{{4}}\)", card)
    assert at.get("download_button")
    # Another movement type: the card is stale and goes away for good.
    by_label(at.radio, "Movimentação").set_value("Reativação").run()
    _no_card(at)
    by_label(at.radio, "Movimentação").set_value("Inclusão").run()
    _no_card(at)
    assert by_label(at.text_input, "Nome completo *").value == ""


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
    # The menu (the home page no longer copies it: its shortcuts are links too).
    menu = [p.title for p in navigation.pages_for(at.session_state["actor"])]
    assert "Cadastro individual" in menu
    assert "Protocolos" not in menu
    assert "Protocolos" not in [link.proto.label for link in at.get("page_link")]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/protocols.py")


# ---------------------------------------------------------------- the empty inclusion form


HOLDER_REQUIRED = {
    "Plano *": "Escolha o plano",
    "Nome completo *": "Informe o nome",
    "CPF *": "CPF é obrigatório para titulares",
    "Data de nascimento *": "Informe a data de nascimento",
    "Sexo *": "Informe o sexo",
    "Nome da mãe *": "Informe o nome da mãe",
    "CEP *": "Informe o CEP",
    "Município *": "Informe o município",
    "UF *": "Informe a UF",
    "Data de admissão *": "Informe a data de admissão",
}


def _widget(at: AppTest, label: str):  # noqa: ANN202
    for kind in (at.text_input, at.selectbox, at.date_input):
        for element in kind:
            if element.label == label:
                return element
    raise AssertionError(label)


def test_an_empty_inclusion_form_gives_each_required_field_its_own_message(app, portal_db):
    before = _scalar(portal_db, select(func.count()).select_from(Beneficiary))
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    for label, message in HOLDER_REQUIRED.items():
        next_to = _message_after(at, _widget(at, label))
        assert next_to.startswith(message), (label, next_to)
    # Each problem once: next to its field, and under the form only how many to fix.
    assert len(errors) == len(HOLDER_REQUIRED) + 1, errors
    assert errors[-1] == f"Corrija os {len(HOLDER_REQUIRED)} campos indicados no formulário."
    assert not any(".;" in e or ".." in e for e in errors), errors
    assert not at.success
    assert _scalar(portal_db, select(func.count()).select_from(Beneficiary)) == before


@pytest.mark.parametrize(("birth", "cpf_refused"), [(date(1990, 1, 1), True), (None, False)])
def test_a_dependent_needs_a_cpf_from_18_years(app, portal_db, birth, cpf_refused):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    by_label(at.radio, "Tipo de beneficiário").set_value("Dependente").run()
    _pick(at, holder, "Buscar titular (nome, carteirinha ou CPF)")
    if birth is not None:
        by_label(at.date_input, "Data de nascimento *").set_value(birth)
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    cpf = _message_after(at, by_label(at.text_input, "CPF"))
    if cpf_refused:
        assert cpf == "CPF é obrigatório para dependentes maiores de 18 (SIB/ANS).", cpf
    else:  # the age is unknown: the birth date is what is missing
        assert cpf == ""
        birth = _message_after(at, by_label(at.date_input, "Data de nascimento *"))
        assert birth.startswith("Informe a data de nascimento"), birth
    assert not any("Escolha o plano" in e for e in _errors(at))  # the holder's plan


# ---------------------------------------------------------------- transfer


def _transfer_world(url: str) -> tuple[str, str, dict[str, set[str]]]:
    """A holder of 10001 on a plan 10002 contracts and 10003 does not (made so)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(Company.code, Company.id)).all())
        card, plan_id = conn.execute(
            select(Beneficiary.card_number, Beneficiary.plan_id)
            .where(
                Beneficiary.company_id == ids["10001"],
                Beneficiary.relationship_code == 1,
                Beneficiary.status == "active",
            )
            .order_by(Beneficiary.id)
            .limit(1)
        ).one()
        plan_name = conn.execute(select(Plan.name).where(Plan.id == plan_id)).scalar_one()
        contracted = select(ContractedPlan.id).where(
            ContractedPlan.company_id == ids["10002"], ContractedPlan.plan_id == plan_id
        )
        if conn.execute(contracted).first() is None:
            conn.execute(
                insert(ContractedPlan).values(
                    company_id=ids["10002"], plan_id=plan_id, start_date=date(2020, 1, 1)
                )
            )
        conn.execute(
            update(ContractedPlan)
            .where(ContractedPlan.company_id == ids["10003"], ContractedPlan.plan_id == plan_id)
            .values(end_date=date(2024, 12, 31))
        )
        plans = {
            code: set(
                conn.execute(
                    select(Plan.name)
                    .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
                    .where(
                        ContractedPlan.company_id == ids[code], ContractedPlan.end_date.is_(None)
                    )
                ).scalars()
            )
            for code in ("10002", "10003")
        }
    engine.dispose()
    assert plans["10003"] and plan_name not in plans["10003"]
    return card, plan_name, plans


def _plan_names(box) -> set[str]:  # noqa: ANN001
    return {o.split(" (ANS")[0] for o in box.options}


def test_the_transfer_plans_follow_the_destination_and_a_refused_plan_names_the_field(
    app, portal_db
):
    card, plan_name, plans = _transfer_world(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Transferência")
    _pick(at, card, "Buscar titular (nome, carteirinha ou CPF)")
    target = by_label(at.selectbox, "Empresa de destino *")
    # 10002 contracts the holder's plan: keeping it is offered, and is the default.
    target.select(next(o for o in target.options if o.startswith("10002"))).run()
    box = by_label(at.selectbox, "Plano na empresa de destino *")
    assert box.options[0].startswith(f"Manter o plano atual: {plan_name} (ANS ")
    assert box.index == 0
    assert _plan_names(box) - {box.options[0].split(" (ANS")[0]} == plans["10002"] - {plan_name}
    # 10003 does not: only its own plans, none chosen, and a word on why.
    target = by_label(at.selectbox, "Empresa de destino *")
    target.select(next(o for o in target.options if o.startswith("10003"))).run()
    box = by_label(at.selectbox, "Plano na empresa de destino *")
    assert not any(o.startswith("Manter") for o in box.options), box.options
    assert _plan_names(box) == plans["10003"]
    assert box.index is None
    assert any("não é contratado pela empresa de destino" in c.value for c in at.caption)
    # Transferring without choosing: refused next to the plan field, nothing written.
    by_label(at.button, "Transferir").click().run()
    assert not at.exception, at.exception
    message = _message_after(at, by_label(at.selectbox, "Plano na empresa de destino *"))
    assert message.startswith(f"O plano {plan_name} não é contratado pela empresa 10003 ("), message
    assert "escolha um dos planos dela" in message
    assert _errors(at)[-1] == "Corrija o campo indicado no formulário."
    company = select(Beneficiary.company_id).where(Beneficiary.card_number == card)
    assert _scalar(portal_db, company) == _company_id(portal_db)
    # A plan of 10003: the holder moves, and the card says where to.
    by_label(at.selectbox, "Plano na empresa de destino *").select_index(0).run()
    by_label(at.button, "Transferir").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    assert at.success[0].value.startswith("Transferência registrada: ")
    facts = _card(at)
    assert "**Empresa de destino:** 10003 · " in facts
    assert CARD_NUMBER.search(facts).group(1).replace(" ", "") == card
    assert "**Fatura:** A partir da competência " in facts
    assert _scalar(portal_db, company) == _company_id(portal_db, "10003")


# ---------------------------------------------------------------- the result card


def test_no_stale_result_after_switching_movement_type_or_company(app, portal_db):
    holder = _holder_with_dependents(portal_db)
    at = _open(log_in(app(), "100001"), INDIVIDUAL, "Exclusão")
    _pick(at, holder)
    by_label(at.selectbox, "Motivo da exclusão *").select("pedido").run()
    by_label(at.checkbox, "Confirmo a exclusão dos dependentes listados").check().run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    _card(at)
    # The excluded holder is no longer found, but no "not found" under the success.
    assert not [i.value for i in at.info if "Nenhum beneficiário" in i.value]
    # Another movement type: no card there, nor when coming back.
    _open(at, INDIVIDUAL, "Inclusão")
    _no_card(at)
    _open(at, INDIVIDUAL, "Exclusão")
    _no_card(at)
    # Another company: a card of the first one is not shown there.
    _open(at, INDIVIDUAL, "Inclusão")
    _fill_holder(at, new_cpf())
    by_label(at.button, "Incluir beneficiário").click().run()
    _card(at)
    switcher = at.sidebar.selectbox(key="company_switcher")
    switcher.select(next(o for o in switcher.options if o.startswith("10002"))).run()
    assert not at.exception, at.exception
    _no_card(at)


def test_ver_protocolo_opens_the_protocol_in_protocolos(app, portal_db):
    at = _open(log_in(app(), "100001"), INDIVIDUAL)
    _fill_holder(at, new_cpf(), "CLARA PROTOCOLO DE SOUZA")
    by_label(at.button, "Incluir beneficiário").click().run()
    number = PROTOCOL.search(_card(at)).group(1)
    by_label(at.button, "Ver protocolo").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Protocolos"
    assert by_label(at.text_input, "Número do protocolo").value == number
    assert [s.value for s in at.subheader] == [f"Protocolo nº {number}"]


def test_a_user_without_protocols_sees_no_ver_protocolo(app, portal_db):
    at = _open(log_in(app(), "100002"), INDIVIDUAL)  # movements and reports only
    _fill_holder(at, new_cpf(), "BRUNO SEM PROTOCOLO DA SILVA")
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    _card(at)
    assert [b.label for b in at.button if b.label == "Ver protocolo"] == []
    by_label(at.button, "Nova movimentação")
