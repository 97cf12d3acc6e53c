"""`make cluster`'s pieces that need no server: the nginx configuration it renders (checked
by nginx itself when installed) and the settings every process of the cluster shares."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import deploy.cluster
from config import DEMO_COOKIE_KEY, get_settings
from deploy.cluster import Child, Cluster, find_nginx, render_nginx, shared_environment


def test_the_proxy_sends_each_browser_to_one_replica_and_a_dead_one_s_to_the_others(
    tmp_path: Path,
):
    conf = render_nginx(tmp_path, "8700", [8701, 8702, 8703])
    servers = re.findall(r"server (127\.0\.0\.1:\d+) max_fails=1 fail_timeout=5s;", conf)
    assert servers == ["127.0.0.1:8701", "127.0.0.1:8702", "127.0.0.1:8703"]
    assert "listen 8700;" in conf
    # Sticky by the route cookie (hashed consistently), given on the first response.
    assert "hash $portal_route consistent;" in conf
    assert "map $cookie_portal_route $portal_route" in conf
    assert "add_header Set-Cookie $portal_route_cookie always;" in conf
    # Websocket upgrade, a long read timeout for it, the next replica on a dead one.
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_read_timeout 3600s;" in conf
    assert "proxy_next_upstream error timeout" in conf
    # Everything nginx writes stays in the run folder.
    for path in re.findall(r"(?:pid|error_log|access_log|_temp_path) (\S+?)[;\s]", conf):
        assert path.startswith(str(tmp_path)), path
    assert "${" not in conf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path):
    nginx = find_nginx(None)
    if nginx is None:
        reason = "nginx not found: install Debian's 'nginx' package (make test does, as root)"
        if os.environ.get("PORTAL_REQUIRE_CLUSTER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render_nginx(tmp_path, f"127.0.0.1:{_free_port()}", [8701, 8702]), encoding="utf-8"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """get_settings() read from this environment only (no .env), cleared afterwards."""
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("PORTAL_COOKIE_KEY", "PORTAL_BASE_URL", "PORTAL_BEHIND_PROXY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_every_process_gets_one_cookie_key_and_links_to_the_proxy(settings_from):
    env = shared_environment(8700, "postgresql+psycopg://h/db", "redis://h:6379/0")
    assert env["PORTAL_DATABASE_URL"] == "postgresql+psycopg://h/db"
    assert env["PORTAL_QUEUE_URL"] == "redis://h:6379/0"
    assert env["PORTAL_BASE_URL"] == "http://localhost:8700"
    # Replicas read the browser's address from nginx's X-Real-IP (rate limits, audit).
    assert env["PORTAL_BEHIND_PROXY"] == "true"
    key = env["PORTAL_COOKIE_KEY"]
    assert key != DEMO_COOKIE_KEY and len(key) >= 32
    # A new run makes a new key: one run's processes share one.
    assert shared_environment(8700, "x", "y")["PORTAL_COOKIE_KEY"] != key


def test_a_cookie_key_and_base_url_of_the_operator_s_own_are_kept(settings_from):
    settings_from.setenv("PORTAL_COOKIE_KEY", "k" * 40)
    settings_from.setenv("PORTAL_BASE_URL", "https://portal.example")
    get_settings.cache_clear()
    env = shared_environment(8700, "x", "y")
    assert env["PORTAL_COOKIE_KEY"] == "k" * 40
    assert env["PORTAL_BASE_URL"] == "https://portal.example"


def _watched(cluster: Any, monkeypatch: pytest.MonkeyPatch, until: Any) -> int:
    """`cluster.watch()` in this thread, stopped once `until()` holds (or after 20 s)."""
    real_sleep = time.sleep
    deadline = time.monotonic() + 20

    def tick(_seconds: float) -> None:
        real_sleep(0.05)
        if until() or time.monotonic() > deadline:
            cluster.stopping = True

    monkeypatch.setattr(deploy.cluster.time, "sleep", tick)
    try:
        return int(cluster.watch())
    finally:
        monkeypatch.undo()
        cluster.stop(grace=5)


def test_a_process_that_dies_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    child = Child("sleeper", ["sleep", "60"])
    cluster = Cluster([], dict(os.environ), tmp_path, restart=True)
    cluster.start(child)
    assert child.proc is not None
    first = child.proc.pid
    os.kill(first, signal.SIGKILL)
    code = _watched(cluster, monkeypatch, lambda: child.alive() and child.proc.pid != first)
    assert code == 0
    state = json.loads((tmp_path / "cluster.json").read_text(encoding="utf-8"))
    assert state[0]["name"] == "sleeper" and state[0]["pid"] not in (None, first)
    assert not child.alive()  # stopped with the cluster


def test_a_process_that_cannot_stay_up_stops_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    broken = Child("broken", ["sh", "-c", "exit 3"])
    cluster = Cluster([], dict(os.environ), tmp_path, restart=True)
    cluster.start(broken)
    assert _watched(cluster, monkeypatch, lambda: False) == 1
    assert broken.quick_deaths == deploy.cluster.QUICK_DEATHS
    assert (tmp_path / "broken.log").exists()  # where the supervisor says to look
