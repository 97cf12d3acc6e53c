"""Movimentação cadastral > Acompanhar lotes: every batch sent, its status and counts, the
progress of a batch being applied (its job, polled), the status of its lines and its
result file; an interrupted batch can be resumed (queued again)."""

import streamlit as st

from components import batch_widgets as bw
from components.context import get_context
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.batch import processing as batch
from services.jobs.stall import JobState
from services.rules.formats import format_datetime, format_int

ctx = get_context(Permission.MOVEMENTS)
st.title("Acompanhar lotes")
st.caption(
    f"{plain(ctx.company.label)} · os arquivos enviados em Cadastro em lote, do mais recente."
)

rows = batch.batch_list(uow=ctx.uow(), actor=ctx.actor)
if any(b.status == "applying" for b in rows):
    bw.ensure_worker()  # after a restart, its periodic check resumes a dead job
if not rows:
    st.info("Nenhum lote enviado por esta empresa ainda.")
    st.page_link("pages/batch_start.py", label="Enviar um arquivo", icon=":material/upload_file:")
    st.stop()

st.dataframe(
    [
        {
            "Lote": b.id,
            "Enviado em": format_datetime(b.received_at),
            "Por": b.user_name,
            "Arquivo": b.file_name,
            "Status": b.status_label,
            "Linhas": b.total_lines,
            "Aplicadas": b.applied_lines,
            "Aceitas a aplicar": b.pending_lines,
            "Com aviso": b.warning_lines,
            "Recusadas": b.refused_lines,
        }
        for b in rows
    ],
    hide_index=True,
    width="stretch",
    column_config={"Lote": st.column_config.NumberColumn(format="%d")},
)

by_id = {b.id: b for b in rows}
ids = list(by_id)
current = st.session_state.get("batch_id")
if current not in by_id:  # coming back (another session): the batch being applied, if any
    current = next((b.id for b in rows if b.status == "applying"), None)
chosen = st.selectbox(
    "Ver lote",
    ids,
    index=ids.index(current) if current is not None else None,
    format_func=lambda i: bw.batch_label(by_id[i]),
    placeholder="Escolha um lote para ver as linhas",
    key="track_batch",
)
if chosen is None:
    st.stop()
st.session_state["batch_id"] = chosen
b = by_id[chosen]

watched = st.session_state.get("track_watch") == chosen
progress = bw.batch_progress(ctx, chosen) if b.status in bw.RESUMABLE or watched else None

with st.container(border=True):
    st.subheader(f"Lote {b.id} · {plain(b.file_name)}")
    st.caption(
        f"Enviado em {format_datetime(b.received_at)} por {plain(b.user_name)} · {b.status_label}"
    )
    if b.status == "refused":
        st.error(f"Arquivo recusado por inteiro: {plain(b.message or 'sem motivo registrado.')}")
        st.stop()
    if watched and progress is not None and progress.state is JobState.DONE:
        st.success(bw.applied_message(progress), icon=":material/task_alt:")
    elif b.message:
        st.markdown(plain(b.message))
    bw.summary_metrics(b)
    if progress is not None and progress.state in bw.WAITING:
        bw.application_progress(ctx, b.id)
    elif b.status == "applying" or (b.status == "received" and b.accepted_lines):
        st.warning(
            "Este lote foi conferido e as linhas aceitas ainda não foram aplicadas."
            if b.status == "received"
            else (
                "A aplicação deste lote foi interrompida antes do fim: "
                f"{format_int(b.applied_lines)} linha(s) aplicada(s), "
                f"{format_int(b.pending_lines)} aceita(s) ainda por aplicar."
            ),
            icon=":material/pending_actions:",
        )
        st.caption(
            "Retomar aplica só as linhas aceitas que faltam, conferidas de novo com o cadastro "
            "de hoje: nenhuma linha é aplicada duas vezes."
        )
        resume = st.button("Retomar aplicação", type="primary", key=f"track_resume_{b.id}")
        if resume and bw.start_application(ctx, b.id) is not None:
            st.session_state["track_watch"] = b.id
            st.rerun()
    bw.result_downloads(ctx, b.id, key=f"track_file_{b.id}")
    with user_errors():
        lines = batch.batch_lines(uow=ctx.uow(), actor=ctx.actor, batch_id=b.id)
        bw.lines_table(lines, key=f"track_lines_{b.id}")
