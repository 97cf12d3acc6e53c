"""Início > Avisos: the notices of the company in context (unread first), each with its
page; mark one or all read; and the choice of getting them by e-mail too."""

import logging

import streamlit as st

from components import navigation
from components.context import get_context, now_utc
from components.errors import GENERIC, user_errors
from components.safe_text import plain
from services import notices
from services.rules.errors import DomainError
from services.rules.formats import format_datetime

ctx = get_context()
log = logging.getLogger("portal")
st.title("Avisos")
st.caption(
    f"Avisos de {plain(ctx.company.label)}: a data de corte chegando, faturas vencidas, "
    "exclusões agendadas para os próximos 7 dias, dependentes que perdem a elegibilidade "
    "por idade nos próximos 60 dias e lotes concluídos. Cada usuário vê os avisos das "
    "áreas que a sua permissão cobre."
)

EMAIL_KEY = "notices_email"
NOTE_KEY = "notices_email_note"


def _save_email_choice() -> None:
    """The toggle's change, saved at once; refused, the toggle goes back and says why."""
    choice = bool(st.session_state[EMAIL_KEY])
    try:
        notices.notice_preference_set(uow=ctx.uow(), actor=ctx.actor, email=choice, now=now_utc())
    except DomainError as exc:
        st.session_state[EMAIL_KEY] = not choice
        st.session_state[NOTE_KEY] = ("error", exc.message)
        return
    except Exception:  # noqa: BLE001 - never a traceback on screen
        log.exception("notice preference not saved")
        st.session_state[EMAIL_KEY] = not choice
        st.session_state[NOTE_KEY] = ("error", GENERIC)
        return
    st.session_state[NOTE_KEY] = (
        "success",
        "Você passará a receber os avisos também por e-mail."
        if choice
        else "Você não receberá mais os avisos por e-mail, só aqui no portal.",
    )


if EMAIL_KEY not in st.session_state:
    st.session_state[EMAIL_KEY] = notices.notice_preference_get(uow=ctx.uow(), actor=ctx.actor)
st.toggle(
    "Receber os avisos também por e-mail",
    key=EMAIL_KEY,
    on_change=_save_email_choice,
    help="Um e-mail por rodada de avisos novos, com os títulos, para o seu e-mail cadastrado.",
)
if (note := st.session_state.pop(NOTE_KEY, None)) is not None:
    kind, text = note
    (st.success if kind == "success" else st.error)(plain(text))

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
