"""`portal-billing run` and `portal-billing ledger` on both databases: in-process through
`main(argv)` and once as the installed script (a subprocess)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from config import get_settings
from data.models import Beneficiary, Invoice, InvoiceLine
from services.actors import operator_actor
from services.billing import cli as billing_cli
from services.billing.ledger_export import LEDGER_HEADER, ledger_rows
from tests.services.test_billing import AUG, JUL, SEP, World, build_world

D = Decimal
LAST_LINE = re.compile(r"month=(\d{4}-\d{2}) invoices=(\d+) lines=(\d+) total=(-?\d+\.\d{2})")
SCRIPT = Path(sys.executable).parent / "portal-billing"


def url_of(engine: Engine) -> str:
    """A URL that reaches the test's own database (its own schema on PostgreSQL)."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def url(engine: Engine, world: World) -> str:
    return url_of(engine)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    status = billing_cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def stored(w: World, month: date, company_id: int | None = None) -> tuple[int, int, Decimal]:
    """(invoices, lines, total) stored for the month (one company, or all)."""
    where = [Invoice.billing_month == month]
    if company_id is not None:
        where.append(Invoice.company_id == company_id)
    with w.uow as uow:
        s = uow.session
        invoices = s.scalar(select(func.count()).select_from(Invoice).where(*where)) or 0
        lines, total = s.execute(
            select(func.count(InvoiceLine.id), func.sum(InvoiceLine.amount))
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(*where)
        ).one()
    return invoices, lines, D(total or 0).quantize(D("0.01"))


# ---------------------------------------------------------------- run


def test_run_issues_the_month_and_its_last_line_counts_what_it_issued(
    world: World, url: str, capsys: pytest.CaptureFixture[str]
):
    status, out, err = cli(
        capsys, "run", "--month", "2025-07", "--company", "20001", "--database-url", url
    )
    assert status == 0, err
    match = LAST_LINE.fullmatch(out[-1])
    assert match, out
    invoices, lines, total = stored(world, JUL, world.company_id)
    assert invoices == 1 and lines > 0
    assert match.groups() == ("2025-07", "1", str(lines), f"{total:.2f}")
    assert stored(world, JUL, world.other_company_id) == (0, 0, D("0.00"))  # only 20001
    assert len(out) == 2 and out[0].startswith("empresa 20001: fatura ")
    # the invoice's line, with its lines by kind (kind=count), which add up
    kinds = dict(kv.split("=") for kv in out[0].rsplit("(", 1)[1].rstrip(")").split())
    assert set(kinds) <= {"monthly", "retroactive", "plan_change_difference", "credit", "stay"}
    assert sum(int(n) for n in kinds.values()) == lines


def test_running_the_month_again_issues_nothing_and_says_the_company_was_skipped(
    world: World, url: str, capsys: pytest.CaptureFixture[str]
):
    first, _, err = cli(capsys, "run", "--month", "2025-07", "--database-url", url)
    assert first == 0, err
    before = stored(world, JUL)
    assert before[0] == 2  # the whole portfolio: both companies
    status, out, err = cli(capsys, "run", "--month", "2025-07", "--database-url", url)
    assert status == 0, err
    assert out == ["month=2025-07 invoices=0 lines=0 total=0.00"]
    assert "empresa 20001 pulada: Já faturada para a competência 07/2025." in err
    assert "empresa 20002 pulada" in err
    assert stored(world, JUL) == before


def test_run_takes_the_database_from_portal_database_url(
    world: World, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        status, out, err = cli(capsys, "run", "--month", "2025-08", "--company", "20002")
    finally:
        get_settings.cache_clear()
    assert status == 0, err
    invoices, lines, total = stored(world, AUG)
    assert (invoices, out[-1]) == (1, f"month=2025-08 invoices=1 lines={lines} total={total:.2f}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--month", "2025-7"], "mês inválido: '2025-7'; use AAAA-MM"),
        (["run", "--month", "2025-13"], "mês inválido: '2025-13'"),
        (["run", "--month", "julho"], "mês inválido: 'julho'"),
        (["run"], "informe: --month"),
        (["run", "--month", "2025-07", "--company", "99999"], "empresa 99999 não encontrada"),
        (["ledger", "--company", "99999"], "empresa 99999 não encontrada"),
        (["ledger"], "informe: --company"),
        (["bill"], "comando inválido: 'bill'"),
        ([], "informe: comando"),
    ],
)
def test_bad_input_exits_with_status_2_and_says_what_to_fix_in_portuguese(
    world: World, url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    status, out, err = cli(capsys, *args, "--database-url", url) if args else cli(capsys)
    assert status == 2
    assert out == []
    assert err.startswith("portal-billing: ") and message in err
    assert "Traceback" not in err
    assert stored(world, JUL) == (0, 0, D("0.00"))


# ---------------------------------------------------------------- ledger


def _invoice(w: World, company_id: int, month: date, status: str, lines: list[tuple]) -> None:
    """An invoice with ``lines`` (beneficiary key, reference month, kind, amount)."""
    with w.uow as uow:
        s = uow.session
        inv = Invoice(
            company_id=company_id,
            billing_month=month,
            due_date=month.replace(day=10),
            amount=sum((a for *_, a in lines), D("0")),
            status=status,
            issued_at=datetime(month.year, month.month, 1, tzinfo=UTC),
        )
        s.add(inv)
        s.flush()
        for who, ref, kind, amount in lines:
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    beneficiary_id=w.ids[who],
                    plan_id=w.plan_a,
                    reference_month=ref,
                    age_band=3,
                    kind=kind,
                    amount=amount,
                )
            )
        uow.commit()


def _ledger_world(w: World) -> dict[str, tuple[str, str]]:
    """Invoices of July (paid), August (open) and September (cancelled) of 20001 and
    one of 20002, with a line of every kind; returns who -> (card number, cpf)."""
    with w.uow as uow:
        alice = uow.session.get(Beneficiary, w.ids["alice"])
        assert alice is not None
        alice.cpf = "52998224725"
        uow.commit()
    _invoice(
        w,
        w.company_id,
        JUL,
        "paid",
        [("alice", JUL, "monthly", D("100.10")), ("eva", JUL, "monthly", D("95.10"))],
    )
    _invoice(
        w,
        w.company_id,
        AUG,
        "open",
        [
            ("alice", AUG, "monthly", D("105.10")),
            ("carla", date(2025, 5, 1), "retroactive", D("115.10")),
            ("carla", JUL, "retroactive", D("125.10")),
            ("dan", JUL, "plan_change_difference", D("55.25")),
            ("eva", JUL, "credit", D("-95.10")),
            ("bob", AUG, "stay", D("130.00")),
        ],
    )
    _invoice(w, w.company_id, SEP, "cancelled", [("alice", SEP, "monthly", D("105.10"))])
    _invoice(w, w.other_company_id, JUL, "open", [("hugo", JUL, "monthly", D("190.35"))])
    with w.uow as uow:
        found = uow.session.execute(
            select(Beneficiary.id, Beneficiary.card_number, Beneficiary.cpf)
        ).all()
    by_id = {bid: (card, cpf or "") for bid, card, cpf in found}
    return {who: by_id[bid] for who, bid in w.ids.items()}


def _expected(people: dict[str, tuple[str, str]]) -> list[list[str]]:
    rows = [
        ("alice", "2025-07", "2025-07", "monthly", "100.10"),
        ("eva", "2025-07", "2025-07", "monthly", "95.10"),
        ("alice", "2025-08", "2025-08", "monthly", "105.10"),
        ("carla", "2025-05", "2025-08", "retroactive", "115.10"),
        ("carla", "2025-07", "2025-08", "retroactive", "125.10"),
        ("dan", "2025-07", "2025-08", "plan_change_difference", "55.25"),
        ("eva", "2025-07", "2025-08", "credit", "-95.10"),
        ("bob", "2025-08", "2025-08", "stay", "130.00"),
    ]
    out = [[*people[who], ref, inv, kind, amount] for who, ref, inv, kind, amount in rows]
    # ordered by card number, reference month, invoice month
    return sorted(out, key=lambda r: (r[0], r[2], r[3]))


def test_ledger_writes_every_line_of_the_companys_invoices_but_the_cancelled_ones(
    world: World, url: str, capsys: pytest.CaptureFixture[str]
):
    people = _ledger_world(world)
    status, out, err = cli(capsys, "ledger", "--company", "20001", "--database-url", url)
    assert status == 0, err
    assert out[0] == ",".join(LEDGER_HEADER)
    assert out[0] == "card_number,cpf,reference_month,invoice_month,kind,amount"
    rows = list(csv.reader(io.StringIO("\n".join(out[1:]))))
    assert rows == _expected(people)
    alice = [r for r in rows if r[0] == people["alice"][0]]
    assert [r[1] for r in alice] == ["52998224725"] * 2  # September's is cancelled
    eva = [r for r in rows if r[0] == people["eva"][0]]
    assert [r[5] for r in eva] == ["95.10", "-95.10"]  # July charged, then credited
    assert sum(D(r[5]) for r in rows) == D("100.10") + D("95.10") + D("435.45")


def test_ledger_of_a_company_without_invoices_is_the_header_only(
    world: World, url: str, capsys: pytest.CaptureFixture[str]
):
    status, out, err = cli(capsys, "ledger", "--company", "20002", "--database-url", url)
    assert (status, out, err) == (0, [",".join(LEDGER_HEADER)], "")


def test_the_ledger_of_billing_runs_adds_up_to_their_invoices(
    world: World, url: str, capsys: pytest.CaptureFixture[str]
):
    for month in ("2025-07", "2025-08", "2025-09"):
        status, _, err = cli(
            capsys, "run", "--month", month, "--company", "20001", "--database-url", url
        )
        assert status == 0, err
    status, out, err = cli(capsys, "ledger", "--company", "20001", "--database-url", url)
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO("\n".join(out))))
    invoiced = [stored(world, m, world.company_id) for m in (JUL, AUG, SEP)]
    assert len(rows) == sum(n for _, n, _ in invoiced)
    assert sum(D(r["amount"]) for r in rows) == sum(t for *_, t in invoiced)
    assert {r["invoice_month"] for r in rows} == {"2025-07", "2025-08", "2025-09"}
    keys = [(r["card_number"], r["reference_month"], r["invoice_month"]) for r in rows]
    assert keys == sorted(keys)
    assert all(re.fullmatch(r"-?\d+\.\d{2}", r["amount"]) for r in rows)


# ---------------------------------------------------------------- installed script


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_installed_script_runs_and_exports_the_ledger(world: World, url: str):
    assert SCRIPT.exists(), "run `.venv/bin/pip install -e . --no-deps` (or make venv)"
    done = subprocess.run(
        [str(SCRIPT), "run", "--month", "2025-07", "--company", "20001", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    invoices, lines, total = stored(world, JUL, world.company_id)
    assert done.stdout.splitlines()[-1] == (
        f"month=2025-07 invoices={invoices} lines={lines} total={total:.2f}"
    )
    ledger = subprocess.run(
        [str(SCRIPT), "ledger", "--company", "20001", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ledger.returncode == 0, ledger.stderr
    out = ledger.stdout.splitlines()
    assert out[0] == ",".join(LEDGER_HEADER) and len(out) == 1 + lines
    bad = subprocess.run(
        [str(SCRIPT), "run", "--month", "2025/07", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "mês inválido" in bad.stderr


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_ledger_export_in_progress_does_not_hold_the_write_lock(world: World, engine: Engine):
    _ledger_world(world)
    actor = operator_actor(billing_cli.PROG, frozenset({world.company_id}))
    rows = ledger_rows(uow=world.uow.for_company(world.company_id), actor=actor)
    first = next(rows)  # the query is running, its cursor open
    writer = sqlite3.connect(engine.url.database, timeout=0.5, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # would wait, then fail, if the export held it
        writer.execute("UPDATE company SET name = name")
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert len([first, *rows]) == 8


def test_a_database_that_cannot_be_opened_is_said_without_the_password(
    capsys: pytest.CaptureFixture[str],
):
    url = "postgresql+psycopg://portal:s3cr3t@127.0.0.1:1/portal"  # nothing listens on 1
    status, out, err = cli(capsys, "ledger", "--company", "10001", "--database-url", url)
    assert (status, out) == (2, [])
    assert err.startswith("portal-billing: não foi possível abrir o banco ")
    assert "s3cr3t" not in err and "Traceback" not in err
    status, _, err = cli(capsys, "run", "--month", "2025-07", "--database-url", "nonsense")
    assert status == 2 and "URL do banco inválida" in err
