"""Speed in a real browser, side by side with a bare Streamlit app (issue 14, item 5).

    .venv/bin/python benchmarks/browser_speed.py               # 3 rounds, a few minutes
    .venv/bin/python benchmarks/browser_speed.py --rounds 5 --user 900001

One run starts two servers at once:

- the portal as `make run` serves it: a fresh SQLite demo database in a temporary
  folder seeded by `portal-seed`, then `portal-serve` (`streamlit run streamlit_app.py`
  once the modules are loaded: components/serve.py);
- the bare app (benchmarks/bare_app/app.py): `st.navigation` over ten pages, each a
  title, a 50-row table and a plotly bar chart.

Debian's headless Chromium (/usr/bin/chromium, or PORTAL_CHROMIUM), driven by
Playwright as the end-to-end tests drive it, then measures, alternating between the two
apps so that both see the same load on the shared machine:

- cold load: a new browser context opens the app until the login form is usable (the
  portal) or the first page is idle (the bare app);
- login until the home page is idle (the portal only);
- each menu page: a click on its sidebar link until the run it starts is over (the app's
  root element says `data-test-script-state="notRunning"` again), per page the median
  and the slowest of --rounds rounds;
- the server's CPU per step: user + system time of the server process (/proc/PID/stat)
  before and after each step;
- 10 users logging in at once (10 browser contexts): every user types its code and
  password key by key and clicks "Entrar" at the same time, then clicks a menu page; a
  keystroke is lost when a field does not hold what was typed, a click when its page
  never comes.

Prints a markdown table with the figures, the ratios portal / bare app and the load
average (the machine is shared: read the figures with it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "Sorriso@2026"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Counts the runs of the app's script that ended (running -> notRunning), from the first
# paint on: a click is over when the count has grown and the app is idle.
RUN_COUNTER = """
(() => {
  window.__runsDone = 0;
  const state = 'data-test-script-state';
  new MutationObserver((records) => {
    // Each record's old value; the value after record i is the old value of record i+1
    // (of the same element), after the last one the element's current value: a run that
    // starts and ends between two callbacks is counted too.
    const seen = records.filter(r => r.target.getAttribute('data-testid') === 'stApp');
    seen.forEach((r, i) => {
      const after = i + 1 < seen.length && seen[i + 1].target === r.target
        ? seen[i + 1].oldValue : r.target.getAttribute(state);
      if (after === 'notRunning' && r.oldValue !== null && r.oldValue !== 'notRunning') {
        window.__runsDone += 1;
      }
    });
  }).observe(document, {attributes: true, subtree: true, attributeOldValue: true,
                        attributeFilter: [state]});
})();
"""
TICKS = os.sysconf("SC_CLK_TCK")
RETRY_SECONDS = 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen
    log: Path

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)


def start_server(
    name: str, command: list[str], cwd: Path, env: dict[str, str], work: Path
) -> Server:
    """A server process started as `command` from `cwd` (whose .streamlit/ it reads)."""
    port = _free_port()
    log = work / f"{name}.log"
    proc = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    return Server(name, f"http://127.0.0.1:{port}", proc, log)


def wait_healthy(server: Server, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{server.name} did not start: see {server.log}")


def stop(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@dataclass
class Figures:
    cold: list[float] = field(default_factory=list)
    cold_cpu: list[float] = field(default_factory=list)
    login: list[float] = field(default_factory=list)
    login_cpu: list[float] = field(default_factory=list)
    pages: dict[str, list[float]] = field(default_factory=dict)
    page_cpu: dict[str, list[float]] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)
    lost_clicks: int = 0


async def wait_idle(page, timeout_ms: int = 60_000) -> None:  # noqa: ANN001
    await page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)


async def runs_done(page) -> int:  # noqa: ANN001
    return int(await page.evaluate("() => window.__runsDone"))


async def wait_run_over(
    page, before: int, slug: str | None = None, timeout_ms: int = 60_000
) -> None:  # noqa: ANN001, E501
    """Until a run that ended after `before` runs were counted, or (a page link's click)
    the address shows the page `slug` and the app is idle: a run too short for the
    browser to show its state is over too."""
    await page.wait_for_function(
        """([before, slug, idle]) => {
          if (window.__runsDone > before) return true;
          if (slug === null) return false;
          const path = location.pathname.replace(/\\/+$/, '');
          const here = slug ? path.endsWith('/' + slug) : path === '';
          return here && document.querySelector(idle) !== null;
        }""",
        arg=[before, slug, IDLE],
        timeout=timeout_ms,
    )
    await wait_idle(page, timeout_ms)


async def new_page(browser):  # noqa: ANN001, ANN201
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="pt-BR")
    context.set_default_timeout(60_000)
    await context.add_init_script(RUN_COUNTER)
    return context, await context.new_page()


async def cold_load(browser, server: Server, portal: bool):  # noqa: ANN001, ANN201
    """Open the app in a new context; time until the login form (or first page) is usable."""
    context, page = await new_page(browser)
    cpu0, t0 = server.cpu(), time.perf_counter()
    await page.goto(server.url)
    if portal:
        field_ = page.get_by_label("Código de usuário")
        await field_.wait_for(state="visible")
        await page.wait_for_function(
            "() => { const i = [...document.querySelectorAll('input')]"
            ".find(e => e.getAttribute('aria-label') === 'Código de usuário'"
            " || (e.labels && [...e.labels].some(l => l.innerText.includes('Código de usuário'))));"
            " return i && !i.disabled; }"
        )
    else:
        await page.get_by_role("heading", name="Página inicial").wait_for(state="visible")
    await wait_idle(page)
    elapsed, cpu = time.perf_counter() - t0, server.cpu() - cpu0
    return context, page, elapsed, cpu


async def type_login(page, user: str) -> tuple[int, float]:  # noqa: ANN001
    """Type code and password key by key, click Entrar: (keystrokes lost, seconds to home)."""
    code = page.get_by_label("Código de usuário")
    secret = page.get_by_label("Senha", exact=True)
    await code.click()
    await page.keyboard.type(user, delay=30)
    await secret.click()
    await page.keyboard.type(PASSWORD, delay=30)
    lost = _lost(user, await code.input_value()) + _lost(PASSWORD, await secret.input_value())
    before = await runs_done(page)
    t0 = time.perf_counter()
    await page.get_by_role("button", name="Entrar").click()
    await page.get_by_role("heading", name="Página inicial").wait_for(state="visible")
    await wait_run_over(page, before)
    return lost, time.perf_counter() - t0


def _lost(typed: str, got: str) -> int:
    """Keystrokes lost between what was typed and what the field holds."""
    if got == typed:
        return 0
    return max(1, len(typed) - len(got))


async def menu_links(page) -> list[str]:  # noqa: ANN001
    nav = page.get_by_test_id("stSidebarNav")
    await nav.wait_for(state="visible")
    names = []
    for link in await nav.get_by_role("link").all():
        text = (await link.inner_text()).strip().split("\n")[-1].strip()
        if text:
            names.append(text)
    return names


async def click_page(page, server: Server, name: str, fig: Figures | None = None):  # noqa: ANN001, ANN201
    """Click a menu link; the seconds and server CPU until the run it starts is over.

    A click after which no run starts within RETRY_SECONDS, the address unchanged, is
    lost: it is counted (`fig.lost_clicks`) and clicked again, the time running on."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True)
    href = await link.get_attribute("href") or ""
    before = await runs_done(page)
    cpu0, t0 = server.cpu(), time.perf_counter()
    await link.click()
    slug = urllib.parse.urlsplit(href).path.strip("/").split("/")[-1]
    for attempt in range(3):
        try:
            await wait_run_over(page, before, slug, timeout_ms=RETRY_SECONDS * 1000)
            break
        except PlaywrightTimeout:
            if fig is not None:
                fig.lost_clicks += 1
            if attempt == 2:
                raise
            await link.click()
    secs, cpu = time.perf_counter() - t0, server.cpu() - cpu0
    print(f"{server.name}: {name} {secs:.2f} s, CPU {cpu:.3f} s", file=sys.stderr)
    return secs, cpu


async def settle(server: Server, seconds: float = 60) -> None:
    """Wait until the server is quiet (under 20 ms of CPU in half a second): what it does
    after its first visit (a warm-up) is over, as on a server started long before."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = server.cpu()
        await asyncio.sleep(0.5)
        if server.cpu() - before < 0.02:
            return


async def measure(browser, portal: Server, bare: Server, args) -> tuple[Figures, Figures]:  # noqa: ANN001
    fp, fb = Figures(), Figures()
    # Warm-up: a fresh server's first session imports the whole app; a user's cold load
    # is the one after (the servers were started by the operator long before).
    for server, is_portal in ((portal, True), (bare, False)):
        context, *_ = await cold_load(browser, server, is_portal)
        await context.close()
        await settle(server)

    sessions = {}
    for _ in range(args.rounds):
        for server, is_portal, fig in ((portal, True, fp), (bare, False, fb)):
            context, page, secs, cpu = await cold_load(browser, server, is_portal)
            fig.cold.append(secs)
            fig.cold_cpu.append(cpu)
            fig.loads.append(load_average())
            if is_portal:
                cpu0 = server.cpu()
                _, secs = await type_login(page, args.user)
                fig.login.append(secs)
                fig.login_cpu.append(server.cpu() - cpu0)
            if server.name in sessions:
                await context.close()
            else:
                sessions[server.name] = (context, page)

    # Menu pages: one session per app, every page in each round, the two apps alternating.
    # Each session is on its first page (the home): every round clicks the others, then
    # the first again (a click on the page already shown starts no run).
    links = {}
    for name, (_, page) in sessions.items():
        found = await menu_links(page)
        links[name] = found[1:] + found[:1]
    for _ in range(args.rounds):
        for server, fig in ((portal, fp), (bare, fb)):
            page = sessions[server.name][1]
            for name in links[server.name]:
                secs, cpu = await click_page(page, server, name, fig)
                fig.pages.setdefault(name, []).append(secs)
                fig.page_cpu.setdefault(name, []).append(cpu)
            fig.loads.append(load_average())
    for context, _ in sessions.values():
        await context.close()
    return fp, fb


async def crowd_login(browser, portal: Server, users: list[str]) -> dict[str, object]:  # noqa: ANN001
    """`len(users)` contexts log in at the same moment, then each clicks a menu page."""
    opened = [await new_page(browser) for _ in users]
    for _, page in opened:
        await page.goto(portal.url)
    for _, page in opened:
        await page.get_by_label("Código de usuário").wait_for(state="visible")
        await wait_idle(page)
    load = load_average()
    cpu0, t0 = portal.cpu(), time.perf_counter()

    clicks = Figures()  # counts the clicks that started no run (clicked again)

    async def one(page, user: str) -> tuple[int, int, float]:  # noqa: ANN001
        try:
            lost, secs = await type_login(page, user)
        except Exception:  # noqa: BLE001 - a login that never reached the home page
            return 0, 1, float("nan")
        clicks_lost = 0
        try:
            target = next(n for n in await menu_links(page) if n != "Página inicial")
            await click_page(page, portal, target, clicks)
        except Exception:  # noqa: BLE001 - the page never came, clicked three times
            clicks_lost = 1
        return lost, clicks_lost, secs

    results = await asyncio.gather(*(one(p, u) for (_, p), u in zip(opened, users, strict=True)))
    wall, cpu = time.perf_counter() - t0, portal.cpu() - cpu0
    for context, _ in opened:
        await context.close()
    logins = [r[2] for r in results if r[2] == r[2]]
    return {
        "users": len(users),
        "keystrokes_lost": sum(r[0] for r in results),
        "clicks_lost": sum(r[1] for r in results) + clicks.lost_clicks,
        "login_median": statistics.median(logins) if logins else float("nan"),
        "login_slowest": max(logins) if logins else float("nan"),
        "wall": wall,
        "cpu": cpu,
        "load": load,
    }


def crowd_users(database_url: str, count: int) -> list[str]:
    """Active company users of the demo with the demo password (the crowd)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        codes = conn.execute(
            text("SELECT user_code FROM app_user WHERE status = 'active' ORDER BY user_code")
        ).scalars()
        found = [c for c in codes if c != "100003"]
    engine.dispose()
    # Fewer users than contexts: some log in twice, in separate sessions (as two tabs).
    return [found[i % len(found)] for i in range(count)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(fp: Figures, fb: Figures, crowd: dict[str, object] | None, args) -> str:  # noqa: ANN001
    p_clicks = [s for v in fp.pages.values() for s in v]
    b_clicks = [s for v in fb.pages.values() for s in v]
    p_cpu = [s for v in fp.page_cpu.values() for s in v]
    b_cpu = [s for v in fb.page_cpu.values() for s in v]
    p_slow = max(fp.pages.items(), key=lambda kv: _median(kv[1]))
    b_slow = max(fb.pages.items(), key=lambda kv: _median(kv[1]))
    lines = [
        f"Browser speed, {args.rounds} rounds, portal user {args.user}; "
        f"load average (1, 5, 15 min) during the run: {fp.loads[0]} ... {fp.loads[-1]}",
        "",
        "| figure | portal | bare app | portal / bare | target |",
        "| --- | --- | --- | --- | --- |",
        f"| cold load until the login form is usable (median) | {_median(fp.cold):.2f} s | "
        f"{_median(fb.cold):.2f} s | {ratio(_median(fp.cold), _median(fb.cold))} | <= 1.5 s |",
        f"| login until the home is idle (median) | {_median(fp.login):.2f} s | "
        f"(page click {_median(b_clicks):.2f} s) | {ratio(_median(fp.login), _median(b_clicks))} "
        "| <= 1.5 s |",
        f"| menu page, click until idle (median) | {_median(p_clicks):.2f} s | "
        f"{_median(b_clicks):.2f} s | {ratio(_median(p_clicks), _median(b_clicks))} | <= 1.2x |",
        f"| slowest menu page (its median) | {_median(p_slow[1]):.2f} s ({p_slow[0]}) | "
        f"{_median(b_slow[1]):.2f} s ({b_slow[0]}) | "
        f"{ratio(_median(p_slow[1]), _median(b_slow[1]))} | <= 1.5x |",
        f"| server CPU per menu step (median) | {_median(p_cpu):.3f} s | {_median(b_cpu):.3f} s |"
        f" {ratio(_median(p_cpu), _median(b_cpu))} | <= 1.5x |",
        f"| server CPU, cold load (median) | {_median(fp.cold_cpu):.3f} s | "
        f"{_median(fb.cold_cpu):.3f} s | {ratio(_median(fp.cold_cpu), _median(fb.cold_cpu))} | |",
        f"| server CPU, login (median) | {_median(fp.login_cpu):.3f} s | | | |",
    ]
    lines.append(
        f"| menu clicks lost (no run within {RETRY_SECONDS} s: clicked again) | "
        f"{fp.lost_clicks} of {len(p_clicks)} | {fb.lost_clicks} of {len(b_clicks)} | | 0 |"
    )
    if crowd:
        lines.append(
            f"| {crowd['users']} users logging in at once: keystrokes / clicks lost | "
            f"{crowd['keystrokes_lost']} / {crowd['clicks_lost']} | | | 0 / 0 |"
        )
        lines.append(
            f"| {crowd['users']} users at once: login median / slowest, server CPU "
            f"(load {crowd['load']}) | {crowd['login_median']:.2f} s / "
            f"{crowd['login_slowest']:.2f} s, {crowd['cpu']:.2f} s | | | |"
        )
    lines += ["", "| menu page | median | slowest | CPU median | bare page | median | slowest |",
              "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    p_items, b_items = list(fp.pages.items()), list(fb.pages.items())
    for i in range(max(len(p_items), len(b_items))):
        left = "| | | |"
        if i < len(p_items):
            name, v = p_items[i]
            left = (
                f"{name} | {_median(v):.2f} s | {max(v):.2f} s | {_median(fp.page_cpu[name]):.3f} s"
            )
        right = "| | |"
        if i < len(b_items):
            name, v = b_items[i]
            right = f"{name} | {_median(v):.2f} s | {max(v):.2f} s"
        lines.append(f"| {left} | {right} |")
    return "\n".join(lines)


async def run(args) -> None:  # noqa: ANN001
    from playwright.async_api import async_playwright

    chromium = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    work = Path(tempfile.mkdtemp(prefix="browser-speed-"))
    database_url = f"sqlite:///{work / 'portal.db'}"
    print(f"seeding the demo database in {work} (portal-seed, as `make run`)", file=sys.stderr)
    port = _free_port()
    subprocess.run(
        [str(BIN / "portal-seed"), "--database-url", database_url, "--port", str(port)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    # The portal as `make run` serves it (portal-serve), the bare app as `streamlit run`.
    portal = start_server(
        "portal",
        [sys.executable, "-m", "components.serve"],
        ROOT,
        {"PORTAL_DATABASE_URL": database_url, "PORTAL_SHOW_OUTBOX": "true"},
        work,
    )
    bare_app = ROOT / "benchmarks" / "bare_app" / "app.py"
    bare = start_server(
        "bare", [str(BIN / "streamlit"), "run", str(bare_app)], bare_app.parent, {}, work
    )
    try:
        wait_healthy(portal)
        wait_healthy(bare)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            fp, fb = await measure(browser, portal, bare, args)
            crowd = None
            if args.crowd:
                crowd = await crowd_login(browser, portal, crowd_users(database_url, args.crowd))
            await browser.close()
        print(report(fp, fb, crowd, args))
    finally:
        stop(portal)
        stop(bare)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--user", default="100001", help="the portal user of the menu pages")
    parser.add_argument("--crowd", type=int, default=10, help="users logging in at once (0: no)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
