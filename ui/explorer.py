"""The explorer page: the map (left) with the inspector under it, the decoder and its sliders
(right), the tools below."""
from __future__ import annotations

import streamlit as st

from vae import BundleError

from . import bundle_picker, bundles, decoder, display, inspector, map_update, map_view, session, sliders, style, tools, words
from .state import Fragment, state


def _on_map_select() -> None:
    loaded = state.loaded
    rows, area = map_view.selected_rows(state.widget(map_view.chart_key(2)))
    if area or len(rows) > 1:
        state.lasso = rows
        session.rerun(Fragment.CONTROLS)
    elif len(rows) == 1:
        session.select(loaded, rows[0])
        state.clear_sel = state.clear_sel + 1  # used: the map does not stay faded around it
        session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS, Fragment.INSPECTOR)
    else:
        state.lasso = []
        session.rerun(Fragment.CONTROLS)


def _on_projection() -> None:
    state.pad_rev = state.pad_rev + 1  # the pad's handle moves to where the point lies on the new map
    if state.interp:  # its drawn path belongs to the old map
        proj = state.loaded.pre.projections[state.proj_pick]
        state.interp["map_path"] = proj.transform(state.interp["z"]).tolist()
    if state.upload and state.has("z").upload:
        p = state.loaded.pre.projections[state.proj_pick].transform(state.upload["z"][None])[0]
        state.marks_extra = [map_view.mark(p, f"your {display.for_bundle(state.loaded).NOUN}")]
    session.rerun(Fragment.MAP, Fragment.LIVE, Fragment.TOOLS)  # the new map, the pad on its plane, the grid tab; not the whole page


def _on_colour() -> None:
    session.rerun(Fragment.MAP)  # only the map changes


def _chart_args(dims: int) -> dict:
    """st.plotly_chart's arguments for a map of `dims` dimensions (2-D maps report selections)."""
    if dims == 3:
        return dict(config=map_view.CHART_CONFIG)
    return dict(on_select=_on_map_select, selection_mode=("points", "box", "lasso"),
                config={**map_view.CHART_CONFIG, "scrollZoom": True})


@st.fragment(key=Fragment.MAP)
def map_panel() -> None:
    """The big map: a projection or colour change reruns this alone (and the pad), not the page."""
    loaded = state.loaded
    pre = loaded.pre
    name, colour = state.proj_pick, state.colour_pick
    proj = pre.projections[name]
    dims = proj.dims
    n = len(pre.labels)
    # each map kind keeps its chart once drawn, the other one hidden: its WebGL context outlives a switch.
    # Both boxes, each [style, chart], are always there: a chart keeps its place, so the page keeps it.
    for kind in (2, 3):
        shown = kind == dims
        with st.container(key=map_update.box_key(kind)):
            st.html(map_update.box_css(kind, shown))
            if shown:
                fig = map_update.chart_figure(loaded, name, colour, dims)
                st.plotly_chart(fig, key=map_view.chart_key(kind), **_chart_args(kind))
            elif map_update.kept(loaded, kind):
                st.plotly_chart(map_update.kept_figure(loaded, kind), key=map_view.chart_key(kind), **_chart_args(kind))
    map_update.mount(loaded, name, colour, dims)  # draws the chosen view on the shown chart, in place
    if dims == 3:
        help_text = ("Drag to turn the 3-D map, scroll to zoom; click a point to inspect it and decode from there. "
                     "Lasso selection needs a 2-D map.")
    else:
        help_text = ("Click a point to inspect it and decode from there; click empty space to decode there. "
                     "Lasso or box-select (toolbar, top right) to make your own slider. Scroll to zoom; "
                     "click a class in the legend to hide it, double-click to show it alone.")
    inverse = "" if proj.exact_inverse else (
        f" Map → latent is approximate here ({words.inverse_error(proj.inverse_error)}); PCA is exact.")
    split = {"test": "test-set", "train": "training-set", "all": ""}.get(pre.split, pre.split)
    ring = "The red ring is the current point. "
    st.caption(f"{n:,} {split} encodings, {map_view.projection_title(name)}, coloured by {colour}. "
               f"{ring}{help_text}{inverse}")
    session.write_url(loaded)


def sidebar(loaded) -> None:
    pre = loaded.pre
    names = list(pre.projections)
    if state.proj_pick not in names:
        state.proj_pick = map_view.default_projection(pre)
    options = map_view.colour_options(pre)
    if state.colour_pick not in options:
        state.colour_pick = map_view.CLASS
    with st.sidebar:
        st.radio("Map", names, key="proj_pick", format_func=map_view.projection_title, on_change=_on_projection,
                 persist_state="session",
                 help="How the latent space is laid flat. PCA is linear with an exact inverse; t-SNE and UMAP keep "
                      "neighbours together, and map back to latent space approximately.")
        st.selectbox("Colour by", options, key="colour_pick", persist_state="session", on_change=_on_colour,
                     help=f"Class, a measured attribute of each {display.for_bundle(loaded).NOUN}, or the "
                          "reconstruction error (nats).")
        b = loaded.bundle
        st.caption(f"{b.meta.get('dataset', '?')} · latent {b.latent_dim} · β {b.meta.get('beta', 1)} · "
                   f"{'class-conditional · ' if b.conditional else ''}{len(pre.labels):,} points")
        if pre.missing:
            st.caption(":orange[Missing: " + "; ".join(pre.missing) + "]")


def _model_ready(loaded, column) -> bool:
    """Wait for the model (only the first page after the server starts waits, ~3 s); if it cannot be
    loaded, say why where the decoder would be, with a "Try again"."""
    slot = None
    if not loaded.bundle.model_ready:
        with column:
            slot = st.empty()
            slot.caption(":material/hourglass_top: Loading TensorFlow and the model (once per server)...")
    try:
        bundles.load_model(loaded)
    except BundleError as exc:
        with column:
            st.error(str(exc), icon=":material/error:")
            st.button("Try again", on_click=bundle_picker.retry, args=(loaded.choice,), key="model_retry")
        return False
    if slot is not None:
        slot.empty()
    return True


def page() -> None:
    loaded = state.ctx.loaded if state.ctx else None
    if loaded is None:
        return  # app.py already explained why
    sidebar(loaded)
    for note in session.pop_notices():
        st.warning(note, icon=":material/link_off:")
    st.html(style.CSS + display.for_bundle(loaded).CSS)
    left, right = st.columns([1.2, 1], gap="medium")
    with left:
        map_panel()  # sent now: the browser draws the map while the model may still be loading
    if not _model_ready(loaded, right):
        return
    with left:
        inspector.panel()
    with right:
        decoder.live()
        decoder.actions()
        sliders.controls()
    tools.panel()  # the last panel: it writes the address, as the map and the decoder do on their own reruns
