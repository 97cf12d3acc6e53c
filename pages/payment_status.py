"""Financeiro > Situação de pagamentos: what was paid, what is open or overdue, totals."""

import streamlit as st

from components.clock import today_local
from components.context import get_context
from components.safe_text import plain
from services import billing
from services.actors import Permission
from services.billing import payments
from services.rules.formats import format_date, format_money, format_month_numeric

ctx = get_context(Permission.FINANCE)
today = today_local()
st.title("Situação de pagamentos")
st.caption(plain(ctx.company.label))

ALL = "Todos"
years = billing.invoice_years(uow=ctx.uow(), actor=ctx.actor)
year = st.selectbox("Ano (competência)", [ALL, *years], key="payments_year")
status = payments.payment_status(
    uow=ctx.uow(), actor=ctx.actor, today=today, year=year if isinstance(year, int) else None
)

c1, c2, c3 = st.columns(3)
c1.metric("Pago", format_money(status.paid_total), help=f"{len(status.paid)} pagamento(s)")
c2.metric("A vencer", format_money(status.open_total), help=f"{len(status.open)} fatura(s)")
c3.metric("Vencido", format_money(status.overdue_total), help=f"{len(status.overdue)} fatura(s)")

st.subheader("Vencidas")
if status.overdue:
    st.dataframe(
        [
            {
                "Competência": format_month_numeric(r.billing_month),
                "Vencimento": format_date(r.due_date),
                "Valor": format_money(r.amount),
            }
            for r in status.overdue
        ],
        hide_index=True,
        width="stretch",
    )
    st.page_link(
        "pages/overdue_update.py", label="Atualizar fatura vencida", icon=":material/update:"
    )
else:
    st.caption("Nenhuma fatura vencida.")

st.subheader("Em aberto")
if status.open:
    st.dataframe(
        [
            {
                "Competência": format_month_numeric(r.billing_month),
                "Vencimento": format_date(r.due_date),
                "Valor": format_money(r.amount),
            }
            for r in status.open
        ],
        hide_index=True,
        width="stretch",
    )
    st.page_link("pages/boleto.py", label="2ª via de boleto", icon=":material/barcode:")
else:
    st.caption("Nenhuma fatura a vencer.")

st.subheader("Pagas")
if status.paid:
    st.dataframe(
        [
            {
                "Competência": format_month_numeric(p.billing_month),
                "Vencimento": format_date(p.due_date),
                "Pago em": format_date(p.paid_on),
                "Valor pago": format_money(p.amount),
                "Multa e juros": format_money(p.charges),
                "Crédito em": format_date(p.credited_on),
                "Meio": p.method_label,
            }
            for p in status.paid
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("Nenhum pagamento no período.")
