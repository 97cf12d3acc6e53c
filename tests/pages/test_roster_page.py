"""Conciliação de folha through the frame: upload a roster built from the company's own
holders (one dismissed, one missing, one new CPF), see the three lists, mark lines, make
the batch, see its per-line status and apply it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data.db import make_engine
from data.models import Beneficiary, Company
from services.rules.documents import cpf_check_digits
from tests.pages.conftest import by_label, log_in
from tests.pages.test_hostile_text import HOSTILE, assert_inert

PAGE = "pages/roster.py"


@pytest.fixture(autouse=True)
def jobs_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_QUEUE_URL", "immediate")


def holders(url: str) -> list[tuple[str, str, str]]:
    """(cpf, name, card) of the active holders of 10001."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Beneficiary.cpf, Beneficiary.name, Beneficiary.card_number)
            .join(Company, Company.id == Beneficiary.company_id)
            .where(
                Company.code == "10001",
                Beneficiary.relationship_code == 1,
                Beneficiary.status == "active",
            )
            .order_by(Beneficiary.id)
        ).all()
    engine.dispose()
    return [(r[0] or "", r[1], r[2]) for r in rows]


def status_of(url: str, card: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            select(Beneficiary.status).where(Beneficiary.card_number == card)
        ).scalar_one()
    engine.dispose()
    return value


def roster(url: str) -> tuple[bytes, str, str, str]:
    """A roster: every active holder but one (missing), one dismissed, one new CPF."""
    found = holders(url)
    (dismissed_cpf, dismissed_name, dismissed_card), (_, _, missing_card) = found[:2]
    lines = ["cpf;nome;data_demissao"]
    lines.append(f"{dismissed_cpf};{dismissed_name};{date.today() - timedelta(days=20):%d/%m/%Y}")
    lines += [f"{cpf};{name};" for cpf, name, _ in found[2:]]
    new = "765432109" + cpf_check_digits("765432109")
    lines.append(f"{new};NOVA PESSOA DA FOLHA;")
    return ("\n".join(lines) + "\n").encode(), dismissed_card, missing_card, new


def open_page(app) -> AppTest:  # noqa: ANN001
    at = log_in(app(), "100001")
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_the_page_renders_with_its_templates(app):
    at = open_page(app)
    assert at.title[0].value == "Conciliação de folha"
    assert by_label(at.button, "Conciliar").disabled
    assert not at.error


def test_a_file_without_cpf_column_is_refused_with_a_message(app):
    at = open_page(app)
    at.file_uploader[0].upload("folha.csv", b"nome;admissao\nANA;01/01/2020\n").run()
    by_label(at.button, "Conciliar").click().run()
    assert not at.exception, at.exception
    assert any("coluna CPF" in e.value for e in at.error)


def test_a_roster_becomes_a_batch_with_per_line_status_and_is_applied(app, portal_db):
    content, dismissed_card, missing_card, _new = roster(portal_db)
    at = open_page(app)
    at.file_uploader[0].upload("folha.csv", content).run()
    by_label(at.button, "Conciliar").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Incluir"], metrics["Excluir"], metrics["Linhas com erro"]) == ("1", "2", "0")
    assert len(at.tabs) == 3
    boxes = [c for c in at.checkbox if c.label == "Marcar todas"]
    assert len(boxes) == 3
    boxes[1].check().run()  # every exclusion
    assert not at.exception, at.exception
    by_label(at.button, "Gerar lote com as linhas escolhidas").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # The dismissed holder's line (reason demissão) is accepted; the missing one has no
    # reason chosen and is refused by the batch check with its usual message.
    assert (metrics["Linhas no arquivo"], metrics["Aceitas"], metrics["Recusadas"]) == (
        "2",
        "1",
        "1",
    )
    by_label(at.button, "Aplicar 1 linha aceita").click().run()
    assert not at.exception, at.exception
    applied = [s.value for s in at.success if "aplicado" in s.value]
    assert applied and "1 linha(s) aplicada(s)" in applied[0], applied
    assert status_of(portal_db, dismissed_card) == "inactive"
    assert status_of(portal_db, missing_card) == "active"


def test_the_same_lines_sent_again_need_send_anyway_before_applying(app, portal_db):
    content, _dismissed, _missing, _new = roster(portal_db)
    at = open_page(app)
    for attempt in range(2):
        at.file_uploader[0].upload("folha.csv", content).run()
        by_label(at.button, "Conciliar").click().run()
        [c for c in at.checkbox if c.label == "Marcar todas"][1].check().run()
        by_label(at.button, "Gerar lote com as linhas escolhidas").click().run()
        assert not at.exception, at.exception
        if attempt == 0:
            assert not by_label(at.button, "Aplicar 1 linha aceita").disabled
            assert not at.warning
            by_label(at.button, "Conciliar outra folha").click().run()
    assert any("já foram enviadas" in w.value for w in at.warning)
    assert by_label(at.button, "Aplicar 1 linha aceita").disabled
    by_label(at.checkbox, "Enviar mesmo assim").check().run()
    assert not by_label(at.button, "Aplicar 1 linha aceita").disabled


def test_a_hostile_file_name_column_and_names_are_shown_as_text(app, portal_db):
    cpf = holders(portal_db)[0][0]
    content = (
        f"cpf;nome;data_demissao;{HOSTILE}\n{cpf};{HOSTILE};;x\n{HOSTILE};NOME;;x\n"
    ).encode()
    at = open_page(app)
    at.file_uploader[0].upload(f"{HOSTILE}.csv", content).run()
    by_label(at.button, "Conciliar").click().run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Linhas com erro"] == "1"
    assert_inert(at)
    [c for c in at.checkbox if c.label == "Marcar todas"][2].check().run()  # the new name
    by_label(at.button, "Gerar lote com as linhas escolhidas").click().run()
    assert not at.exception, at.exception
    assert_inert(at, must_show=False)


def test_marcar_todas_ticks_and_unticks_every_line_of_its_list(app, portal_db):
    content, _dismissed, _missing, _new = roster(portal_db)
    at = open_page(app)
    at.file_uploader[0].upload("folha.csv", content).run()
    by_label(at.button, "Conciliar").click().run()

    def chosen() -> str:
        return next(c.value for c in at.caption if "escolhida(s) para o lote" in c.value)

    assert chosen().startswith("0 ")
    assert by_label(at.button, "Gerar lote com as linhas escolhidas").disabled
    [c for c in at.checkbox if c.label == "Marcar todas"][1].check().run()
    assert chosen().startswith("2 ")
    [c for c in at.checkbox if c.label == "Marcar todas"][1].uncheck().run()
    assert not at.exception, at.exception
    assert chosen().startswith("0 ")
