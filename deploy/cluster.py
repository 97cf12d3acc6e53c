"""`make cluster`: the production layout on one machine, supervised by one process.

    python deploy/cluster.py [--port 8700] [--replicas 2] [--workers 1] [--run-dir DIR]

- nginx on PORT (all addresses) in front of REPLICAS Streamlit processes on
  127.0.0.1:PORT+1..PORT+REPLICAS: websocket upgrade, sticky sessions by a route cookie,
  a dead replica's browsers sent to a live one (deploy/nginx.conf.template);
- `portal-worker` process(es) taking the long jobs from Redis (PORTAL_QUEUE_URL);
- every process on PORTAL_DATABASE_URL (PostgreSQL): the database is created when
  missing, migrated once here (not by each replica at the same time) and seeded with the
  demo data when it has no company;
- one PORTAL_COOKIE_KEY and one PORTAL_BASE_URL for every process: the login cookie
  signed by one replica is read by any other, and e-mailed links point at the proxy.

nginx runs in the foreground as a child, with its configuration, pid, logs and temporary
files in the run folder (a new temporary folder unless --run-dir names one): nothing of
the system's nginx is read or written. The run folder also holds each process's log and
`cluster.json` (name, pid, port of each process). A process that dies is started again
(--no-restart leaves it dead: the failover test kills a replica on purpose).
Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python deploy/cluster.py` from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import DEMO_COOKIE_KEY, get_settings  # noqa: E402
from data.db import make_engine, upgrade_to_head  # noqa: E402
from data.models import Company  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal"
DEFAULT_QUEUE_URL = "redis://127.0.0.1:6379/0"
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
ROUTE_COOKIE = "portal_route"
BIN = Path(sys.executable).parent
# `streamlit run` for a replica: only the proxy faces the network.
STREAMLIT = [sys.executable, "-m", "components.serve", "--server.address", "127.0.0.1"]
STREAMLIT += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
# A process that dies this soon after its start, this many times in a row, is broken:
# the supervisor stops everything instead of starting it again forever.
QUICK_DEATH_SECONDS = 15.0
QUICK_DEATHS = 3


def say(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- configuration


def render_nginx(run_dir: Path, listen: str, replica_ports: Sequence[int]) -> str:
    """nginx's configuration for these replicas (deploy/nginx.conf.template)."""
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in replica_ports
    )
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        run_dir=str(run_dir), listen=listen, servers=servers, route_cookie=ROUTE_COOKIE
    )


def shared_environment(port: int, database_url: str, queue_url: str) -> dict[str, str]:
    """The variables every process of the cluster gets (on top of this one's)."""
    settings = get_settings()  # the environment and .env, as each process would read them
    env = dict(os.environ)
    env["PORTAL_DATABASE_URL"] = database_url
    env["PORTAL_QUEUE_URL"] = queue_url
    # Replicas listen on 127.0.0.1 only, so every browser comes through nginx, which
    # overwrites X-Real-IP: rate limits and the audit see the browser, not the proxy.
    env["PORTAL_BEHIND_PROXY"] = "true"
    if not settings.base_url.strip():
        # Links in e-mails point at the proxy, never at one replica's own port.
        env["PORTAL_BASE_URL"] = f"http://localhost:{port}"
    if settings.cookie_key == DEMO_COOKIE_KEY:
        # One key for every replica, or a replica could not read another's cookie. With
        # no key of its own the cluster makes one for this run (a restart logs users out);
        # on several machines set the same PORTAL_COOKIE_KEY on each.
        env["PORTAL_COOKIE_KEY"] = secrets.token_urlsafe(48)
        say("PORTAL_COOKIE_KEY não definida: gerada uma chave para esta execução")
    return env


# ---------------------------------------------------------------- database


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when it does not exist yet."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        if parsed.database and parsed.drivername.startswith("sqlite"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = parsed.database or "postgres"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(text(f"CREATE DATABASE {quoted}"))
                say(f"banco {name} criado")
    finally:
        admin.dispose()


def prepare_database(
    url: str, base_url: str, *, seed: bool, companies: int, beneficiaries: int
) -> None:
    """Migrate once (the replicas then find the schema ready) and seed an empty database."""
    ensure_database(url)
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        with engine.connect() as conn:
            empty = not conn.execute(select(func.count()).select_from(Company)).scalar_one()
    finally:
        engine.dispose()
    if empty and seed:
        say("banco vazio: criando os dados de demonstração (portal-seed)")
        subprocess.run(
            [
                str(BIN / "portal-seed"),
                "--database-url",
                url,
                "--base-url",
                base_url,
                "--companies",
                str(companies),
                "--beneficiaries",
                str(beneficiaries),
            ],
            cwd=ROOT,
            check=True,
        )


def redis_problem(queue_url: str) -> str | None:
    """Why the Redis of `queue_url` cannot serve the queue (None when it answers)."""
    if not queue_url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        redis.Redis.from_url(queue_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"o Redis de PORTAL_QUEUE_URL ({queue_url}) não responde: {exc}"
    return None


# ---------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_deaths: int = 0
    log: Path = field(default_factory=Path)

    def start(self, env: dict[str, str], run_dir: Path) -> None:
        self.log = run_dir / f"{self.name}.log"
        with self.log.open("ab") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops them
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads here
            )
        self.started = time.monotonic()
        say(f"{self.name} iniciado (pid {self.proc.pid}); log: {self.log}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    def __init__(self, children: list[Child], env: dict[str, str], run_dir: Path, restart: bool):
        self.children = children
        self.env = env
        self.run_dir = run_dir
        self.restart = restart
        self.stopping = False

    def write_state(self) -> None:
        state = [
            {"name": c.name, "pid": c.proc.pid if c.proc else None, "port": c.port}
            for c in self.children
        ]
        tmp = self.run_dir / "cluster.json.tmp"
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        tmp.replace(self.run_dir / "cluster.json")

    def start(self, child: Child) -> None:
        self.children.append(child)
        child.start(self.env, self.run_dir)
        self.write_state()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            say(f"sinal {signal.Signals(signum).name}: parando tudo")
        self.stopping = True

    def watch(self) -> int:
        """Until a signal: start again what dies (unless --no-restart). The exit code."""
        while not self.stopping:
            time.sleep(0.5)
            for child in self.children:
                if self.stopping or child.proc is None or child.alive():
                    continue
                code = child.proc.returncode
                child.proc = None
                say(f"{child.name} terminou com código {code}")
                if not self.restart:
                    continue
                quick = time.monotonic() - child.started < QUICK_DEATH_SECONDS
                child.quick_deaths = child.quick_deaths + 1 if quick else 0
                if child.quick_deaths >= QUICK_DEATHS:
                    say(f"{child.name} não fica de pé (veja {child.log}): parando tudo")
                    return 1
                child.start(self.env, self.run_dir)
                self.write_state()
        return 0

    def stop(self, grace: float = 20.0) -> None:
        for child in self.children:
            if child.alive():
                assert child.proc is not None
                child.proc.terminate()
        deadline = time.monotonic() + grace
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        say("tudo parado")


def wait_healthy(url: str, seconds: float, cluster: Cluster) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not cluster.stopping:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def find_nginx(given: str | None) -> str | None:
    if given:
        return shutil.which(given)
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cluster", description="Proxy nginx, réplicas do portal e worker(s) da fila."
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8700))
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS") or 2))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or 1))
    parser.add_argument(
        "--listen",
        default=None,
        help="endereço do proxy no formato do listen do nginx (padrão: a porta, todos os "
        "endereços)",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("PORTAL_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    parser.add_argument(
        "--queue-url", default=os.environ.get("PORTAL_QUEUE_URL") or DEFAULT_QUEUE_URL
    )
    parser.add_argument("--run-dir", default=None, help="pasta de execução (padrão: temporária)")
    parser.add_argument("--nginx", default=None, help="o executável do nginx")
    parser.add_argument("--no-restart", action="store_true", help="não reinicia quem morre")
    parser.add_argument("--no-seed", action="store_true", help="não cria a demonstração")
    parser.add_argument("--companies", type=int, default=8)
    parser.add_argument("--beneficiaries", type=int, default=3000)
    parser.add_argument("--worker-chunk", type=int, default=None, help="--chunk do worker")
    args = parser.parse_args(argv)

    nginx = find_nginx(args.nginx)
    if nginx is None:
        print(
            "cluster: nginx não encontrado (make nginx o instala: apt-get install nginx)",
            file=sys.stderr,
        )
        return 2
    problem = redis_problem(args.queue_url)
    if problem:
        print(f"cluster: {problem}", file=sys.stderr)
        return 2
    if args.replicas < 1 or args.workers < 0:
        print("cluster: --replicas >= 1 e --workers >= 0", file=sys.stderr)
        return 2

    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="portal-cluster-")).resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    # nginx's workers drop root for `nobody`: they must reach the temporary folders.
    run_dir.chmod(0o755)
    (run_dir / "tmp").chmod(0o755)

    env = shared_environment(args.port, args.database_url, args.queue_url)
    try:
        prepare_database(
            args.database_url,
            env.get("PORTAL_BASE_URL") or get_settings().link_base(args.port),
            seed=not args.no_seed,
            companies=args.companies,
            beneficiaries=args.beneficiaries,
        )
    except Exception as exc:  # noqa: BLE001 - a clear line instead of a traceback
        print(f"cluster: o banco {args.database_url} não ficou pronto: {exc}", file=sys.stderr)
        return 2

    ports = [args.port + i for i in range(1, args.replicas + 1)]
    config = run_dir / "nginx.conf"
    config.write_text(render_nginx(run_dir, args.listen or str(args.port), ports), "utf-8")
    children = [
        Child(
            f"portal-{port}",
            [*STREAMLIT, "--server.port", str(port)],
            port=port,
        )
        for port in ports
    ]
    chunk = ["--chunk", str(args.worker_chunk)] if args.worker_chunk else []
    children += [
        Child(f"worker-{i}", [str(BIN / "portal-worker"), *chunk])
        for i in range(1, args.workers + 1)
    ]
    proxy = Child(
        "nginx",
        [nginx, "-p", str(run_dir), "-c", str(config), "-g", "daemon off;"]
        + ["-e", str(run_dir / "nginx-error.log")],
        port=args.port,
    )
    cluster = Cluster([], env, run_dir, restart=not args.no_restart)
    signal.signal(signal.SIGINT, cluster.on_signal)
    signal.signal(signal.SIGTERM, cluster.on_signal)
    code = 0
    try:
        for child in children:
            cluster.start(child)
        # The proxy once the replicas answer (a first import takes seconds): no 502 meanwhile.
        for port in ports:
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", 180, cluster)
        if not cluster.stopping:
            cluster.start(proxy)
        if wait_healthy(f"http://127.0.0.1:{args.port}/_stcore/health", 30, cluster):
            say(
                f"Portal Empresa em http://localhost:{args.port} ({args.replicas} réplicas, "
                f"{args.workers} worker(s)); pasta de execução {run_dir}; Ctrl-C para parar"
            )
        elif not cluster.stopping:
            say(f"o proxy não respondeu em 180 s: veja os logs em {run_dir}")
        code = cluster.watch()
    finally:
        cluster.stop()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
