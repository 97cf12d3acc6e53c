"""Relatórios > Utilização: procedimentos e custos por mês, grupo, procedimento TUSS,
prestador e beneficiário; sinistralidade por mês. Clicar numa barra filtra o que vem
abaixo; cada gráfico baixa os dados que o desenham."""

from datetime import date

import streamlit as st

from components import charts
from components import report_widgets as rw
from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from components.safe_text import plain
from services.actors import Permission
from services.reports.beneficiaries import UtilizationSelection

ctx = get_context(Permission.REPORTS)
today = today_local()
st.title("Utilização")
st.caption(
    f"{plain(ctx.company.label)} · procedimentos odontológicos realizados pelos beneficiários"
)

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

    by_month = overview.by_month()
    left, right = st.columns(2)
    with left:
        st.subheader("Custo e procedimentos por mês")
        month_event = st.plotly_chart(
            charts.cost_by_month(by_month),
            key="util_month_chart",
            on_select="rerun",
            selection_mode="points",
        )
        st.caption("Clique num mês para ver só ele nos gráficos abaixo.")
    with right:
        st.subheader("Sinistralidade por mês")
        st.plotly_chart(charts.loss_ratio_by_month(by_month), key="util_loss_chart")
    rw.download_buttons(
        by_month,
        header("Utilização e sinistralidade por mês"),
        file_stem=f"utilizacao_mensal_{ctx.company.code}",
        key="util_month_dl",
    )

    picked_month = rw.clicked(month_event)
    selection = UtilizationSelection(
        month=date.fromisoformat(picked_month[:10]) if picked_month else None
    )

    st.subheader("Por grupo de procedimento")
    by_group = overview.by_group(selection.month)
    group_event = st.plotly_chart(
        charts.bar_chart(
            list(by_group["Grupo"]),
            list(by_group["Custo (R$)"]),
            value_label="Custo (R$)",
            keys=list(by_group["Grupo"]),
            horizontal=True,
            money=True,
        ),
        key="util_group_chart",
        on_select="rerun",
        selection_mode="points",
    )
    rw.download_buttons(
        by_group,
        header("Utilização por grupo de procedimento", selection),
        file_stem=f"utilizacao_grupos_{ctx.company.code}",
        key="util_group_dl",
    )
    picked_group = rw.clicked(group_event, axis="y")
    if picked_group in set(by_group["Grupo"]):
        selection = UtilizationSelection(month=selection.month, procedure_group=picked_group)

    st.subheader("Por procedimento (TUSS)")
    by_procedure = rw.utilization_detail(ctx, "procedure", period, selection)
    top_procedures = by_procedure.head(15)
    procedure_event = st.plotly_chart(
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
        key="util_procedure_chart",
        on_select="rerun",
        selection_mode="points",
    )
    st.caption(
        f"Filtro dos gráficos: {plain(rw.describe_selection(selection))}. Clique numa barra "
        "para filtrar; clique fora das barras (ou duas vezes) para limpar."
    )
    rw.show_table(by_procedure, key="util_procedure_table")
    rw.download_buttons(
        by_procedure,
        header("Utilização por procedimento TUSS", selection),
        file_stem=f"utilizacao_procedimentos_{ctx.company.code}",
        key="util_procedure_dl",
    )
    picked_code = rw.clicked(procedure_event)
    if picked_code in set(by_procedure["Código TUSS"]):
        selection = UtilizationSelection(
            month=selection.month, procedure_group=selection.procedure_group, tuss_code=picked_code
        )

    top = st.segmented_control("Quantos mostrar", [10, 20, 50], default=10, key="util_top")
    top = top or 10
    left, right = st.columns(2)
    with left:
        st.subheader("Prestadores")
        by_provider = rw.utilization_detail(ctx, "provider", period, selection, top=top)
        st.plotly_chart(
            charts.bar_chart(
                list(by_provider["Prestador"]),
                list(by_provider["Custo (R$)"]),
                value_label="Custo (R$)",
                horizontal=True,
                money=True,
                height=max(340, 24 * len(by_provider)),
            ),
            key="util_provider_chart",
        )
        rw.download_buttons(
            by_provider,
            header(f"Os {top} prestadores de maior custo", selection),
            file_stem=f"utilizacao_prestadores_{ctx.company.code}",
            key="util_provider_dl",
        )
    with right:
        st.subheader("Beneficiários")
        by_beneficiary = rw.utilization_detail(ctx, "beneficiary", period, selection, top=top)
        st.plotly_chart(
            charts.bar_chart(
                list(by_beneficiary["Nome"]),
                list(by_beneficiary["Custo (R$)"]),
                value_label="Custo (R$)",
                horizontal=True,
                money=True,
                height=max(340, 24 * len(by_beneficiary)),
            ),
            key="util_beneficiary_chart",
        )
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
    st.caption(f"Filtro de prestadores e beneficiários: {plain(rw.describe_selection(selection))}.")
    if not ctx.can(Permission.PERSONAL_DATA):
        st.caption("CPF mascarado (LGPD).")
    rw.show_table(by_beneficiary, key="util_beneficiary_table")
