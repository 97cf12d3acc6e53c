"""Financeiro > Atualização de faturas vencidas: new date, fine and interest, new boleto."""

import streamlit as st

from components.boleto_pdf import boleto_pdf
from components.clock import today_local
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.billing import payments
from services.rules.formats import format_date, format_money, format_month, format_weekday

ctx = get_context(Permission.FINANCE)
today = today_local()
st.title("Atualização de faturas vencidas")
st.caption(plain(ctx.company.label))

overdue = payments.overdue_invoice_list(uow=ctx.uow(), actor=ctx.actor, today=today)
if not overdue:
    st.info("Não há faturas vencidas em aberto.")
    st.stop()
by_id = {o.invoice.id: o for o in overdue}
chosen = st.selectbox(
    "Fatura vencida",
    list(by_id),
    format_func=lambda i: (
        f"{format_month(by_id[i].invoice.billing_month)} · venceu "
        f"{format_date(by_id[i].invoice.due_date)} · {format_money(by_id[i].invoice.amount)}"
    ),
    key="overdue_invoice",
)
item = by_id[chosen]
st.caption(
    f"Vencimento original {format_date(item.invoice.due_date)} · atualização possível até "
    f"{format_date(item.limit_date)}"
    + (
        f" · boleto vigente vence em {format_date(item.active_boleto_due)} "
        f"({format_money(item.active_boleto_amount)})"
        if item.active_boleto_due
        else ""
    )
)
if not item.payment_dates:
    st.warning(
        "O prazo do contrato para atualizar esta fatura terminou. Abra um protocolo em "
        "Protocolos para negociar o pagamento."
    )
    st.stop()
pay_date = st.selectbox(
    "Nova data de pagamento",
    item.payment_dates,
    format_func=lambda d: f"{format_date(d)} ({format_weekday(d)})",
    key="overdue_pay_date",
    help="Somente dias úteis, dentro do prazo do contrato.",
)
quote = None
with user_errors():
    quote = payments.overdue_quote(
        uow=ctx.uow(), actor=ctx.actor, invoice_id=chosen, pay_date=pay_date, today=today
    )
if quote is None:
    st.stop()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Valor original", format_money(quote.amount))
c2.metric("Multa", format_money(quote.fine))
c3.metric("Juros", format_money(quote.interest), help=f"{quote.days_late} dia(s) de atraso")
c4.metric("Novo total", format_money(quote.total))
if quote.days_late == 0:
    st.caption(
        "Sem multa nem juros: o vencimento caiu em dia não útil e o pagamento é no dia útil "
        "seguinte (Lei 7.089/1983)."
    )

if st.button("Emitir novo boleto", type="primary", key="overdue_issue"):
    with user_errors():
        result = payments.overdue_reissue(
            uow=ctx.uow(), actor=ctx.actor, invoice_id=chosen, pay_date=pay_date, now=now_utc()
        )
        st.success(
            f"Novo boleto emitido: {format_money(result.quote.total)} com vencimento em "
            f"{format_date(result.boleto.due_date)}. Protocolo nº {result.protocol_number}."
        )
        st.markdown("**Linha digitável**")
        st.code(result.boleto.typed_line_formatted, language=None)
        st.markdown("**PIX copia e cola**")
        st.code(result.boleto.pix_payload, language=None, wrap_lines=True)
        st.download_button(
            "Baixar novo boleto em PDF",
            data=boleto_pdf(result.boleto),
            file_name=result.boleto.file_name,
            mime="application/pdf",
            on_click="ignore",
            icon=":material/picture_as_pdf:",
        )
