"""Plotly figure builders used by the pages.

Every builder goes through `pt_br` (the `@pt_br_figure` decorator): decimal comma and
dot for thousands (``separators=",."``), and axis, hover and colour-bar formats that
never produce SI suffixes ("25k", "1.2M"): grouped numbers, 25.000 and 1.234,56.
tests/unit/test_charts.py checks every public builder of this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from services.billing import InvoiceRow
from services.rules.formats import format_compact, format_month_numeric

# d3-format: thousands grouped, trailing zeros trimmed, never an SI suffix ("~s" would
# write 25k). With separators ",." plotly shows 25.000 and 1.234,5.
NUMBER_FORMAT = ",~f"
SEPARATORS = ",."
_NOT_NUMERIC = ("category", "multicategory", "date")


def pt_br(fig: go.Figure) -> go.Figure:
    """pt-BR numbers on `fig`: separators, and every numeric axis and colour bar with a
    tick and hover format of its own (plotly's default is SI: "25k")."""
    fig.update_layout(separators=SEPARATORS)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.type in _NOT_NUMERIC:
            continue
        if not axis.tickformat or "s" in axis.tickformat:
            axis.tickformat = NUMBER_FORMAT
        if not axis.hoverformat or "s" in axis.hoverformat:
            axis.hoverformat = NUMBER_FORMAT
    for trace in fig.data:
        if "colorbar" in trace:
            bar = trace.colorbar
            if not bar.tickformat or "s" in bar.tickformat:
                bar.tickformat = NUMBER_FORMAT
    return fig


P = ParamSpec("P")


def pt_br_figure(build: Callable[P, go.Figure]) -> Callable[P, go.Figure]:
    """Decorate a figure builder so its figure always goes through `pt_br`."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        return pt_br(build(*args, **kwargs))

    return wrapper


@pt_br_figure
def provider_map(df: pd.DataFrame) -> go.Figure:
    """Providers on a map, hover with name, specialties and address."""
    fig = px.scatter_map(
        df,
        lat="latitude",
        lon="longitude",
        hover_name="Nome",
        hover_data={
            "Especialidades": True,
            "Bairro": True,
            "Cidade": True,
            "latitude": False,
            "longitude": False,
        },
        color="Tipo",
        zoom=3.2 if df["UF"].nunique() > 1 else 10,
        height=420,
    )
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, legend_title_text="")
    return fig


STATUS_COLORS = {
    "Paga": "#2e7d32",
    "Em aberto": "#1565c0",
    "Vencida": "#c62828",
    "Cancelada": "#9e9e9e",
}


def _bar_layout(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        barmode="stack",
        height=320,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend_title_text="",
        yaxis_title="R$",
        separators=",.",
        xaxis={"type": "category"},
    )
    return fig


@pt_br_figure
def invoices_by_month(invoices: Sequence[InvoiceRow]) -> go.Figure:
    """Invoice amount by billing month, coloured by payment status (amounts shown only).

    Built with graph objects, not plotly.express: the page draws it on every run and
    express costs tens of milliseconds more.
    """
    fig = go.Figure()
    for label, color in STATUS_COLORS.items():
        chosen = [i for i in invoices if i.status_label == label]
        if chosen:
            fig.add_trace(
                go.Bar(
                    x=[format_month_numeric(i.billing_month) for i in chosen],
                    y=[float(i.amount) for i in chosen],
                    name=label,
                    marker_color=color,
                    hovertemplate="%{x}<br>R$ %{y:,.2f}<extra>" + label + "</extra>",
                )
            )
    fig.update_xaxes(
        categoryorder="array",
        categoryarray=[format_month_numeric(i.billing_month) for i in invoices],
    )
    return _bar_layout(fig)


@pt_br_figure
def billing_by_month(by_month: pd.DataFrame) -> go.Figure:
    """Billed amount by month, monthly charges and retroactive adjustments stacked.

    ``by_month`` is `BillingReport.by_month` (Decimal money, shown only).
    """
    months = [format_month_numeric(m) for m in by_month["Competência"]]
    fig = go.Figure()
    for kind in ("Mensalidades", "Retroativos e diferenças"):
        fig.add_trace(
            go.Bar(
                x=months,
                y=[float(v) for v in by_month[kind]],
                name=kind,
                hovertemplate="%{x}<br>R$ %{y:,.2f}<extra>" + kind + "</extra>",
            )
        )
    return _bar_layout(fig)


# ---------------------------------------------------------------- reports
# Built with graph_objects (several times faster than plotly.express on every rerun).
# Decimal comma and dot for thousands, as in pt-BR.

REPORT_BLUE = "#1f6fb2"
REPORT_TEAL = "#2a9d8f"
REPORT_ORANGE = "#e76f51"
REPORT_GREY = "#8d99ae"


def _report_layout(fig: go.Figure, *, height: int = 340) -> go.Figure:
    fig.update_layout(
        separators=",.",
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hovermode="closest",
    )
    return fig


def _floats(values: Sequence[object]) -> list[float | None]:
    return [None if v is None or v != v else float(v) for v in values]  # type: ignore[arg-type]


@pt_br_figure
def bar_chart(
    labels: Sequence[object],
    values: Sequence[object],
    *,
    value_label: str,
    keys: Sequence[object] | None = None,
    horizontal: bool = False,
    money: bool = False,
    percent: bool = False,
    color: str = REPORT_BLUE,
    height: int = 340,
) -> go.Figure:
    """One bar per label; `keys` travel as customdata, so a click says which bar."""
    axis = "x" if horizontal else "y"
    number = f"%{{{axis}:,.2f}}"
    shown = f"R$ {number}" if money else (f"{number}%" if percent else f"%{{{axis}:,}}")
    category = "y" if horizontal else "x"
    trace = go.Bar(
        x=_floats(values) if horizontal else list(labels),
        y=list(labels) if horizontal else _floats(values),
        orientation="h" if horizontal else "v",
        marker_color=color,
        customdata=list(keys) if keys is not None else None,
        hovertemplate=f"%{{{category}}}<br>{value_label}: {shown}<extra></extra>",
        name=value_label,
    )
    fig = go.Figure(trace)
    value_axis = {
        "title_text": value_label,
        "tickformat": ",.0f",
        "ticksuffix": "%" if percent else "",
    }
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
        fig.update_xaxes(**value_axis)
    else:
        fig.update_xaxes(type="category")
        fig.update_yaxes(**value_axis)
    return _report_layout(fig, height=height)


@pt_br_figure
def age_pyramid(df: pd.DataFrame) -> go.Figure:
    """Beneficiaries by age band, men to the left and women to the right."""
    bands = list(dict.fromkeys(df["Faixa etária"]))
    men = df[df["Sexo"] == "Masculino"].set_index("Faixa etária")["Beneficiários"]
    women = df[df["Sexo"] == "Feminino"].set_index("Faixa etária")["Beneficiários"]
    m_values = [int(men.get(b, 0)) for b in bands]
    f_values = [int(women.get(b, 0)) for b in bands]
    fig = go.Figure(
        [
            go.Bar(
                y=bands,
                x=[-v for v in m_values],
                customdata=m_values,
                orientation="h",
                name="Masculino",
                marker_color=REPORT_BLUE,
                hovertemplate="%{y}<br>Masculino: %{customdata:,}<extra></extra>",
            ),
            go.Bar(
                y=bands,
                x=f_values,
                customdata=f_values,
                orientation="h",
                name="Feminino",
                marker_color=REPORT_ORANGE,
                hovertemplate="%{y}<br>Feminino: %{customdata:,}<extra></extra>",
            ),
        ]
    )
    top = max([*m_values, *f_values, 1])
    ticks = [round(top * k / 2) for k in (-2, -1, 0, 1, 2)]
    fig.update_layout(barmode="overlay", bargap=0.1)
    fig.update_xaxes(
        tickvals=ticks, ticktext=[format_compact(abs(t)) for t in ticks], title_text="Beneficiários"
    )
    fig.update_yaxes(type="category", title_text="Faixa etária")
    return _report_layout(fig)


@pt_br_figure
def holders_and_dependents(df: pd.DataFrame) -> go.Figure:
    """Beneficiaries by relationship, holders in one colour and dependents in another."""
    colors = [REPORT_BLUE if kind == "Titular" else REPORT_TEAL for kind in df["Tipo"]]
    fig = go.Figure(
        go.Bar(
            x=list(df["Parentesco"]),
            y=_floats(df["Beneficiários"]),
            marker_color=colors,
            customdata=list(df["Tipo"]),
            hovertemplate="%{x} (%{customdata})<br>Beneficiários: %{y:,}<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="Beneficiários", tickformat=",.0f")
    return _report_layout(fig)


@pt_br_figure
def inclusions_and_exclusions(df: pd.DataFrame) -> go.Figure:
    """Inclusions and exclusions of each month, side by side."""
    months = [format_month_numeric(m) for m in df["Mês"]]
    fig = go.Figure(
        [
            go.Bar(
                x=months,
                y=_floats(df["Inclusões"]),
                name="Inclusões",
                marker_color=REPORT_TEAL,
                hovertemplate="%{x}<br>Inclusões: %{y:,}<extra></extra>",
            ),
            go.Bar(
                x=months,
                y=_floats(df["Exclusões"]),
                name="Exclusões",
                marker_color=REPORT_ORANGE,
                hovertemplate="%{x}<br>Exclusões: %{y:,}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="Beneficiários", tickformat=",.0f")
    return _report_layout(fig)


@pt_br_figure
def cost_by_month(df: pd.DataFrame) -> go.Figure:
    """Cost (bars, clickable: customdata is the month) and procedures (line) by month."""
    months = [format_month_numeric(m) for m in df["Mês"]]
    keys = [m.isoformat() for m in df["Mês"]]
    fig = go.Figure(
        [
            go.Bar(
                x=months,
                y=_floats(df["Custo (R$)"]),
                name="Custo (R$)",
                marker_color=REPORT_BLUE,
                customdata=keys,
                hovertemplate="%{x}<br>Custo: R$ %{y:,.2f}<extra></extra>",
            ),
            go.Scatter(
                x=months,
                y=_floats(df["Procedimentos"]),
                name="Procedimentos",
                mode="lines+markers",
                yaxis="y2",
                line={"color": REPORT_ORANGE},
                hovertemplate="%{x}<br>Procedimentos: %{y:,}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        yaxis={"title": {"text": "Custo (R$)"}, "tickformat": ",.0f"},
        yaxis2={
            "title": {"text": "Procedimentos"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": ",.0f",
        },
    )
    fig.update_xaxes(type="category")
    return _report_layout(fig)


@pt_br_figure
def loss_ratio_by_month(df: pd.DataFrame) -> go.Figure:
    """Premiums billed and utilization cost (bars) and the loss ratio (line, right axis)."""
    months = [format_month_numeric(m) for m in df["Mês"]]
    fig = go.Figure(
        [
            go.Bar(
                x=months,
                y=_floats(df["Faturado (R$)"]),
                name="Faturado (R$)",
                marker_color=REPORT_GREY,
                hovertemplate="%{x}<br>Faturado: R$ %{y:,.2f}<extra></extra>",
            ),
            go.Bar(
                x=months,
                y=_floats(df["Custo (R$)"]),
                name="Custo (R$)",
                marker_color=REPORT_BLUE,
                hovertemplate="%{x}<br>Custo: R$ %{y:,.2f}<extra></extra>",
            ),
            go.Scatter(
                x=months,
                y=_floats(df["Sinistralidade (%)"]),
                name="Sinistralidade (%)",
                mode="lines+markers",
                yaxis="y2",
                line={"color": REPORT_ORANGE, "width": 3},
                hovertemplate="%{x}<br>Sinistralidade: %{y:,.2f}%<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        yaxis={"title": {"text": "R$"}, "tickformat": ",.0f"},
        yaxis2={
            "title": {"text": "Sinistralidade (%)"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": ",.0f",
            "ticksuffix": "%",
        },
    )
    fig.update_xaxes(type="category")
    return _report_layout(fig)


@pt_br_figure
def comparison_chart(df: pd.DataFrame, *, label: str, measure: str) -> go.Figure:
    """One bar per series of a comparison."""
    return bar_chart(
        list(df[label]),
        list(df[measure]),
        value_label=measure,
        money=measure.endswith("(R$)"),
        percent=measure.endswith("(%)"),
        color=REPORT_TEAL,
    )


@pt_br_figure
def pivot_chart(
    table: pd.DataFrame, *, row_label: str, column_label: str | None, measure: str
) -> go.Figure:
    """A heatmap of the pivot table (rows x columns), or bars with one dimension."""
    money = measure.endswith("(R$)")
    percent = measure.endswith("(%)")
    if column_label is None:
        many = len(table) > 12
        return bar_chart(
            list(table[row_label]),
            list(table[measure]),
            value_label=measure,
            money=money,
            percent=percent,
            horizontal=many,
            height=max(340, 24 * len(table)) if many else 340,
        )
    columns = [c for c in table.columns if c != row_label]
    z = [_floats(list(row)) for row in table[columns].itertuples(index=False, name=None)]
    shown = "R$ %{z:,.2f}" if money else ("%{z:,.2f}%" if percent else "%{z:,}")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=list(table[row_label]),
            colorscale="Blues",
            hovertemplate=f"{row_label}: %{{y}}<br>{column_label}: %{{x}}<br>{measure}: {shown}"
            "<extra></extra>",
            colorbar={"title": {"text": measure}},
        )
    )
    fig.update_xaxes(type="category", title_text=column_label)
    fig.update_yaxes(type="category", autorange="reversed", title_text=row_label)
    return _report_layout(fig, height=max(340, 28 * len(table) + 120))
