"""The production layout (`make cluster`: deploy/cluster.py) end to end through nginx:
every menu page served through the proxy, and failover: the replica that serves a
logged-in browser is killed, the user's next click lands on another replica, still logged
in, and a batch running on the worker goes on to its end.

Needs nginx, PostgreSQL and Redis: skipped (with the reason) when one is missing, failed
instead when PORTAL_REQUIRE_CLUSTER=1. The cluster runs over a database of its own,
created for the module and dropped afterwards, and a queue name of its own in Redis."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from components.navigation import pages_for
from tests.conftest import POSTGRES_URL, _postgres_available
from tests.e2e.conftest import wait_for_login_cookie, wait_idle
from tests.e2e.test_access_and_home import login
from tests.e2e.test_every_page import ROLES

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH_LINES = 200
LOGIN_FORM = "Código de usuário"


def _nginx() -> str | None:
    from deploy.cluster import find_nginx

    return find_nginx(os.environ.get("PORTAL_NGINX"))


def _missing() -> str | None:
    """Why the cluster cannot run here (None when nginx, PostgreSQL and Redis are there)."""
    if _nginx() is None:
        return "nginx not found: install Debian's 'nginx' package (make test does, as root)"
    reason = _postgres_available()
    if reason:
        return reason
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


def _free_ports(count: int) -> int:
    """A port whose `count` neighbours from it on are free (proxy, replicas)."""
    for _ in range(200):
        first = random.randint(20_000, 60_000)
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no free ports")


def _wait(check: Callable[[], Any], seconds: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


@dataclass(frozen=True)
class Cluster:
    url: str  # the proxy
    run_dir: Path
    database_url: str
    queue_name: str

    def processes(self) -> dict[str, dict[str, Any]]:
        state = json.loads((self.run_dir / "cluster.json").read_text(encoding="utf-8"))
        return {p["name"]: p for p in state}

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
            for log in sorted(self.run_dir.glob("*.log"))
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    reason = _missing()
    if reason:
        if os.environ.get("PORTAL_REQUIRE_CLUSTER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"portal_cluster_{uuid.uuid4().hex[:10]}"
    database_url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    queue_name = f"portal-cluster-{uuid.uuid4().hex[:8]}"
    port = _free_ports(3)
    run_dir = Path(tempfile.mkdtemp(prefix="portal-cluster-test-"))
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    env.update(PORTAL_QUEUE_NAME=queue_name, PORTAL_SHOW_OUTBOX="true")
    with (run_dir / "supervisor.log").open("wb") as log:  # the child keeps its own copy
        supervisor = subprocess.Popen(
            [sys.executable, str(ROOT / "deploy" / "cluster.py"), "--port", str(port),
             "--replicas", "2", "--workers", "1", "--run-dir", str(run_dir),
             "--database-url", database_url, "--queue-url", REDIS_URL, "--no-restart",
             "--beneficiaries", "300", "--worker-chunk", "5", "--nginx", str(_nginx())],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    found = Cluster(f"http://127.0.0.1:{port}", run_dir, database_url, queue_name)
    try:

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{found.url}/_stcore/health", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return supervisor.poll() is not None  # a dead supervisor: stop waiting

        _wait(ready, 180, 0.5)
        if supervisor.poll() is not None or not ready():
            pytest.fail(f"the cluster did not start:\n{found.log_tail()}")
        yield found
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()
        admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{queue_name}*"):
            client.delete(key)
        client.close()


def _browser_page(browser, cluster: Cluster) -> Page:  # noqa: ANN001 - Playwright's Browser
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(cluster.url)
    expect(page.get_by_label(LOGIN_FORM)).to_have_count(1, timeout=60_000)
    wait_idle(page)
    return page


def _serving(page: Page) -> str:
    """The replica (127.0.0.1:port) nginx sends this browser to: its route cookie is the
    same on every request, so a request of the page goes where its websocket went."""
    return str(
        page.evaluate(
            "fetch('/_stcore/health', {cache: 'no-store'}).then(r => r.headers.get('X-Upstream'))"
        )
    )


def test_every_menu_page_is_served_through_the_proxy(cluster: Cluster, browser) -> None:  # noqa: ANN001
    page = _browser_page(browser, cluster)
    try:
        login(page, "900001")
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
        sidebar = page.get_by_test_id("stSidebar")
        for spec in pages_for(ROLES["900001"]):
            sidebar.get_by_role("link", name=spec.title, exact=True).click()
            expect(page.get_by_role("heading", name=spec.title).first).to_be_visible()
            wait_idle(page)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            assert "Traceback" not in page.content()
        # Served by the replicas through nginx, and both replicas answer.
        assert _serving(page).startswith("127.0.0.1:")
        processes = cluster.processes()
        for name in ("portal-", "worker-1", "nginx"):
            assert any(n.startswith(name) for n in processes), processes
    finally:
        page.context.close()


# ---------------------------------------------------------------- failover


def _batch_xlsx(plan_code: str, cpfs: list[str]) -> bytes:
    from services.batch.layout import COLUMN_NAMES

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Movimentacoes"
    ws.append(list(COLUMN_NAMES))
    for cpf in cpfs:
        line = {
            "tipo_movimento": "INCLUSAO",
            "cpf": cpf,
            "nome": "MARIANA LOTE CLUSTER",
            "data_nascimento": "15/03/1985",
            "sexo": "F",
            "nome_mae": "ANA LOTE CLUSTER",
            "cep": "01310100",
            "municipio": "SAO PAULO",
            "uf": "SP",
            "data_admissao": "02/01/2024",
            "parentesco": "1",
            "codigo_plano": plan_code,
        }
        ws.append([line.get(c) for c in COLUMN_NAMES])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class Batch:
    """A batch of company 10001 queued by its master 100001, for the cluster's worker."""

    def __init__(self, cluster: Cluster):
        from data.db import make_engine, make_session_factory
        from data.models import Company
        from data.uow import UnitOfWork
        from services.access.accounts import actor_for_user
        from services.batch.processing import batch_receive
        from services.jobs.batch import batch_enqueue
        from services.jobs.queue import queue_for
        from services.jobs.settings import QueueSettings
        from services.movements.service import movement_options
        from tests.services.movements_support import new_cpf

        self.engine = make_engine(cluster.database_url)
        factory = make_session_factory(self.engine)
        with factory() as s:
            company_id = s.scalars(select(Company.id).where(Company.code == "10001")).one()
        actor = actor_for_user(uow=UnitOfWork(factory), user_code="100001")
        assert actor is not None
        now = datetime.now(UTC)
        plans = movement_options(
            uow=UnitOfWork(factory, company_id), actor=actor, today=now.date()
        ).plans
        check = batch_receive(
            uow=UnitOfWork(factory, company_id),
            actor=actor,
            file_name="lote-cluster.xlsx",
            content=_batch_xlsx(plans[0].code, [new_cpf() for _ in range(BATCH_LINES)]),
            now=now,
        )
        assert check.batch.accepted_lines == BATCH_LINES, [
            (line.status, line.message) for line in check.lines[:3]
        ]
        self.id = check.batch.id
        self.jobs = queue_for(
            cluster.database_url,
            QueueSettings(queue_url=REDIS_URL, queue_name=cluster.queue_name),
        )
        batch_enqueue(
            uow=UnitOfWork(factory, company_id), actor=actor, batch_id=self.id, jobs=self.jobs
        )

    def lines(self) -> dict[str, int]:
        from data.models import BatchFile, BatchLine

        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(BatchLine.status, func.count())
                    .where(BatchLine.batch_id == self.id)
                    .group_by(BatchLine.status)
                ).all()
            )
            status = conn.execute(select(BatchFile.status).where(BatchFile.id == self.id))
            counts["batch:" + status.scalar_one()] = 1
        return counts

    def close(self) -> None:
        from services.jobs.queue import queue_forget

        queue_forget(self.jobs)
        self.engine.dispose()


def test_a_killed_replica_s_user_goes_on_logged_in_elsewhere_and_the_batch_goes_on(
    cluster: Cluster,
    browser,  # noqa: ANN001
) -> None:
    page = _browser_page(browser, cluster)
    batch = None
    try:
        login(page, "100001")
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
        wait_for_login_cookie(page)
        served = _serving(page)
        processes = cluster.processes()
        replica = processes[f"portal-{served.rsplit(':', 1)[1]}"]

        batch = Batch(cluster)
        _wait(lambda: batch.lines().get("applied", 0), 60, 0.05)
        os.kill(replica["pid"], signal.SIGKILL)
        at_kill = batch.lines()
        assert 0 < at_kill.get("applied", 0) < BATCH_LINES, (
            f"the batch was not running when the replica died: {at_kill}"
        )

        # The user's next click: another replica draws the page, the login cookie logs the
        # browser back in (no login form).
        page.get_by_test_id("stSidebar").get_by_role(
            "link", name="Acompanhar lotes", exact=True
        ).click()
        expect(page.get_by_role("heading", name="Acompanhar lotes").first).to_be_visible(
            timeout=60_000
        )
        wait_idle(page)
        expect(page.get_by_label(LOGIN_FORM)).to_have_count(0)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        now_serving = _serving(page)
        assert now_serving != served and now_serving.startswith("127.0.0.1:"), now_serving
        # Still the same user: the company switcher/home of 100001 is reachable.
        page.get_by_test_id("stSidebar").get_by_role("link", name="Página inicial").click()
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
        wait_idle(page)
        expect(page.get_by_label(LOGIN_FORM)).to_have_count(0)

        # The worker never depended on the replica: the batch ends, every line once.
        done = _wait(lambda: batch.lines().get("batch:done"), 120, 0.5)
        assert done, f"{batch.lines()}\n{cluster.log_tail()}"
        assert batch.lines() == {"applied": BATCH_LINES, "batch:done": 1}
    finally:
        page.context.close()
        if batch is not None:
            batch.close()
