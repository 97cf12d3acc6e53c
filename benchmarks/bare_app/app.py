"""The bare Streamlit app that benchmarks/browser_speed.py measures beside the portal:
`st.navigation` over ten pages, each a title, a 50-row table and a plotly bar chart.

    .venv/bin/streamlit run benchmarks/bare_app/app.py
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.express as px
import streamlit as st

TITLES = [
    "Página inicial",
    "Beneficiários",
    "Movimentações",
    "Faturas",
    "Boletos",
    "Relatório de ativos",
    "Relatório de inativos",
    "Utilização",
    "Protocolos",
    "Usuários",
]


def _frame(seed: int) -> pd.DataFrame:
    rows = range(50)
    return pd.DataFrame(
        {
            "código": [f"{seed:02d}{i:04d}" for i in rows],
            "nome": [f"Beneficiário {seed}-{i}" for i in rows],
            "plano": [("Essencial", "Integral", "Premium")[(i + seed) % 3] for i in rows],
            "valor": [round(50 + (i * 7 + seed * 13) % 90 + 0.9, 2) for i in rows],
        }
    )


def _page(number: int, title: str) -> Callable[[], None]:
    def draw() -> None:
        st.title(title)
        frame = _frame(number)
        st.dataframe(frame, hide_index=True)
        by_plan = frame.groupby("plano", as_index=False)["valor"].sum()
        st.plotly_chart(px.bar(by_plan, x="plano", y="valor"))

    draw.__name__ = f"page_{number}"
    return draw


pages = [
    st.Page(_page(n, title), title=title, url_path=f"p{n}", default=n == 0)
    for n, title in enumerate(TITLES)
]
st.navigation(pages, expanded=True).run()
