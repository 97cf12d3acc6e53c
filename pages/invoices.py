"""Financeiro > Faturas: the invoices of a year, their chart, each one's lines, downloads."""

import streamlit as st

from components import charts
from components.clock import today_local
from components.context import get_context, now_utc
from components.safe_text import plain
from services import billing, exports
from services.actors import Permission
from services.billing.invoices import COST_CENTRE_COLUMN
from services.rules.billing import LINE_KIND_LABELS
from services.rules.formats import (
    format_date,
    format_int,
    format_money,
    format_month,
    format_month_numeric,
)

ctx = get_context(Permission.FINANCE)
today = today_local()
st.title("Faturas")
st.caption(plain(ctx.company.label))

years = billing.invoice_years(uow=ctx.uow(), actor=ctx.actor)
if not years:
    st.info("Esta empresa ainda não tem faturas.")
    st.stop()
year = st.selectbox("Ano", years, key="invoices_year")
invoices = billing.invoice_list(uow=ctx.uow(), actor=ctx.actor, today=today, year=year)
if not invoices:
    st.info(f"Não há faturas em {year}.")
    st.stop()

st.dataframe(
    [
        {
            "Competência": format_month_numeric(inv.billing_month),
            "Vencimento": format_date(inv.due_date),
            "Valor": format_money(inv.amount),
            "Situação": inv.status_label,
            "Pago em": format_date(inv.paid_on) if inv.paid_on else "",
        }
        for inv in invoices
    ],
    hide_index=True,
    width="stretch",
)
st.plotly_chart(charts.invoices_by_month(invoices), width="stretch", key="invoices_chart")

st.subheader("Detalhe da fatura")
by_id = {inv.id: inv for inv in reversed(invoices)}
chosen = st.selectbox(
    "Fatura",
    list(by_id),
    format_func=lambda i: (
        f"{format_month(by_id[i].billing_month)} · {format_money(by_id[i].amount)} · "
        f"{by_id[i].status_label}"
    ),
    key="invoices_detail",
)
detail = billing.invoice_detail(uow=ctx.uow(), actor=ctx.actor, invoice_id=chosen, today=today)
inv = detail.invoice
c1, c2, c3, c4 = st.columns(4)
c1.metric("Valor da fatura", format_money(inv.amount))
c2.metric("Mensalidades", format_money(detail.monthly_total))
c3.metric(
    "Ajustes",
    format_money(detail.adjustments_total),
    help="Retroativos de meses cobertos e não cobrados, créditos de meses cobrados sem "
    "cobertura e diferenças de plano, cada um com a sua competência de referência.",
)
c4.metric("Beneficiários", format_int(detail.beneficiaries))
st.caption(
    f"Competência {format_month_numeric(inv.billing_month)} · "
    f"vencimento {format_date(inv.due_date)} · {inv.status_label}"
    + (f" em {format_date(inv.paid_on)}" if inv.paid_on else "")
)
shown = detail.lines
split = detail.by_cost_centre
if split is not None:  # the company keeps cost centres: filter (and split, below) by them
    centre = st.selectbox(
        "Centro de custo",
        list(split[COST_CENTRE_COLUMN]),
        index=None,
        format_func=plain,
        placeholder="Todos os centros de custo",
        help="O dependente está no centro de custo do titular (o de hoje).",
        key="invoices_cost_centre",
    )
    if centre is not None:
        shown = shown[shown[COST_CENTRE_COLUMN] == centre]
monthly_labels = {LINE_KIND_LABELS[k] for k in billing.MONTHLY_KINDS}
if st.toggle(
    "Só ajustes",
    key="invoices_adjustments_only",
    help="Mostra só retroativos, créditos e diferenças de plano.",
):
    shown = shown[~shown["Tipo"].isin(monthly_labels)]
lines = shown.assign(
    **{
        "Competência de referência": [
            format_month_numeric(d) for d in shown["Competência de referência"]
        ],
        "Valor": [format_money(v) for v in shown["Valor"]],
    }
)
st.dataframe(lines, hide_index=True, width="stretch", height=360)
st.markdown("**Totais por tipo de lançamento**")
st.dataframe(
    detail.by_kind.assign(Valor=[format_money(v) for v in detail.by_kind["Valor"]]),
    hide_index=True,
    width="stretch",
    key="invoices_by_kind",
)
if split is not None:
    st.markdown("**Totais por centro de custo**")
    st.dataframe(
        split.assign(Valor=[format_money(v) for v in split["Valor"]]),
        hide_index=True,
        width="stretch",
        key="invoices_by_cost_centre",
    )

generated_at = now_utc()
stem = f"fatura_{ctx.company.code}_{inv.billing_month:%Y-%m}"
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button(
    "Baixar planilha (xlsx)",
    help=None if split is None else "Uma aba com todas as linhas e uma por centro de custo.",
    data=lambda: billing.invoice_download(detail, "xlsx", generated_at=generated_at),
    file_name=f"{stem}.xlsx",
    mime=exports.XLSX_MIME,
    on_click="ignore",
    icon=":material/download:",
)
d2.download_button(
    "Baixar CSV",
    data=lambda: billing.invoice_download(detail, "csv", generated_at=generated_at),
    file_name=f"{stem}.csv",
    mime=exports.CSV_MIME,
    on_click="ignore",
    icon=":material/download:",
)
if inv.payable:
    st.page_link("pages/boleto.py", label="2ª via do boleto", icon=":material/barcode:")
