"""Billing speed: the monthly run over a large demo, and the invoices page script.

    .venv/bin/python benchmarks/billing.py                       # 100,000 beneficiaries
    .venv/bin/python benchmarks/billing.py --beneficiaries 1000000 --companies 5000
    .venv/bin/python benchmarks/billing.py --database-url sqlite:///big.db --reuse

1. Seeds (or, with --reuse, reuses) a SQLite demo of --beneficiaries people in
   --companies companies (no utilization events: billing does not read them), removes
   any invoice of next month left by an earlier run, and times `billing_run` for next
   month over the account manager's whole portfolio. The demo's invoices come from
   `billing_run` itself, month by month: above 50,000 beneficiaries only the last 3
   months are invoiced (billing_start is the first of them; `--invoice-months` changes
   it), so the timed run reads the lines of those months and charges next month.
2. Seeds (or reuses) a second demo where company 10001 has ~5,000 beneficiaries and 24
   invoices (24 billing runs), and times the invoices page script through the frame
   with AppTest (median of 5 runs after a warm-up).

Targets: 1,000,000 beneficiaries billed in <= 60 s; invoices page <= 0.3 s.
Prints `invoices_page_seconds=S` and, as its last line, `beneficiaries=N seconds=S`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from data.db import make_engine, make_session_factory  # noqa: E402
from data.models import Beneficiary, Company, Invoice, InvoiceLine, Operator  # noqa: E402
from data.uow import UnitOfWork  # noqa: E402
from demo.generator import seed_demo  # noqa: E402
from services import billing  # noqa: E402
from services.access import accounts as access  # noqa: E402
from services.rules.billing import add_months  # noqa: E402

PAGE_BENEFICIARIES = 25_000  # company 10001 gets 20% of them with 8 companies
PAGE_RUNS = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _has_data(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(Operator)).scalar_one())
    except Exception:  # noqa: BLE001 - no schema yet
        return False
    finally:
        engine.dispose()


def _seed(
    url: str, companies: int, beneficiaries: int, reuse: bool, invoice_months: int | None = None
) -> None:
    if reuse and _has_data(url):
        log(f"reusing {url}")
        return
    engine = make_engine(url)
    started = time.perf_counter()
    seed_demo(
        engine,
        companies=companies,
        beneficiaries=beneficiaries,
        reset=True,
        utilization_per_beneficiary=0,
        progress=lambda m: log(f"[seed {time.perf_counter() - started:7.1f}s] {m}"),
        invoice_months=invoice_months,
    )
    engine.dispose()
    log(f"seeded {beneficiaries:,} beneficiaries in {time.perf_counter() - started:.1f} s")


def bench_billing_run(url: str, today: date) -> tuple[int, float, billing.BillingRunResult]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    uow = UnitOfWork(factory)
    month = add_months(today, 1)
    with uow:
        session = uow.session
        stale = select(Invoice.id).where(Invoice.billing_month == month)
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(stale)))
        session.execute(delete(Invoice).where(Invoice.billing_month == month))
        people = session.scalar(select(func.count()).select_from(Beneficiary))
        companies = session.scalar(select(func.count()).select_from(Company))
        uow.commit()
    actor = access.actor_for_user(uow=uow, user_code="900001")
    assert actor is not None
    log(f"billing {month:%m/%Y} for {companies:,} companies, {people:,} beneficiaries")
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        log(f"  [{time.perf_counter() - started:6.2f}s] {fraction:4.0%} {message}")

    started = time.perf_counter()
    result = billing.billing_run(
        uow=uow.for_company(actor.home_company_id),
        actor=actor,
        billing_month=month,
        company_ids=None,
        now=datetime.now(UTC),
        progress=progress,
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    return int(people or 0), seconds, result


def bench_invoices_page(url: str) -> float:
    os.environ["PORTAL_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from config import get_settings

    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    for widget in at.text_input:
        if widget.label == "Código de usuário":
            widget.input("100001")
        elif widget.label == "Senha":
            widget.input("Sorriso@2026")
    next(b for b in at.button if b.label == "Entrar").click()
    at.run()
    at.switch_page("pages/invoices.py").run()  # warm-up: imports, engine, plotly
    assert not at.exception, at.exception
    lines = len(at.dataframe[1].value)
    times = []
    for _ in range(PAGE_RUNS):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    log(f"invoices page: {lines:,} lines in the open invoice, runs {[round(t, 3) for t in times]}")
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--page-database-url", default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the databases when they already have a demo"
    )
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument(
        "--invoice-months",
        type=int,
        default=None,
        help="months the big demo invoices up to the current one (default: 24 up to 50,000 "
        "beneficiaries, else 3)",
    )
    args = parser.parse_args(argv)
    instance = ROOT / "instance"
    url = args.database_url or (f"sqlite:///{instance / f'bench_billing_{args.beneficiaries}.db'}")
    page_url = args.page_database_url or f"sqlite:///{instance / 'bench_invoices_page.db'}"
    today = date.today()

    if not args.skip_page:
        _seed(page_url, 8, PAGE_BENEFICIARIES, args.reuse)
        page_seconds = bench_invoices_page(page_url)
        print(f"invoices_page_seconds={page_seconds:.3f}", flush=True)

    _seed(url, args.companies, args.beneficiaries, args.reuse, args.invoice_months)
    people, seconds, result = bench_billing_run(url, today)
    print(
        f"billed {len(result.billed):,} invoices, {result.lines:,} lines, "
        f"R$ {result.total:,.2f}; skipped {len(result.skipped):,}",
        flush=True,
    )
    print(f"beneficiaries={people} seconds={seconds:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
