"""Batch movements in a real browser: download the template, fill it, upload it, see the
refused line's reason, apply, download the result, track the batch and find the new
beneficiaries in the active report."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from services.rules.documents import cpf_check_digits
from tests.e2e.conftest import serve_portal, shot
from tests.e2e.test_movements_e2e import go, log_in, settle
from tests.pages.test_batch_pages import _holder, _xlsx

pytestmark = pytest.mark.e2e

_cpf_bases = itertools.count(653_200_001)


def new_cpf() -> str:
    base = f"{next(_cpf_bases):09d}"
    return base + cpf_check_digits(base)


def metric(page: Page, label: str):  # noqa: ANN201 - Playwright Locator
    found = page.get_by_test_id("stMetric").filter(has_text=label).first
    return found.get_by_test_id("stMetricValue")


def fill_template(template: Path, target: Path) -> tuple[str, str]:
    """Three lines on the template: a holder, its child, and a holder with an invalid CPF."""
    book = load_workbook(template)
    ws = book["Movimentacoes"]
    if ws.max_row > 1:
        ws.delete_rows(2, ws.max_row - 1)  # no example line may be sent
    column = {cell.value: cell.column for cell in ws[1]}
    lists = book["Listas"]
    plans = next(c for c in lists[1] if c.value == "codigo_plano")
    plan = lists.cell(row=2, column=plans.column).value
    holder_cpf = new_cpf()
    holder = {
        "tipo_movimento": "INCLUSAO",
        "cpf": holder_cpf,
        "nome": "ROBERTA LOTE NAVEGADOR",
        "data_nascimento": datetime(1987, 6, 21),
        "sexo": "F",
        "nome_mae": "TEREZA LOTE NAVEGADOR",
        "cep": "01310100",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "data_admissao": datetime(2024, 3, 1),
        "parentesco": "1 - Titular",
        "codigo_plano": plan,
    }
    child = {
        "tipo_movimento": "INCLUSAO",
        "nome": "LUCAS LOTE NAVEGADOR",
        "data_nascimento": datetime(2017, 9, 2),
        "sexo": "M",
        "nome_mae": "ROBERTA LOTE NAVEGADOR",
        "parentesco": "4 - Filho(a)",
        "cpf_titular": holder_cpf,
    }
    invalid = {**holder, "cpf": "12345678900", "nome": "OTAVIO CPF ERRADO"}
    for r, line in enumerate([holder, child, invalid], start=2):
        for name, value in line.items():
            ws.cell(row=r, column=column[name], value=value)
    book.save(target)
    return holder_cpf, plan


def test_a_batch_file_goes_from_the_template_to_the_active_report(page: Page, tmp_path: Path):
    log_in(page, "100001")
    go(page, "Cadastro em lote")

    with page.expect_download(timeout=60_000) as template:
        page.get_by_role("button", name="Baixar modelo (xlsx)").click()
    assert template.value.suggested_filename == "modelo_movimentacao_10001.xlsx"
    template.value.save_as(tmp_path / "modelo.xlsx")
    filled = tmp_path / "lote_navegador.xlsx"
    fill_template(tmp_path / "modelo.xlsx", filled)

    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(filled)
    expect(page.get_by_text("lote_navegador.xlsx")).to_be_visible()
    settle(page)
    page.get_by_role("button", name="Conferir arquivo").click()
    expect(metric(page, "Linhas no arquivo")).to_have_text("3", timeout=30_000)
    expect(metric(page, "Aceitas")).to_have_text("2")
    expect(metric(page, "Recusadas")).to_have_text("1")
    lines = page.get_by_test_id("stDataFrame").first
    expect(lines).to_contain_text("Recusada")
    expect(lines).to_contain_text("CPF inválido")
    settle(page)
    shot(page, "batch_check")

    page.get_by_role("button", name="Aplicar 2 linhas aceitas").click()
    done = page.get_by_test_id("stAlertContentSuccess").filter(has_text="aplicado")
    expect(done).to_contain_text("2 linha(s) aplicada(s) e 1 recusada(s)", timeout=30_000)
    batch_id = re.search(r"Lote (\d+) aplicado", done.inner_text()).group(1)
    settle(page)

    with page.expect_download(timeout=60_000) as result:
        page.get_by_role("button", name="Baixar resultado (xlsx)").click()
    assert result.value.suggested_filename == f"resultado_lote_{batch_id}.xlsx"
    result.value.save_as(tmp_path / "resultado.xlsx")
    rows = list(load_workbook(tmp_path / "resultado.xlsx").active.iter_rows(values_only=True))
    header = list(rows[0])
    status, message = header.index("status"), header.index("mensagem")
    assert [r[status] for r in rows[1:]] == ["Aplicada", "Aplicada", "Recusada"]
    assert rows[1][message].startswith("Protocolo ")
    assert "CPF inválido" in rows[3][message]

    go(page, "Acompanhar lotes")
    listed = page.get_by_test_id("stDataFrame").first
    expect(listed).to_contain_text("lote_navegador.xlsx")
    expect(listed).to_contain_text("Concluído com recusas")
    chosen = page.get_by_role("heading", name=f"Lote {batch_id} · lote_navegador.xlsx")
    expect(chosen).to_be_visible()

    go(page, "Beneficiários ativos")
    search = page.get_by_role("textbox", name="Nome ou número da carteirinha", exact=True)
    search.fill("lote navegador")
    search.press("Enter")
    settle(page)
    expect(metric(page, "Beneficiários ativos")).to_have_text("2", timeout=30_000)
    report = page.get_by_test_id("stDataFrame").filter(has_text=re.compile("ROBERTA", re.I))
    expect(report).to_have_count(1)
    expect(report).to_contain_text(re.compile("LUCAS LOTE NAVEGADOR", re.I))


def test_a_queued_batch_is_followed_after_the_browser_closes_until_a_worker_applies_it(
    browser, demo_db: str, tmp_path: Path
):
    """The distributed layout: a portal on Redis with no worker yet. The batch waits in
    the queue; the browser is closed; another browser finds its progress in Acompanhar
    lotes; a `portal-worker` starts and the open page shows the batch done by itself."""
    from tests.services.test_jobs import REDIS_URL, _redis_reason

    reason = _redis_reason()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    source = demo_db.split("///", 1)[1]
    copy = tmp_path / "portal.db"
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(copy)) as dst,
    ):
        src.backup(dst)  # the session's demo database as it is now, for this portal alone
    url = f"sqlite:///{copy}"
    queue = {"PORTAL_QUEUE_URL": REDIS_URL, "PORTAL_QUEUE_NAME": f"e2e-{uuid.uuid4().hex[:8]}"}
    rows = [_holder(url, new_cpf(), name) for name in ("RITA FILA NAVEGADOR", "RUI FILA NAVEGADOR")]
    (tmp_path / "fila.xlsx").write_bytes(_xlsx(rows))
    worker = None
    with serve_portal(url, tmp_path, env=queue) as (base, _port):
        try:
            first = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
            page = first.new_page()
            page.goto(base)
            expect(page.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
            log_in(page, "100001")
            go(page, "Cadastro em lote")
            page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
                tmp_path / "fila.xlsx"
            )
            expect(page.get_by_text("fila.xlsx")).to_be_visible()
            settle(page)
            page.get_by_role("button", name="Conferir arquivo").click()
            expect(metric(page, "Aceitas")).to_have_text("2", timeout=30_000)
            settle(page)
            page.get_by_role("button", name="Aplicar 2 linhas aceitas").click()
            expect(page.get_by_text("Na fila: a aplicação começa em instantes.")).to_be_visible()
            first.close()  # the user closes the browser

            second = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
            page = second.new_page()
            page.goto(base)
            expect(page.get_by_label("Código de usuário")).to_have_count(1, timeout=60_000)
            log_in(page, "100001")
            go(page, "Acompanhar lotes")
            expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Aplicando")
            expect(page.get_by_text("Na fila: a aplicação começa em instantes.")).to_be_visible()

            with (tmp_path / "worker.log").open("ab") as log:
                worker = subprocess.Popen(
                    [str(Path(sys.executable).parent / "portal-worker"), "--workers", "1"],
                    env={**os.environ, "PORTAL_DATABASE_URL": url, **queue},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            # No click: the page polls the progress and shows the batch done.
            listed = page.get_by_test_id("stDataFrame").first
            expect(listed).to_contain_text("Concluído", timeout=60_000)
            expect(metric(page, "Aplicadas")).to_have_text("2")
            expect(page.get_by_text("Na fila: a aplicação começa em instantes.")).to_have_count(0)
            second.close()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
            from services.jobs.consumer import queue_close
            from services.jobs.queue import queue_for
            from services.jobs.settings import QueueSettings

            jobs = queue_for(
                url, QueueSettings(queue_url=REDIS_URL, queue_name=queue["PORTAL_QUEUE_NAME"])
            )
            jobs.huey.storage.flush_all()  # the test's queue and heartbeats leave Redis
            queue_close(jobs)
