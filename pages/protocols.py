"""Protocolos: every request and movement with its number, history and deadline;
new requests and additional information."""

from datetime import timedelta

import streamlit as st

from components import exclusion_widgets
from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import FieldSlots, user_errors
from components.safe_text import plain
from services import protocols
from services.actors import Permission
from services.rules.formats import format_date, format_datetime

ctx = get_context(Permission.PROTOCOLS)
today = today_local()
st.title("Protocolos")
st.caption(plain(ctx.company.label))

list_tab, new_tab = st.tabs(["Consultar protocolos", "Nova solicitação"])

with new_tab:
    opened = st.session_state.get("protocol_opened")
    if opened and opened[0] == ctx.company_id:
        st.success(
            f"Solicitação aberta. Protocolo nº **{opened[1]}** · prazo de resposta "
            f"{format_date(opened[2])}. Acompanhe na aba Consultar protocolos."
        )
    slots = FieldSlots()
    with st.form(f"protocol_new_{st.session_state.get('protocol_new_nonce', 0)}"):
        kind = st.selectbox(
            "Tipo de solicitação *",
            protocols.REQUEST_KINDS,
            index=None,
            format_func=protocols.KIND_LABELS.__getitem__,
            placeholder="Escolha o tipo",
        )
        slots.add("kind")
        subject = st.text_input("Assunto *", max_chars=protocols.PROTOCOL_SUBJECT_MAX)
        slots.add("subject")
        description = st.text_area(
            "Descrição *", max_chars=protocols.PROTOCOL_DESCRIPTION_MAX, height=140
        )
        slots.add("description")
        submitted = st.form_submit_button("Abrir solicitação", type="primary")
    if submitted:
        with user_errors(slots):
            row = protocols.protocol_request_open(
                uow=ctx.uow(),
                actor=ctx.actor,
                kind=kind or "",
                subject=subject,
                description=description,
                now=now_utc(),
            )
            st.session_state["protocol_opened"] = (ctx.company_id, row.number, row.deadline)
            st.session_state["protocol_new_nonce"] = (
                st.session_state.get("protocol_new_nonce", 0) + 1
            )
            st.rerun()

with list_tab:
    # "Ver protocolo" on a movement's result card: this protocol, found and opened.
    shown = st.session_state.pop("protocol_show", None)
    if shown:
        for widget in ("protocol_kinds", "protocol_statuses", "protocol_start", "protocol_end"):
            st.session_state.pop(widget, None)
        st.session_state["protocol_number"] = shown
    c1, c2 = st.columns(2)
    kinds = c1.multiselect(
        "Tipo",
        list(protocols.KIND_LABELS),
        format_func=protocols.KIND_LABELS.__getitem__,
        placeholder="Todos",
        key="protocol_kinds",
    )
    statuses = c2.multiselect(
        "Situação",
        list(protocols.STATUS_LABELS),
        format_func=protocols.STATUS_LABELS.__getitem__,
        placeholder="Todas",
        key="protocol_statuses",
    )
    c1, c2, c3 = st.columns(3)
    start = c1.date_input(
        "Aberto de", value=today - timedelta(days=90), format="DD/MM/YYYY", key="protocol_start"
    )
    end = c2.date_input("Até", value=today, format="DD/MM/YYYY", key="protocol_end")
    number = c3.text_input("Número do protocolo", key="protocol_number")
    rows = protocols.protocol_list(
        uow=ctx.uow(),
        actor=ctx.actor,
        today=today,
        kinds=kinds,
        statuses=statuses,
        start=start,
        end=end,
        number=number,
    )
    if not rows:
        st.info("Nenhum protocolo encontrado com esses filtros. Amplie o período ou tire filtros.")
        st.stop()
    st.caption(f"{len(rows)} protocolo(s) encontrado(s)")
    st.dataframe(
        [
            {
                "Protocolo": r.number,
                "Tipo": r.kind_label,
                "Assunto": r.subject,
                "Situação": r.status_label,
                "Aberto em": format_datetime(r.opened_at),
                "Prazo": format_date(r.deadline),
                "Atraso": "Atrasado" if r.late else "",
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
    by_id = {r.id: r for r in rows}
    if shown:
        st.session_state["protocol_open"] = next((r.id for r in rows if r.number == shown), None)
    chosen = st.selectbox(
        "Abrir protocolo",
        list(by_id),
        index=None,
        format_func=lambda i: f"{by_id[i].number} · {by_id[i].subject}",
        placeholder="Escolha um protocolo da lista para ver o histórico",
        key="protocol_open",
    )
    if chosen is None:
        st.stop()
    with user_errors():
        detail = protocols.protocol_detail(
            uow=ctx.uow(), actor=ctx.actor, protocol_id=chosen, today=today
        )
        p = detail.protocol
        with st.container(border=True):
            st.subheader(f"Protocolo nº {p.number}")
            st.markdown(
                f"**Tipo:** {p.kind_label} · **Situação:** {p.status_label} · "
                f"**Aberto em:** {format_datetime(p.opened_at)} · "
                f"**Prazo:** {format_date(p.deadline)}"
            )
            if p.late:
                st.warning("Prazo de resposta vencido.", icon=":material/schedule:")
            st.markdown(f"**Assunto:** {plain(p.subject)}")
            st.markdown(f"**Descrição:** {plain(detail.description)}")
            st.markdown("**Histórico**")
            st.dataframe(
                [
                    {
                        "Data": format_datetime(e.at),
                        "Situação": e.status_label,
                        "Registro": e.note,
                        "Por": e.user_name or "Operadora",
                    }
                    for e in detail.events
                ],
                hide_index=True,
                width="stretch",
            )
            if p.kind == "exclusion":
                exclusion_widgets.proof_download(ctx, p.number, today=today, key="protocol")
    noted = st.session_state.get("protocol_noted")
    if noted == chosen:
        st.success("Informação acrescentada ao protocolo.")
    if detail.protocol.status == "closed":
        st.caption("Protocolo encerrado: para um novo pedido, abra uma nova solicitação.")
        st.stop()
    note_slots = FieldSlots()
    with st.form(f"protocol_note_{chosen}_{st.session_state.get('protocol_note_nonce', 0)}"):
        note = st.text_area("Informação a acrescentar *", max_chars=protocols.PROTOCOL_NOTE_MAX)
        note_slots.add("note")
        add = st.form_submit_button("Acrescentar informação")
    if add:
        with user_errors(note_slots):
            protocols.protocol_add_note(
                uow=ctx.uow(), actor=ctx.actor, protocol_id=chosen, note=note, now=now_utc()
            )
            st.session_state["protocol_noted"] = chosen
            st.session_state["protocol_note_nonce"] = (
                st.session_state.get("protocol_note_nonce", 0) + 1
            )
            st.rerun()
