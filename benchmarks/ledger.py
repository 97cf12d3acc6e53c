"""Ledger export speed: `portal-billing ledger` of a 20,000-beneficiary company.

    .venv/bin/python benchmarks/ledger.py                 # seeds instance/bench_ledger.db
    .venv/bin/python benchmarks/ledger.py --reuse         # reuses it when already seeded
    .venv/bin/python benchmarks/ledger.py --database-url postgresql+psycopg://...

1. Seeds (or, with --reuse, reuses) a demo of --beneficiaries people in 8 companies with
   24 months of invoices (no utilization events): company 10001 gets 20% of the people,
   20,000 with the default 100,000.
2. Times the export of company 10001's ledger three ways: the service generator alone
   (`ledger_rows`, rows counted), the CLI in-process (`billing_cli.main`, CSV written to
   a null stream), and the installed script as a subprocess (`.venv/bin/portal-billing
   ledger`, stdout read through a pipe: what an operator's scheduler runs, Python start-up and
   the migration check included). Each is the median of --runs runs after a warm-up.

Target: <= 5 s for the script. Also printed: the script's CPU time (user + system, its
median), which is its wall time on a machine that nothing else keeps busy. The last line
is `beneficiaries=N lines=L seconds=S`, S the script's median wall time, N the
company's beneficiaries, L its ledger lines.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.billing import _has_data, log  # noqa: E402 - the billing benchmark's helpers
from data.db import make_engine, make_session_factory  # noqa: E402
from data.models import Beneficiary, Company, Invoice, InvoiceLine  # noqa: E402
from data.uow import UnitOfWork  # noqa: E402
from demo.generator import seed_demo  # noqa: E402
from services.actors import operator_actor  # noqa: E402
from services.billing import cli as billing_cli  # noqa: E402
from services.billing.ledger_export import ledger_rows  # noqa: E402

COMPANY = "10001"
INVOICE_MONTHS = 24
SCRIPT = Path(sys.executable).parent / "portal-billing"


def _seed(url: str, beneficiaries: int, reuse: bool) -> None:
    if reuse and _has_data(url):
        log(f"reusing {url}")
        return
    engine = make_engine(url)
    started = time.perf_counter()
    options: dict[str, object] = {}
    if "invoice_months" in inspect.signature(seed_demo).parameters:
        options["invoice_months"] = INVOICE_MONTHS  # big demos default to fewer months
    seed_demo(
        engine,
        companies=8,
        beneficiaries=beneficiaries,
        reset=True,
        utilization_per_beneficiary=0,
        progress=lambda m: log(f"[seed {time.perf_counter() - started:7.1f}s] {m}"),
        **options,  # type: ignore[arg-type]
    )
    engine.dispose()
    log(f"seeded {beneficiaries:,} beneficiaries in {time.perf_counter() - started:.1f} s")


def _figures(url: str) -> tuple[int, int, int, int]:
    """(company id, its beneficiaries, its invoices, its ledger lines)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        company_id = conn.scalar(select(Company.id).where(Company.code == COMPANY))
        assert company_id is not None, f"no company {COMPANY}"
        people = conn.scalar(
            select(func.count())
            .select_from(Beneficiary)
            .where(Beneficiary.company_id == company_id)
        )
        invoices = conn.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.company_id == company_id, Invoice.status != "cancelled")
        )
        lines = conn.scalar(
            select(func.count())
            .select_from(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.company_id == company_id, Invoice.status != "cancelled")
        )
    engine.dispose()
    return int(company_id), int(people or 0), int(invoices or 0), int(lines or 0)


def _median(label: str, runs: int, once: Callable[[], int]) -> float:
    once()  # warm-up: imports, page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        count = once()
        times.append(time.perf_counter() - started)
    log(f"{label}: {count:,} rows, runs {[round(t, 2) for t in times]}")
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse the database when seeded")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    (ROOT / "instance").mkdir(exist_ok=True)
    url = args.database_url or f"sqlite:///{ROOT / 'instance' / 'bench_ledger.db'}"
    _seed(url, args.beneficiaries, args.reuse)
    company_id, people, invoices, lines = _figures(url)
    log(f"company {COMPANY}: {people:,} beneficiaries, {invoices} invoices, {lines:,} lines")

    engine = make_engine(url)
    factory = make_session_factory(engine)
    actor = operator_actor(billing_cli.PROG, frozenset({company_id}))

    def service() -> int:
        return sum(
            1 for _ in ledger_rows(uow=UnitOfWork(factory).for_company(company_id), actor=actor)
        )

    def in_process() -> int:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = billing_cli.main(["ledger", "--company", COMPANY, "--database-url", url])
        assert status == 0
        return out.getvalue().count("\n") - 1

    script_cpu: list[float] = []

    def script() -> int:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [str(SCRIPT), "ledger", "--company", COMPANY, "--database-url", url],
            capture_output=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        script_cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return done.stdout.count(b"\n") - 1

    service_s = _median("service (ledger_rows)", args.runs, service)
    cli_s = _median("CLI in-process (CSV)", args.runs, in_process)
    script_s = _median(f"script {SCRIPT.name} ledger (subprocess)", args.runs, script)
    engine.dispose()
    cpu = statistics.median(script_cpu[1:])  # the runs timed, not the warm-up
    print(
        f"service_seconds={service_s:.2f} cli_seconds={cli_s:.2f} script_cpu_seconds={cpu:.2f}",
        flush=True,
    )
    print(f"beneficiaries={people} lines={lines} seconds={script_s:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
