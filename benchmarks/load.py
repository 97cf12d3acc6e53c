"""Load test: concurrent simulated users of the whole portal, each its own AppTest session.

    .venv/bin/python benchmarks/load.py                    # 20 users for 300 s on a fresh
                                                           # SQLite demo (20 companies, 50,000
                                                           # beneficiaries, instance/)
    .venv/bin/python benchmarks/load.py --reuse --seconds 60
    .venv/bin/python benchmarks/load.py --reuse \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

Without --reuse the database is seeded afresh first (benchmarks/reports.py's `prepare`:
`seed_demo` with --companies, --beneficiaries and --events-per-beneficiary, VACUUM
ANALYZE on PostgreSQL). With --reuse an already seeded database is used as it is (the
1,000,000-beneficiary one of benchmarks/pages.py, for instance); the test adds rows to it
(logins, sessions, inclusions, protocols, audit and LGPD access records).

--users threads (20) run in one process, as the sessions of one Streamlit server do;
each thread is a simulated user looping over browser sessions of streamlit_app.py
(AppTest.from_file) until --seconds have passed, with --think seconds between steps
(0: every user always busy, the worst case). One session:

    login (100001 master, 100002 user with movements and reports only, or 900001
    account manager, weights 40/35/25) -> home -> [900001: another company in the
    sidebar's "Empresa em contexto"] -> Beneficiários ativos -> Faturas* -> Protocolos*
    -> Cadastro individual, search a beneficiary by name or card digits -> sometimes
    (25%) include a new holder through the inclusion form -> sometimes (20%*) open a
    request in Protocolos > Nova solicitação -> logout ("Sair").

    * only users with that permission (100002 has neither finance nor protocols).

An operation's latency is the wall time of its AppTest runs (what the user waits for
the page). An error is an exception out of AppTest (a run timing out included), an
uncaught exception in the script (`at.exception`), an `st.error` that is not an
expected validation message, or a step whose result is missing (no success message
after an inclusion, still on the login page after logging in); the session is then
abandoned and the user starts a new one. Tracebacks the app logs ("portal" logger,
the catch-all of components.errors.user_errors) are collected and shown on stderr.

Why AppTest works in threads here: AppTest is made for one test at a time and keeps
two things of a run in process globals. It sets `Runtime._instance` to a fresh mock
runtime when a run starts and back to None when it ends, and it patches
`config.get_option` for the run ("global.appTest") and restores it at the end. With
concurrent sessions, one session's end pulls both from under another session's script
("Runtime hasn't been created!", widgets without the values AppTest reads). So, before
any session starts, the process gets what a real server has: one runtime for every
session (the first mock runtime stays; AppTest's later swaps are ignored) and the
option set for the whole process; the sessions also share one component registry
instead of each scanning the installed packages again. Everything else is per session
as on a server (session state, script thread), and the engine with its connection pool
(st.cache_resource) and st.cache_data are shared by all sessions, as on a server.
`--no-harness-fix` runs without these to show the harness failures.

Operations: login_page (a new browser session opens the portal), login (the form,
landing on the home page), home, switch_company, report_active, invoices, protocols,
movements_page (Cadastro individual, tab "Alteração cadastral"), movement_search,
inclusion (tab "Inclusão", form filled, submitted, confirmation shown),
protocol_request, logout.

Prints `op=NAME count=N errors=E p50=S p95=S max=S` per operation type and, last,
`users=U seconds=S operations=N errors=E p50=S p95=S max=S` (seconds: until the last
user finished its last step). Details go to stderr: progress every 30 s; sessions and
expected refusals; this process's CPU use (one process: the GIL holds it near one
core, as a Streamlit server's); the most pooled connections checked out at once and, on
SQLite, how long `BEGIN IMMEDIATE` waited for the write lock (data.db starts every
transaction with it; past the 30 s busy timeout it fails with "database is locked");
errors by kind with the first traceback of each.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.reports import prepare  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
PASSWORD = "Sorriso@2026"
USERS = {"100001": 40, "100002": 35, "900001": 25}
NO_FINANCE_NO_PROTOCOLS = {"100002"}
INCLUSION_SHARE, PROTOCOL_SHARE = 0.25, 0.20
SEARCH_TERMS = [
    "SILVA",
    "SANTOS",
    "OLIVEIRA",
    "SOUZA",
    "LIMA",
    "PEREIRA",
    "COSTA",
    "FERREIRA",
    "ALVES",
    "RODRIGUES",
    "MARIA",
    "JOSE",
    "ANA",
    "CARLOS",
]
FIRST_NAMES = ["MARIANA", "JULIANA", "FERNANDA", "PATRICIA", "ALINE", "CAMILA", "BEATRIZ"]
SURNAMES = ["SILVA", "SOUZA", "OLIVEIRA", "PEREIRA", "ALMEIDA", "CARVALHO", "RIBEIRO"]
SEARCH_LABEL = "Buscar beneficiário (nome, carteirinha ou CPF)"
# Validation messages a correct request may still meet (a random CPF already taken);
# they count as refusals, not errors.
EXPECTED_ERRORS = ("Este CPF já tem cadastro ativo nesta empresa",)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- harness


def share_runtime() -> None:
    """One Streamlit runtime and global.appTest for the whole process (see the docstring)."""
    from streamlit import config
    from streamlit.runtime import Runtime
    from streamlit.testing.v1 import app_test

    class _OneRuntime(type):
        @property
        def _instance(cls) -> Any:
            return Runtime._instance

        @_instance.setter
        def _instance(cls, value: Any) -> None:
            if value is not None and Runtime._instance is None:
                Runtime._instance = value

    class SharedRuntime(Runtime, metaclass=_OneRuntime):
        pass

    app_test.Runtime = SharedRuntime  # type: ignore[misc]  # AppTest's `Runtime._instance = ...` lands here
    config.get_config_options()
    config.set_option("global.appTest", True, "benchmarks/load.py")


class AppLog(logging.Handler):
    """Tracebacks the app logs ("portal" logger), by their last line."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lock_ = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
        last = text.strip().splitlines()[-1] if text.strip() else record.getMessage()
        with self.lock_:
            self.counts[last] += 1
            self.samples.setdefault(last, f"[{threading.current_thread().name}] {text}")


class DatabaseWaits:
    """What the sessions wait for in the database layer, from class-level SQLAlchemy events
    (they reach the app's engine too): on SQLite, how long each `BEGIN IMMEDIATE` waited
    for the write lock (data.db starts every transaction with it; past the 30 s busy
    timeout it fails with "database is locked"); everywhere, how many pooled connections
    were checked out at once (the app's engine has SQLAlchemy's default pool, 5 + 10)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        self.lock = threading.Lock()
        self.local = threading.local()
        self.begin_waits: list[float] = []
        self.out = self.most_out = 0
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Pool, "checkout", self._checkout)
        event.listen(Pool, "checkin", self._checkin)

    def _before(self, conn, cursor, statement, *args: Any) -> None:  # noqa: ANN001
        if statement.startswith("BEGIN IMMEDIATE"):
            self.local.started = time.perf_counter()

    def _after(self, conn, cursor, statement, *args: Any) -> None:  # noqa: ANN001
        if statement.startswith("BEGIN IMMEDIATE"):
            waited = time.perf_counter() - self.local.started
            with self.lock:
                self.begin_waits.append(waited)

    def _checkout(self, *args: Any) -> None:
        with self.lock:
            self.out += 1
            self.most_out = max(self.most_out, self.out)

    def _checkin(self, *args: Any) -> None:
        with self.lock:
            self.out -= 1

    def summary(self) -> str:
        with self.lock:
            waits = list(self.begin_waits)
            most = self.most_out
        text = f"most pooled connections checked out at once: {most} (pool 5 + overflow 10)"
        if waits:
            text += (
                f"; BEGIN IMMEDIATE (SQLite write lock) waits: {len(waits)}, "
                f"p50 {pct(waits, 50):.3f} s, p95 {pct(waits, 95):.3f} s, "
                f"max {max(waits):.3f} s, over 10 s: {sum(w > 10 for w in waits)}"
            )
        return text


# ---------------------------------------------------------------- statistics


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.samples: dict[str, str] = {}
        self.refused = 0
        self.sessions = 0

    def record(self, op: str, seconds: float, error: str | None, detail: str = "") -> None:
        with self.lock:
            self.latency[op].append(seconds)
            if error is not None:
                self.errors[op] += 1
                key = f"{op}: {error[:300]}"
                self.kinds[key] += 1
                self.samples.setdefault(key, detail)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


# ---------------------------------------------------------------- the simulated user


class Abandon(Exception):
    """The session met an error: the simulated user starts a new one."""


def _by_label(elements, label: str):  # noqa: ANN001, ANN202 - AppTest element lists
    for element in elements:
        if element.label == label:
            return element
    raise AssertionError(f"no element labelled {label!r} (page has {[e.label for e in elements]})")


def _new_cpf(rng: random.Random) -> str:
    from services.rules.documents import cpf_check_digits

    base = f"{rng.randrange(100_000_000, 1_000_000_000):09d}"
    return base + cpf_check_digits(base)


class User(threading.Thread):
    def __init__(
        self, index: int, deadline: float, stats: Stats, args: argparse.Namespace, components: Any
    ) -> None:
        super().__init__(name=f"user-{index:02d}", daemon=True)
        self.rng = random.Random(args.seed * 1000 + index)
        # CPFs from the OS's entropy: a run on a reused database must not retype the CPFs
        # an earlier run included.
        self.cpf_rng = random.Random()
        self.deadline = deadline
        self.stats = stats
        self.think = args.think
        self.timeout = args.timeout
        self.components = components
        self.at: Any = None

    # -- one operation

    def op(self, name: str, action) -> None:  # noqa: ANN001
        """Run `action()` (AppTest steps), time it, and check the page for errors."""
        started = time.perf_counter()
        error, detail = None, ""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - AppTest, timeouts, missing results
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            detail = traceback.format_exc()
        seconds = time.perf_counter() - started
        at = self.at
        if error is None and at.exception:
            shown = at.exception[0]
            error = f"exception in the script: {shown.message}".splitlines()[0]
            detail = "\n".join(shown.stack_trace)
        if error is None:
            messages = [str(e.value) for e in at.error]
            unexpected = [m for m in messages if not any(e in m for e in EXPECTED_ERRORS)]
            if unexpected:
                error = f"st.error: {unexpected[0]}".splitlines()[0]
                detail = "\n".join(unexpected)
            elif messages:
                with self.stats.lock:
                    self.stats.refused += 1
        self.stats.record(name, seconds, error, detail)
        if error is not None:
            raise Abandon(error)
        if self.think:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    # -- the session

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            with self.stats.lock:
                self.stats.sessions += 1
            try:
                self.session()
            except Abandon:
                time.sleep(1)

    def _due(self) -> bool:
        return time.monotonic() >= self.deadline

    def session(self) -> None:
        from streamlit.testing.v1 import AppTest

        code = self.rng.choices(list(USERS), weights=list(USERS.values()))[0]
        at = self.at = AppTest.from_file(APP, default_timeout=self.timeout)
        if self.components is not None:
            at._bidi_component_manager = self.components  # noqa: SLF001 - shared registry

        self.op("login_page", at.run)

        def login() -> None:
            _by_label(at.text_input, "Código de usuário").input(code)
            _by_label(at.text_input, "Senha").input(PASSWORD)
            _by_label(at.button, "Entrar").click()
            at.run()
            if not at.get("page_link") and not at.exception and not at.error:
                raise AssertionError("still on the login page after logging in")

        self.op("login", login)
        ops = [self.home]
        if code == "900001":
            ops.append(self.switch_company)
        ops.append(self.report)
        if code not in NO_FINANCE_NO_PROTOCOLS:
            ops += [self.invoices, self.protocols]
        ops.append(self.search)
        if self.rng.random() < INCLUSION_SHARE:
            ops.append(self.inclusion)
        if code not in NO_FINANCE_NO_PROTOCOLS and self.rng.random() < PROTOCOL_SHARE:
            ops.append(self.protocol_request)
        for step in ops:
            if self._due():
                break
            step()
        self.op("logout", self.logout)

    # -- the steps

    def home(self) -> None:
        self.op("home", lambda: self.at.switch_page("pages/home.py").run())

    def switch_company(self) -> None:
        def switch() -> None:
            box = next(s for s in self.at.selectbox if s.key == "company_switcher")
            portfolio = sorted(self.at.session_state["actor"].company_ids)
            box.set_value(self.rng.choice(portfolio)).run()

        self.op("switch_company", switch)

    def report(self) -> None:
        self.op("report_active", lambda: self.at.switch_page("pages/report_active.py").run())

    def invoices(self) -> None:
        self.op("invoices", lambda: self.at.switch_page("pages/invoices.py").run())

    def protocols(self) -> None:
        self.op("protocols", lambda: self.at.switch_page("pages/protocols.py").run())

    def search(self) -> None:
        at = self.at

        def open_tab() -> None:
            at.switch_page("pages/movements_individual.py").run()
            at.session_state["individual_tab"] = "Alteração cadastral"
            at.run()

        def search() -> None:
            if self.rng.random() < 0.2:
                term = f"{self.rng.randrange(10_000):04d}"  # card number digits
            else:
                term = self.rng.choice(SEARCH_TERMS)
            _by_label(at.text_input, SEARCH_LABEL).input(term).run()

        self.op("movements_page", open_tab)
        self.op("movement_search", search)

    def inclusion(self) -> None:
        at = self.at
        name = (
            f"{self.rng.choice(FIRST_NAMES)} CARGA {self.rng.choice(SURNAMES)} "
            f"{self.rng.choice(SURNAMES)}"
        )

        def include() -> None:
            at.session_state["individual_tab"] = "Inclusão"
            at.run()
            _by_label(at.text_input, "Nome completo *").input(name)
            _by_label(at.text_input, "CPF *").input(_new_cpf(self.cpf_rng))
            _by_label(at.date_input, "Data de nascimento *").set_value(date(1990, 5, 4))
            _by_label(at.selectbox, "Sexo *").select("F")
            _by_label(at.text_input, "Nome da mãe *").input("JOANA CARGA DE SOUZA")
            _by_label(at.text_input, "CEP *").input("01310-100")
            _by_label(at.text_input, "Logradouro").input("Avenida Paulista")
            _by_label(at.text_input, "Número").input("1000")
            _by_label(at.text_input, "Município *").input("São Paulo")
            _by_label(at.selectbox, "UF *").select("SP")
            _by_label(at.date_input, "Data de admissão *").set_value(date(2024, 2, 1))
            _by_label(at.selectbox, "Plano *").select_index(0)
            _by_label(at.button, "Incluir beneficiário").click().run()
            if at.error or at.exception:
                return  # judged by op(): expected refusal or error
            if not any(name in s.value and "Carteirinha nº" in s.value for s in at.success):
                raise AssertionError("no confirmation after the inclusion")

        self.op("inclusion", include)

    def protocol_request(self) -> None:
        at = self.at
        subject = f"Carga {self.rng.randrange(10**6)}: dúvida sobre a fatura"

        def request() -> None:
            at.switch_page("pages/protocols.py").run()
            _by_label(at.selectbox, "Tipo de solicitação *").select("invoice_question")
            _by_label(at.text_input, "Assunto *").input(subject)
            _by_label(at.text_area, "Descrição *").input(
                "A fatura veio com um valor maior do que o previsto."
            )
            _by_label(at.button, "Abrir solicitação").click().run()
            if at.error or at.exception:
                return
            if not any("Protocolo nº" in s.value for s in at.success):
                raise AssertionError("no protocol number after the request")

        self.op("protocol_request", request)

    def logout(self) -> None:
        at = self.at
        next(b for b in at.button if b.key == "logout_button").click().run()
        if not any(t.label == "Código de usuário" for t in at.text_input):
            raise AssertionError("not back on the login page after logging out")


# ---------------------------------------------------------------- driver


def _database_figures(url: str) -> str:
    from sqlalchemy import func, select

    from data.db import make_engine
    from data.models import Beneficiary, Company

    engine = make_engine(url)
    with engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(Beneficiary)).scalar_one()
        companies = conn.execute(select(func.count()).select_from(Company)).scalar_one()
        biggest = conn.execute(
            select(func.count())
            .select_from(Beneficiary)
            .join(Company)
            .where(Company.code == "10001")
        ).scalar_one()
    engine.dispose()
    return f"{people} beneficiaries in {companies} companies (10001: {biggest})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: sqlite:///instance/bench-load-<beneficiaries>.db",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="use the database as it is if it already has the demo"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause between a user's steps, seconds"
    )
    parser.add_argument("--beneficiaries", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--events-per-beneficiary", type=float, default=4.0)
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="AppTest's limit for one script run, seconds"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the users' choices (the new CPFs are random)"
    )
    parser.add_argument(
        "--no-harness-fix",
        action="store_true",
        help="plain AppTest in threads (shows why the fix is needed)",
    )
    args = parser.parse_args(argv)
    url = args.database_url or (
        f"sqlite:///{ROOT / 'instance' / f'bench-load-{args.beneficiaries}.db'}"
    )

    from benchmarks.pages import create_database

    create_database(url)
    started = time.perf_counter()
    prepare(
        url,
        reuse=args.reuse,
        companies=args.companies,
        beneficiaries=args.beneficiaries,
        events_per_beneficiary=args.events_per_beneficiary,
    )
    _log(f"database ready in {time.perf_counter() - started:.0f} s: {_database_figures(url)}")

    os.environ["PORTAL_DATABASE_URL"] = url
    os.environ.pop("PORTAL_SHOW_OUTBOX", None)
    from streamlit.components.v2.component_manager import BidiComponentManager

    from config import get_settings

    get_settings.cache_clear()
    applog = AppLog()
    logging.getLogger("portal").addHandler(applog)
    components = None
    if not args.no_harness_fix:
        share_runtime()
        components = BidiComponentManager()
        components.discover_and_register_components(start_file_watching=False)

    waits = DatabaseWaits()
    stats = Stats()
    cpu = time.process_time()
    deadline = time.monotonic() + args.seconds
    users = [User(i, deadline, stats, args, components) for i in range(args.users)]
    _log(
        f"{args.users} users for {args.seconds:.0f} s on {url.split('@')[-1]}, think "
        f"{args.think} s; {os.cpu_count()} cpus"
    )
    started = time.perf_counter()
    # stdout keeps only the figures: anything the app prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        for user in users:
            user.start()
            time.sleep(0.1)  # a 2-second ramp, not one burst of 20 logins
        last = time.monotonic()
        while any(u.is_alive() for u in users):
            time.sleep(1)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                with stats.lock:
                    done = sum(len(v) for v in stats.latency.values())
                    errors = sum(stats.errors.values())
                load = os.getloadavg()[0]
                _log(
                    f"  [{time.perf_counter() - started:5.0f}s] {done} operations, {errors} "
                    f"errors, load {load:.1f}"
                )
            if time.monotonic() > deadline + args.timeout + 60:
                _log("some users are still busy long after the end: giving up on them")
                break
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu

    everything = [s for v in stats.latency.values() for s in v]
    errors = sum(stats.errors.values())
    _log(
        f"sessions {stats.sessions}; expected validation refusals {stats.refused}; "
        f"throughput {len(everything) / elapsed:.2f} operations/s; load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    _log(
        f"this process used {cpu:.0f} cpu seconds in {elapsed:.0f} s ({cpu / elapsed:.2f} "
        f"cores); {waits.summary()}"
    )
    if stats.kinds:
        _log("errors by kind:")
        for key, count in stats.kinds.most_common():
            _log(f"  {count:5d} x {key}")
        for key, _ in stats.kinds.most_common(5):
            _log(f"--- first {key}\n{stats.samples[key]}")
    if applog.counts:
        _log("logged by the app (portal logger):")
        for key, count in applog.counts.most_common():
            _log(f"  {count:5d} x {key}")
        for key, _ in applog.counts.most_common(3):
            _log(f"--- first of: {key}\n{applog.samples[key]}")
    for name in sorted(stats.latency, key=lambda n: -len(stats.latency[n])):
        values = stats.latency[name]
        print(
            f"op={name} count={len(values)} errors={stats.errors[name]} "
            f"p50={pct(values, 50):.3f} p95={pct(values, 95):.3f} max={max(values):.3f}"
        )
    print(
        f"users={args.users} seconds={elapsed:.0f} operations={len(everything)} "
        f"errors={errors} p50={pct(everything, 50):.3f} p95={pct(everything, 95):.3f} "
        f"max={max(everything, default=float('nan')):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
