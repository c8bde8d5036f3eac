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
from .state import state

KEY = "map_update"
_JS = (Path(__file__).with_name("map_update.js")).read_text(encoding="utf-8")
# the component draws nothing: its place in the column takes no room
CSS = f"<style>.st-key-{KEY} {{ display: none; }}</style>"

_component = st.components.v2.component("latent_explorer.map_update", html="", js=_JS)
_log = logging.getLogger(__name__)

# Checked on: this path leans on two things Streamlit does not promise (the window.Plotly global of its
# bundle, and its chart taking a figure back after a relayout event). Any other version: a new chart per view.
TESTED_STREAMLIT = ((1, 67),)


def _version_ok(version: str = st.__version__) -> bool:
    try:
        return tuple(int(p) for p in version.split(".")[:2]) in TESTED_STREAMLIT
    except ValueError:
        return False


VERSION_OK = _version_ok()
if not VERSION_OK:
    _log.warning("Streamlit %s: map changes are drawn in place only on the versions this was checked on (%s); "
                 "each map change mounts a new chart instead (slower, same result).", st.__version__,
                 ", ".join("%d.%d" % v for v in TESTED_STREAMLIT))


def _off() -> bool:
    return not VERSION_OK or bool(state.map_in_place_off)


def figure_json(loaded, projection: str, colour: str) -> str:
    """The map figure as Plotly JSON, serialised once per (bundle, projection, colouring)."""
    return map_view._memo(("json", str(loaded.choice.path), projection, colour),
                          lambda: plotly.io.to_json(map_view.figure(loaded, projection, colour), validate=False))


def _on_failed() -> None:
    chart = state.widget(KEY)
    why = chart.get("failed") if hasattr(chart, "get") else None
    if why:
        _log.warning("map changes mount a new chart from now on (%s)", why)
        state.map_in_place_off = True


def _kind(loaded, dims: int) -> str:
    return f"{loaded.choice.path}|{dims}"


def box_key(dims: int) -> str:
    return f"map_box{dims}"


def box_css(dims: int, shown: bool) -> str:
    """The style of a map kind's box: a kept chart not shown stays in the page at full width, out of sight."""
    rule = "" if shown else "height: 0; overflow: hidden; visibility: hidden; margin-bottom: -1rem;"
    return f"<style>.st-key-{box_key(dims)} {{ {rule} }}</style>"


def kept(loaded, dims: int) -> bool:
    """Whether the chart of this map kind (2 or 3 dimensions) stays on the page: shown once this session."""
    return not _off() and _kind(loaded, dims) in state.map_shells


def chart_figure(loaded, projection: str, colour: str, dims: int):
    """The figure to hand st.plotly_chart for a map kind this run; (projection, colour) is the view to show.

    The chart's figure stays the first view this session showed on a map of this kind (its id and so
    the chart stay the same); `mount` then draws the chosen view on it.
    """
    if _off():
        return map_view.figure(loaded, projection, colour)
    kind = _kind(loaded, dims)
    shell = state.map_shells.setdefault(kind, [projection, colour])
    if shell != [projection, colour]:
        state.map_moved.add(kind)
    return map_view.figure(loaded, *shell)


def kept_figure(loaded, dims: int):
    """The figure of a kept chart not shown now: unchanged, so the page keeps the chart as it is."""
    return map_view.figure(loaded, *state.map_shells[_kind(loaded, dims)])


def mount(loaded, projection: str, colour: str, dims: int) -> None:
    """The script that shows (projection, colour) on the chart of its kind, once the person has moved on
    from the chart's own figure (before that, the chart already shows it)."""
    if _off():
        return
    kind = _kind(loaded, dims)
    st.html(CSS)
    _component(key=KEY, on_failed_change=_on_failed, data={
        "chart_key": map_view.chart_key(dims),
        "shell_view": "|".join(state.map_shells[kind]),
        "view": f"{projection}|{colour}",
        "figure": figure_json(loaded, projection, colour) if kind in state.map_moved else None,
    })
