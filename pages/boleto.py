"""Financeiro > 2ª via de boleto: PDF, typed line, PIX copy-and-paste and QR code, e-mail."""

import streamlit as st

from components.boleto_pdf import boleto_pdf, pix_qr_png
from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services import billing
from services.actors import Permission
from services.billing import payments
from services.mail.outbox import MAIL_FAILED_MESSAGE
from services.rules.formats import format_date, format_money, format_month

ctx = get_context(Permission.FINANCE)
today = today_local()
st.title("2ª via de boleto")
st.caption(plain(ctx.company.label))

payable = billing.invoice_list(
    uow=ctx.uow(), actor=ctx.actor, today=today, statuses=("open", "overdue")
)
if not payable:
    st.info("Não há faturas em aberto ou vencidas: nenhum boleto a emitir.")
    st.stop()
by_id = {inv.id: inv for inv in reversed(payable)}
chosen = st.selectbox(
    "Fatura",
    list(by_id),
    format_func=lambda i: (
        f"{format_month(by_id[i].billing_month)} · vence {format_date(by_id[i].due_date)} · "
        f"{format_money(by_id[i].amount)} · {by_id[i].status_label}"
    ),
    key="boleto_invoice",
)
view = None
with user_errors():
    view = payments.boleto_issue(uow=ctx.uow(), actor=ctx.actor, invoice_id=chosen, now=now_utc())
if view is None:
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Vencimento", format_date(view.due_date))
c2.metric("Valor cobrado", format_money(view.amount))
c3.metric("Nosso número", view.our_number)
if view.due_date < today:
    st.warning(
        f"Este boleto venceu em {format_date(view.due_date)}. Para pagar com multa e juros já "
        "calculados, emita um boleto atualizado."
    )
    st.page_link(
        "pages/overdue_update.py", label="Atualização de faturas vencidas", icon=":material/update:"
    )

pdf = boleto_pdf(view)
st.download_button(
    "Baixar boleto em PDF",
    data=pdf,
    file_name=view.file_name,
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
    type="primary",
)

st.subheader("Linha digitável")
st.code(view.typed_line_formatted, language=None)

st.subheader("PIX copia e cola")
qr_col, code_col = st.columns([1, 3])
qr_col.image(
    pix_qr_png(view.pix_payload),
    caption="QR Code PIX",
    alt="QR Code do PIX copia e cola desta fatura",
    width=220,
)
with code_col:
    st.code(view.pix_payload, language=None, wrap_lines=True)
    st.caption("Copie o código e cole no aplicativo do banco, em PIX > Copia e cola.")

st.subheader("Enviar por e-mail")
with st.form("boleto_email"):
    to = st.text_input("E-mail", value=view.payer_email, key="boleto_email_to")
    send = st.form_submit_button("Enviar por e-mail", icon=":material/send:")
if send:
    with user_errors():
        delivery = payments.boleto_send_email(
            uow=ctx.uow(),
            actor=ctx.actor,
            invoice_id=view.invoice_id,
            to=to,
            pdf=pdf,
            now=now_utc(),
        )
        if delivery.delivered:
            st.success(f"Boleto enviado para {plain(delivery.to_address)}.")
        else:
            st.error(MAIL_FAILED_MESSAGE)
