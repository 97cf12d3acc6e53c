"""Dependents ageing out and the proof of exclusion through the frame (AppTest): the
home page's list, its one-click exclusion with confirmation and protocol, the report
with its period and downloads, and the proof's download on the movement result and on
the protocol."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from components.clock import today_local
from data.db import make_engine
from data.models import Beneficiary, Company, Movement, Protocol, User
from services.rules.card_numbers import format_card_number
from services.rules.formats import format_date
from tests.pages.conftest import by_label, log_in

REPORT = "pages/report_ageing.py"
EXCLUDE = "Excluir por perda de elegibilidade"
PROOF = "Baixar comprovante de exclusão (PDF)"
LIMITED = {"allowed": True, "max_age": 21, "student_max_age": 24}


def _born_for_end(end: date) -> date:
    return end.replace(year=end.year - 22)


def _ageing(url: str, days: tuple[int, ...]) -> list[tuple[int, str, str, date]]:
    """Company 10001 with a limit of 21 years on every relationship, every dependent
    young except one per entry of `days`, who turns 22 that many days from today.
    Returns (id, name, card, eligibility end) of those, in the order of `days`."""
    today = today_local()
    engine = make_engine(url)
    out = []
    with engine.begin() as conn:
        cid = conn.execute(select(Company.id).where(Company.code == "10001")).scalar_one()
        conn.execute(
            update(Company)
            .where(Company.id == cid)
            .values(eligibility={str(c): LIMITED for c in (3, 4, 6, 8, 10)})
        )
        conn.execute(
            update(Beneficiary)
            .where(
                Beneficiary.company_id == cid,
                Beneficiary.relationship_code != 1,
            )
            .values(birth_date=date(2015, 1, 1), is_student=False)
        )
        active_holders = select(Beneficiary.id).where(
            Beneficiary.company_id == cid,
            Beneficiary.relationship_code == 1,
            Beneficiary.status == "active",
        )
        deps = conn.execute(
            select(Beneficiary.id, Beneficiary.name, Beneficiary.card_number)
            .where(
                Beneficiary.company_id == cid,
                Beneficiary.status == "active",
                Beneficiary.relationship_code != 1,
                Beneficiary.holder_id.in_(active_holders),
            )
            .order_by(Beneficiary.id)
        ).all()
        assert len(deps) >= len(days)
        for (bid, name, card), n in zip(deps, days, strict=False):
            end = today + timedelta(days=n)
            conn.execute(
                update(Beneficiary)
                .where(Beneficiary.id == bid)
                .values(birth_date=_born_for_end(end))
            )
            out.append((bid, name, card, end))
    engine.dispose()
    return out


def _movements(url: str, bid: int) -> list[tuple[str, date, int | None]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Movement.reason, Movement.effective_date, Movement.protocol_id).where(
                Movement.beneficiary_id == bid, Movement.kind == "exclusion"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _downloads(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_the_home_page_lists_them_and_excludes_one_after_confirmation(app, portal_db):
    (bid, name, card, end), (_, other, _, _) = _ageing(portal_db, (10, 30))
    at = log_in(app(), "100001")
    text = _texts(at)
    assert "Dependentes que perdem a elegibilidade" in text
    assert name in text and other in text
    assert format_card_number(card) in text and format_date(end) in text
    buttons = [b for b in at.button if b.label == EXCLUDE]
    assert len(buttons) == 2
    buttons[0].click().run()  # earliest first
    assert any("Confirma a exclusão" in w.value and format_date(end) in w.value for w in at.warning)
    assert _movements(portal_db, bid) == []  # nothing before the confirmation
    by_label(at.button, "Confirmar exclusão").click().run()
    assert not at.exception, at.exception
    [(reason, effective, protocol_id)] = _movements(portal_db, bid)
    assert reason == "perda_elegibilidade" and effective == end and protocol_id
    assert any("Protocolo nº" in s.value for s in at.success)
    assert PROOF in _downloads(at)
    # The excluded dependent leaves the list; the other stays.
    text = _texts(at)
    assert other in text and format_card_number(card) not in text


def test_cancelling_the_confirmation_excludes_nobody(app, portal_db):
    [(bid, *_)] = _ageing(portal_db, (5,))
    at = log_in(app(), "100001")
    by_label(at.button, EXCLUDE).click().run()
    by_label(at.button, "Cancelar").click().run()
    assert not at.exception and not any("Confirma a exclusão" in w.value for w in at.warning)
    assert _movements(portal_db, bid) == []


def test_a_user_without_the_movements_permission_sees_the_list_without_the_button(app, portal_db):
    [(_, name, _, _)] = _ageing(portal_db, (5,))
    engine = make_engine(portal_db)
    with engine.begin() as conn:
        conn.execute(update(User).where(User.user_code == "100002").values(permissions=["reports"]))
    engine.dispose()
    at = log_in(app(), "100002")
    assert name in _texts(at)
    assert EXCLUDE not in [b.label for b in at.button]


@pytest.mark.parametrize("user_code", ["100001", "100002", "900001"])
def test_the_report_renders_with_its_downloads(app, user_code):
    at = log_in(app(), user_code)
    at.switch_page(REPORT).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Perda de elegibilidade"
    assert _downloads(at)[:2] == ["Baixar Excel", "Baixar CSV"]


def test_the_report_follows_its_period_and_excludes_in_one_click(app, portal_db):
    (_, soon, _, _), (far_id, far, _, _) = _ageing(portal_db, (10, 100))
    at = log_in(app(), "100001")
    at.switch_page(REPORT).run()
    table = at.dataframe[0].value
    assert list(table["Nome"]) == [soon]
    today = today_local()
    by_label(at.date_input, "Até").set_value(today + timedelta(days=120)).run()
    table = at.dataframe[0].value
    assert list(table["Nome"]) == [soon, far]
    # 100 days ahead: too early for an exclusion (at most 60 days), no button for it.
    assert [b.label for b in at.button].count(EXCLUDE) == 1
    assert any("pode ser informada a partir de" in c.value for c in at.caption)
    by_label(at.button, EXCLUDE).click().run()
    by_label(at.button, "Confirmar exclusão").click().run()
    assert not at.exception, at.exception
    assert any("Protocolo nº" in s.value for s in at.success)
    assert list(at.dataframe[0].value["Nome"]) == [far]
    assert _movements(portal_db, far_id) == []


def test_the_exclusion_result_and_the_protocol_offer_the_proof(app, portal_db):
    [(bid, name, card, _)] = _ageing(portal_db, (3,))
    at = log_in(app(), "100001")
    at.switch_page("pages/movements_individual.py").run()
    at.session_state["individual_tab"] = "Exclusão"
    at.run()
    by_label(at.text_input, "Buscar beneficiário (nome, carteirinha ou CPF)").input(card).run()
    by_label(at.selectbox, "Motivo da exclusão *").select("outros").run()
    by_label(at.button, "Excluir").click().run()
    assert not at.exception, at.exception
    assert at.success and at.success[0].value.startswith("Exclusão registrada: ")
    assert PROOF in _downloads(at)
    [(_, _, protocol_id)] = _movements(portal_db, bid)
    assert protocol_id

    number = next(m.value for m in at.markdown if m.value.startswith("**Protocolo nº**"))
    number = number.split("** ", 1)[1].split()[0]
    at.session_state["protocol_show"] = number
    at.switch_page("pages/protocols.py").run()
    assert not at.exception, at.exception
    assert any(f"Protocolo nº {number}" in s.value for s in at.subheader)
    assert PROOF in _downloads(at)


def test_a_protocol_that_is_not_an_exclusion_has_no_proof(app, portal_db):
    at = log_in(app(), "100001")
    at.switch_page("pages/protocols.py").run()
    by_label(at.selectbox, "Tipo de solicitação *").select("other")
    by_label(at.text_input, "Assunto *").input("Dúvida geral")
    by_label(at.text_area, "Descrição *").input("Uma pergunta qualquer.")
    by_label(at.button, "Abrir solicitação").click().run()
    assert not at.exception, at.exception
    engine = make_engine(portal_db)
    with engine.connect() as conn:
        number = conn.execute(
            select(Protocol.number)
            .where(Protocol.kind == "other")
            .order_by(Protocol.id.desc())
            .limit(1)
        ).scalar_one()
    engine.dispose()
    at.session_state["protocol_show"] = number
    at.run()
    assert not at.exception, at.exception
    assert any(f"Protocolo nº {number}" in s.value for s in at.subheader)
    assert PROOF not in _downloads(at)
