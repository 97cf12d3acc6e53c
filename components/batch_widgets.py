"""Widgets of the batch pages (Cadastro em lote, Acompanhar lotes, Arquivos de apoio)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from components.clock import today_local
from components.context import Context, now_utc
from components.errors import user_errors
from services.batch import processing as batch
from services.batch.files import template_xlsx
from services.batch.processing import BatchSummary, LineResult
from services.jobs import batch as jobs
from services.jobs.batch import BatchProgress
from services.jobs.consumer import embedded_worker
from services.jobs.queue import queue_for
from services.jobs.stall import JobState
from services.movements import service as movements
from services.rules.formats import format_datetime, format_int

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The statuses that let a batch be applied (again): checked and never applied, or
# interrupted half way.
RESUMABLE = ("received", "applying")


def template_download(ctx: Context, *, key: str) -> None:
    """The company's template (its contracted plans in the drop-down list)."""

    def build() -> bytes:
        options = movements.movement_options(uow=ctx.uow(), actor=ctx.actor, today=today_local())
        return template_xlsx(
            [(p.code, p.name) for p in options.plans],
            ctx.company.code,
            [(c.code, c.name) for c in options.cost_centres],
        )

    st.download_button(
        "Baixar modelo (xlsx)",
        data=build,
        file_name=f"modelo_movimentacao_{ctx.company.code}.xlsx",
        mime=XLSX,
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )


def summary_metrics(b: BatchSummary) -> None:
    """Total, accepted, accepted with warnings and refused lines of a batch."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Linhas no arquivo", _count(b.total_lines))
    if b.status == "applying":  # interrupted half way: what was applied, what is left
        c2.metric(
            "Aplicadas",
            _count(b.applied_lines),
            help=f"{_count(b.pending_lines)} linha(s) aceita(s) ainda por aplicar.",
        )
    else:
        c2.metric(
            "Aceitas" if b.status in RESUMABLE else "Aplicadas",
            _count(b.accepted_lines),
            help="Inclui as aceitas com aviso." if b.status in RESUMABLE else None,
        )
    c3.metric("Com aviso", _count(b.warning_lines))
    c4.metric("Recusadas", _count(b.refused_lines))


def progress_metrics(p: BatchProgress) -> None:
    """A finished batch: lines in the file, applied, with warnings, refused."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Linhas no arquivo", _count(p.total_lines))
    c2.metric("Aplicadas", _count(p.applied))
    c3.metric("Com aviso", _count(p.warning_lines))
    c4.metric("Recusadas", _count(p.refused))


def lines_table(lines: Sequence[LineResult], *, key: str) -> None:
    """Every line with its status and message, filtered by status."""
    present = [s for s in batch.LINE_STATUS_LABELS if any(r.status == s for r in lines)]
    chosen = st.multiselect(
        "Mostrar linhas",
        present,
        format_func=batch.LINE_STATUS_LABELS.__getitem__,
        placeholder="Todas",
        key=f"{key}_filter",
    )
    wanted = set(chosen or present)
    shown = [r for r in lines if r.status in wanted]
    # One row per problem of a refused or warned line (it may have several): each reads
    # in full instead of one long cut cell.
    rows = [(r, part) for r in shown for part in _messages(r)]
    columns = {
        "Linha": [r.line_number for r, _ in rows],
        "Nome": [r.name for r, _ in rows],
        "CPF ou carteirinha": [r.document for r, _ in rows],
        "Status": [batch.LINE_STATUS_LABELS[r.status] for r, _ in rows],
        "Mensagem": [part for _, part in rows],
    }
    if any(r.waiting for r in lines):  # applied inclusions: their waiting periods
        columns["Carência"] = [r.waiting for r, _ in rows]
    frame = pd.DataFrame(columns)
    st.caption(f"{_count(len(shown))} de {_count(len(lines))} linha(s)")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * max(1, len(rows))),
        column_config={
            "Linha": st.column_config.NumberColumn(width="small", format="%d"),
            "Nome": st.column_config.TextColumn(width="medium"),
            "CPF ou carteirinha": st.column_config.TextColumn(width="medium"),
            "Status": st.column_config.TextColumn(width="small"),
            "Mensagem": st.column_config.TextColumn(width="large"),
            "Carência": st.column_config.TextColumn(
                width="large", help="Último dia de carência por grupo de procedimentos"
            ),
        },
        key=f"{key}_table",
    )


def _messages(r: LineResult) -> list[str]:
    if r.status not in ("refused", "warning"):
        return [r.message]
    return [part for part in r.message.split("; ") if part] or [""]


def result_downloads(ctx: Context, batch_id: int, *, key: str) -> None:
    """The result file (the file's lines plus status and message), xlsx and csv."""
    stem = f"resultado_lote_{batch_id}"
    c1, c2 = st.columns(2)

    def build(fmt: str) -> Callable[[], bytes]:
        return lambda: batch.batch_result_file(
            uow=ctx.uow(), actor=ctx.actor, batch_id=batch_id, fmt=fmt
        )

    for column, fmt, mime in ((c1, "xlsx", XLSX), (c2, "csv", "text/csv")):
        column.download_button(
            f"Baixar resultado ({fmt})",
            data=build(fmt),
            file_name=f"{stem}.{fmt}",
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            key=f"{key}_{fmt}",
            width="stretch",
        )


def ensure_worker() -> None:
    """The embedded queue's consumer threads, started once in this process (nothing to
    start when the queue is Redis: `portal-worker` serves it)."""
    embedded_worker(queue_for())


def start_application(ctx: Context, batch_id: int) -> BatchProgress | None:
    """Queue the application of the batch's accepted lines; None when refused (message
    shown). The job runs on the task queue: the user may leave and come back."""
    result = None
    with user_errors():
        ensure_worker()
        result = jobs.batch_enqueue(
            uow=ctx.uow(), actor=ctx.actor, batch_id=batch_id, now=now_utc()
        )
    return result


def batch_progress(ctx: Context, batch_id: int) -> BatchProgress:
    return jobs.batch_progress(uow=ctx.uow(), actor=ctx.actor, batch_id=batch_id)


WAITING = (JobState.QUEUED, JobState.RUNNING)
POLL_SECONDS = 2


@st.fragment(run_every=POLL_SECONDS)
def application_progress(ctx: Context, batch_id: int) -> None:
    """The job's progress, read again from the database every few seconds; the whole page
    runs again once the job is no longer queued or running."""
    p = batch_progress(ctx, batch_id)
    if p.state not in WAITING:
        st.rerun(scope="app")
    text = (
        "Na fila: a aplicação começa em instantes."
        if p.state is JobState.QUEUED
        else f"Aplicando: {_count(p.applied)} de {_count(p.to_apply)} linha(s) aceita(s)."
    )
    st.progress(p.fraction, text=text)
    st.caption(
        "Pode fechar esta página: a aplicação continua no servidor, e o andamento fica em "
        "Acompanhar lotes."
    )


def applied_message(p: BatchProgress) -> str:
    return (
        f"Lote {p.batch_id} aplicado: {_count(p.applied)} linha(s) aplicada(s) e "
        f"{_count(p.refused)} recusada(s). Cada linha aplicada tem o seu protocolo; "
        "baixe o arquivo de resultado para conferir."
    )


def batch_label(b: BatchSummary) -> str:
    return f"Lote {b.id} · {format_datetime(b.received_at)} · {b.file_name} · {b.status_label}"


_count = format_int  # 1.234
