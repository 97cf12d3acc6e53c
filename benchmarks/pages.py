"""Time every page of the menu, through the frame, for a company master and an account manager.

    .venv/bin/python benchmarks/pages.py                 # seeds 1,000,000 beneficiaries in 50
                                                         # companies into PostgreSQL (~15 min)
    .venv/bin/python benchmarks/pages.py --reuse         # time again, no new seed
    .venv/bin/python benchmarks/pages.py --database-url sqlite:///instance/bench-pages.db \\
        --beneficiaries 100000 --companies 8

The database is seeded as benchmarks/reports.py does (its `prepare`: `seed_demo` with
--events-per-beneficiary utilization events each, then VACUUM ANALYZE on PostgreSQL);
the default URL is postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench, created
when missing. The app is pointed at it with PORTAL_DATABASE_URL.

Each user gets one AppTest session of streamlit_app.py, logs in through the form
("Código de usuário", "Senha", "Entrar") and opens, with `switch_page`, every page the
menu shows it (components.navigation.pages_for):

- 100001, master of company 10001 (the company in context is its own);
- 900001, account manager of every company, with the company whose size is closest to
  --company-size (20,000, as reports.py) chosen in the sidebar's "Empresa em contexto".

A page is timed on its second run in the warm process, with `st.cache_data` emptied
first (a visit after the cache's ttl), as reports.py does: the whole frame and page
script (login check, sidebar, queries, pandas, figures, AppTest's own work). Pages
that need input to show results (2ª via de boleto, Pedidos LGPD, searches) are timed as
they open. With --runs N the figure is the median of N such runs.

Targets (the issues): a company page <= 1 s; the account manager's portfolio analysis
<= 3 s. Prints `page=NAME user=CODE seconds=S` per page (with ` over_target=1` when it
exceeds its target) and, last, `max_seconds=S`; details go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.reports import pick_company, prepare  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"
PASSWORD = "Sorriso@2026"
MASTER, MANAGER = "100001", "900001"
PAGE_TARGET, PORTFOLIO_TARGET = 1.0, 3.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def create_database(url: str) -> None:
    """CREATE DATABASE for a PostgreSQL URL whose database does not exist yet."""
    from sqlalchemy import create_engine, make_url, text

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if not exists:
            _log(f"creating database {parsed.database}")
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _by_label(elements, label: str):  # noqa: ANN001, ANN202 - AppTest element lists
    for element in elements:
        if element.label == label:
            return element
    raise SystemExit(f"no element labelled {label!r}: {[e.label for e in elements]}")


def _problems(at) -> list[str]:  # noqa: ANN001
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


def log_in(user_code: str, company_id: int | None):  # noqa: ANN201
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    at.run()
    _by_label(at.text_input, "Código de usuário").input(user_code)
    _by_label(at.text_input, "Senha").input(PASSWORD)
    _by_label(at.button, "Entrar").click()
    at.run()
    if at.exception or not at.get("page_link"):
        raise SystemExit(f"login of {user_code} failed: {_problems(at)}")
    if company_id is not None:
        switcher = next(s for s in at.selectbox if s.key == "company_switcher")
        switcher.set_value(company_id).run()
        if at.session_state["company_id"] != company_id or at.exception:
            raise SystemExit(f"could not switch {user_code} to company {company_id}")
    return at


def time_page(at, path: str, runs: int) -> dict:  # noqa: ANN001
    """Figures of `path` in the session `at`: the median of the timed runs and the rest.

    The warm-up pass has opened every page once already (imports, AppTest's one-off
    costs). "open" is the run that `switch_page` makes (st.cache_data is empty then: the
    previous page's timed runs emptied it), as a click on the menu after the cache's
    ttl; then each timed run, the page's second run, starts with the cache emptied;
    "cached" is one more run with the cache as the timed run left it.
    """
    import streamlit as st

    started = time.perf_counter()
    at.switch_page(path).run()
    opened = time.perf_counter() - started
    times = []
    for _ in range(runs):
        st.cache_data.clear()
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    problems = _problems(at)
    started = time.perf_counter()
    at.run()
    cached = time.perf_counter() - started
    return {
        "seconds": statistics.median(times),
        "times": times,
        "open": opened,
        "cached": cached,
        "problems": problems,
    }


def time_users(
    results: list[tuple[str, str, float, float]], actors: dict, company_id: int, runs: int
) -> None:
    """Log each user in and time every page its menu shows."""
    from components import navigation

    for user, company in ((MASTER, None), (MANAGER, company_id)):
        at = log_in(user, company)
        specs = navigation.pages_for(actors[user])
        _log(f"user {user}: warm-up, every page once")
        for spec in specs:
            at.switch_page(spec.path).run()
        _log(f"user {user}: {len(specs)} pages (second run of each, st.cache_data empty)")
        for spec in specs:
            figures = time_page(at, spec.path, runs)
            name = Path(spec.path).stem
            target = PORTFOLIO_TARGET if name == "portfolio_analysis" else PAGE_TARGET
            results.append((name, user, figures["seconds"], target))
            _log(
                f"  {name:22s} {figures['seconds']:6.3f} s  (runs "
                f"{', '.join(f'{t:.3f}' for t in figures['times'])}; open "
                f"{figures['open']:.3f} s, cached {figures['cached']:.3f} s)"
                + (f"  PROBLEMS: {figures['problems']}" if figures["problems"] else "")
            )
            if at.exception:
                raise SystemExit(f"{name} raised for {user}: {figures['problems']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--reuse", action="store_true", help="use the database as it is if it already has the demo"
    )
    parser.add_argument("--beneficiaries", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument(
        "--events-per-beneficiary",
        type=float,
        default=10.0,
        help="utilization events per beneficiary over 24 months",
    )
    parser.add_argument(
        "--company-size",
        type=int,
        default=20_000,
        help="the account manager looks at the company closest to this size",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="timed runs per page (cache emptied before each); the median",
    )
    args = parser.parse_args(argv)
    url = args.database_url

    create_database(url)
    started = time.perf_counter()
    prepare(
        url,
        reuse=args.reuse,
        companies=args.companies,
        beneficiaries=args.beneficiaries,
        events_per_beneficiary=args.events_per_beneficiary,
    )
    _log(f"database ready in {time.perf_counter() - started:.0f} s")
    company_id, code, size = pick_company(url, args.company_size)

    os.environ["PORTAL_DATABASE_URL"] = url
    os.environ.pop("PORTAL_SHOW_OUTBOX", None)
    from sqlalchemy import func, select

    from config import get_settings
    from data.db import make_engine, make_session_factory
    from data.models import Beneficiary, Company
    from data.uow import UnitOfWork
    from services.access.accounts import actor_for_user

    get_settings.cache_clear()
    # st.cache_data.clear() outside a server logs "No runtime found" at every call.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
        lambda record: "No runtime found" not in record.getMessage()
    )
    engine = make_engine(url)
    uow = UnitOfWork(make_session_factory(engine))
    found = {c: actor_for_user(uow=uow, user_code=c) for c in (MASTER, MANAGER)}
    actors = {c: a for c, a in found.items() if a is not None}
    if len(actors) < len(found):
        raise SystemExit(f"the demo users {MASTER} and {MANAGER} must exist and be active")
    with engine.connect() as conn:
        master_size = conn.execute(
            select(func.count())
            .select_from(Beneficiary)
            .join(Company)
            .where(Company.id == actors[MASTER].home_company_id)
        ).scalar_one()
        total = conn.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
    engine.dispose()
    _log(
        f"database {engine.url.render_as_string()}: {total} beneficiaries; master {MASTER} "
        f"on its company ({master_size} beneficiaries); manager {MANAGER} on company {code} "
        f"({size} beneficiaries), portfolio of {len(actors[MANAGER].company_ids)} companies"
    )

    results: list[tuple[str, str, float, float]] = []
    # stdout keeps only the figures: anything the app prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        time_users(results, actors, company_id, args.runs)
    load = os.getloadavg()
    _log(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cpus")
    for name, user, seconds, target in results:
        over = " over_target=1" if seconds > target else ""
        print(f"page={name} user={user} seconds={seconds:.3f}{over}")
    slow = [(n, u, s, t) for n, u, s, t in results if s > t]
    _log(
        "over target: "
        + (", ".join(f"{n} ({u}) {s:.2f} s > {t:.0f} s" for n, u, s, t in slow) or "none")
    )
    print(f"max_seconds={max(s for _, _, s, _ in results):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
