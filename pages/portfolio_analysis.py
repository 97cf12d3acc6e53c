"""Relatórios > Análise da carteira (gestores de contas): as medidas de utilização em
todas as empresas da carteira, ranking por sinistralidade e crescimento, comparação
livre de empresas ou períodos e tabela dinâmica com gráfico."""

import streamlit as st

from components import charts
from components import report_widgets as rw
from components.clock import today_local
from components.context import get_context
from components.errors import user_errors
from services.actors import Permission
from services.reports import analytics
from services.reports.beneficiaries import Period, UtilizationSelection

ctx = get_context(Permission.REPORTS)
if not ctx.actor.is_account_manager:
    st.error("A análise da carteira é exclusiva dos gestores de contas.")
    st.stop()
today = today_local()
st.title("Análise da carteira")

with user_errors():
    companies = rw.portfolio_companies(ctx)
    if not companies:
        st.info("Nenhuma empresa na sua carteira.")
        st.stop()
    labels = {c.id: c.label for c in companies}
    f1, f2 = st.columns([2, 3])
    with f1:
        period = rw.period_picker(today, key="pf_period")
    chosen = f2.multiselect(
        "Empresas",
        list(labels),
        format_func=labels.__getitem__,
        key="pf_companies",
        placeholder="Todas as empresas da carteira",
    )
    company_ids = tuple(chosen) or tuple(labels)
    scope = (
        "Todas as empresas da carteira" if not chosen else "; ".join(labels[c] for c in company_ids)
    )
    scope += f" ({len(company_ids)} empresa(s))"
    period_text = rw.format_period(period)

    def header(
        title: str, filters: str = "Nenhum", personal_data: bool | None = None
    ) -> rw.ExportHeader:
        return rw.export_header(
            title,
            scope=scope,
            period=period_text,
            filters=filters,
            actor=ctx.actor,
            personal_data=personal_data,
        )

    overview = rw.utilization_overview(ctx, period, company_ids)
    summary = overview.summary()
    rw.utilization_metrics(summary)

    section = (
        st.segmented_control(
            "Análise",
            [
                "Visão geral e ranking",
                "Comparação",
                "Tabela dinâmica",
                "Procedimentos, prestadores e beneficiários",
            ],
            default="Visão geral e ranking",
            key="pf_section",
        )
        or "Visão geral e ranking"
    )

    if section == "Visão geral e ranking":
        by_month = overview.by_month()
        left, right = st.columns(2)
        with left:
            st.subheader("Sinistralidade por mês")
            st.plotly_chart(charts.loss_ratio_by_month(by_month), key="pf_loss_chart")
            rw.download_buttons(
                by_month,
                header("Carteira: utilização e sinistralidade por mês"),
                file_stem="carteira_mensal",
                key="pf_month_dl",
            )
        with right:
            st.subheader("Por grupo de procedimento")
            by_group = overview.by_group()
            st.plotly_chart(
                charts.bar_chart(
                    list(by_group["Grupo"]),
                    list(by_group["Custo (R$)"]),
                    value_label="Custo (R$)",
                    horizontal=True,
                    money=True,
                ),
                key="pf_group_chart",
            )
            rw.download_buttons(
                by_group,
                header("Carteira: utilização por grupo"),
                file_stem="carteira_grupos",
                key="pf_group_dl",
            )

        st.subheader("Ranking das empresas")
        lives = rw.portfolio_lives(ctx, period, company_ids, today)
        ranking = analytics.portfolio_ranking(overview, lives, companies)
        order = st.radio(
            "Ordenar por",
            ["Sinistralidade (%)", "Crescimento de vidas (%)", "Crescimento do custo (%)"],
            horizontal=True,
            key="pf_rank_by",
        )
        ranking = analytics.sort_by(ranking, order)
        top = ranking.head(15)
        st.plotly_chart(
            charts.bar_chart(
                list(top["Empresa"]),
                list(top[order]),
                value_label=order,
                horizontal=True,
                percent=True,
                height=max(340, 26 * len(top)),
            ),
            key="pf_rank_chart",
        )
        st.caption(
            "Crescimento de vidas: ativos no último dia do período contra o primeiro. "
            "Crescimento do custo: a segunda metade dos meses do período contra a "
            "primeira."
        )
        rw.show_table(ranking, key="pf_rank_table")
        rw.download_buttons(
            ranking,
            header(f"Ranking das empresas por {order.lower()}"),
            file_stem="carteira_ranking",
            key="pf_rank_dl",
        )

    elif section == "Comparação":
        mode = st.radio("Comparar", ["Empresas", "Períodos"], horizontal=True, key="pf_cmp_mode")
        if mode == "Empresas":
            picked = st.multiselect(
                "Empresas a comparar (duas ou mais)",
                list(company_ids),
                default=list(company_ids[:2]),
                format_func=labels.__getitem__,
                key="pf_cmp_companies",
                max_selections=analytics.MAX_SERIES,
            )
            series = [analytics.CompareSeries(labels[c], (c,), period) for c in picked]
            filters = "Comparação de empresas no mesmo período"
        else:
            count = st.number_input(
                "Quantos períodos",
                min_value=2,
                max_value=analytics.MAX_SERIES,
                value=2,
                step=1,
                key="pf_cmp_count",
            )
            before, recent = analytics.default_compare_periods(today)
            series = []
            columns = st.columns(int(count))
            for k, column in enumerate(columns):
                with column:
                    default = [before, recent][k] if k < 2 else recent
                    p: Period = rw.period_picker(
                        today, key=f"pf_cmp_period_{k}", label=f"Período {k + 1}", default=default
                    )
                series.append(
                    analytics.CompareSeries(
                        f"Período {k + 1}: {rw.format_period(p)}", company_ids, p
                    )
                )
            filters = "Comparação de períodos nas mesmas empresas"
        if len(series) >= 2:
            compared = rw.utilization_compare(ctx, series)
            measure = st.selectbox(
                "Medida do gráfico", analytics.COMPARE_COLUMNS[2:], index=1, key="pf_cmp_measure"
            )
            st.plotly_chart(
                charts.comparison_chart(compared, label="Série", measure=measure),
                key="pf_cmp_chart",
            )
            rw.show_table(compared, key="pf_cmp_table")
            rw.download_buttons(
                compared,
                header("Comparação", filters),
                file_stem="carteira_comparacao",
                key="pf_cmp_dl",
            )
        else:
            st.info("Escolha ao menos duas empresas para comparar.")

    elif section == "Tabela dinâmica":
        dims = analytics.DIMENSIONS
        measures = analytics.MEASURES
        c1, c2, c3 = st.columns(3)
        rows = c1.selectbox("Linhas", list(dims), format_func=dims.__getitem__, key="pf_pv_rows")
        col_options = [None, *[d for d in dims if d != rows]]
        default_col = col_options.index("month") if "month" in col_options else 0
        cols = c2.selectbox(
            "Colunas",
            col_options,
            index=default_col,
            format_func=lambda d: "(nenhuma)" if d is None else dims[d],
            key="pf_pv_cols",
        )
        pv_measure = c3.selectbox(
            "Medida", list(measures), format_func=measures.__getitem__, key="pf_pv_measure"
        )
        if rows is None or pv_measure is None:
            st.stop()
        groups = st.multiselect(
            "Grupos de procedimento",
            sorted(set(overview.usage["group"])),
            key="pf_pv_groups",
            placeholder="Todos",
        )
        request = analytics.PivotRequest(
            rows=rows,
            columns=cols,
            measure=pv_measure,
            period=period,
            company_ids=company_ids,
            groups=tuple(groups),
        )
        result = rw.utilization_pivot(ctx, request)
        title = f"{measures[pv_measure]} por {dims[rows].lower()}" + (
            f" e {dims[cols].lower()}" if cols else ""
        )
        st.subheader(title)
        fig = charts.pivot_chart(
            result.table,
            row_label=result.row_label,
            column_label=result.column_label,
            measure=result.measure_label,
        )
        st.plotly_chart(fig, key="pf_pv_chart")
        rw.show_table(result.table, key="pf_pv_table")
        filters = "Grupos: " + ", ".join(groups) if groups else "Nenhum"
        rw.download_buttons(
            result.table,
            header(f"Tabela dinâmica: {title}", filters),
            file_stem="carteira_tabela_dinamica",
            key="pf_pv_dl",
            extra=lambda: rw.chart_download(
                fig, file_stem="carteira_tabela_dinamica_grafico", key="pf_pv_chart_dl"
            ),
        )

    else:
        top = st.segmented_control("Quantos mostrar", [10, 20, 50], default=10, key="pf_top") or 10
        everything = UtilizationSelection()
        st.subheader("Por procedimento (TUSS)")
        by_procedure = rw.utilization_detail(
            ctx, "procedure", period, everything, company_ids=company_ids
        )
        rw.show_table(by_procedure, key="pf_proc_table")
        rw.download_buttons(
            by_procedure,
            header("Carteira: utilização por procedimento"),
            file_stem="carteira_procedimentos",
            key="pf_proc_dl",
        )
        left, right = st.columns(2)
        with left:
            st.subheader("Prestadores")
            by_provider = rw.utilization_detail(
                ctx, "provider", period, everything, top=top, company_ids=company_ids
            )
            rw.cost_ranking_chart(by_provider, "Prestador", key="pf_provider_chart")
            rw.download_buttons(
                by_provider,
                header(f"Carteira: os {top} prestadores"),
                file_stem="carteira_prestadores",
                key="pf_provider_dl",
            )
        with right:
            st.subheader("Beneficiários")
            by_beneficiary = rw.utilization_detail(
                ctx, "beneficiary", period, everything, top=top, company_ids=company_ids
            )
            rw.cost_ranking_chart(by_beneficiary, "Nome", key="pf_beneficiary_chart")
            rw.download_buttons(
                by_beneficiary,
                header(
                    f"Carteira: os {top} beneficiários", "Nenhum", ctx.can(Permission.PERSONAL_DATA)
                ),
                file_stem="carteira_beneficiarios",
                key="pf_beneficiary_dl",
            )
        rw.show_table(by_beneficiary, key="pf_beneficiary_table")
