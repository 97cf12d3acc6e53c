"""The provider network map, with or without internet.

A tile map (MapLibre over CARTO's tiles) needs the internet; this machine, the e2e
machine and the demo rooms have none, and there it drew a blank area. So the server
checks, with a short timeout and cached for a few minutes, that the tile server answers:
when it does, the tile map is drawn; when it does not (or not yet: the check runs in
the background and never holds a page), the providers are drawn over
Brazil's state outlines shipped in `components/geo/br_states.json` (see its README),
with a caption that says so. The offline map is a plain cartesian plotly scatter
(longitude, latitude): no geo subplot, so plotly never fetches topojson from its CDN,
and no tile layer.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import cache
from html import escape
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

GEO_FILE = Path(__file__).with_name("geo") / "br_states.json"
TILE_STYLE = "carto-positron"
# The style document plotly.js loads for "carto-positron": if it answers, tiles load.
TILE_CHECK_URL = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"
TILE_CHECK_SECONDS = 2.0
TILE_CHECK_TTL_SECONDS = 600
OFFLINE_CAPTION = "Mapa simplificado: o servidor de mapas não está acessível."
KIND_COLORS = {"Clínica": "#0b7a75", "Dentista": "#c0392b"}
LAND = "#f3f1ea"
BORDER = "#8a9796"
SEA = "#e8f1f5"
HEIGHT = 480
# Above the map, not over it.
LEGEND = {"title": {"text": ""}, "orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom"}


@cache
def br_states() -> dict:
    """The shipped state outlines (GeoJSON FeatureCollection, lon/lat)."""
    return json.loads(GEO_FILE.read_text(encoding="utf-8"))


def _tile_server_answers(url: str = TILE_CHECK_URL, timeout: float = TILE_CHECK_SECONDS) -> bool:
    """True when the tile server answers within `timeout` seconds, name lookup included
    (urllib's own timeout does not cover DNS, so the request runs in a thread)."""
    answered: list[bool] = []

    def probe() -> None:
        try:
            request = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                answered.append(response.status < 400)
        except (OSError, ValueError):
            answered.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="tile-check")
    thread.start()
    thread.join(timeout)
    return bool(answered and answered[0])


_check_lock = threading.Lock()
_check_state: dict[str, float | bool] = {"answered": False, "checked_at": 0.0, "running": False}


def _run_check() -> None:
    answered = _tile_server_answers()
    with _check_lock:
        _check_state.update(answered=answered, checked_at=time.monotonic(), running=False)


def tiles_available() -> bool:
    """Whether map tiles load from here, as last checked (at most every 10 minutes).

    Never waits: the check runs in a background thread and, until it has answered,
    the offline map is drawn. A page run must not block on the network (a blocked run
    also delays the reruns the browser asks for meanwhile)."""
    with _check_lock:
        checked_at = float(_check_state["checked_at"])
        stale = not checked_at or time.monotonic() - checked_at > TILE_CHECK_TTL_SECONDS
        if stale and not _check_state["running"]:
            _check_state["running"] = True
            threading.Thread(target=_run_check, daemon=True, name="tile-check").start()
        return bool(_check_state["answered"])


def _by_kind(
    df: pd.DataFrame,
) -> Iterator[tuple[str, str, pd.DataFrame, list[list[str]], str]]:
    """Each provider kind present in `df`: kind, colour, its rows and their hover."""
    for kind, color in KIND_COLORS.items():
        chosen = df[df["Tipo"] == kind]
        if not chosen.empty:
            yield kind, color, chosen, *_hover(chosen)


def _hover(df: pd.DataFrame) -> tuple[list[list[str]], str]:
    # Provider data is shown as text: plotly's hover labels read a few HTML tags.
    columns = ["Nome", "Tipo", "Especialidades", "Endereço", "Bairro", "Cidade", "UF"]
    data = [[escape(str(v)) for v in row] for row in df[columns].itertuples(index=False)]
    template = (
        "<b>%{customdata[0]}</b> (%{customdata[1]})<br>%{customdata[2]}<br>"
        "%{customdata[3]} · %{customdata[4]}<br>%{customdata[5]} - %{customdata[6]}"
        "<extra></extra>"
    )
    return data, template


def _outline_xy(geometry: dict) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in geometry["coordinates"]:
        for ring in polygon:
            if xs:
                xs.append(None)
                ys.append(None)
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    return xs, ys


def _bounds(df: pd.DataFrame) -> tuple[float, float, float, float]:
    """Longitude and latitude ranges: the providers' states with a margin, or Brazil."""
    states = set(df["UF"]) if not df.empty else set()
    chosen = [f for f in br_states()["features"] if f["id"] in states] or br_states()["features"]
    xs = [p[0] for f in chosen for poly in f["geometry"]["coordinates"] for r in poly for p in r]
    ys = [p[1] for f in chosen for poly in f["geometry"]["coordinates"] for r in poly for p in r]
    xs += [float(v) for v in df["longitude"]]
    ys += [float(v) for v in df["latitude"]]
    pad_x = max((max(xs) - min(xs)) * 0.05, 0.3)
    pad_y = max((max(ys) - min(ys)) * 0.05, 0.3)
    return min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y


def offline_figure(df: pd.DataFrame) -> go.Figure:
    """Providers over the shipped state outlines: no tiles, no topojson, no internet."""
    fig = go.Figure()
    for feature in br_states()["features"]:
        xs, ys = _outline_xy(feature["geometry"])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=LAND,
                line={"color": BORDER, "width": 0.8},
                name=feature["properties"]["nome"],
                meta=feature["id"],
                hoverinfo="skip",
                showlegend=False,
            )
        )
    for kind, color, chosen, data, template in _by_kind(df):
        fig.add_trace(
            go.Scatter(
                x=chosen["longitude"].astype(float).tolist(),
                y=chosen["latitude"].astype(float).tolist(),
                mode="markers",
                marker={"color": color, "size": 8, "line": {"color": "#ffffff", "width": 1}},
                name=kind,
                customdata=data,
                hovertemplate=template,
            )
        )
    x0, x1, y0, y1 = _bounds(df)
    # Equirectangular look: one degree of latitude drawn 1/cos(latitude) times longer
    # than one of longitude, at the middle of the area shown.
    ratio = 1 / math.cos(math.radians((y0 + y1) / 2))
    fig.update_xaxes(range=[x0, x1], visible=False, fixedrange=False)
    fig.update_yaxes(
        range=[y0, y1], visible=False, scaleanchor="x", scaleratio=ratio, constrain="domain"
    )
    fig.update_layout(
        height=HEIGHT,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        plot_bgcolor=SEA,
        legend=LEGEND,
        separators=",.",
        dragmode="pan",
    )
    return fig


def tile_figure(df: pd.DataFrame) -> go.Figure:
    """Providers on a tile map (only when the tiles load)."""
    fig = go.Figure()
    for kind, color, chosen, data, template in _by_kind(df):
        fig.add_trace(
            go.Scattermap(
                lat=chosen["latitude"].astype(float).tolist(),
                lon=chosen["longitude"].astype(float).tolist(),
                mode="markers",
                marker={"color": color, "size": 9},
                name=kind,
                customdata=data,
                hovertemplate=template,
            )
        )
    x0, x1, y0, y1 = _bounds(df)
    # Web Mercator: zoom z shows about 360 / 2**z degrees of longitude across the map.
    zoom = max(1.0, min(11.0, math.log2(360 / max(x1 - x0, (y1 - y0) * 1.4)) + 0.4))
    fig.update_layout(
        height=HEIGHT,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        legend=LEGEND,
        separators=",.",
        map={
            "style": TILE_STYLE,
            "center": {"lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2},
            "zoom": round(zoom, 2),
        },
    )
    return fig


def provider_map(df: pd.DataFrame) -> None:
    """Draw the providers: on tiles when they load, else on the shipped outlines."""
    if tiles_available():
        st.plotly_chart(tile_figure(df), width="stretch", key="provider_map_tiles")
        return
    st.plotly_chart(
        offline_figure(df),
        width="stretch",
        key="provider_map_offline",
        config={"scrollZoom": True, "displaylogo": False},
    )
    st.caption(OFFLINE_CAPTION)
