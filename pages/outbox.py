"""Demonstração > Caixa de saída: the portal's e-mails (demo outbox, PORTAL_SHOW_OUTBOX).

Served to logged-in users only: a company user sees the e-mails sent to its own
address, an account manager sees them all and may send the failed ones again (the rule
is in services.mail.outbox.outbox_list, which takes the actor)."""

import streamlit as st

from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.mail import outbox as mail
from services.rules.formats import format_datetime

ctx = get_context()
st.title("Caixa de saída")
manager = ctx.actor.is_account_manager
st.caption(
    "Sem servidor SMTP configurado, os e-mails do portal ficam aqui para demonstração. "
    + (
        "Como gestor de contas, você vê os e-mails de todos os destinatários."
        if manager
        else "Você vê somente os e-mails enviados para o seu endereço cadastrado."
    )
)

if manager and st.button("Reenviar e-mails com falha", icon=":material/send:", key="outbox_retry"):
    with user_errors():
        done = mail.mail_retry_failed(uow=ctx.uow(), actor=ctx.actor, now=now_utc())
        sent = sum(1 for d in done if d.delivered)
        if not done:
            st.info("Nenhum e-mail com falha para reenviar.")
        elif sent == len(done):
            st.success(f"{sent} e-mail(s) reenviado(s).")
        else:
            st.error(f"{sent} de {len(done)} e-mail(s) reenviado(s). {mail.MAIL_FAILED_MESSAGE}")

to = st.text_input("Filtrar por destinatário", placeholder="nome@empresa.com.br")
messages = mail.outbox_list(uow=ctx.uow(), actor=ctx.actor, limit=50, to=to.strip() or None)
if not messages:
    st.info("Nenhum e-mail na caixa de saída.")
    st.stop()
for m in messages:
    title = f"{format_datetime(m.created_at)} · {plain(m.to_address)} · {plain(m.subject)}"
    if m.status != "outbox":
        title += f" · {m.status_label}"
    with st.expander(title):
        if m.status == "failed":
            error = plain(m.last_error or "erro desconhecido")
            st.error(f"Falhou após {m.attempts} tentativa(s): {error}")
        st.text(m.body)
