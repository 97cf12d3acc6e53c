"""The production layout (`make cluster`: deploy/cluster.py) end to end through nginx:
every menu page served through the proxy, and failover: the replica that serves a
logged-in browser is killed, the user's next click lands on another replica, still logged
in, and a batch running on the worker goes on to its end.

Needs nginx, PostgreSQL and Redis: skipped (with the reason) when one is missing, failed
instead when PORTAL_REQUIRE_CLUSTER=1. The cluster runs over a database of its own,
created for the module and dropped afterwards, and a queue name of its own in Redis."""

from __future__ import annotations

import json
import os
import random
import shutil
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
from pathlib import Path
from typing import Any

import pytest
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
        shutil.rmtree(run_dir, ignore_errors=True)  # its logs are in the failures' messages


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


def _batch_lines(database_url: str, file_name: str) -> dict[str, int]:
    """The newest batch named `file_name`: its lines by status, and `batch:<status>`."""
    from data.models import BatchFile, BatchLine

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(BatchFile.id, BatchFile.status)
                .where(BatchFile.file_name == file_name)
                .order_by(BatchFile.id.desc())
                .limit(1)
            ).first()
            if found is None:
                return {}
            counts = dict(
                conn.execute(
                    select(BatchLine.status, func.count())
                    .where(BatchLine.batch_id == found.id)
                    .group_by(BatchLine.status)
                ).all()
            )
    finally:
        engine.dispose()
    return {**counts, f"batch:{found.status}": 1}


def test_a_killed_replica_s_user_goes_on_logged_in_elsewhere_and_the_batch_goes_on(
    cluster: Cluster,
    browser,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    from tests.e2e.test_movements_e2e import go, settle
    from tests.pages.test_batch_pages import _holder, _xlsx
    from tests.services.movements_support import new_cpf

    name = "lote-cluster.xlsx"
    holder = _holder(cluster.database_url, new_cpf(), "MARIANA LOTE CLUSTER")
    (tmp_path / name).write_bytes(_xlsx([{**holder, "cpf": new_cpf()} for _ in range(BATCH_LINES)]))
    page = _browser_page(browser, cluster)
    try:
        login(page, "100001")
        expect(page.get_by_role("heading", name="Página inicial")).to_be_visible()
        wait_for_login_cookie(page)
        # The batch goes up through the proxy (the upload reaches the replica of the
        # page's websocket: sticky sessions) and is queued for the worker.
        go(page, "Cadastro em lote")
        page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(
            tmp_path / name
        )
        expect(page.get_by_text(name)).to_be_visible()
        settle(page)
        page.get_by_role("button", name="Conferir arquivo").click()
        apply = page.get_by_role("button", name=f"Aplicar {BATCH_LINES} linhas aceitas")
        expect(apply).to_be_visible(timeout=60_000)
        settle(page)
        apply.click()
        running = _wait(lambda: _batch_lines(cluster.database_url, name).get("applied"), 60, 0.05)
        assert running, _batch_lines(cluster.database_url, name)

        served = _serving(page)
        replica = cluster.processes()[f"portal-{served.rsplit(':', 1)[1]}"]
        os.kill(replica["pid"], signal.SIGKILL)
        at_kill = _batch_lines(cluster.database_url, name)
        assert 0 < at_kill.get("applied", 0) < BATCH_LINES, (
            f"the batch was not running when the replica died: {at_kill}"
        )

        # The user's next click: the other replica draws the page, the login cookie logs
        # the browser back in (no login form), and the batch is there to follow.
        page.get_by_test_id("stSidebar").get_by_role(
            "link", name="Acompanhar lotes", exact=True
        ).click()
        expect(page.get_by_role("heading", name="Acompanhar lotes").first).to_be_visible(
            timeout=60_000
        )
        wait_idle(page)
        expect(page.get_by_label(LOGIN_FORM)).to_have_count(0)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stDataFrame").first).to_contain_text(name)
        now_serving = _serving(page)
        assert now_serving != served and now_serving.startswith("127.0.0.1:"), now_serving

        # The worker never depended on the replica: the batch ends, every line once.
        done = _wait(lambda: _batch_lines(cluster.database_url, name).get("batch:done"), 120, 0.5)
        assert done, f"{_batch_lines(cluster.database_url, name)}\n{cluster.log_tail()}"
        assert _batch_lines(cluster.database_url, name) == {
            "applied": BATCH_LINES,
            "batch:done": 1,
        }
        go(page, "Página inicial")
        expect(page.get_by_label(LOGIN_FORM)).to_have_count(0)
    finally:
        page.context.close()
