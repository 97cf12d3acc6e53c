"""Início > Avisos: the notices of the company in context (unread first), each with its
page; mark one or all read; and the choice of getting them by e-mail too."""

import streamlit as st

from components import navigation
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services import notices
from services.rules.formats import format_datetime

ctx = get_context()
st.title("Avisos")
st.caption(
    f"Avisos de {plain(ctx.company.label)}: a data de corte chegando, faturas vencidas, "
    "exclusões agendadas para os próximos 7 dias, dependentes que perdem a elegibilidade "
    "por idade nos próximos 60 dias e lotes concluídos. Cada usuário vê os avisos das "
    "áreas que a sua permissão cobre."
)

wants = notices.notice_preference_get(uow=ctx.uow(), actor=ctx.actor)
choice = st.toggle(
    "Receber os avisos também por e-mail",
    value=wants,
    key="notices_email",
    help="Um e-mail por rodada de avisos novos, com os títulos, para o seu e-mail cadastrado.",
)
if choice != wants:
    with user_errors():
        notices.notice_preference_set(uow=ctx.uow(), actor=ctx.actor, email=choice, now=now_utc())
        st.success(
            "Você passará a receber os avisos também por e-mail."
            if choice
            else "Você não receberá mais os avisos por e-mail, só aqui no portal."
        )

items = notices.notice_list(uow=ctx.uow(), actor=ctx.actor)
unread = sum(1 for n in items if n.unread)
if unread:
    st.write(f"{unread} aviso(s) não lido(s).")
    if st.button("Marcar todos como lidos", icon=":material/done_all:", key="notices_all_read"):
        with user_errors():
            notices.notice_mark_all_read(uow=ctx.uow(), actor=ctx.actor, now=now_utc())
            st.rerun()
if not items:
    st.info("Nenhum aviso por enquanto.")
    st.stop()

reachable = {p.path for p in navigation.pages_for(ctx.actor)}
for n in items:
    with st.container(border=True):
        mark = ":blue-badge[novo] " if n.unread else ""
        st.markdown(f"{mark}**{plain(n.title)}**")
        st.caption(f"{n.kind_label} · {format_datetime(n.created_at)}")
        st.markdown(plain(n.body))
        left, right = st.columns(2)
        if n.link and n.link in reachable:
            with left:
                st.page_link(n.link, label="Abrir a página", icon=":material/open_in_new:")
        if n.unread:
            with right:
                if st.button("Marcar como lido", key=f"notice_read_{n.id}", icon=":material/done:"):
                    with user_errors():
                        notices.notice_mark_read(
                            uow=ctx.uow(), actor=ctx.actor, notice_id=n.id, now=now_utc()
                        )
                        st.rerun()
