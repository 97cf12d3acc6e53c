"""Relatórios > Utilização: procedimentos e custos por mês, grupo, procedimento TUSS,
prestador e beneficiário; sinistralidade por mês. Clicar numa barra filtra as outras
abas (mês → grupo → procedimento → prestadores e beneficiários); cada gráfico baixa os
dados que o desenham. Só a aba aberta é montada e desenhada."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import streamlit as st

from components import charts
from components import report_widgets as rw
from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.reports.beneficiaries import UtilizationSelection

FILTER_KEY = "util_filter"  # what the chart clicks chose: {"month", "group", "tuss"}
LEVELS = ("month", "group", "tuss")  # a click at one level clears the levels below it
CHARTS_KEY = "util_charts"  # bumped by "Limpar filtro": the charts start unselected


def chart_key(name: str) -> str:
    return f"util_{name}_chart_{st.session_state.get(CHARTS_KEY, 0)}"


def remember(level: str, name: str, axis: str = "x") -> None:
    """A chart's click, kept in FILTER_KEY: the other tabs read it while this chart is
    not drawn (a widget that is not drawn loses its state)."""
    chosen = dict(st.session_state.get(FILTER_KEY) or {})
    chosen[level] = rw.clicked(st.session_state.get(chart_key(name)), axis=axis)
    for deeper in LEVELS[LEVELS.index(level) + 1 :]:
        chosen[deeper] = None
    st.session_state[FILTER_KEY] = chosen


def clear_filter() -> None:
    st.session_state[FILTER_KEY] = {}
    st.session_state[CHARTS_KEY] = st.session_state.get(CHARTS_KEY, 0) + 1


ctx = get_context(Permission.REPORTS)
today = today_local()
st.title("Utilização")
st.caption(
    f"{plain(ctx.company.label)} · procedimentos odontológicos realizados pelos beneficiários"
)

tabs: Sequence[Any] = ()  # drawn once the period and the overview are known
with user_errors():
    period = rw.period_picker(today, key="util_period")
    overview = rw.utilization_overview(ctx, period)
    summary = overview.summary()
    scope = f"{ctx.company.label} ({ctx.company.document_type} {ctx.company.document_formatted})"
    period_text = rw.format_period(period)

    rw.utilization_metrics(summary)
    if summary.procedures == 0:
        st.info("Nenhum procedimento realizado neste período.")
        st.stop()

    def header(
        title: str, selection: UtilizationSelection | None = None, personal_data: bool | None = None
    ) -> rw.ExportHeader:
        filters = rw.describe_selection(selection) if selection else "Nenhum"
        return rw.export_header(
            title,
            scope=scope,
            period=period_text,
            filters=filters,
            actor=ctx.actor,
            personal_data=personal_data,
        )

    chosen = st.session_state.get(FILTER_KEY) or {}
    month_text = chosen.get("month")
    selection = UtilizationSelection(
        month=date.fromisoformat(month_text[:10]) if month_text else None,
        procedure_group=chosen.get("group"),
        tuss_code=chosen.get("tuss"),
    )
    filter_col, clear_col = st.columns([5, 1], vertical_alignment="center")
    filter_col.caption(
        f"Filtro dos gráficos: {plain(rw.describe_selection(selection))}. Clique numa barra "
        "para filtrar as outras abas; clique fora das barras (ou duas vezes) para limpar."
    )
    clear_col.button(
        "Limpar filtro",
        key="util_clear",
        icon=":material/filter_alt_off:",
        on_click=clear_filter,
        disabled=selection == UtilizationSelection(),
    )

    tabs = st.tabs(
        ["Por mês", "Por procedimento", "Prestadores e beneficiários"],
        key="util_view",
        on_change="rerun",
    )
if not tabs:
    st.stop()  # the error is on the screen
month_tab, procedure_tab, people_tab = tabs

if month_tab.open:
    with month_tab, user_errors():
        by_month = overview.by_month()
        left, right = st.columns(2)
        with left:
            st.subheader("Custo e procedimentos por mês")
            st.plotly_chart(
                charts.cost_by_month(by_month),
                key=chart_key("month"),
                on_select=lambda: remember("month", "month"),
                selection_mode="points",
            )
            st.caption("Clique num mês para ver só ele nas outras abas.")
        with right:
            st.subheader("Sinistralidade por mês")
            st.plotly_chart(charts.loss_ratio_by_month(by_month), key="util_loss_chart")
        rw.download_buttons(
            by_month,
            header("Utilização e sinistralidade por mês"),
            file_stem=f"utilizacao_mensal_{ctx.company.code}",
            key="util_month_dl",
        )

if procedure_tab.open:
    with procedure_tab, user_errors():
        st.subheader("Por grupo de procedimento")
        month_only = UtilizationSelection(month=selection.month)
        by_group = overview.by_group(selection.month)
        st.plotly_chart(
            charts.bar_chart(
                list(by_group["Grupo"]),
                list(by_group["Custo (R$)"]),
                value_label="Custo (R$)",
                keys=list(by_group["Grupo"]),
                horizontal=True,
                money=True,
            ),
            key=chart_key("group"),
            on_select=lambda: remember("group", "group", axis="y"),
            selection_mode="points",
        )
        rw.download_buttons(
            by_group,
            header("Utilização por grupo de procedimento", month_only),
            file_stem=f"utilizacao_grupos_{ctx.company.code}",
            key="util_group_dl",
        )

        st.subheader("Por procedimento (TUSS)")
        group_only = UtilizationSelection(
            month=selection.month, procedure_group=selection.procedure_group
        )
        by_procedure = rw.utilization_detail(ctx, "procedure", period, group_only)
        top_procedures = by_procedure.head(15)
        st.plotly_chart(
            charts.bar_chart(
                [
                    f"{c} · {n}"
                    for c, n in zip(
                        top_procedures["Código TUSS"], top_procedures["Procedimento"], strict=True
                    )
                ],
                list(top_procedures["Custo (R$)"]),
                value_label="Custo (R$)",
                keys=list(top_procedures["Código TUSS"]),
                horizontal=True,
                money=True,
                height=max(340, 26 * len(top_procedures)),
            ),
            key=chart_key("procedure"),
            on_select=lambda: remember("tuss", "procedure"),
            selection_mode="points",
        )
        rw.show_table(by_procedure, key="util_procedure_table")
        rw.download_buttons(
            by_procedure,
            header("Utilização por procedimento TUSS", group_only),
            file_stem=f"utilizacao_procedimentos_{ctx.company.code}",
            key="util_procedure_dl",
        )

if people_tab.open:
    with people_tab, user_errors():
        top = st.segmented_control("Quantos mostrar", [10, 20, 50], default=10, key="util_top")
        top = top or 10
        left, right = st.columns(2)
        with left:
            st.subheader("Prestadores")
            by_provider = rw.utilization_detail(ctx, "provider", period, selection, top=top)
            rw.cost_ranking_chart(by_provider, "Prestador", key="util_provider_chart")
            rw.download_buttons(
                by_provider,
                header(f"Os {top} prestadores de maior custo", selection),
                file_stem=f"utilizacao_prestadores_{ctx.company.code}",
                key="util_provider_dl",
            )
        with right:
            st.subheader("Beneficiários")
            by_beneficiary = rw.utilization_detail(ctx, "beneficiary", period, selection, top=top)
            rw.cost_ranking_chart(by_beneficiary, "Nome", key="util_beneficiary_chart")
            rw.download_buttons(
                by_beneficiary,
                header(
                    f"Os {top} beneficiários de maior custo",
                    selection,
                    ctx.can(Permission.PERSONAL_DATA),
                ),
                file_stem=f"utilizacao_beneficiarios_{ctx.company.code}",
                key="util_beneficiary_dl",
            )
        if not ctx.can(Permission.PERSONAL_DATA):
            st.caption("CPF mascarado (LGPD).")
        rw.show_table(by_beneficiary, key="util_beneficiary_table")
