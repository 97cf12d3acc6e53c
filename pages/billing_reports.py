"""Financeiro > Relatórios de faturamento: by month, plan and beneficiary, with downloads."""

import pandas as pd
import streamlit as st

from components import charts
from components.context import get_context, now_utc
from components.errors import user_errors
from components.safe_text import plain
from services import billing, exports
from services.actors import Permission
from services.rules.formats import format_money, format_month, format_month_numeric

ctx = get_context(Permission.FINANCE)
st.title("Relatórios de faturamento")
st.caption(plain(ctx.company.label))

options = billing.billing_report_options(uow=ctx.uow(), actor=ctx.actor)
if not options.months:
    st.info("Esta empresa ainda não tem faturas.")
    st.stop()
months = options.months
c1, c2, c3 = st.columns([1, 1, 2])
start = c1.selectbox(
    "De (competência)",
    months,
    index=months.index(options.default_start) if options.default_start in months else 0,
    format_func=format_month,
    key="report_start",
)
end = c2.selectbox(
    "Até (competência)", months, index=len(months) - 1, format_func=format_month, key="report_end"
)
plan_names = {p.id: p.name for p in options.plans}
plans = c3.multiselect(
    "Planos",
    list(plan_names),
    format_func=plan_names.__getitem__,
    placeholder="Todos os planos",
    key="report_plans",
)
centres: list[int] = []
if options.cost_centres:  # only when the company keeps cost centres
    centres = st.multiselect(
        "Centros de custo",
        list(options.cost_centres),
        format_func=lambda i: plain(options.cost_centres[i]),
        placeholder="Todos os centros de custo",
        help="O dependente está no centro de custo do titular (o de hoje).",
        key="report_cost_centres",
    )
if start is None or end is None:
    st.stop()
found: billing.BillingReport | None = None
with user_errors():
    found = billing.billing_report(
        uow=ctx.uow(),
        actor=ctx.actor,
        start=start,
        end=end,
        plan_ids=plans or None,
        cost_centre_ids=centres or None,
    )
if found is None:
    st.stop()
report: billing.BillingReport = found

st.metric("Total faturado no período", format_money(report.total))
generated_at = now_utc()
stem = f"faturamento_{ctx.company.code}_{report.start:%Y-%m}_{report.end:%Y-%m}"
st.download_button(
    "Baixar relatório completo (xlsx)",
    data=lambda: billing.billing_report_download(
        report, "xlsx", company_label=ctx.company.label, generated_at=generated_at
    ),
    file_name=f"{stem}.xlsx",
    mime=exports.XLSX_MIME,
    on_click="ignore",
    icon=":material/download:",
)


def _money_table(df: pd.DataFrame) -> pd.DataFrame:  # formatting for display only
    shown = df.copy()
    for column in shown.columns:
        if column in ("Mensalidades", "Retroativos e diferenças", "Total"):
            shown[column] = [format_money(v) for v in shown[column]]
        if column == "Competência":
            shown[column] = [format_month_numeric(m) for m in shown[column]]
    return shown


def _csv_button(view: str) -> None:
    st.download_button(
        "Baixar CSV",
        data=lambda: billing.billing_report_download(
            report, "csv", company_label=ctx.company.label, generated_at=generated_at, view=view
        ),
        file_name=f"{stem}_{view}.csv",
        mime=exports.CSV_MIME,
        on_click="ignore",
        icon=":material/download:",
        key=f"report_csv_{view}",
    )


views = ["Por mês", "Por plano", "Por beneficiário"]
by_centre = report.by_cost_centre
tabs = st.tabs(views if by_centre is None else [*views, "Por centro de custo"])
tab_month, tab_plan, tab_person = tabs[:3]
with tab_month:
    if report.by_month.empty:
        st.info("Nada faturado no período com esses filtros.")
    else:
        st.plotly_chart(charts.billing_by_month(report.by_month), width="stretch")
        st.dataframe(_money_table(report.by_month), hide_index=True, width="stretch")
        _csv_button("month")
with tab_plan:
    st.dataframe(_money_table(report.by_plan), hide_index=True, width="stretch")
    _csv_button("plan")
with tab_person:
    st.dataframe(_money_table(report.by_beneficiary), hide_index=True, width="stretch")
    _csv_button("beneficiary")
if by_centre is not None:
    with tabs[3]:
        st.dataframe(_money_table(by_centre), hide_index=True, width="stretch")
        st.caption("Cada titular com os seus dependentes, no centro de custo do titular hoje.")
        _csv_button("cost_centre")
