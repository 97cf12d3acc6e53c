"""Financeiro > Configurações do operador through the frame with AppTest: only the account
manager has it, wrong fields are refused next to the field, a change is saved and audited,
and without an agreement the company's user gets a polite refusal on the boleto page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from components.navigation import pages_for
from data.db import make_engine
from data.models import AuditRecord, Boleto, Operator
from tests.bank_support import TEST_BANK
from tests.pages.conftest import by_label, log_in

PAGE = "pages/operator_settings.py"
LABELS = {
    "bank_code": "Banco *",
    "bank_agreement": "Convênio *",
    "bank_wallet": "Carteira *",
    "bank_branch": "Agência *",
    "bank_account": "Conta *",
}


def _open(at, page: str = PAGE):  # noqa: ANN001, ANN202
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _bank(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(*(getattr(Operator, f) for f in LABELS))).one()
    engine.dispose()
    return dict(zip(LABELS, row, strict=True))


def _scalar(url: str, query):  # noqa: ANN001, ANN202
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(query).scalar_one()
    engine.dispose()
    return value


def _clear_agreement(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(Operator).values(bank_agreement="", bank_wallet=""))
    engine.dispose()


def _save(at, **values: str):  # noqa: ANN001, ANN202
    for name, value in values.items():
        by_label(at.text_input, LABELS[name]).input(value)
    by_label(at.get("form_submit_button"), "Salvar configurações").click().run()
    assert not at.exception, at.exception
    return at


def test_only_the_account_manager_has_the_settings_page(app):
    master = log_in(app(), "100001")
    assert "Configurações do operador" not in [
        p.title for p in pages_for(master.session_state["actor"])
    ]
    with pytest.raises(ValueError, match="operator_settings"):
        master.switch_page(PAGE)
    manager = log_in(app(), "900001")
    assert "Configurações do operador" in [
        p.title for p in pages_for(manager.session_state["actor"])
    ]


def test_the_account_manager_sees_corrects_and_saves_the_agreement(app, portal_db: str):
    before = _bank(portal_db)
    at = _open(log_in(app(), "900001"))
    assert at.title[0].value == "Configurações do operador"
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [
        "Convênio bancário configurado: os boletos podem ser emitidos."
    ]
    assert {f: by_label(at.text_input, label).value for f, label in LABELS.items()} == before

    _save(at, bank_agreement="123", bank_branch="12")
    errors = [e.value for e in at.error]
    assert any("Convênio: o Banco do Brasil usa convênio de 7 dígitos" in e for e in errors)
    assert any("Agência: 4 dígitos" in e for e in errors)
    assert _bank(portal_db) == before

    _save(at, bank_agreement="7654321", bank_branch="4321-0", bank_wallet="18")
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success][-1] == (
        "Configurações salvas (convênio, carteira, agência). "
        "A alteração foi registrada na auditoria."
    )
    after = {**before, "bank_agreement": "7654321", "bank_branch": "4321-0", "bank_wallet": "18"}
    assert _bank(portal_db) == after
    action = select(func.count()).where(AuditRecord.action == "operator_settings_update")
    assert _scalar(portal_db, action) == 1

    _save(at)  # the same values again
    assert [i.value for i in at.info][-1].startswith("Nada foi alterado")
    assert _scalar(portal_db, action) == 1


def test_without_an_agreement_the_page_warns_and_the_boleto_is_refused_politely(
    app, portal_db: str
):
    _clear_agreement(portal_db)
    at = _open(log_in(app(), "900001"))
    assert [w.value for w in at.warning] == [
        "Convênio bancário não configurado: falta convênio, carteira. Nenhum boleto pode ser "
        "emitido até que seja informado."
    ]
    user = _open(log_in(app(), "100001"), "pages/boleto.py")
    messages = [e.value for e in user.error]
    assert any("Tente novamente mais tarde" in m for m in messages), messages
    assert not any("Convênio" in m for m in messages)
    assert _scalar(portal_db, select(func.count()).select_from(Boleto)) == 0

    _save(at, bank_agreement=TEST_BANK["bank_agreement"], bank_wallet="17")
    user = _open(log_in(app(), "100001"), "pages/boleto.py")
    assert not user.error, [e.value for e in user.error]
    assert _scalar(portal_db, select(func.count()).select_from(Boleto)) == 1
