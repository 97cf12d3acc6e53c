"""Waiting periods (carência) on the screens: the beneficiary detail (Alteração cadastral
shows the register of the beneficiary picked) and the virtual card."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from components.virtual_card import virtual_card_png, waiting_lines
from data.db import make_engine
from data.models import Beneficiary, Company
from services.rules.documents import cpf_check_digits
from tests.pages.conftest import by_label, log_in

INDIVIDUAL = "pages/movements_individual.py"


def _open(at: AppTest, tab: str) -> AppTest:
    at.switch_page(INDIVIDUAL).run()
    at.session_state["individual_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def _pick(at: AppTest, card: str) -> None:
    by_label(at.text_input, "Buscar beneficiário (nome, carteirinha ou CPF)").input(card).run()
    picker = by_label(at.selectbox, "Beneficiário *")
    assert picker.value == card, picker.options


def _include_holder(at: AppTest, cpf: str) -> None:
    by_label(at.text_input, "Nome completo *").input("MARIANA CARENCIA DE SOUZA")
    by_label(at.text_input, "CPF *").input(cpf)
    by_label(at.date_input, "Data de nascimento *").set_value(date(1990, 5, 4))
    by_label(at.selectbox, "Sexo *").select("F")
    by_label(at.text_input, "Nome da mãe *").input("JOANA TESTE DE SOUZA")
    by_label(at.text_input, "CEP *").input("01310-100")
    by_label(at.text_input, "Logradouro").input("Avenida Paulista")
    by_label(at.text_input, "Número").input("1000")
    by_label(at.text_input, "Município *").input("São Paulo")
    by_label(at.selectbox, "UF *").select("SP")
    # Hired long ago: no RN 195 exemption, the contract's periods apply.
    by_label(at.date_input, "Data de admissão *").set_value(date(2024, 2, 1))
    by_label(at.selectbox, "Plano *").select_index(0)
    by_label(at.button, "Incluir beneficiário").click().run()
    assert not at.exception, at.exception
    assert at.success and "MARIANA CARENCIA DE SOUZA" in at.success[0].value


def _row(url: str, cpf: str | None = None) -> tuple[str, dict | None]:
    engine = make_engine(url)
    with engine.connect() as conn:
        company = conn.execute(select(Company.id).where(Company.code == "10001")).scalar()
        query = select(Beneficiary.card_number, Beneficiary.waiting_periods).where(
            Beneficiary.company_id == company
        )
        if cpf:
            query = query.where(Beneficiary.cpf == cpf)
        else:  # an older row, from before waiting periods were computed (migrated)
            query = (
                query.where(Beneficiary.status == "active", Beneficiary.relationship_code == 1)
                .order_by(Beneficiary.id)
                .limit(1)
            )
        row = conn.execute(query).first()
        conn.rollback()
    if row is not None and not cpf:
        with engine.begin() as write:  # the demo computes them: make this one older
            write.execute(
                update(Beneficiary)
                .where(Beneficiary.card_number == row[0])
                .values(waiting_periods=None)
            )
        row = (row[0], None)
    engine.dispose()
    assert row is not None
    return row[0], row[1]


def _panel_texts(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if "arência" in c.value]


def test_the_detail_shows_the_waiting_periods_computed_at_inclusion(app, portal_db):
    base = "731555001"
    cpf = base + cpf_check_digits(base)
    at = _include_holder_and_return(app, cpf)
    card, stored = _row(portal_db, cpf)
    assert stored and stored["Ortodontia"]  # stored at inclusion: a date, not exempt
    at = _open(at, "Alteração cadastral")
    _pick(at, card)
    texts = _panel_texts(at)
    assert any(t.startswith("Em carência: ") and "Ortodontia até" in t for t in texts), texts
    table = next(d.value for d in at.dataframe if "Grupo de procedimentos" in d.value.columns)
    by_group = dict(zip(table["Grupo de procedimentos"], table["Carência até"], strict=True))
    last = date.fromisoformat(stored["Ortodontia"])
    assert by_group["Ortodontia"] == f"{last:%d/%m/%Y}"
    assert set(table["Situação"]) <= {"Em carência", "Sem carência", "Cumprida"}


def _include_holder_and_return(app, cpf: str) -> AppTest:  # noqa: ANN001
    at = _open(log_in(app(), "100001"), "Inclusão")
    _include_holder(at, cpf)
    return at


def test_an_older_beneficiary_shows_waiting_not_computed(app, portal_db):
    card, stored = _row(portal_db)
    assert stored is None
    at = _open(log_in(app(), "100001"), "Alteração cadastral")
    _pick(at, card)
    assert any("Carência não calculada" in t for t in _panel_texts(at)), _panel_texts(at)
    assert not [d for d in at.dataframe if "Grupo de procedimentos" in d.value.columns]


def test_the_virtual_card_carries_the_waiting_periods():
    stored = {"Urgência": "2026-11-26", "Prótese": "2027-05-24", "Ortodontia": "2027-05-24"}
    args = ("ANA", "0001000000000027", "Sorriso Plus", "Empresa", "483921199", date(2026, 11, 26))
    assert waiting_lines(stored) == [
        "Carência: Urgência até 26/11/2026; Prótese, Ortodontia até 24/05/2027"
    ]
    assert waiting_lines({"Urgência": None}) == ["Carência: Isento"]
    assert waiting_lines(None) == ["Carência: não calculada"]
    with_waiting = Image.open(io.BytesIO(virtual_card_png(*args, stored)))
    without = Image.open(io.BytesIO(virtual_card_png(*args, stored, show_waiting=False)))
    # The text is drawn in the band under the company name, and only there.
    band = (40, 486, 816, 530)
    assert with_waiting.crop(band).tobytes() != without.crop(band).tobytes()
    assert with_waiting.crop((0, 0, 856, 484)).tobytes() == without.crop((0, 0, 856, 484)).tobytes()
    # A long list of groups fits in two lines.
    many = {
        g: "2027-05-24" if i % 2 else "2026-12-25"
        for i, g in enumerate(
            [
                "Urgência",
                "Diagnóstico",
                "Prevenção",
                "Radiologia",
                "Dentística",
                "Periodontia",
                "Endodontia",
                "Cirurgia",
                "Prótese",
                "Ortodontia",
            ]
        )
    }
    assert len(waiting_lines(many)) == 2


# ---------------------------------------------------------------- Meus dados: the contract


def test_the_account_manager_edits_the_contracts_waiting_periods(app, portal_db):
    at = log_in(app(), "900001")
    at.switch_page("pages/company_data.py").run()
    assert not at.exception, at.exception
    assert any(s.value == "Carência do contrato" for s in at.subheader)
    ortho = by_label(at.number_input, "Ortodontia (dias)")
    assert ortho.value == 180 and ortho.max == 180
    assert by_label(at.number_input, "Urgência (dias)").max == 1  # 24 hours
    ortho.set_value(120)
    by_label(at.button, "Salvar prazos de carência").click().run()
    assert not at.exception, at.exception
    assert any("Ortodontia: 180 dias → 120 dias" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        stored = conn.execute(
            select(Company.waiting_periods).where(Company.code == "10001")
        ).scalar()
    engine.dispose()
    assert stored["Ortodontia"] == 120 and stored["Urgência"] == 1
    by_label(at.button, "Voltar aos prazos padrão").click().run()
    assert any("Ortodontia: 120 dias → 180 dias" in s.value for s in at.success)


def test_the_master_sees_the_contracts_waiting_periods_read_only(app):
    at = log_in(app(), "100001")
    at.switch_page("pages/company_data.py").run()
    assert not at.exception, at.exception
    assert not [n for n in at.number_input if n.label.endswith("(dias)")]
    table = next(d.value for d in at.dataframe if "Grupo de procedimentos" in d.value.columns)
    by_group = dict(zip(table["Grupo de procedimentos"], table["Carência"], strict=True))
    assert by_group["Urgência"] == "24 horas" and by_group["Ortodontia"] == "180 dias"
    assert any("Somente o gestor de contas" in c.value for c in at.caption)
