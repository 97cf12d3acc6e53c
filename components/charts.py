"""Plotly figure builders used by the pages."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


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
