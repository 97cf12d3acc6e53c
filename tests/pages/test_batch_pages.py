"""Batch pages (Cadastro em lote, Acompanhar lotes, Arquivos de apoio) through the frame."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data.db import make_engine, make_session_factory
from data.models import Beneficiary, Company, ContractedPlan, Plan
from data.uow import UnitOfWork
from services.access import accounts as access
from services.batch import processing as batch
from services.batch.layout import COLUMN_NAMES, layout_rows
from services.rules.documents import cpf_check_digits
from tests.pages.conftest import by_label, log_in

START = "pages/batch_start.py"
TRACK = "pages/batch_track.py"
SUPPORT = "pages/support_files.py"
TITLES = {START: "Cadastro em lote", TRACK: "Acompanhar lotes", SUPPORT: "Arquivos de apoio"}
_cpf_bases = itertools.count(742_000_001)


@pytest.fixture(autouse=True)
def jobs_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queued batch jobs run at once inside the page's run (Huey's immediate mode):
    the pages' flows, without consumer threads in the test process. The queue itself is
    tested in tests/services/test_jobs.py and end to end in tests/e2e/test_batch_e2e.py."""
    monkeypatch.setenv("PORTAL_QUEUE_URL", "immediate")


def new_cpf() -> str:
    base = f"{next(_cpf_bases):09d}"
    return base + cpf_check_digits(base)


def _scalar(url: str, query: Any) -> Any:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    engine.dispose()
    return value


def _plan_code(url: str) -> str:
    return _scalar(
        url,
        select(Plan.code)
        .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
        .join(Company, Company.id == ContractedPlan.company_id)
        .where(Company.code == "10001", ContractedPlan.end_date.is_(None))
        .order_by(Plan.code)
        .limit(1),
    )


def _holder(url: str, cpf: str, name: str = "MARIANA LOTE DA PAGINA") -> dict[str, str]:
    return {
        "tipo_movimento": "INCLUSAO",
        "cpf": cpf,
        "nome": name,
        "data_nascimento": "15/03/1985",
        "sexo": "F",
        "nome_mae": "ANA LOTE DA PAGINA",
        "cep": "01310100",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "data_admissao": "02/01/2024",
        "parentesco": "1",
        "codigo_plano": _plan_code(url),
    }


def _xlsx(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Movimentacoes"
    ws.append(list(COLUMN_NAMES))
    for row in rows:
        ws.append([row.get(c) for c in COLUMN_NAMES])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _mixed_file(url: str) -> bytes:
    return _xlsx([_holder(url, new_cpf()), _holder(url, "12345678900", "LINHA INVALIDA")])


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _beneficiaries(url: str) -> int:
    return _scalar(url, select(func.count()).select_from(Beneficiary))


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader[0].upload(name, content).run()
    by_label(at.button, "Conferir arquivo").click().run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("user_code", ["100001", "900001"])
@pytest.mark.parametrize("page", [START, TRACK, SUPPORT])
def test_every_batch_page_renders_for_the_master_and_the_account_manager(app, user_code, page):
    at = _open(log_in(app(), user_code), page)
    assert at.title[0].value == TITLES[page]
    assert at.caption[0].value.startswith("10001 · ")
    assert not _errors(at), _errors(at)


def test_the_support_page_shows_every_layout_row_the_guide_and_the_downloads(app):
    at = _open(log_in(app(), "100001"), SUPPORT)
    rows = layout_rows()
    table = at.dataframe[0].value
    assert list(table["Coluna"]) == [r["Coluna"] for r in rows] == list(COLUMN_NAMES)
    assert list(table.columns) == list(rows[0])
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Baixar modelo (xlsx)", "Baixar layout (xlsx)", "Baixar layout (csv)"]
    guide = " ".join(m.value for m in at.markdown)
    assert "portal-batch ARQUIVO --company" in guide and "--check-only" in guide
    assert "Dependentes depois dos titulares" in guide


def test_a_file_is_checked_line_by_line_and_the_accepted_lines_are_applied(app, portal_db):
    before = _beneficiaries(portal_db)
    at = _upload(_open(log_in(app(), "100001"), START), "lote.xlsx", _mixed_file(portal_db))
    assert not _errors(at), _errors(at)
    metrics = _metrics(at)
    assert (metrics["Linhas no arquivo"], metrics["Aceitas"], metrics["Recusadas"]) == (
        "2",
        "1",
        "1",
    )
    lines = at.dataframe[0].value
    assert list(lines["Status"]) == ["Aceita", "Recusada"]
    assert "CPF inválido" in lines["Mensagem"][1]
    assert _beneficiaries(portal_db) == before  # checking applies nothing
    batch_id = at.session_state["batch_id"]

    by_label(at.button, "Aplicar 1 linha aceita").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith(f"Lote {batch_id} aplicado: 1 linha(s) aplicada(s)")
    assert _beneficiaries(portal_db) == before + 1
    assert list(at.dataframe[0].value["Status"]) == ["Aplicada", "Recusada"]
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Baixar resultado (xlsx)" in labels and "Baixar resultado (csv)" in labels

    # Filtering by status keeps only those lines.
    by_label(at.multiselect, "Mostrar linhas").select("refused").run()
    assert list(at.dataframe[0].value["Status"]) == ["Recusada"]


def test_a_file_refused_as_a_whole_shows_only_the_reason(app):
    content = b"nome;cpf\nMARIA;52998224725\n"
    at = _upload(_open(log_in(app(), "100001"), START), "lote.csv", content)
    assert len(at.error) == 1
    assert "O cabeçalho não segue o layout" in at.error[0].value
    assert not at.metric and not at.dataframe
    assert not [b for b in at.button if b.label.startswith("Aplicar")]


def test_the_same_file_again_needs_send_anyway_before_applying(app, portal_db):
    content = _mixed_file(portal_db)
    at = _upload(_open(log_in(app(), "100001"), START), "lote.xlsx", content)
    first = at.session_state["batch_id"]
    by_label(at.button, "Conferir arquivo").click().run()  # the same file, checked again
    assert at.session_state["batch_id"] != first
    assert any(f"(lote {first}, recebido" in w.value for w in at.warning)
    apply = by_label(at.button, "Aplicar 1 linha aceita")
    assert apply.disabled
    by_label(at.checkbox, "Enviar mesmo assim").check().run()
    assert not by_label(at.button, "Aplicar 1 linha aceita").disabled


def _receive(url: str, content: bytes, name: str = "rh_novembro.xlsx") -> tuple[Any, Any]:
    """A batch sent through the service; also returns a function that applies it."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code="100001")
    assert actor is not None
    with factory() as s:
        company_id = s.scalar(select(Company.id).where(Company.code == "10001"))
    check = batch.batch_receive(
        uow=UnitOfWork(factory, company_id),
        actor=actor,
        file_name=name,
        content=content,
        now=datetime.now(UTC),
    )

    def apply(**kwargs: Any) -> Any:
        return batch.batch_apply(
            uow=UnitOfWork(factory, company_id),
            actor=actor,
            batch_id=check.batch.id,
            now=datetime.now(UTC),
            **kwargs,
        )

    return check, apply


class Interrupted(Exception):
    pass


def test_an_interrupted_batch_is_resumed_from_the_tracking_page(app, portal_db, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 1)
    rows = [_holder(portal_db, new_cpf(), name) for name in ("ANA UM", "BIA DOIS", "CAIO TRES")]
    check, apply = _receive(portal_db, _xlsx(rows))
    before = _beneficiaries(portal_db)

    def stop(done: int, total: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        apply(progress=stop)
    assert _beneficiaries(portal_db) == before + 1

    at = _open(log_in(app(), "100001"), TRACK)
    assert list(at.dataframe[0].value["Status"]) == ["Aplicando"]
    by_label(at.selectbox, "Ver lote").select(check.batch.id).run()
    assert any("interrompida" in w.value for w in at.warning)
    by_label(at.button, "Retomar aplicação").click().run()
    assert not at.exception, at.exception
    assert f"Lote {check.batch.id} aplicado: 3 linha(s) aplicada(s)" in at.success[0].value
    assert _beneficiaries(portal_db) == before + 3


def test_tracking_lists_a_batch_sent_through_the_service_and_shows_its_lines(app, portal_db):
    check, _ = _receive(portal_db, _mixed_file(portal_db))

    at = _open(log_in(app(), "100001"), TRACK)
    listed = at.dataframe[0].value
    assert list(listed["Lote"]) == [check.batch.id]
    assert list(listed["Arquivo"]) == ["rh_novembro.xlsx"]
    assert list(listed["Status"]) == ["Recebido"]
    by_label(at.selectbox, "Ver lote").select(check.batch.id).run()
    assert not at.exception, at.exception
    lines = at.dataframe[1].value
    assert list(lines["Linha"]) == [2, 3]
    assert list(lines["Status"]) == ["Aceita", "Recusada"]
    assert any("ainda não foram aplicadas" in w.value for w in at.warning)

    before = _beneficiaries(portal_db)
    by_label(at.button, "Retomar aplicação").click().run()
    assert not at.exception, at.exception
    assert f"Lote {check.batch.id} aplicado" in at.success[0].value
    assert _beneficiaries(portal_db) == before + 1
    assert list(at.dataframe[0].value["Status"]) == ["Concluído com recusas"]
    assert not [b for b in at.button if b.label == "Retomar aplicação"]


def test_the_tracking_table_says_how_many_lines_an_interrupted_batch_applied(
    app, portal_db, monkeypatch
):
    monkeypatch.setattr(batch, "CHUNK", 1)
    rows = [_holder(portal_db, new_cpf(), name) for name in ("ANA UM", "BIA DOIS", "CAIO TRES")]
    check, apply = _receive(portal_db, _xlsx(rows))
    calls = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        apply(progress=stop_after_two)

    at = _open(log_in(app(), "100001"), TRACK)
    listed = at.dataframe[0].value
    assert list(listed["Status"]) == ["Aplicando"]
    assert (listed["Aplicadas"][0], listed["Aceitas a aplicar"][0]) == (2, 1)
    by_label(at.selectbox, "Ver lote").select(check.batch.id).run()
    assert _metrics(at)["Aplicadas"] == "2"
    warning = next(w.value for w in at.warning if "interrompida" in w.value)
    assert "2 linha(s) aplicada(s), 1 aceita(s) ainda por aplicar" in warning

    by_label(at.button, "Retomar aplicação").click().run()
    listed = at.dataframe[0].value
    assert (listed["Aplicadas"][0], listed["Aceitas a aplicar"][0]) == (3, 0)


@pytest.mark.parametrize(("user_code", "full"), [("100001", True), ("100002", False)])
def test_the_check_table_names_each_line_and_gives_one_row_per_message(
    app, portal_db, user_code, full
):
    cpf = new_cpf()
    two_problems = {**_holder(portal_db, "12345678900", "OTAVIO DOIS ERROS"), "sexo": "X"}
    content = _xlsx([_holder(portal_db, cpf, "Mariana Lote da Página"), two_problems])
    at = _upload(_open(log_in(app(), user_code), START), "lote.xlsx", content)
    assert not _errors(at), _errors(at)
    lines = at.dataframe[0].value
    assert list(lines.columns) == ["Linha", "Nome", "CPF ou carteirinha", "Status", "Mensagem"]
    assert lines["Nome"][0] == "Mariana Lote da Página"
    shown_cpf = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    assert lines["CPF ou carteirinha"][0] == (
        shown_cpf if full else f"***.{cpf[3:6]}.{cpf[6:9]}-**"
    )
    refused = lines[lines["Linha"] == 3]
    assert len(refused) >= 2  # each problem of the line on its own row
    assert set(refused["Nome"]) == {"OTAVIO DOIS ERROS"}
    assert any("CPF inválido" in m for m in refused["Mensagem"])
    assert all(";" not in m for m in refused["Mensagem"])
    assert any(c.value.startswith("2 de 2 linha(s)") for c in at.caption)


def _progress_texts(at: AppTest) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def test_a_queued_batch_keeps_its_progress_after_the_browser_closes_until_a_worker_applies_it(
    app, portal_db, monkeypatch, tmp_path
):
    from components import batch_widgets as bw
    from services.jobs.consumer import queue_close
    from services.jobs.queue import queue_for

    monkeypatch.setenv("PORTAL_QUEUE_URL", "")  # the embedded queue, in the test's folder
    monkeypatch.setenv("PORTAL_QUEUE_PATH", str(tmp_path / "queue.db"))
    monkeypatch.setattr(bw, "ensure_worker", lambda: None)  # no worker yet: the job waits
    before = _beneficiaries(portal_db)
    rows = [_holder(portal_db, new_cpf(), name) for name in ("ANA FILA", "BIA FILA")]
    at = _upload(_open(log_in(app(), "100001"), START), "fila.xlsx", _xlsx(rows))
    batch_id = at.session_state["batch_id"]
    by_label(at.button, "Aplicar 2 linhas aceitas").click().run()
    assert not at.exception, at.exception
    assert _progress_texts(at) == ["Na fila: a aplicação começa em instantes."]
    assert _beneficiaries(portal_db) == before

    # The browser is closed; another session comes back to the batch.
    again = _open(log_in(app(), "100001"), TRACK)
    assert list(again.dataframe[0].value["Status"]) == ["Aplicando"]
    assert by_label(again.selectbox, "Ver lote").value == batch_id  # the one being applied
    assert _progress_texts(again) == ["Na fila: a aplicação começa em instantes."]
    assert not [b for b in again.button if b.label == "Retomar aplicação"]  # not stalled

    jobs = queue_for()
    try:
        task = jobs.huey.dequeue()  # a worker takes the job and runs it
        assert task is not None and jobs.huey.dequeue() is None
        jobs.huey.execute(task)
    finally:
        queue_close(jobs)
    again.run()
    assert not again.exception, again.exception
    assert list(again.dataframe[0].value["Status"]) == ["Concluído"]
    assert not _progress_texts(again)
    assert _metrics(again)["Aplicadas"] == "2"
    assert _beneficiaries(portal_db) == before + 2
