"""Every figure builder of components.charts speaks pt-BR: decimal comma and dot for
thousands (layout separators ",."), and no tick, hover or colour-bar format that makes
plotly write SI suffixes ("25k", "1.2M"), which is its default for a numeric axis."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal as D
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from components import charts
from services.billing import InvoiceRow

MONTHS = [date(2026, m, 1) for m in (1, 2, 3)]
BIG = [25_000.0, 1_234_567.89, 980.5]  # the sizes that plotly shows as 25k and 1.23M


def _invoices() -> tuple[tuple[Any, ...], dict[str, Any]]:
    rows = [
        InvoiceRow(i, m, m.replace(day=10), D(str(v)), s, None)
        for i, (m, v, s) in enumerate(zip(MONTHS, BIG, ("paid", "open", "overdue"), strict=True))
    ]
    return (rows,), {}


def _df(**columns: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(columns)


SAMPLES: dict[str, Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "provider_map": lambda: (
        (
            _df(
                latitude=[-23.5, -22.9],
                longitude=[-46.6, -43.2],
                Nome=["Clínica A", "Dr. B"],
                Especialidades=["Ortodontia", "Endodontia"],
                Bairro=["Centro", "Botafogo"],
                Cidade=["São Paulo", "Rio de Janeiro"],
                Tipo=["Clínica", "Dentista"],
                UF=["SP", "RJ"],
            ),
        ),
        {},
    ),
    "invoices_by_month": _invoices,
    "billing_by_month": lambda: (
        (
            _df(
                **{
                    "Competência": MONTHS,
                    "Mensalidades": [D("25000"), D("1234567.89"), D("10")],
                    "Retroativos e diferenças": [D("0"), D("120.5"), D("3000")],
                }
            ),
        ),
        {},
    ),
    "bar_chart": lambda: (
        (["Plano A", "Plano B", "Plano C"], BIG),
        {"value_label": "Custo (R$)", "money": True},
    ),
    "age_pyramid": lambda: (
        (
            _df(
                **{
                    "Faixa etária": ["0 a 18", "0 a 18", "19 a 23", "19 a 23"],
                    "Sexo": ["Masculino", "Feminino", "Masculino", "Feminino"],
                    "Beneficiários": [25_000, 24_000, 1_200_000, 3],
                }
            ),
        ),
        {},
    ),
    "holders_and_dependents": lambda: (
        (
            _df(
                Parentesco=["Titular", "Cônjuge", "Filho(a)"],
                Beneficiários=[25_000, 12_000, 30_500],
                Tipo=["Titular", "Dependente", "Dependente"],
            ),
        ),
        {},
    ),
    "inclusions_and_exclusions": lambda: (
        (_df(**{"Mês": MONTHS, "Inclusões": [25_000, 10, 0], "Exclusões": [1_500, 0, 2]}),),
        {},
    ),
    "cost_by_month": lambda: (
        (_df(**{"Mês": MONTHS, "Custo (R$)": BIG, "Procedimentos": [25_000, 1_000_000, 3]}),),
        {},
    ),
    "loss_ratio_by_month": lambda: (
        (
            _df(
                **{
                    "Mês": MONTHS,
                    "Faturado (R$)": BIG,
                    "Custo (R$)": [20_000.0, 2_000_000.0, 1.0],
                    "Sinistralidade (%)": [80.0, 162.5, 0.1],
                }
            ),
        ),
        {},
    ),
    "comparison_chart": lambda: (
        (_df(**{"Série": ["Período 1", "Período 2"], "Custo (R$)": [25_000.0, 1_234_567.89]}),),
        {"label": "Série", "measure": "Custo (R$)"},
    ),
    "pivot_chart": lambda: (
        (
            _df(
                **{
                    "Grupo": ["Prevenção", "Endodontia"],
                    "2025": [25_000.0, 1_234_567.0],
                    "2026": [3.5, 980_000.0],
                }
            ),
        ),
        {"row_label": "Grupo", "column_label": "Ano", "measure": "Custo (R$)"},
    ),
}
# More shapes of the same builders (one dimension, horizontal bars, counts, percent).
EXTRA = [
    (
        "pivot_chart",
        (
            _df(
                **{
                    "Grupo": [f"G{i}" for i in range(20)],
                    "Procedimentos": [25_000 * i for i in range(20)],
                }
            ),
        ),
        {"row_label": "Grupo", "column_label": None, "measure": "Procedimentos"},
    ),
    ("bar_chart", (["A", "B"], [25_000, 3]), {"value_label": "Beneficiários", "horizontal": True}),
    (
        "bar_chart",
        (["A", "B"], [12.5, 1_500.25]),
        {"value_label": "Sinistralidade (%)", "percent": True},
    ),
    (
        "comparison_chart",
        (_df(**{"Série": ["a", "b"], "Beneficiários": [25_000, 1]}),),
        {"label": "Série", "measure": "Beneficiários"},
    ),
]
# A d3 format with the SI type ("s", "~s", ".3s") or no format at all (plotly then
# picks SI for large numbers).
SI_FORMAT = re.compile(r"s$")
SI_IN_TEMPLATE = re.compile(r"%\{[^}:]+:[^}]*s\}")


def _builders() -> dict[str, Callable[..., go.Figure]]:
    found = {}
    for name, fn in inspect.getmembers(charts, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != charts.__name__:
            continue
        if inspect.signature(fn).return_annotation in ("go.Figure", go.Figure) and name not in (
            "pt_br",
        ):
            found[name] = fn
    return found


def _figures():
    for name, sample in SAMPLES.items():
        args, kwargs = sample()
        yield name, getattr(charts, name)(*args, **kwargs)
    for name, args, kwargs in EXTRA:
        yield name, getattr(charts, name)(*args, **kwargs)


def _problems(fig: go.Figure) -> list[str]:
    problems = []
    if fig.layout.separators != ",.":
        problems.append(f"separators {fig.layout.separators!r}")
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.type in ("category", "multicategory", "date"):
            continue
        name = axis.plotly_name
        if not axis.tickformat or SI_FORMAT.search(axis.tickformat):
            problems.append(f"{name}.tickformat {axis.tickformat!r}")
        if not axis.hoverformat or SI_FORMAT.search(axis.hoverformat):
            problems.append(f"{name}.hoverformat {axis.hoverformat!r}")
        for text in axis.ticktext or ():
            if re.search(r"\d[kMG]\b", str(text)):
                problems.append(f"{name}.ticktext {text!r}")
    for trace in fig.data:
        for attr in ("hovertemplate", "texttemplate"):
            template = getattr(trace, attr, None)
            if isinstance(template, str) and SI_IN_TEMPLATE.search(template):
                problems.append(f"{trace.name}.{attr} {template!r}")
        if "colorbar" in trace:
            fmt = trace.colorbar.tickformat
            if not fmt or SI_FORMAT.search(fmt):
                problems.append(f"{trace.type}.colorbar.tickformat {fmt!r}")
    return problems


def test_every_public_builder_has_a_sample():
    """A new builder must be added to SAMPLES, so that it is checked below."""
    assert set(_builders()) == set(SAMPLES)


@pytest.mark.parametrize(
    ("name", "fig"), list(_figures()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_builder_output_has_pt_br_separators_and_no_si_format(name, fig):
    assert isinstance(fig, go.Figure)
    assert _problems(fig) == []


def test_money_hovers_say_reais():
    for name in (
        "invoices_by_month",
        "billing_by_month",
        "cost_by_month",
        "loss_ratio_by_month",
        "bar_chart",
        "comparison_chart",
        "pivot_chart",
    ):
        args, kwargs = SAMPLES[name]()
        fig = getattr(charts, name)(*args, **kwargs)
        assert any("R$ %{" in (t.hovertemplate or "") for t in fig.data), name


def test_pt_br_replaces_an_si_format_and_a_missing_one():
    fig = go.Figure(go.Bar(x=["a"], y=[25_000]))
    fig.update_yaxes(tickformat="~s")
    fig.add_trace(go.Heatmap(z=[[1_000_000]]))
    charts.pt_br(fig)
    assert fig.layout.yaxis.tickformat == charts.NUMBER_FORMAT
    assert fig.layout.yaxis.hoverformat == charts.NUMBER_FORMAT
    assert fig.data[1].colorbar.tickformat == charts.NUMBER_FORMAT
    assert _problems(fig) == []


def test_a_figure_built_without_pt_br_is_caught():
    """The check itself: plotly's defaults are SI and a dot for decimals."""
    assert _problems(go.Figure(go.Bar(x=[1, 2], y=[25_000, 1_000_000])))


def test_the_age_pyramid_writes_its_ticks_in_pt_br_words():
    args, kwargs = SAMPLES["age_pyramid"]()
    fig = charts.age_pyramid(*args, **kwargs)  # up to 1.200.000 people in one band
    assert list(fig.layout.xaxis.ticktext) == ["1,2 mi", "600 mil", "0", "600 mil", "1,2 mi"]
