"""Demonstração > Caixa de saída: e-mails the portal sent, when no SMTP server is set."""

import streamlit as st

from components.context import new_uow
from components.fmt import fmt_datetime
from components.safe_text import plain
from services import mail

st.title("Caixa de saída")
st.caption("Sem servidor SMTP configurado, os e-mails do portal ficam aqui para demonstração.")
to = st.text_input("Filtrar por destinatário", placeholder="nome@empresa.com.br")
messages = mail.outbox_list(uow=new_uow(), limit=50, to=to.strip() or None)
if not messages:
    st.info("Nenhum e-mail na caixa de saída.")
    st.stop()
for m in messages:
    with st.expander(f"{fmt_datetime(m.created_at)} · {plain(m.to_address)} · {plain(m.subject)}"):
        st.text(m.body)
