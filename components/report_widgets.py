"""Report widgets: filters and a period picker that return values, cached report
loaders, tables, chart clicks, and downloads (xlsx and csv whose first rows state the
report, the company, the period and the filters applied).

Cached loaders key on the company id(s), the user id and whether the user sees personal
data, with a ttl: one company's (or one user's) numbers never serve another. They also key
on the companies' data version (`data_version`, read from the database on every call), so
a change committed by any process (another replica behind the proxy, a queue worker)
shows at once, without clearing any cache (the loaders' `version` argument is only that
part of the key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

import pandas as pd
import streamlit as st

from components import charts
from components.context import Context, new_uow, now_utc
from components.safe_text import plain
from services import exports
from services.actors import Actor, Permission
from services.audit import companies_data_version
from services.reports import analytics
from services.reports import beneficiaries as reports
from services.reports.beneficiaries import (
    INACTIVE,
    BeneficiaryFilters,
    BeneficiaryOptions,
    Period,
    UtilizationSelection,
)
from services.rules.formats import (
    format_date,
    format_datetime,
    format_int,
    format_money,
    format_month_numeric,
    format_month_short,
    format_percent,
)

TTL = 300
ALL = "Todos"

# ---------------------------------------------------------------- formatting


def format_period(period: Period) -> str:
    last_day = period.end_exclusive - timedelta(days=1)
    return f"{format_date(period.start)} a {format_date(last_day)}"


# ---------------------------------------------------------------- cached loaders


def _personal(actor: Actor) -> bool:
    return actor.can(Permission.PERSONAL_DATA)


DataVersion = int


def data_version(company_ids: Iterable[int]) -> DataVersion:
    """The cache key that moves, on every process, when the companies' data changes
    (services.audit.companies_data_version)."""
    return companies_data_version(uow=new_uow(), company_ids=company_ids)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def _beneficiary_options(
    company_id: int, user_id: int, version: DataVersion, _actor: Actor
) -> BeneficiaryOptions:
    return reports.beneficiary_options(uow=new_uow(company_id), actor=_actor)


def beneficiary_options(ctx: Context) -> BeneficiaryOptions:
    return _beneficiary_options(
        ctx.company_id, ctx.actor.user_id, data_version([ctx.company_id]), ctx.actor
    )


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def _beneficiary_report(
    company_id: int,
    user_id: int,
    personal: bool,
    status: str,
    filters: BeneficiaryFilters,
    today: date,
    version: DataVersion,
    _actor: Actor,
) -> reports.BeneficiaryReport:
    return reports.beneficiary_report(
        uow=new_uow(company_id), actor=_actor, status=status, filters=filters, today=today
    )


def beneficiary_report(
    ctx: Context, *, status: str, filters: BeneficiaryFilters, today: date
) -> reports.BeneficiaryReport:
    return _beneficiary_report(
        ctx.company_id,
        ctx.actor.user_id,
        _personal(ctx.actor),
        status,
        filters,
        today,
        data_version([ctx.company_id]),
        ctx.actor,
    )


def _ids(company_ids: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if company_ids is None else tuple(sorted(company_ids))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def _overview(
    company_id: int | None,
    company_ids: tuple[int, ...] | None,
    user_id: int,
    period: Period,
    version: DataVersion,
    _actor: Actor,
) -> reports.UtilizationOverview:
    return reports.utilization_overview(
        uow=new_uow(company_id), actor=_actor, period=period, company_ids=company_ids
    )


def _scope_key(ctx: Context, company_ids: Sequence[int] | None) -> int | None:
    # The company in context matters only when no portfolio companies are given.
    return ctx.company_id if company_ids is None else None


def _scope_version(ctx: Context, company_ids: Sequence[int] | None) -> DataVersion:
    return data_version([ctx.company_id] if company_ids is None else company_ids)


def utilization_overview(
    ctx: Context, period: Period, company_ids: Sequence[int] | None = None
) -> reports.UtilizationOverview:
    """Company in context, or the chosen portfolio companies when `company_ids` is given."""
    return _overview(
        _scope_key(ctx, company_ids),
        _ids(company_ids),
        ctx.actor.user_id,
        period,
        _scope_version(ctx, company_ids),
        ctx.actor,
    )


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=128)
def _detail(
    kind: str,
    company_id: int | None,
    company_ids: tuple[int, ...] | None,
    user_id: int,
    personal: bool,
    period: Period,
    selection: UtilizationSelection,
    top: int,
    version: DataVersion,
    _actor: Actor,
) -> pd.DataFrame:
    uow = new_uow(company_id)
    if kind == "procedure":
        return reports.utilization_by_procedure(
            uow=uow, actor=_actor, period=period, selection=selection, company_ids=company_ids
        )
    if kind == "provider":
        return reports.utilization_by_provider(
            uow=uow,
            actor=_actor,
            period=period,
            selection=selection,
            top=top,
            company_ids=company_ids,
        )
    return reports.utilization_by_beneficiary(
        uow=uow, actor=_actor, period=period, selection=selection, top=top, company_ids=company_ids
    )


def utilization_detail(
    ctx: Context,
    kind: str,
    period: Period,
    selection: UtilizationSelection,
    *,
    top: int = 10,
    company_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """By TUSS procedure ("procedure"), top providers ("provider") or top beneficiaries
    ("beneficiary", masked unless allowed) under the chart selection."""
    return _detail(
        kind,
        _scope_key(ctx, company_ids),
        _ids(company_ids),
        ctx.actor.user_id,
        _personal(ctx.actor),
        period,
        selection,
        top,
        _scope_version(ctx, company_ids),
        ctx.actor,
    )


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=16)
def _portfolio_companies(
    company_ids: tuple[int, ...], user_id: int, version: DataVersion, _actor: Actor
) -> list[analytics.PortfolioCompany]:
    return analytics.portfolio_companies(uow=new_uow(), actor=_actor)


def portfolio_companies(ctx: Context) -> list[analytics.PortfolioCompany]:
    ids = tuple(sorted(ctx.actor.company_ids))
    return _portfolio_companies(ids, ctx.actor.user_id, data_version(ids), ctx.actor)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def _lives(
    company_ids: tuple[int, ...],
    user_id: int,
    period: Period,
    today: date,
    version: DataVersion,
    _actor: Actor,
) -> pd.DataFrame:
    return analytics.portfolio_lives(
        uow=new_uow(), actor=_actor, period=period, company_ids=company_ids, today=today
    )


def portfolio_lives(
    ctx: Context, period: Period, company_ids: Sequence[int], today: date
) -> pd.DataFrame:
    ids = tuple(sorted(company_ids))
    return _lives(ids, ctx.actor.user_id, period, today, data_version(ids), ctx.actor)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def _compare(
    company_ids: tuple[int, ...],
    user_id: int,
    series: tuple[analytics.CompareSeries, ...],
    version: DataVersion,
    _actor: Actor,
) -> pd.DataFrame:
    return analytics.utilization_compare(uow=new_uow(), actor=_actor, series=list(series))


def utilization_compare(ctx: Context, series: Sequence[analytics.CompareSeries]) -> pd.DataFrame:
    ids = tuple(sorted({cid for s in series for cid in s.company_ids}))
    return _compare(ids, ctx.actor.user_id, tuple(series), data_version(ids), ctx.actor)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def _pivot(
    company_ids: tuple[int, ...],
    user_id: int,
    request: analytics.PivotRequest,
    version: DataVersion,
    _actor: Actor,
) -> analytics.PivotResult:
    return analytics.utilization_pivot(uow=new_uow(), actor=_actor, request=request)


def utilization_pivot(ctx: Context, request: analytics.PivotRequest) -> analytics.PivotResult:
    ids = tuple(sorted(request.company_ids))
    return _pivot(ids, ctx.actor.user_id, request, data_version(ids), ctx.actor)


# ---------------------------------------------------------------- filters


def period_picker(
    today: date,
    *,
    key: str,
    label: str = "Período",
    default_months: int = 12,
    default: Period | None = None,
) -> Period:
    """Whole months of the last two years; by default the last 12 complete months."""
    months = reports.report_months(today=today)
    chosen = default or Period.last(default_months, today=today)
    first, last = st.select_slider(
        label,
        options=months,
        value=(chosen.first_month, chosen.last_month),
        format_func=format_month_short,
        key=key,
        help="Meses inteiros; o mês atual ainda está em andamento.",
    )
    return Period(first, last)


def _date_range(label: str, *, key: str, container: Any) -> tuple[date | None, date | None]:
    value = container.date_input(label, value=(), format="DD/MM/YYYY", key=key)
    if isinstance(value, date):
        return value, value
    picked = tuple(value or ())
    if len(picked) == 2:
        return picked[0], picked[1]
    if len(picked) == 1:
        return picked[0], None
    return None, None


def beneficiary_filters(
    options: BeneficiaryOptions, *, status: str, key: str
) -> BeneficiaryFilters:
    """The filters of the active/inactive reports, as one value."""
    with st.expander("Filtros", expanded=True):
        c1, c2, c3 = st.columns(3)
        plans = c1.multiselect(
            "Plano",
            list(options.plans),
            format_func=options.plans.__getitem__,
            key=f"{key}_plans",
            placeholder=ALL,
        )
        kind = c2.selectbox(
            "Titular ou dependente", [ALL, "Titulares", "Dependentes"], key=f"{key}_kind"
        )
        relationships = c3.multiselect(
            "Parentesco",
            list(options.relationships),
            format_func=options.relationships.__getitem__,
            key=f"{key}_relationships",
            placeholder=ALL,
        )
        c4, c5, c6 = st.columns(3)
        bands = c4.multiselect(
            "Faixa etária",
            list(options.age_bands),
            format_func=options.age_bands.__getitem__,
            key=f"{key}_bands",
            placeholder=ALL,
        )
        eff_from, eff_to = _date_range(
            "Início de vigência (de/até)", key=f"{key}_effective", container=c5
        )
        search = c6.text_input("Nome ou número da carteirinha", key=f"{key}_search")
        centres: list[int] = []
        if options.cost_centres:  # only when the company keeps a list
            centres = st.multiselect(
                "Centro de custo",
                list(options.cost_centres),
                format_func=lambda i: plain(options.cost_centres[i]),
                key=f"{key}_cost_centres",
                placeholder=ALL,
                help="O dependente está no centro de custo do titular.",
            )
        exc_from = exc_to = None
        reasons: list[str] = []
        if status == INACTIVE:
            c7, c8 = st.columns(2)
            exc_from, exc_to = _date_range(
                "Data de exclusão (de/até)", key=f"{key}_exclusion", container=c7
            )
            reasons = c8.multiselect(
                "Motivo da exclusão",
                list(options.exclusion_reasons),
                format_func=options.exclusion_reasons.__getitem__,
                key=f"{key}_reasons",
                placeholder=ALL,
            )
    return BeneficiaryFilters(
        plan_ids=tuple(plans),
        holders={"Titulares": True, "Dependentes": False}.get(kind),
        relationships=tuple(relationships),
        age_bands=tuple(bands),
        effective_from=eff_from,
        effective_to=eff_to,
        exclusion_from=exc_from,
        exclusion_to=exc_to,
        exclusion_reasons=tuple(reasons),
        search=search.strip(),
        cost_centre_ids=tuple(centres),
    )


def describe_beneficiary_filters(f: BeneficiaryFilters, options: BeneficiaryOptions) -> str:
    """The filters in words, for the screen and the downloaded file ("Nenhum" if none)."""
    parts = []
    if f.plan_ids:
        parts.append("Plano: " + ", ".join(options.plans.get(p, str(p)) for p in f.plan_ids))
    if f.holders is not None:
        parts.append("Somente " + ("titulares" if f.holders else "dependentes"))
    if f.relationships:
        parts.append(
            "Parentesco: "
            + ", ".join(options.relationships.get(r, str(r)) for r in f.relationships)
        )
    if f.age_bands:
        parts.append(
            "Faixa etária: " + ", ".join(options.age_bands.get(b, str(b)) for b in f.age_bands)
        )
    if f.effective_from or f.effective_to:
        parts.append(f"Início de vigência: {_range_text(f.effective_from, f.effective_to)}")
    if f.exclusion_from or f.exclusion_to:
        parts.append(f"Exclusão: {_range_text(f.exclusion_from, f.exclusion_to)}")
    if f.exclusion_reasons:
        parts.append(
            "Motivo: " + ", ".join(options.exclusion_reasons.get(r, r) for r in f.exclusion_reasons)
        )
    if f.search:
        parts.append(f"Nome ou carteirinha contém: {f.search}")
    if f.cost_centre_ids:
        parts.append(
            "Centro de custo: "
            + ", ".join(options.cost_centres.get(c, str(c)) for c in f.cost_centre_ids)
        )
    return "; ".join(parts) if parts else "Nenhum"


def _range_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"{format_date(start)} a {format_date(end)}"
    if start:
        return f"a partir de {format_date(start)}"
    return f"até {format_date(end)}"


def describe_selection(selection: UtilizationSelection) -> str:
    parts = []
    if selection.month:
        parts.append(f"Mês: {format_month_numeric(selection.month)}")
    if selection.procedure_group:
        parts.append(f"Grupo: {selection.procedure_group}")
    if selection.tuss_code:
        parts.append(f"Procedimento TUSS: {selection.tuss_code}")
    return "; ".join(parts) if parts else "Nenhum"


# ---------------------------------------------------------------- chart clicks


def clicked(event: Any, *, axis: str = "x") -> str | None:
    """The key of the bar clicked in a chart drawn with on_select="rerun" (its
    customdata, or else its category on `axis`); None when nothing is selected."""
    if not event:
        return None
    selection = event.get("selection") if isinstance(event, dict) else event.selection
    points = (selection or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    data = point.get("customdata")
    if isinstance(data, list | tuple):
        data = data[0] if data else None
    value = data if data not in (None, "") else point.get(axis)
    return None if value is None else str(value)


def cost_ranking_chart(df: pd.DataFrame, label_column: str, *, key: str) -> None:
    """A top-N ranking by cost (providers, beneficiaries): horizontal bars, one per row,
    tall enough for every label."""
    st.plotly_chart(
        charts.bar_chart(
            list(df[label_column]),
            list(df["Custo (R$)"]),
            value_label="Custo (R$)",
            horizontal=True,
            money=True,
            height=max(340, 24 * len(df)),
        ),
        key=key,
    )


# ---------------------------------------------------------------- tables


def show_table(
    df: pd.DataFrame,
    *,
    key: str | None = None,
    height: int | Literal["auto", "stretch", "content"] = "auto",
) -> Any:
    """A sortable table: money and counts in pt-BR, dates dd/mm/aaaa."""
    config: dict[str, Any] = {}
    for column in df.columns:
        series = df[column]
        sample = next((v for v in series if v is not None and v == v), None)
        if isinstance(sample, Decimal | float):
            # the step fixes the decimals shown: 1.234,50 rather than 1.234,5
            config[column] = st.column_config.NumberColumn(format="localized", step=0.01)
        elif isinstance(sample, int) and not isinstance(sample, bool):
            config[column] = st.column_config.NumberColumn(format="localized", step=1)
        elif isinstance(sample, date):
            config[column] = st.column_config.DateColumn(format="DD/MM/YYYY")
    return st.dataframe(
        df, hide_index=True, width="stretch", column_config=config, key=key, height=height
    )


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class ExportHeader:
    """What the first rows of a downloaded file say."""

    title: str
    lines: tuple[tuple[str, str], ...]


def export_header(
    title: str,
    *,
    scope: str,
    period: str,
    filters: str,
    actor: Actor,
    personal_data: bool | None = None,
) -> ExportHeader:
    lines = [("Empresa", scope), ("Período", period), ("Filtros", filters)]
    if personal_data is not None:
        lines.append(
            (
                "Dados pessoais",
                "CPF e data de nascimento completos (usuário com permissão)"
                if personal_data
                else "CPF e data de nascimento mascarados (LGPD)",
            )
        )
    generated = format_datetime(now_utc())
    lines.append(("Gerado em", f"{generated} por {actor.name} (código {actor.user_code})"))
    return ExportHeader(title, tuple(lines))


def _sheet(df: pd.DataFrame, header: ExportHeader, sheet: str) -> exports.Sheet:
    return exports.Sheet(
        sheet,
        [str(c) for c in df.columns],
        df.itertuples(index=False, name=None),
        heading=[(header.title,), *header.lines],
    )


def to_xlsx(df: pd.DataFrame, header: ExportHeader, *, sheet: str = "Relatório") -> bytes:
    """The header rows, a blank row, the column names and one row per table row."""
    return exports.xlsx_bytes([_sheet(df, header, sheet)])


def to_csv(df: pd.DataFrame, header: ExportHeader) -> bytes:
    """Semicolon-separated, decimal comma, UTF-8 with BOM (opens right in Excel pt-BR)."""
    return exports.sheet_csv(_sheet(df, header, ""))


def download_buttons(
    df: pd.DataFrame,
    header: ExportHeader,
    *,
    file_stem: str,
    key: str,
    extra: Callable[[], None] | None = None,
) -> None:
    """Excel and CSV buttons; the files are built only when clicked."""
    row = st.container(horizontal=True)
    row.download_button(
        "Baixar Excel",
        data=lambda: to_xlsx(df, header),
        file_name=f"{file_stem}.xlsx",
        mime=exports.XLSX_MIME,
        key=f"{key}_xlsx",
        icon=":material/download:",
        on_click="ignore",
        width="content",
        help="Baixar estes dados em Excel (.xlsx)",
    )
    row.download_button(
        "Baixar CSV",
        data=lambda: to_csv(df, header),
        file_name=f"{file_stem}.csv",
        mime=exports.CSV_MIME,
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
        width="content",
        help="Baixar estes dados em CSV (separado por ponto e vírgula)",
    )
    if extra is not None:
        with row:
            extra()


def chart_download(fig: Any, *, file_stem: str, key: str, label: str = "Baixar gráfico") -> None:
    """The chart as an interactive HTML file, built when clicked."""
    st.download_button(
        label,
        data=lambda: fig.to_html(include_plotlyjs="cdn", full_html=True),
        file_name=f"{file_stem}.html",
        mime="text/html",
        key=key,
        width="content",
        icon=":material/download:",
        on_click="ignore",
        help="Baixar o gráfico interativo (abre no navegador)",
    )


# ---------------------------------------------------------------- utilization


def utilization_metrics(summary: reports.UtilizationSummary) -> None:
    """The headline figures of a period, two rows of three."""
    m = st.columns(3)
    m[0].metric("Procedimentos", format_int(summary.procedures))
    m[1].metric("Custo", format_money(summary.cost))
    m[2].metric("Beneficiários atendidos", format_int(summary.beneficiaries_using))
    m = st.columns(3)
    m[0].metric("Custo por beneficiário atendido", format_money(summary.cost_per_beneficiary))
    m[1].metric("Faturado no período", format_money(summary.premiums))
    m[2].metric(
        "Sinistralidade",
        format_percent(summary.loss_ratio),
        help="Custo da utilização ÷ valor faturado nas faturas dos mesmos meses.",
    )


# ---------------------------------------------------------------- beneficiary reports


def beneficiary_report_view(ctx: Context, *, status: str, today: date) -> None:
    """The body of the active and inactive reports: filters, totals, charts, the list and
    its downloads (the same rows as on screen, masked under the same rule)."""
    active = status != INACTIVE
    options = beneficiary_options(ctx)
    filters = beneficiary_filters(options, status=status, key=f"rep_{status}")
    report = beneficiary_report(ctx, status=status, filters=filters, today=today)
    described = describe_beneficiary_filters(filters, options)
    st.caption(f"Filtros aplicados: {plain(described)}")

    noun = "ativos" if active else "inativos"
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Beneficiários {noun}", format_int(report.total))
    c2.metric("Titulares", format_int(report.holders))
    c3.metric("Dependentes", format_int(report.dependents))
    if report.total == 0:
        st.info(f"Nenhum beneficiário {noun[:-1]} com esses filtros. Tente tirar algum filtro.")
        return

    # Only the open tab is built and drawn: the list first (what HR comes for), the four
    # charts when asked for.
    list_tab, charts_tab = st.tabs(
        ["Lista de beneficiários", "Gráficos"], key=f"rep_{status}_view", on_change="rerun"
    )
    if charts_tab.open:
        with charts_tab:
            left, right = st.columns(2)
            with left:
                st.markdown("**Por plano**")
                st.plotly_chart(
                    charts.bar_chart(
                        list(report.by_plan["Plano"]),
                        list(report.by_plan["Beneficiários"]),
                        value_label="Beneficiários",
                        horizontal=True,
                        height=260,
                    ),
                    key=f"rep_{status}_plan_chart",
                )
                st.markdown("**Titulares e dependentes**")
                st.plotly_chart(
                    charts.holders_and_dependents(report.by_relationship),
                    key=f"rep_{status}_rel_chart",
                )
            with right:
                st.markdown("**Pirâmide etária por sexo**")
                st.plotly_chart(charts.age_pyramid(report.pyramid), key=f"rep_{status}_pyramid")
                st.markdown("**Inclusões e exclusões por mês**")
                st.plotly_chart(
                    charts.inclusions_and_exclusions(report.flow), key=f"rep_{status}_flow_chart"
                )
                st.caption(
                    "Últimos 12 meses, beneficiários ativos e inativos que atendem aos filtros."
                )
    if not list_tab.open:
        return
    with list_tab:
        if not report.personal_data:
            st.caption(
                "CPF e data de nascimento mascarados (LGPD): seu usuário não tem a "
                "permissão de dados pessoais completos."
            )
        show_table(report.table, key=f"rep_{status}_table")
        header = export_header(
            f"Relatório de beneficiários {noun}",
            scope=f"{ctx.company.label} ({ctx.company.document_type} "
            f"{ctx.company.document_formatted})",
            period=f"Posição em {format_date(report.today)}",
            filters=described,
            actor=ctx.actor,
            personal_data=report.personal_data,
        )
        download_buttons(
            report.table,
            header,
            file_stem=f"beneficiarios_{noun}_{ctx.company.code}",
            key=f"rep_{status}_download",
        )
