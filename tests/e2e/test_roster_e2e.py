"""Roster reconciliation in a real browser: reconcile a roster into a batch.

The roster is built from the demo company's own active holders, with one dismissed, one
missing and one new CPF: the portal lists one inclusion and two exclusions; the
inclusion is downloaded as a pre-filled batch file; the exclusions become a batch whose
lines get their usual status (the dismissed holder's accepted, the missing one's refused
until a reason is chosen); the accepted line is applied."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from services.rules.documents import cpf_check_digits
from tests.e2e.conftest import shot
from tests.e2e.test_batch_e2e import metric
from tests.e2e.test_movements_e2e import go, log_in, settle, tab

pytestmark = pytest.mark.e2e


def build_roster(demo_db: str, target: Path) -> tuple[str, str, str]:
    """(dismissed holder's name, missing holder's name, new CPF) of the roster written to
    `target`."""
    with contextlib.closing(sqlite3.connect(demo_db.split("///", 1)[1])) as db:
        holders = db.execute(
            "SELECT b.cpf, b.name, b.card_number, NOT EXISTS (SELECT 1 FROM movement m WHERE "
            "m.beneficiary_id = b.id AND m.state = 'scheduled') AND NOT EXISTS (SELECT 1 FROM "
            "coverage_period p WHERE p.beneficiary_id = b.id AND p.kind = 'stay') "
            "FROM beneficiary b JOIN company c ON c.id = b.company_id "
            "WHERE c.code = '10001' AND b.relationship_code = 1 AND b.status = 'active' "
            "AND b.cpf IS NOT NULL ORDER BY b.id"
        ).fetchall()
    plain = [h for h in holders if h[3]]  # nothing scheduled, no arts. 30/31 stay
    (dismissed_cpf, dismissed_name, _, _), (missing_cpf, missing_name, _, _) = plain[:2]
    others = [h for h in holders if h[0] not in (dismissed_cpf, missing_cpf)]
    new = "876543210" + cpf_check_digits("876543210")
    lines = ["CPF;Nome do funcionário;Data de demissão"]
    lines.append(f"{dismissed_cpf};{dismissed_name};{date.today() - timedelta(days=10):%d/%m/%Y}")
    lines += [f"{cpf};{name};" for cpf, name, _, _ in others]
    lines.append(f"{new};PESSOA NOVA NAVEGADOR;")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dismissed_name, missing_name, new


def check_all(page: Page) -> None:
    """Tick "Marcar todas" of the list on screen (one per tab)."""
    box = page.locator("[data-testid=stCheckbox]:visible").filter(has_text="Marcar todas")
    expect(box).to_have_count(1)
    box.get_by_text("Marcar todas").click()
    settle(page)


def test_reconcile_a_roster_into_a_batch(page: Page, demo_db: str, tmp_path: Path):
    roster = tmp_path / "folha_navegador.csv"
    dismissed, missing, new = build_roster(demo_db, roster)
    log_in(page, "100001")
    go(page, "Conciliação de folha")

    with page.expect_download(timeout=60_000) as template:
        page.get_by_role("button", name="Baixar modelo da folha (xlsx)").click()
    assert template.value.suggested_filename == "modelo_folha.xlsx"

    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(roster)
    expect(page.get_by_text("folha_navegador.csv")).to_be_visible()
    settle(page)
    page.get_by_role("button", name="Conciliar").click()
    expect(metric(page, "Excluir")).to_have_text("2", timeout=30_000)
    expect(metric(page, "Incluir")).to_have_text("1")
    expect(metric(page, "Linhas com erro")).to_have_text("0")
    settle(page)
    shot(page, "roster_lists")

    # The new CPF: a pre-filled batch file to complete (a roster lacks what inclusion needs).
    check_all(page)
    with page.expect_download(timeout=60_000) as inclusions:
        page.get_by_role("button", name="Baixar 1 inclusão(ões) para completar (xlsx)").click()
    inclusions.value.save_as(tmp_path / "inclusoes.xlsx")
    rows = list(load_workbook(tmp_path / "inclusoes.xlsx").active.iter_rows(values_only=True))
    header = list(rows[0])
    assert rows[1][header.index("cpf")] == new
    assert rows[1][header.index("tipo_movimento")] == "INCLUSAO"

    tab(page, "No plano, fora da folha ou demitidos (2)")
    check_all(page)
    page.get_by_role("button", name="Gerar lote com as linhas escolhidas").click()
    expect(metric(page, "Linhas no arquivo")).to_have_text("2", timeout=30_000)
    expect(metric(page, "Aceitas")).to_have_text("1")
    expect(metric(page, "Recusadas")).to_have_text("1")
    lines = page.get_by_test_id("stDataFrame").first
    expect(lines).to_contain_text("Recusada")
    expect(lines).to_contain_text("Aceita")
    expect(lines).to_contain_text(dismissed)  # each line named after its holder
    expect(lines).to_contain_text(missing)
    settle(page)
    shot(page, "roster_batch")

    page.get_by_role("button", name="Aplicar 1 linha aceita").click()
    done = page.get_by_test_id("stAlertContentSuccess").filter(has_text="aplicado")
    expect(done).to_contain_text("1 linha(s) aplicada(s)", timeout=30_000)
