"""Map changes drawn in place: a projection or colour change redraws the same Plotly chart.

st.plotly_chart's element id hashes the figure's JSON, and the page keys the chart by that id, so
any change of figure mounts a new chart: a new WebGL context, 0.7 to 5 s in software WebGL. Here the
chart keeps the first figure of the session for its kind (2-D or 3-D map) and a small
components-v2 script (map_update.js) hands the chosen view's figure to Plotly.react on it. If the
script finds no Plotly on the page it says so, and this session goes back to one chart per view.
"""
from __future__ import annotations

import logging
from pathlib import Path

import plotly.io
import streamlit as st

from . import map_view
from .session import ss

KEY = "map_update"
_JS = (Path(__file__).with_name("map_update.js")).read_text(encoding="utf-8")
# the component draws nothing: its place in the column takes no room
CSS = f"<style>.st-key-{KEY} {{ display: none; }}</style>"

_component = st.components.v2.component("latent_explorer.map_update", html="", js=_JS)
_log = logging.getLogger(__name__)


def figure_json(loaded, projection: str, colour: str) -> str:
    """The map figure as Plotly JSON, serialised once per (bundle, projection, colouring)."""
    return map_view._memo(("json", str(loaded.choice.path), projection, colour),
                          lambda: plotly.io.to_json(map_view.figure(loaded, projection, colour), validate=False))


def _on_failed() -> None:
    state = ss.get(KEY)
    why = state.get("failed") if hasattr(state, "get") else None
    if why:
        _log.warning("map changes mount a new chart from now on (%s)", why)
        ss._map_in_place_off = True


def chart_figure(loaded, projection: str, colour: str, dims: int):
    """The figure to hand st.plotly_chart this run; mounts the script that shows (projection, colour) on it.

    The chart's figure stays the first view this session showed on a map of this kind (its id and so
    the chart stay the same); once the person has moved on, every run also sends the chosen view's
    figure to the script, which draws it with Plotly.react when the chart shows something else.
    """
    if ss.get("_map_in_place_off"):
        return map_view.figure(loaded, projection, colour)
    kind = f"{loaded.choice.path}|{dims}"
    view = [projection, colour]
    shells = ss.setdefault("_map_shells", {})
    shell = shells.setdefault(kind, view)
    moved = ss.setdefault("_map_moved", set())
    if shell != view:
        moved.add(kind)
    st.html(CSS)
    _component(key=KEY, on_failed_change=_on_failed, data={
        "chart_key": map_view.chart_key(dims),
        "shell_view": "|".join(shell),
        "view": "|".join(view),
        "figure": figure_json(loaded, projection, colour) if kind in moved else None,
    })
    return map_view.figure(loaded, *shell)
