"""Faults: a process killed (SIGKILL) in the middle of a batch or of the monthly billing
run, and PostgreSQL dropping every connection (a restart) while the portal is in use.

- The command-line batch (`portal-batch`) applies a file in chunks, each committed with
  its lines' status (services/batch/processing.py): killed half way, every chunk is all there or not
  at all, resuming the interrupted batch ("Retomar aplicação", `batch_apply`) applies
  exactly the lines left, and running the same file again applies nothing twice.
- `billing_run` issues a month's invoices in one transaction: killed half way nothing
  is left, run again it issues every invoice once, with the same lines and amounts as a
  clean run over the same database.
- An engine of `data.db.make_engine` (pool_pre_ping on PostgreSQL) survives all its
  pooled connections being terminated by the server; an engine without pre-ping fails
  its first statement.

Each kill runs the real program in a child process over a file-backed SQLite database
and over a PostgreSQL schema of its own (the `engine` fixture). These tests take tens of
seconds (seeding, subprocesses); they carry a timeout instead of a "slow" marker, which
pyproject.toml does not declare (--strict-markers).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select, text
from sqlalchemy.exc import DBAPIError

import demo.generator
import services.batch.processing
from data.db import make_engine, make_session_factory
from data.models import (
    AuditRecord,
    BatchFile,
    BatchLine,
    Beneficiary,
    Invoice,
    InvoiceLine,
    Movement,
    Protocol,
)
from data.uow import UnitOfWork
from services import billing
from services.access import accounts as access
from services.batch.layout import COLUMN_NAMES
from services.batch.processing import batch_apply
from services.rules.documents import cpf_check_digits
from tests.conftest import POSTGRES_URL, _postgres_available
from tests.services.movements_support import World, make_world
from tests.services.test_batch import holder_line

ROOT = Path(__file__).resolve().parents[2]
BATCH_LINES = 8_000  # four chunks of services.batch.processing.CHUNK
BILLING_TODAY = date(2026, 11, 26)
BILLING_MONTH = date(2026, 12, 1)  # the month after the demo's last invoices


def database_url(engine: Engine) -> str:
    """The URL a child process uses to reach the same database (and schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return url
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{url}?options=-csearch_path%3D{schema}"


def spawn(args: list[str], url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PORTAL_DATABASE_URL": url, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(stream: IO[str], prefix: str, seen: list[str]) -> str:
    """The first line of `stream` starting with `prefix` (every line read goes to `seen`)."""
    for line in stream:
        seen.append(line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no line starting with {prefix!r}; the process said:\n{''.join(seen)}")


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.communicate()  # close the pipes


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    return out, err


def table_counts(w: World) -> dict[str, int]:
    with w.factory() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Beneficiary, Movement, Protocol, AuditRecord, BatchFile)
        }


# ---------------------------------------------------------------- the batch, killed


@pytest.fixture
def world(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def _letters(n: int) -> str:
    """A name part for n (names have no digits): 0 -> AAAA, 1 -> AAAB..."""
    out = ""
    for _ in range(4):
        n, r = divmod(n, 26)
        out = chr(65 + r) + out
    return out


def write_batch_file(w: World, path: Path, lines: int) -> list[str]:
    """A CSV of `lines` holder inclusions with CPFs nobody in the world has; their CPFs."""
    with w.factory() as s:
        taken = set(s.scalars(select(Beneficiary.cpf).where(Beneficiary.cpf.is_not(None))))
    template = holder_line(w, "52998224725")
    cpfs: list[str] = []
    base = 610_000_000
    while len(cpfs) < lines:
        base += 1
        cpf = f"{base:09d}" + cpf_check_digits(f"{base:09d}")
        if cpf not in taken:
            cpfs.append(cpf)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(COLUMN_NAMES)
        for n, cpf in enumerate(cpfs):
            row = {**template, "cpf": cpf, "nome": f"BENEFICIARIO LOTE {_letters(n)}"}
            writer.writerow([row.get(c) or "" for c in COLUMN_NAMES])
    return cpfs


def assert_each_once(w: World, cpfs: list[str], expected: int) -> None:
    """`expected` of the file's CPFs have exactly one beneficiary, with one inclusion
    movement each; the others none; no card or protocol number is repeated."""
    with w.factory() as s:
        per_cpf = Counter(s.scalars(select(Beneficiary.cpf).where(Beneficiary.cpf.is_not(None))))
        moves = Counter(
            s.scalars(
                select(Beneficiary.cpf)
                .join(Movement, Movement.beneficiary_id == Beneficiary.id)
                .where(Movement.kind == "inclusion")
            )
        )
        cards = s.scalar(select(func.count(Beneficiary.card_number.distinct())))
        benefs = s.scalar(select(func.count()).select_from(Beneficiary))
        numbers = s.scalar(select(func.count(Protocol.number.distinct())))
        protocols = s.scalar(select(func.count()).select_from(Protocol))
    in_file = [per_cpf[cpf] for cpf in cpfs]
    assert in_file.count(1) == expected and in_file.count(0) == len(cpfs) - expected
    assert all(moves[cpf] == per_cpf[cpf] for cpf in cpfs)
    assert cards == benefs and numbers == protocols


@pytest.mark.timeout(300)
def test_a_batch_killed_half_way_keeps_whole_chunks_and_resumes_applying_each_line_once(
    world: World, tmp_path: Path
):
    w = world
    url = database_url(w.engine)
    path = tmp_path / "lote_grande.csv"
    cpfs = write_batch_file(w, path, BATCH_LINES)
    before = table_counts(w)
    command = ["-m", "services.batch.cli", str(path), "--company", "10001", "--user", "100001"]

    # 1. Apply the file and SIGKILL the process in the middle of its third chunk: wait for
    #    the second chunk's commit, then for 60% of the time that chunk took.
    process = spawn(command, url)
    seen: list[str] = []
    read_until(process.stderr, "aplicando: 2000/", seen)  # type: ignore[arg-type]
    first = time.monotonic()
    read_until(process.stderr, "aplicando: 4000/", seen)  # type: ignore[arg-type]
    time.sleep(0.6 * (time.monotonic() - first))
    kill(process)

    # Every chunk is there whole or not at all, and the batch is left "applying".
    with w.factory() as s:
        (batch,) = s.scalars(select(BatchFile)).all()
        statuses = Counter(
            s.scalars(select(BatchLine.status).where(BatchLine.batch_id == batch.id))
        )
    applied = statuses["applied"]
    print(f"\nkilled with {applied} of {BATCH_LINES} lines applied ({w.engine.dialect.name})")
    assert batch.status == "applying"
    assert applied % services.batch.processing.CHUNK == 0 and 4000 <= applied < BATCH_LINES, (
        statuses
    )
    assert statuses == {"applied": applied, "accepted": BATCH_LINES - applied}
    after_kill = table_counts(w)
    assert after_kill["beneficiary"] - before["beneficiary"] == applied
    assert after_kill["movement"] - before["movement"] == applied
    assert after_kill["protocol"] - before["protocol"] == applied
    assert_each_once(w, cpfs, applied)

    # 2. "Retomar aplicação": the lines left, each once.
    result = batch_apply(uow=w.uow(), actor=w.master, batch_id=batch.id, now=datetime.now(UTC))
    assert (result.applied, result.refused) == (BATCH_LINES, 0)
    assert result.batch.status == "done"
    assert_each_once(w, cpfs, BATCH_LINES)

    # 3. The operator runs the same command again: a new batch whose lines are all
    #    refused (those CPFs are active now); nothing is applied twice.
    out, err = finish(spawn(command, url))
    assert out.splitlines()[-1] == f"accepted=0 refused={BATCH_LINES}"
    assert "atenção: arquivo igual ao lote" in err
    assert_each_once(w, cpfs, BATCH_LINES)
    after = table_counts(w)
    assert {t: after[t] - before[t] for t in before} == {
        "beneficiary": BATCH_LINES,
        "movement": BATCH_LINES,
        "protocol": BATCH_LINES,
        # each inclusion, two receipts (killed run, rerun) and the resumed apply
        "audit_record": BATCH_LINES + 3,
        "batch_file": 2,
    }


# ---------------------------------------------------------------- billing, killed

BILLING_SCRIPT = """
import os, sys, time
from datetime import UTC, date, datetime
from data.db import make_engine, make_session_factory
from data.uow import UnitOfWork
from services import billing
from services.access import accounts as access

uow = UnitOfWork(make_session_factory(make_engine(os.environ["PORTAL_DATABASE_URL"])))
actor = access.actor_for_user(uow=uow, user_code="900001")
pause_at = os.environ.get("PAUSE_AT")

def progress(fraction, message):
    print(message, file=sys.stderr, flush=True)
    if pause_at and message.startswith(pause_at):
        time.sleep(600)  # held here, in the middle of the transaction, until killed

result = billing.billing_run(
    uow=uow.for_company(actor.home_company_id),
    actor=actor,
    billing_month=date.fromisoformat(sys.argv[1]),
    company_ids=None,
    now=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
    progress=progress,
)
print(f"billed={len(result.billed)} skipped={len(result.skipped)} lines={result.lines}")
"""


def billing_run(url: str, **env: str) -> subprocess.Popen[str]:
    return spawn(["-c", BILLING_SCRIPT, BILLING_MONTH.isoformat()], url, **env)


def invoices_of_the_month(engine: Engine) -> dict[int, tuple[Decimal, list[tuple[Any, ...]]]]:
    """company -> (invoice amount, its lines), for the billing month."""
    factory = make_session_factory(engine)
    with factory() as s:
        invoices = s.execute(
            select(Invoice.id, Invoice.company_id, Invoice.amount).where(
                Invoice.billing_month == BILLING_MONTH
            )
        ).all()
        lines = s.execute(
            select(
                InvoiceLine.invoice_id,
                InvoiceLine.beneficiary_id,
                InvoiceLine.plan_id,
                InvoiceLine.reference_month,
                InvoiceLine.age_band,
                InvoiceLine.kind,
                InvoiceLine.movement_id,
                InvoiceLine.amount,
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.billing_month == BILLING_MONTH)
        ).all()
    by_invoice: dict[int, list[tuple[Any, ...]]] = {}
    for line in lines:
        by_invoice.setdefault(line[0], []).append(tuple(line[1:]))
    companies = [company for _, company, _ in invoices]
    assert len(companies) == len(set(companies))  # one invoice per company and month
    return {company: (amount, sorted(by_invoice.get(i, []))) for i, company, amount in invoices}


@pytest.mark.timeout(300)
def test_a_billing_run_killed_half_way_leaves_nothing_and_reruns_like_a_clean_run(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    demo.generator.seed_demo(
        engine, companies=12, beneficiaries=3000, today=BILLING_TODAY, utilization_per_beneficiary=0
    )
    url = database_url(engine)
    assert invoices_of_the_month(engine) == {}

    # 1. Killed while held in the transaction after every invoice and line was written.
    process = billing_run(url, PAUSE_AT="Gravando lançamentos")
    read_until(process.stderr, "Gravando lançamentos", [])  # type: ignore[arg-type]
    kill(process)
    assert invoices_of_the_month(engine) == {}

    # 2. Killed as soon as it starts writing (no pause): all or nothing.
    process = billing_run(url)
    read_until(process.stderr, "Gravando faturas", [])  # type: ignore[arg-type]
    kill(process)
    partial = invoices_of_the_month(engine)
    print(f"\nbilling killed {'after' if partial else 'before'} its commit ({engine.dialect.name})")
    assert partial == {} or len(partial) == 12  # never some of the companies

    # 3. Run again to the end: every company invoiced once.
    out, _ = finish(billing_run(url))
    assert out.splitlines()[-1].startswith(f"billed={12 - len(partial)} skipped={len(partial)}")
    rerun = invoices_of_the_month(engine)
    assert len(rerun) == 12
    for amount, lines in rerun.values():
        assert lines and amount == sum((line[-1] for line in lines), Decimal(0))
    factory = make_session_factory(engine)
    uow = UnitOfWork(factory)
    actor = access.actor_for_user(uow=uow, user_code="900001")
    assert actor is not None

    def run_in_process() -> billing.BillingRunResult:
        return billing.billing_run(
            uow=uow.for_company(actor.home_company_id),
            actor=actor,
            billing_month=BILLING_MONTH,
            company_ids=None,
            now=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        )

    again = run_in_process()  # and once more: nothing new
    assert (len(again.billed), len(again.skipped), again.lines) == (0, 12, 0)
    assert invoices_of_the_month(engine) == rerun

    # 4. A clean run over the same database (the month's invoices deleted) gives the same
    #    invoices: same amounts, same lines.
    with factory() as s:
        month = select(Invoice.id).where(Invoice.billing_month == BILLING_MONTH)
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(month)))
        s.execute(delete(Invoice).where(Invoice.billing_month == BILLING_MONTH))
        s.commit()
    assert invoices_of_the_month(engine) == {}
    assert len(run_in_process().billed) == 12
    assert invoices_of_the_month(engine) == rerun


# ---------------------------------------------------------------- PostgreSQL restart


@pytest.fixture
def own_database() -> Iterator[str]:
    """A PostgreSQL database of its own, so terminating "every other backend" of it
    touches no one else's connections (other tests use the shared test database)."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"faults_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def restart(url: str) -> int:
    """What a server restart does to the clients: every backend of the database but the
    one doing it terminated (from an admin connection to that database)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


def fill_pool(engine: Engine, connections: int) -> set[int]:
    """Check out several connections at once (a busy app), return them to the pool."""
    held = [engine.connect() for _ in range(connections)]
    try:
        return {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in held}
    finally:
        for conn in held:
            conn.close()


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_the_portal_engine_survives_postgresql_dropping_every_connection(own_database: str):
    url = own_database
    engine = make_engine(url)  # pool_pre_ping=True on PostgreSQL
    factory = make_session_factory(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)"))
        old = fill_pool(engine, 3)
        assert engine.pool.checkedin() == 3

        assert restart(url) >= 3  # the pool's three idle connections are dead now

        uow = UnitOfWork(factory)  # the next unit of work of a page
        with uow:
            uow.session.execute(text("INSERT INTO note (body) VALUES ('depois do reinício')"))
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            uow.commit()
        assert pid not in old
        with uow:
            assert uow.session.execute(text("SELECT count(*) FROM note")).scalar_one() == 1
        assert fill_pool(engine, 3).isdisjoint(old)  # no dead connection was handed out
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_without_pre_ping_the_first_statement_after_the_restart_fails(own_database: str):
    url = own_database
    engine = create_engine(url)  # what make_engine avoids: no pool_pre_ping
    try:
        fill_pool(engine, 1)
        assert restart(url) >= 1
        with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert caught.value.connection_invalidated  # seen as a lost connection...
        with engine.connect() as conn:  # ...so the pool opens a new one next time
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
