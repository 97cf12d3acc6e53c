"""Movimentação cadastral > Cadastro em lote: send a file, see every line's status, queue
the application of the accepted lines (a job: its progress is shown until done) and
download the result file."""

import streamlit as st

from components import batch_widgets as bw
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.batch import processing as batch
from services.batch.layout import MAX_BYTES, MAX_LINES
from services.jobs.stall import JobState
from services.rules.formats import format_datetime, format_int

STATE = "batch_current"  # company, uploaded file, check (BatchCheck), queued (applying)
BATCH_ID = "batch_id"  # the batch in progress, also preselected in "Acompanhar lotes"

ctx = get_context(Permission.MOVEMENTS)
st.title("Cadastro em lote")
st.caption(
    f"{plain(ctx.company.label)} · inclusão, exclusão, alteração, reativação e transferência de "
    "muitos beneficiários em um só arquivo, com as mesmas regras do cadastro individual."
)

c1, c2 = st.columns([1, 2], vertical_alignment="center")
with c1:
    bw.template_download(ctx, key="batch_template")
c2.page_link(
    "pages/support_files.py",
    label="Arquivos de apoio: layout do arquivo e guia de preenchimento",
    icon=":material/folder_open:",
)

nonce = st.session_state.get("batch_upload_nonce", 0)
uploaded = st.file_uploader(
    "Arquivo de movimentação (.xlsx ou .csv)",
    type=["xlsx", "csv"],
    key=f"batch_upload_{nonce}",
    help=f"Até {format_int(MAX_LINES)} linhas e {MAX_BYTES // (1024 * 1024)} MB por arquivo.",
)
checking = st.button("Conferir arquivo", disabled=uploaded is None, key="batch_check")
if checking and uploaded is not None:
    st.session_state.pop(STATE, None)
    with user_errors(), st.spinner("Conferindo as linhas do arquivo..."):
        # A file refused as a whole raises BatchFileError: user_errors shows its reason.
        check = batch.batch_receive(
            uow=ctx.uow(),
            actor=ctx.actor,
            file_name=uploaded.name,
            content=uploaded.getvalue(),
            now=now_utc(),
        )
        st.session_state[STATE] = {
            "company_id": ctx.company_id,
            "file_id": uploaded.file_id,
            "check": check,
            "queued": False,
        }
        st.session_state[BATCH_ID] = check.batch.id

current = st.session_state.get(STATE)
if current is None or current["company_id"] != ctx.company_id:
    st.stop()
if uploaded is not None and uploaded.file_id != current["file_id"]:
    st.info("Outro arquivo escolhido: clique em **Conferir arquivo** para ver as linhas dele.")
    st.stop()

check = current["check"]
b = check.batch

if not current["queued"]:
    st.subheader(f"Conferência do lote {b.id} · {plain(b.file_name)}")
    bw.summary_metrics(b)
    bw.lines_table(check.lines, key="batch_check_lines")
    bw.result_downloads(ctx, b.id, key="batch_check_file")
    if b.accepted_lines == 0:
        st.error(
            "Nenhuma linha foi aceita. Corrija as linhas recusadas (a mensagem de cada uma diz "
            "o que acertar; no arquivo de resultado as células em vermelho) e envie de novo."
        )
        st.stop()
    confirmed = True
    dup = check.duplicate_of
    if dup is not None:
        st.warning(
            f"Este mesmo arquivo já foi enviado em {format_datetime(dup.received_at)} "
            f"(lote {dup.id}, {dup.status_label.lower()}, por {plain(dup.user_name)}). Aplicar de "
            "novo pode repetir movimentações: confira em Acompanhar lotes.",
            icon=":material/content_copy:",
        )
        confirmed = st.checkbox("Enviar mesmo assim", key=f"batch_duplicate_ok_{b.id}")
    if b.refused_lines:
        st.caption(
            "As linhas recusadas não são aplicadas: corrija-as e envie só elas em outro arquivo."
        )
    n = b.accepted_lines
    label = "Aplicar 1 linha aceita" if n == 1 else f"Aplicar {format_int(n)} linhas aceitas"
    clicked = st.button(label, type="primary", disabled=not confirmed, key="batch_apply")
    if clicked and bw.start_application(ctx, b.id) is not None:
        current["queued"] = True
        st.rerun()
    st.stop()

progress = bw.batch_progress(ctx, b.id)
st.subheader(f"Lote {b.id} · {plain(b.file_name)}")
if progress.state in bw.WAITING:
    bw.application_progress(ctx, b.id)
    st.stop()
if progress.state is not JobState.DONE:  # its job died: Acompanhar lotes resumes it
    st.warning(
        "A aplicação deste lote foi interrompida: ela é retomada automaticamente em alguns "
        "minutos, ou agora em Acompanhar lotes.",
        icon=":material/pending_actions:",
    )
    st.page_link("pages/batch_track.py", label="Acompanhar lotes", icon=":material/list_alt:")
    st.stop()
st.success(bw.applied_message(progress), icon=":material/task_alt:")
bw.progress_metrics(progress)
bw.result_downloads(ctx, b.id, key="batch_result_file")
with user_errors():
    lines = batch.batch_lines(uow=ctx.uow(), actor=ctx.actor, batch_id=b.id)
    bw.lines_table(lines, key="batch_result_lines")


def _another_file() -> None:
    st.session_state.pop(STATE, None)
    st.session_state["batch_upload_nonce"] = nonce + 1


st.button("Enviar outro arquivo", on_click=_another_file, key="batch_another")
