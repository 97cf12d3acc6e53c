"""Load test against real servers: simulated users speaking Streamlit's own protocol.

    .venv/bin/python benchmarks/load_ws.py --url http://127.0.0.1:8501 \\
        --stages 5,10,15,20 --stage-seconds 60 --think 10
    .venv/bin/python benchmarks/load_ws.py --start run                  # make run's layout
    .venv/bin/python benchmarks/load_ws.py --start cluster --replicas 1 # one process, PostgreSQL
    .venv/bin/python benchmarks/load_ws.py --start cluster --replicas 2 # two, behind nginx

Each simulated user is what a browser tab is to the server: it GETs the page (through
the proxy that gives it its `portal_route` cookie), GETs /_stcore/health (Streamlit's
XSRF cookie), opens the websocket /_stcore/stream with both cookies, the Origin header
and the XSRF token in the subprotocol, and then sends BackMsgs and reads ForwardMsgs
(streamlit.proto) as the frontend does:

- a run of the page: `rerun_script` (ClientState: page_script_hash of the page, the
  widget states the frontend would send, context_info);
- a menu click: the same with the menu page's page_script_hash (st.navigation's
  `navigation` message lists the pages by title);
- a form: every field's WidgetState (text as string_value, a selectbox's option as its
  shown label, a date as string_array_value "YYYY-MM-DD") and the submit button's
  trigger_value, in one rerun; a button: its trigger_value;
- a file: `file_urls_request`, the `file_urls_response`'s upload URL, a multipart PUT
  with the X-Xsrftoken header and the cookies, then the widget's
  file_uploader_state_value in a rerun;
- a download built on click (`st.download_button(data=callable)`): a
  `backend_operation_request` (deferred_file), then a GET of the URL in the answer.

A user's visits share its cookies (one browser): behind the proxy it stays on its
replica. With --start cluster the end of the run reads nginx's access log: requests per
replica, 5xx answers, and the route cookies served by more than one replica (0 expected).

Widgets are found by their label in the run's deltas (new_element), as a user finds them
on the screen. A step's latency is from sending its BackMsg (for "open": from the GET of
the page; for an upload: from the file_urls_request) until the `script_finished` of the
run it started (a run that ends in a rerun, st.rerun, is followed to its last run). An
error is a step that times out (--step-timeout), a closed websocket, an `exception`
element, an `st.error` alert, or a missing expected element (the page's title, the
success message of an inclusion, the check of a batch); the visit is then abandoned and
the user starts a new one after its think time.

A visit: open (the login page) -> login (lands on Página inicial) -> Beneficiários
ativos -> Faturas -> Utilização -> Página inicial -> Cadastro individual and, in
--inclusion-share of the visits, an inclusion of a holder (a new valid CPF each time)
-> in --batch-share of the visits, Cadastro em lote: the template downloaded (once per
user), a small CSV in the template's columns uploaded (--batch-lines holders, new CPFs),
Conferir arquivo, Aplicar (the job runs on the worker) -> Sair. Pages missing from the user's
menu are skipped (100002 has no invoices). Accounts by --accounts (user:weight). Between
two steps a user thinks --think seconds (uniform 0.5x to 1.5x). What a browser also does
and this client does not: download the JavaScript and fonts (static files), draw, poll a
fragment's run_every (the batch's progress), send cached message hashes.

A warm-up visit (every step, not counted; --no-warmup counts it) runs first: a fresh
server's first runs import the app. Users are ramped: stage k runs --stages[k] users
for --stage-seconds (new users start spread over the first think time of their stage);
a stage's figures are the steps that started in it. Per stage it prints users, steps,
p50/p95/max latency, errors and, when it can read the servers' pids (--pids, the
cluster's cluster.json, or the process it started), the server CPU per step from
/proc/<pid>/stat (portal processes; "all" adds the worker and nginx). Last, per step
kind, and the answer: the most users of a stage (every smaller stage passing too) served
at p95 <= --target seconds with zero errors. Each stage line also has the client's own
CPU use and the machine's load average: figures taken on a loaded machine say so.

--start run: a fresh SQLite demo (portal-seed, the default size) in a temporary folder
and one `streamlit run` on it, as `make run` (embedded task queue). --start cluster:
`deploy/cluster.py` (nginx, --replicas portal processes, one portal-worker) on
PostgreSQL (--database-url, default database portal_load, created and seeded by the
cluster when empty) and Redis, with its own queue name. --app-dir serves another
checkout (`git archive HEAD | tar -x -C DIR`: a clean commit rather than a working tree
being edited, whose file changes Streamlit's watcher would rerun). The command run is
printed; the servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import (  # noqa: E402
    BackendOperationRequest,
    BackMsg,
    DeferredFileRequestPayload,
)
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo  # noqa: E402
from streamlit.proto.Common_pb2 import (  # noqa: E402
    FileURLs,
    FileURLsRequest,
    UploadedFileInfo,
)
from streamlit.proto.Element_pb2 import Element  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from services.rules.documents import cpf_check_digits  # noqa: E402

PASSWORD = "Sorriso@2026"
HOME = "Página inicial"
TIMEZONE = ("America/Sao_Paulo", 180)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_load"
DEFAULT_QUEUE = "redis://127.0.0.1:6379/0"
# ForwardMsg.ScriptFinishedStatus: a run that ends early for a rerun is followed by another.
EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN
COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
ALERT_ERROR = 1  # Alert.Format.ERROR

_http_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="load-http")


class StepError(Exception):
    """A step that failed: its kind (timeout, disconnect, exception, error, missing...)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# ---------------------------------------------------------------- HTTP with a cookie jar


@dataclass
class Http:
    """The browser's HTTP side: one cookie jar (portal_route, _streamlit_xsrf)."""

    base: str
    jar: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=60
        )
        try:
            sent = {"Host": self.host, "User-Agent": "portal-load/1"}
            if self.jar:
                sent["Cookie"] = self.cookie_header()
            sent.update(headers or {})
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if name.strip() and value:
                    self.jar[name.strip()] = value
            return response.status, data
        finally:
            conn.close()

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _http_pool, lambda: self._request(method, path, body, headers)
        )


# ---------------------------------------------------------------- one browser session


@dataclass
class Found:
    kind: str  # the Element's type: text_input, button, selectbox, heading, alert...
    element: Element

    @property
    def proto(self) -> object:
        return getattr(self.element, self.kind)


class Session:
    """One websocket session of the portal, as one browser tab."""

    def __init__(self, base: str, step_timeout: float, jar: dict[str, str] | None = None) -> None:
        # The browser's cookies outlive a tab: a user's visits share its jar (and so its
        # replica behind the proxy, by the portal_route cookie).
        self.http = Http(base, jar if jar is not None else {})
        self.step_timeout = step_timeout
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.session_id = ""
        self.page_hash = ""
        self.url_path = ""
        self.pages: dict[str, tuple[str, str]] = {}  # menu title -> (page hash, url path)
        self.elements: list[Found] = []  # the last run's elements
        self._run: list[Found] = []  # the current run's, so far
        self._finished: asyncio.Queue[int] = asyncio.Queue()
        self._file_urls: dict[str, asyncio.Future[list[FileURLs]]] = {}
        self._files: dict[str, asyncio.Future[str]] = {}  # deferred downloads: their URL
        self.closed: str | None = None

    # ---- connection

    async def open(self, path: str = "/") -> float:
        """GET the page and the health check (cookies), open the websocket, run the page."""
        start = time.perf_counter()
        status, _ = await self.http.request("GET", path)
        if status != 200:
            raise StepError("http", f"GET {path}: {status}")
        status, _ = await self.http.request("GET", "/_stcore/health")
        if status != 200:
            raise StepError("http", f"GET /_stcore/health: {status}")
        xsrf = self.http.jar.get("_streamlit_xsrf", "")
        parts = urlsplit(self.http.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        headers = {"Cookie": self.http.cookie_header()}
        try:
            self.ws = await connect(
                f"{scheme}://{parts.netloc}/_stcore/stream",
                subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
                origin=f"{parts.scheme}://{parts.netloc}",  # type: ignore[arg-type]
                additional_headers=headers,
                max_size=None,
                open_timeout=self.step_timeout,
                compression=None,
            )
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the step's error
            raise StepError("connect", repr(exc)) from exc
        self.reader = asyncio.create_task(self._read())
        self.url_path = path.strip("/")
        await self._rerun([], page_hash="")
        return time.perf_counter() - start

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    self._on_message(raw)
        except Exception as exc:  # noqa: BLE001 - the socket's end, whatever its cause
            self.closed = repr(exc)
        else:
            self.closed = "websocket closed"
        self._finished.put_nowait(-1)

    def _on_message(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            new = msg.new_session
            if new.HasField("initialize") and new.initialize.session_id:
                self.session_id = new.initialize.session_id
            self.page_hash = new.page_script_hash
            self._run = []
        elif kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                if which:
                    self._run.append(Found(which, element))
        elif kind == "navigation":
            self.pages = {
                p.page_name: (p.page_script_hash, p.url_pathname) for p in msg.navigation.app_pages
            }
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "file_urls_response":
            response = msg.file_urls_response
            future = self._file_urls.pop(response.response_id, None)
            if future is not None and not future.done():
                if response.error_msg:
                    future.set_exception(StepError("upload", response.error_msg))
                else:
                    future.set_result(list(response.file_urls))
        elif kind == "backend_operation_response":
            answer = msg.backend_operation_response
            waiting = self._files.pop(answer.request_id, None)
            if waiting is not None and not waiting.done():
                if answer.error_msg or not answer.deferred_file.url:
                    waiting.set_exception(StepError("download", answer.error_msg or "no url"))
                else:
                    waiting.set_result(answer.deferred_file.url)
        elif kind == "script_finished":
            status = msg.script_finished
            if status != EARLY_FOR_RERUN:
                self.elements = self._run
            self._finished.put_nowait(status)
        elif kind == "page_not_found":
            self._run.append(Found("page_not_found", Element()))

    async def _send(self, back: BackMsg) -> None:
        if self.ws is None or self.closed:
            raise StepError("disconnect", self.closed or "not connected")
        try:
            await self.ws.send(back.SerializeToString())
        except Exception as exc:  # noqa: BLE001
            raise StepError("disconnect", repr(exc)) from exc

    def _context(self) -> ContextInfo:
        return ContextInfo(
            timezone=TIMEZONE[0],
            timezone_offset=TIMEZONE[1],
            locale="pt-BR",
            url=f"{self.http.base}/{self.url_path}",
            is_embedded=False,
            color_scheme="light",
        )

    async def _rerun(self, widgets: list[WidgetState], *, page_hash: str | None = None) -> None:
        """Send a run of the page (or of another page) and wait for its end."""
        while not self._finished.empty():  # ends of runs nobody waited for
            self._finished.get_nowait()
        state = ClientState(
            widget_states=WidgetStates(widgets=widgets),
            page_script_hash=self.page_hash if page_hash is None else page_hash,
            context_info=self._context(),
        )
        await self._send(BackMsg(rerun_script=state))
        await self._wait_finished()

    async def _wait_finished(self) -> None:
        deadline = time.perf_counter() + self.step_timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise StepError("timeout", f"no script_finished in {self.step_timeout:.0f} s")
            try:
                status = await asyncio.wait_for(self._finished.get(), left)
            except TimeoutError as exc:
                raise StepError(
                    "timeout", f"no script_finished in {self.step_timeout:.0f} s"
                ) from exc
            if status == -1:
                raise StepError("disconnect", self.closed or "closed")
            if status == COMPILE_ERROR:
                raise StepError("exception", "script compile error")
            if status != EARLY_FOR_RERUN:
                self._check_run()
                return

    def _check_run(self) -> None:
        for found in self.elements:
            if found.kind == "exception":
                e = found.element.exception
                raise StepError("exception", f"{e.type}: {e.message}"[:300])
            if found.kind == "alert" and found.element.alert.format == ALERT_ERROR:
                raise StepError("error", found.element.alert.body[:300])
            if found.kind == "page_not_found":
                raise StepError("missing", "page not found")

    # ---- what a user sees

    def find(self, kind: str, label: str) -> Found:
        for found in self.elements:
            if found.kind == kind and getattr(found.proto, "label", None) == label:
                return found
        raise StepError("missing", f"{kind} {label!r}")

    def texts(self, kind: str) -> list[str]:
        return [str(getattr(f.proto, "body", "")) for f in self.elements if f.kind == kind]

    def expect_title(self, title: str) -> None:
        if title not in self.texts("heading"):
            shown = ", ".join(self.texts("heading")[:3]) or "nenhum"
            raise StepError("missing", f"title {title!r} (shown: {shown})")

    # ---- what a user does

    async def click(self, label: str, extra: list[WidgetState] | None = None) -> float:
        """Click a button (a form's submit button sends the form's fields with it)."""
        button = self.find("button", label).element.button
        start = time.perf_counter()
        await self._rerun([*(extra or []), WidgetState(id=button.id, trigger_value=True)])
        return time.perf_counter() - start

    async def go(self, title: str) -> float:
        """A menu click: a run of that page."""
        if title not in self.pages:
            raise StepError("missing", f"menu page {title!r}")
        page_hash, url = self.pages[title]
        start = time.perf_counter()
        self.url_path = url
        await self._rerun([], page_hash=page_hash)
        elapsed = time.perf_counter() - start
        self.expect_title(title)
        return elapsed

    def text_value(self, label: str, value: str) -> WidgetState:
        return WidgetState(
            id=self.find("text_input", label).element.text_input.id, string_value=value
        )

    def choice(self, label: str, option: str | None = None) -> WidgetState:
        """A selectbox's option (by its shown label; the first one when not given)."""
        box = self.find("selectbox", label).element.selectbox
        options = list(box.options)
        if not options:
            raise StepError("missing", f"options of {label!r}")
        chosen = option if option is not None and option in options else options[0]
        return WidgetState(id=box.id, string_value=chosen)

    def date_value(self, label: str, day: str) -> WidgetState:
        widget = self.find("date_input", label).element.date_input
        state = WidgetState(id=widget.id)
        state.string_array_value.data.append(day)
        return state

    async def download(
        self, label: str, between: Callable[[], Awaitable[object]] | None = None
    ) -> bytes:
        """A download button's file (its data built on the server when clicked);
        `between` runs after the server's answer and before the browser's request."""
        button = self.find("download_button", label).element.download_button
        url = button.url
        if not url:
            request_id = str(uuid.uuid4())
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._files[request_id] = future
            payload = DeferredFileRequestPayload(file_id=button.deferred_file_id)
            request = BackendOperationRequest(
                request_id=request_id, session_id=self.session_id, deferred_file=payload
            )
            await self._send(BackMsg(backend_operation_request=request))
            try:
                url = await asyncio.wait_for(future, self.step_timeout)
            except TimeoutError as exc:
                raise StepError("timeout", "no backend_operation_response") from exc
        if between is not None:
            await between()
        status, content = await self.http.request("GET", url)
        if status != 200:
            raise StepError("download", f"GET {url}: {status}")
        return content

    async def upload(self, label: str, name: str, content: bytes) -> float:
        """Choose a file in a file_uploader: ask for its URL, PUT it, send its state."""
        uploader = self.find("file_uploader", label).element.file_uploader
        start = time.perf_counter()
        request_id = str(uuid.uuid4())
        future: asyncio.Future[list[FileURLs]] = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = future
        await self._send(
            BackMsg(
                file_urls_request=FileURLsRequest(
                    request_id=request_id, file_names=[name], session_id=self.session_id
                )
            )
        )
        try:
            urls = (await asyncio.wait_for(future, self.step_timeout))[0]
        except TimeoutError as exc:
            raise StepError("timeout", "no file_urls_response") from exc
        boundary = f"----portalload{uuid.uuid4().hex}"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, answer = await self.http.request(
            "PUT",
            urls.upload_url,
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": self.http.jar.get("_streamlit_xsrf", ""),
                "Origin": self.http.base,
            },
        )
        if status not in (200, 204):
            raise StepError("upload", f"PUT {status}: {answer[:200]!r}")
        state = WidgetState(id=uploader.id)
        info = UploadedFileInfo(name=name, size=len(content), file_id=urls.file_id, file_urls=urls)
        state.file_uploader_state_value.uploaded_file_info.append(info)
        await self._rerun([state])
        return time.perf_counter() - start


# ---------------------------------------------------------------- the simulated user


_cpf_counter = random.Random()


def new_cpf() -> str:
    """A valid CPF that no one has: random base, real check digits."""
    base = f"{_cpf_counter.randrange(100_000_000, 999_999_999):09d}"
    return base + cpf_check_digits(base)


def letters(number: int) -> str:
    """A number as letters: names take no digits (0 -> A, 12 -> BC)."""
    return "".join("ABCDEFGHIJ"[int(d)] for d in str(number))


@dataclass
class Template:
    """What a user reads in the batch template: the columns and a plan's code."""

    columns: list[str]
    plan: str


def read_template(content: bytes) -> Template:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    columns = [str(c.value) for c in next(book["Movimentacoes"].iter_rows(max_row=1)) if c.value]
    lists = list(book["Listas"].iter_rows(max_row=2, values_only=True))
    plan = str(lists[1][list(lists[0]).index("codigo_plano")])
    return Template(columns, plan)


def batch_csv(lines: int, template: Template, tag: str) -> bytes:
    """A small batch of holder inclusions, in the template's columns (;-separated)."""
    rows = [";".join(template.columns)]
    for i in range(lines):
        line = {
            "tipo_movimento": "INCLUSAO",
            "cpf": new_cpf(),
            "nome": f"JOANA CARGA LOTE {tag} {letters(i + 1)}",
            "data_nascimento": "15/03/1985",
            "sexo": "F",
            "nome_mae": "MARIA CARGA LOTE",
            "cep": "01310100",
            "municipio": "SAO PAULO",
            "uf": "SP",
            "data_admissao": "02/01/2024",
            "parentesco": "1",
            "codigo_plano": template.plan,
        }
        rows.append(";".join(line.get(c, "") for c in template.columns))
    return ("\n".join(rows) + "\n").encode("utf-8")


@dataclass
class Step:
    user: int
    op: str
    started: float  # time.monotonic() when it started
    seconds: float
    error: str | None = None


@dataclass
class Options:
    base: str
    think: float
    step_timeout: float
    inclusion_share: float
    batch_share: float
    batch_lines: int
    accounts: list[tuple[str, float]]


class User:
    def __init__(self, number: int, options: Options, record: list[Step], stop: asyncio.Event):
        self.number = number
        self.o = options
        self.record = record
        self.stop = stop
        self.rng = random.Random(number * 7919 + int(time.time()))
        self.template: Template | None = None
        self.jar: dict[str, str] = {}  # this user's browser cookies
        self.visits = 0

    async def think(self) -> None:
        pause = self.o.think * self.rng.uniform(0.5, 1.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), pause)

    async def run(self, first_delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), first_delay)
        while not self.stop.is_set():
            session = Session(self.o.base, self.o.step_timeout, self.jar)
            try:
                await self.visit(session)
            except StepError:
                pass  # recorded; the user starts a new visit after thinking
            finally:
                await session.close()
            await self.think()

    async def step(self, op: str, action: Awaitable[float]) -> None:
        """Run one step (an awaitable giving its latency) and record it."""
        if self.stop.is_set():
            if isinstance(action, Coroutine):
                action.close()
            raise StepError("stopped", "")
        started = time.monotonic()
        t0 = time.perf_counter()
        try:
            seconds = await action
        except StepError as exc:
            self.record.append(
                Step(
                    self.number, op, started, time.perf_counter() - t0, f"{exc.kind}: {exc.detail}"
                )
            )
            raise
        except Exception as exc:  # noqa: BLE001 - a client bug or a network error: an error
            self.record.append(
                Step(self.number, op, started, time.perf_counter() - t0, f"client: {exc!r}")
            )
            raise StepError("client", repr(exc)) from exc
        self.record.append(Step(self.number, op, started, seconds))
        await self.think()

    def account(self) -> str:
        codes = [code for code, _ in self.o.accounts]
        weights = [w for _, w in self.o.accounts]
        return self.rng.choices(codes, weights)[0]

    async def visit(self, s: Session) -> None:
        self.visits += 1
        user_code = self.account()

        async def open_page() -> float:
            seconds = await s.open("/")
            s.find("text_input", "Código de usuário")
            return seconds

        await self.step("open", open_page())

        async def login() -> float:
            seconds = await s.click(
                "Entrar",
                [
                    s.text_value("Código de usuário", user_code),
                    s.text_value("Senha", PASSWORD),
                ],
            )
            s.expect_title(HOME)
            return seconds

        await self.step("login", login())
        for title, op in (
            ("Beneficiários ativos", "report_active"),
            ("Faturas", "invoices"),
            ("Utilização", "report_utilization"),
            (HOME, "home"),
        ):
            if title in s.pages:
                await self.step(op, s.go(title))
        if "Cadastro individual" in s.pages:
            await self.step("movements_page", s.go("Cadastro individual"))
            if self.rng.random() < self.o.inclusion_share:
                await self.step("inclusion", self.include(s))
        if "Cadastro em lote" in s.pages and self.rng.random() < self.o.batch_share:
            await self.step("batch_page", s.go("Cadastro em lote"))
            if self.template is None:
                await self.step("batch_template", self.get_template(s))
            await self.step("batch_upload", self.upload(s))
            await self.step("batch_check", self.check(s))
            await self.step("batch_apply", self.apply(s))

        async def logout() -> float:
            seconds = await s.click("Sair")
            s.find("text_input", "Código de usuário")
            return seconds

        await self.step("logout", logout())

    async def include(self, s: Session) -> float:
        tag = f"{letters(self.number)} {letters(self.visits)} {letters(self.rng.randrange(10**6))}"
        fields = [
            s.choice("Plano *"),
            s.text_value("Nome completo *", f"PEDRO CARGA INDIVIDUAL {tag}"),
            s.text_value("CPF *", new_cpf()),
            s.date_value("Data de nascimento *", "1985-03-15"),
            s.choice("Sexo *"),
            s.text_value("Nome da mãe *", "MARIA CARGA INDIVIDUAL"),
            s.text_value("CEP *", "01310-100"),
            s.text_value("Município *", "São Paulo"),
            s.choice("UF *", "SP"),
            s.date_value("Data de admissão *", "2024-01-02"),
        ]
        seconds = await s.click("Incluir beneficiário", fields)
        if not any("registrada" in t or "agendada" in t.lower() for t in s.texts("alert")):
            raise StepError("missing", "no confirmation of the inclusion")
        return seconds

    async def get_template(self, s: Session) -> float:
        start = time.perf_counter()
        content = await s.download("Baixar modelo (xlsx)")
        seconds = time.perf_counter() - start
        self.template = await asyncio.get_running_loop().run_in_executor(
            _http_pool, read_template, content
        )
        return seconds

    async def upload(self, s: Session) -> float:
        assert self.template is not None
        tag = f"{letters(self.number)} {letters(self.visits)}"
        content = batch_csv(self.o.batch_lines, self.template, tag)
        name = f"carga-{self.number}-{self.visits}.csv"
        return await s.upload("Arquivo de movimentação (.xlsx ou .csv)", name, content)

    async def check(self, s: Session) -> float:
        seconds = await s.click("Conferir arquivo")
        if not any(t.startswith("Conferência do lote") for t in s.texts("heading")):
            raise StepError("missing", "no check of the batch")
        return seconds

    async def apply(self, s: Session) -> float:
        label = next(
            (
                str(getattr(f.proto, "label", ""))
                for f in s.elements
                if f.kind == "button" and str(getattr(f.proto, "label", "")).startswith("Aplicar")
            ),
            None,
        )
        if label is None:
            raise StepError("missing", "no Aplicar button (no line accepted?)")
        seconds = await s.click(label)
        if not any(t.startswith("Lote ") for t in s.texts("heading")):
            raise StepError("missing", "no progress of the batch")
        return seconds


# ---------------------------------------------------------------- servers and CPU


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (/proc/<pid>/stat), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Servers:
    """The processes whose CPU is measured: portal processes, and the others."""

    portal: dict[int, str] = field(default_factory=dict)
    other: dict[int, str] = field(default_factory=dict)
    cluster_json: Path | None = None

    def refresh(self) -> None:
        if self.cluster_json is None or not self.cluster_json.exists():
            return
        with contextlib.suppress(ValueError, OSError):
            self.portal, self.other = {}, {}
            for child in json.loads(self.cluster_json.read_text()):
                if child.get("pid"):
                    bucket = self.portal if child["name"].startswith("portal") else self.other
                    bucket[int(child["pid"])] = child["name"]

    def sample(self) -> dict[int, float]:
        self.refresh()
        out: dict[int, float] = {}
        for pid in [*self.portal, *self.other]:
            value = cpu_seconds(pid)
            if value is not None:
                out[pid] = value
        return out


def _wait_health(url: str, seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no answer from {url} in {seconds:.0f} s")


@contextlib.contextmanager
def started_servers(args: argparse.Namespace) -> Iterator[tuple[str, Servers]]:
    """Start `make run`'s or `make cluster`'s layout (--start), or use --url as it is."""
    servers = Servers()
    if args.start == "none":
        for pid in args.pids or []:
            servers.portal[pid] = f"pid {pid}"
        if args.cluster_json:
            servers.cluster_json = Path(args.cluster_json)
        yield args.url.rstrip("/"), servers
        return
    run_dir = Path(tempfile.mkdtemp(prefix=f"portal-load-{args.start}-"))
    port = args.port
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    app = Path(args.app_dir).resolve() if args.app_dir else ROOT
    if app != ROOT:  # another checkout's code (PYTHONPATH comes before the editable install)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(app), env.get("PYTHONPATH")]))
        print(f"$ export PYTHONPATH={env['PYTHONPATH']}; cd {app}", flush=True)
    if args.start == "run":
        database = args.database_url or f"sqlite:///{run_dir / 'portal.db'}"
        seed = [str(bin_dir / "portal-seed"), "--database-url", database, "--port", str(port)]
        print("$ " + " ".join(seed), flush=True)
        subprocess.run(seed, check=True, cwd=app, env=env, stdout=subprocess.DEVNULL)
        env.update(PORTAL_DATABASE_URL=database, PORTAL_SHOW_OUTBOX="true")
        command = [sys.executable, "-m", "components.serve"]  # as `make run` serves it
        command += ["--server.port", str(port), "--server.headless", "true"]
        command += ["--browser.gatherUsageStats", "false"]
        print(f"$ PORTAL_DATABASE_URL={database} PORTAL_SHOW_OUTBOX=true " + " ".join(command))
    else:
        database = args.database_url or DEFAULT_PG
        env["PORTAL_QUEUE_NAME"] = f"portal-load-{os.getpid()}"  # not another run's queue
        command = [sys.executable, "deploy/cluster.py", "--port", str(port)]
        command += ["--replicas", str(args.replicas), "--workers", str(args.workers)]
        command += ["--database-url", database, "--queue-url", args.queue_url]
        command += ["--run-dir", str(run_dir)]
        print(f"$ PORTAL_QUEUE_NAME={env['PORTAL_QUEUE_NAME']} " + " ".join(command))
        servers.cluster_json = run_dir / "cluster.json"
    sys.stdout.flush()
    log = (run_dir / "server.log").open("wb")
    proc = subprocess.Popen(command, cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_health(f"http://127.0.0.1:{port}/_stcore/health", 600, proc)
        if args.start == "run":
            servers.portal[proc.pid] = "streamlit"
        print(f"# servers up (logs in {run_dir})", flush=True)
        yield f"http://127.0.0.1:{port}", servers
        if args.start == "cluster":
            proxy_report(run_dir / "nginx-access.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def proxy_report(access_log: Path) -> None:
    """From nginx's access log (deploy/nginx.conf.template's format): requests per
    replica, and whether every browser (route cookie) stayed on one replica."""
    routes: dict[str, set[str]] = defaultdict(set)
    per_upstream: dict[str, int] = defaultdict(int)
    failed = 0
    with contextlib.suppress(OSError), access_log.open(encoding="utf-8") as log:
        for line in log:
            fields = dict(
                part.split("=", 1)
                for part in line.split()
                if part.startswith(("upstream=", "route="))
            )
            status = line.split('"')[-1].split()[0] if '"' in line else ""
            if status.startswith("5"):
                failed += 1
            upstream = fields.get("upstream", "-")
            per_upstream[upstream] += 1
            routes[fields.get("route", "-")].add(upstream)
    moved = sum(1 for ups in routes.values() if len(ups) > 1)
    print(
        f"proxy: {sum(per_upstream.values())} requests ("
        + ", ".join(f"{u}: {n}" for u, n in sorted(per_upstream.items()))
        + f"), {failed} answered 5xx; {len(routes)} route cookies, {moved} of them served by "
        "more than one replica",
        flush=True,
    )


# ---------------------------------------------------------------- the ramp and the report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summary(steps: list[Step]) -> tuple[int, float, float, float, int]:
    times = [s.seconds for s in steps if s.error is None]
    errors = sum(1 for s in steps if s.error is not None)
    median = statistics.median(times) if times else 0.0
    return len(steps), median, percentile(times, 0.95), max(times, default=0.0), errors


async def ramp(args: argparse.Namespace, base: str, servers: Servers) -> int:
    options = Options(
        base=base,
        think=args.think,
        step_timeout=args.step_timeout,
        inclusion_share=args.inclusion_share,
        batch_share=args.batch_share,
        batch_lines=args.batch_lines,
        accounts=args.accounts,
    )
    record: list[Step] = []
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    rows: list[tuple[int, int, float, float, float, int, str]] = []
    print(
        f"# {base}: stages {args.stages} users, {args.stage_seconds:.0f} s each, think "
        f"{args.think:.0f} s (0.5x-1.5x), step timeout {args.step_timeout:.0f} s",
        flush=True,
    )
    if args.warmup:
        # A fresh server's first runs import the app and fill its caches: one visit of
        # every step first, not counted (its figures are printed as they are).
        warm: list[Step] = []
        warm_options = replace(
            options, think=0.0, inclusion_share=1.0, batch_share=1.0, accounts=options.accounts[:1]
        )
        warm_user = User(0, warm_options, warm, asyncio.Event())
        session = Session(base, args.step_timeout)
        try:
            await warm_user.visit(session)
        except StepError:
            pass
        finally:
            await session.close()
        print(
            "warmup (not counted): "
            + " ".join(f"{w.op}={w.seconds:.2f}s" + ("!" if w.error else "") for w in warm),
            flush=True,
        )
        for w in warm:
            if w.error:
                print(f"  warmup error op={w.op}: {w.error}", file=sys.stderr)
    for number, users in enumerate(args.stages, start=1):
        start_users = len(tasks)
        for i in range(start_users, users):
            spread = args.think * (i - start_users) / max(1, users - start_users)
            user = User(i + 1, options, record, stop)
            tasks.append(asyncio.create_task(user.run(spread)))
        t0 = time.monotonic()
        cpu0 = servers.sample()
        client0 = time.process_time()
        await asyncio.sleep(args.stage_seconds)
        client = time.process_time() - client0
        cpu1 = servers.sample()
        t1 = time.monotonic()
        stage = [s for s in record if t0 <= s.started < t1]
        count, p50, p95, worst, errors = summary(stage)
        cpu_text = ""
        if cpu1:
            portal = sum(cpu1[p] - cpu0[p] for p in cpu1 if p in cpu0 and p in servers.portal)
            every = sum(cpu1[p] - cpu0[p] for p in cpu1 if p in cpu0)
            per = max(1, count)
            cpu_text = (
                f" cpu_per_step={portal / per:.3f}s cpu_all_per_step={every / per:.3f}s"
                f" portal_cpu_util={portal / (t1 - t0):.2f}"
            )
        print(
            f"stage={number} users={users} steps={count} p50={p50:.2f}s p95={p95:.2f}s "
            f"max={worst:.2f}s errors={errors}{cpu_text} client_cpu_util={client / (t1 - t0):.2f}"
            f" load={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for s in stage:
            if s.error:
                print(f"  error user={s.user} op={s.op}: {s.error}", file=sys.stderr)
        rows.append((users, count, p50, p95, worst, errors, cpu_text))
    stop.set()
    await asyncio.wait(tasks, timeout=args.step_timeout + args.think * 2)
    for task in tasks:
        task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.gather(*tasks, return_exceptions=True)

    by_op: dict[str, list[Step]] = defaultdict(list)
    for s in record:
        by_op[s.op].append(s)
    for op, steps in sorted(by_op.items()):
        count, p50, p95, worst, errors = summary(steps)
        print(
            f"op={op} count={count} p50={p50:.2f}s p95={p95:.2f}s max={worst:.2f}s errors={errors}"
        )
    served = 0
    for users, count, _p50, p95, _max, errors, _cpu in rows:
        if count == 0 or errors or p95 > args.target:
            break
        served = users
    print(
        f"result: users served at p95 <= {args.target:g} s with {args.think:g} s think time "
        f"and zero errors: {served if served else 'none of the stages'}"
        + (f" (of {args.stages[-1]} tried)" if served == args.stages[-1] else ""),
        flush=True,
    )
    total_errors = sum(1 for s in record if s.error)
    return 1 if total_errors else 0


def parse_accounts(text: str) -> list[tuple[str, float]]:
    out = []
    for part in text.split(","):
        code, _, weight = part.partition(":")
        out.append((code.strip(), float(weight or 1)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="the portal (or proxy)")
    parser.add_argument("--start", choices=["none", "run", "cluster"], default="none")
    parser.add_argument("--port", type=int, default=8750, help="port of --start's servers")
    parser.add_argument("--replicas", type=int, default=2, help="--start cluster: portals")
    parser.add_argument("--workers", type=int, default=1, help="--start cluster: workers")
    parser.add_argument("--database-url", default=None, help="--start's database")
    parser.add_argument("--queue-url", default=DEFAULT_QUEUE, help="--start cluster: Redis")
    parser.add_argument(
        "--app-dir", default=None, help="--start: serve this checkout (e.g. a clean commit)"
    )
    parser.add_argument("--pids", type=lambda t: [int(p) for p in t.split(",")], default=None)
    parser.add_argument("--cluster-json", default=None, help="a cluster's run folder file")
    parser.add_argument(
        "--stages", type=lambda t: [int(n) for n in t.split(",")], default=[5, 10, 15, 20]
    )
    parser.add_argument("--stage-seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=10.0)
    parser.add_argument("--step-timeout", type=float, default=60.0)
    parser.add_argument("--target", type=float, default=1.0, help="p95 target in seconds")
    parser.add_argument("--inclusion-share", type=float, default=0.5)
    parser.add_argument("--batch-share", type=float, default=0.25)
    parser.add_argument("--batch-lines", type=int, default=3)
    parser.add_argument(
        "--no-warmup", dest="warmup", action="store_false", help="count the first visit too"
    )
    parser.add_argument(
        "--accounts", type=parse_accounts, default=parse_accounts("100001:40,100002:35,900001:25")
    )
    args = parser.parse_args(argv)
    if args.stages != sorted(args.stages) or args.stages[0] < 1:
        parser.error("--stages: growing numbers of users")
    with started_servers(args) as (base, servers):
        return asyncio.run(ramp(args, base, servers))


if __name__ == "__main__":
    raise SystemExit(main())
