"""Tools under the map (fragment "tools"): interpolate, traverse, grid, your own example, bookmarks.

Results are computed in button callbacks and kept in session state, so rerunning this fragment
only redraws them. An interpolation's path and an upload's place are drawn on the map by the pad.
"""
from __future__ import annotations

import html
import urllib.parse

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae import VAEError, explore, latent

from . import display, map_view, own_example, session
from .state import Fragment, state


def _decode(loaded, zs, label=None) -> np.ndarray:
    b = loaded.bundle
    lab = None
    if b.conditional:
        lab = np.full(len(zs), int(state.z_label if label is None else label), np.int32)
    return b.decode(np.asarray(zs, np.float32), labels=lab)


def _point(label: str) -> dict:
    return {"z": state.z.copy(), "label": int(state.z_label), "name": label}


# ----------------------------------------------------------------------------- interpolate

def _on_set_end(which: str) -> None:
    state.set_widget(f"end_{which}", _point("current point"))
    _interpolate()


def _interpolate() -> None:
    loaded = state.loaded
    a, b = state.end_a, state.end_b
    if not (a and b):
        state.interp = None
        session.rerun(Fragment.TOOLS)
        return
    n = int(session.kept_value("interp_steps", 10))
    kind = session.kept_value("interp_kind", "spherical")
    path = (latent.slerp if kind == "spherical" else latent.lerp)(a["z"], b["z"], n)
    frames = _decode(loaded, path, a["label"])
    proj = loaded.pre.projections[state.proj_pick]
    state.interp = {"z": path, "frames": frames, "map_path": proj.transform(path).tolist(), "kind": kind, "n": n,
                    "animation": display.for_bundle(loaded).animation(frames, 96)}
    state.interp_step = 0
    session.rerun(Fragment.TOOLS, Fragment.LIVE)


def _on_interp_step() -> None:
    loaded = state.loaded
    k = int(state.interp_step)
    session.move(loaded, state.interp["z"][k])
    session.rerun(Fragment.LIVE, Fragment.CONTROLS)


def download_buttons(columns, entries, key: str) -> None:
    """A display module's downloads, one button per column (each file made when clicked)."""
    for i, (col, (label, data, file_name, mime)) in enumerate(zip(columns, entries)):
        col.download_button(label, data=data, file_name=file_name, mime=mime, on_click="ignore", width="stretch",
                            key=f"{key}_{i}")


def _interpolate_tab(loaded) -> None:
    show = display.for_bundle(loaded)
    st.caption("Set end A and end B from the current point (click or drag somewhere first), then see the decodings "
               "along the straight (linear) or great-circle (spherical) path between them. The path is drawn on "
               "the map; spherical paths stay where a Gaussian prior puts its mass.")
    c = st.columns([1, 1, 1.2, 1.2], vertical_alignment="bottom")
    for col, which in zip(c[:2], "AB"):
        end = state.widget(f"end_{which}")
        with col:
            if end:
                st.html(show.tag(_decode(loaded, end["z"][None], end["label"])[0], 56, alt=f"end {which}"))
            st.button(f"{which} ← current point", key=f"set_{which}", on_click=_on_set_end, args=(which,), width="stretch")
    session.kept(c[2].radio, "Path", ["spherical", "linear"], key="interp_kind", default="spherical", horizontal=True,
                 on_change=_interpolate)
    session.kept(c[3].slider, "Steps", 3, 24, key="interp_steps", default=10, on_change=_interpolate)
    res = state.interp
    if not res:
        return
    strip = show.strip(res["frames"], min(56 * res["n"], 800), alt="interpolation strip", cls="interp-strip")
    if res["animation"]:
        c0, c1 = st.columns([1, 6], vertical_alignment="center")
        c0.html(res["animation"])
        c1.html(strip)
    else:
        st.html(strip)
    entries = show.strip_downloads(res["frames"], "interpolation")
    c = st.columns([1.4] + [1] * len(entries), vertical_alignment="bottom")
    c[0].slider("Show step on the decoder", 0, res["n"] - 1, key="interp_step", on_change=_on_interp_step)
    download_buttons(c[1:], entries, "interp_dl")


# ------------------------------------------------------------------------------- traverse

def _traverse_options(loaded) -> list[str]:
    kl = np.nan_to_num(loaded.pre.kl_per_dim)
    return [f"z{i} (KL {kl[i]:.2f})" for i in loaded.view.dim_order] + [d.name for d in session.all_directions(loaded)]


def _on_traverse() -> None:
    loaded = state.loaded
    choice = session.kept_value("trav_what")
    span, n = float(session.kept_value("trav_span", 3.0)), int(session.kept_value("trav_steps", 9))
    t = np.linspace(-span, span, n)
    if choice and choice.startswith("z") and " (KL" in choice:
        i = int(choice[1:choice.index(" ")])
        zs = latent.traverse(state.z, i, t * loaded.view.latent_std[i])
    else:
        d = session.find_direction(loaded, choice)
        if d is None:
            return
        spread = session.direction_scales(loaded)[d.name]["spread"]
        zs = latent.traverse(state.z, d.vector, t * spread)
    state.traverse = {"what": choice, "t": t, "frames": _decode(loaded, zs)}
    session.rerun(Fragment.TOOLS)


def _traverse_tab(loaded) -> None:
    st.caption("Sweep one latent dimension or one direction through the current point, in spreads (σ) of the "
               "encodings, and see what it controls.")
    c = st.columns([1.6, 1, 1, 0.8], vertical_alignment="bottom")
    options = _traverse_options(loaded)
    if session.kept_value("trav_what") not in options:
        session.set_kept("trav_what", options[0])
    session.kept(c[0].selectbox, "Dimension or direction", options, key="trav_what")
    session.kept(c[1].slider, "± spreads", 0.5, 5.0, key="trav_span", default=3.0, step=0.5)
    session.kept(c[2].slider, "Steps", 3, 15, key="trav_steps", default=9, step=2)
    c[3].button("Sweep", on_click=_on_traverse, type="primary", width="stretch", key="sweep")
    res = state.traverse
    if res:
        show = display.for_bundle(loaded)
        st.html(show.strip(res["frames"], min(64 * len(res["frames"]), 900), alt="traversal strip", cls="traverse-strip"))
        st.caption(f"{res['what']}: from {res['t'][0]:+.1f} σ to {res['t'][-1]:+.1f} σ around the current point")
        entries = show.strip_downloads(res["frames"], "traversal")
        download_buttons(st.columns(max(len(entries), 3)), entries, "trav_dl")


# ----------------------------------------------------------------------------------- grid

def _on_grid() -> None:
    loaded = state.loaded
    name = state.proj_pick
    proj = loaded.pre.projections[name]
    n = int(session.kept_value("grid_n", 15))
    z_ref = state.z if session.kept_value("grid_ref", "current point") == "current point" else loaded.view.latent_mean
    zs, shape = explore.plane_grid(proj, loaded.view.bounds[name], n, z_ref)
    frames = _decode(loaded, zs)
    state.grid = {"picture": display.for_bundle(loaded).sheet(frames, cols=n), "n": n, "proj": name,
               "bounds": loaded.view.bounds[name]}
    session.rerun(Fragment.TOOLS)


def grid_figure(loaded, res: dict, show_points: bool) -> go.Figure:
    """The grid of decodings laid over the map plane, with the encodings faintly on top."""
    x0, x1, y0, y1 = res["bounds"]
    n = res["n"]
    dx, dy = (x1 - x0) / (n - 1), (y1 - y0) / (n - 1)
    fig = go.Figure()
    fig.add_layout_image(source=display.for_bundle(loaded).sheet_uri(res["picture"]), xref="x", yref="y",
                         x=x0 - dx / 2, y=y1 + dy / 2, sizex=x1 - x0 + dx, sizey=y1 - y0 + dy,
                         sizing="stretch", layer="below")
    if show_points:
        emb = loaded.pre.projections[res["proj"]].embedding
        keep = np.random.default_rng(0).permutation(len(emb))[:3000]
        fig.add_trace(go.Scattergl(x=emb[keep, 0], y=emb[keep, 1], mode="markers", hoverinfo="skip",
                                   marker=dict(size=3, color=[map_view.class_colour(int(k)) for k in loaded.pre.labels[keep]],
                                               opacity=0.6)))
    titles = map_view.axis_titles(res["proj"], 2)
    fig.update_layout(height=620, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(range=[x0 - dx / 2, x1 + dx / 2], title=titles[0], showgrid=False, zeroline=False,
                                 constrain="domain"),
                      # square cells on screen: one y step covers as many pixels as one x step
                      yaxis=dict(range=[y0 - dy / 2, y1 + dy / 2], title=titles[1], showgrid=False, zeroline=False,
                                 scaleanchor="x", scaleratio=dx / dy, constrain="domain"))
    return fig


def _grid_tab(loaded) -> None:
    name = state.proj_pick
    proj = loaded.pre.projections[name]
    show = display.for_bundle(loaded)
    if not hasattr(show, "sheet"):
        st.info(f"A grid of decodings needs examples that tile into one picture, which a {show.NOUN} does not.")
        return
    if not proj.exact_inverse:
        exact = [map_view.projection_title(n) for n, p in loaded.pre.projections.items() if p.exact_inverse]
        st.info(f"A grid needs a plane with an exact inverse: choose {', '.join(exact)} in the sidebar.")
        return
    held = " Components off the plane are held at the chosen reference." if name.startswith("pca") else ""
    st.caption("Decodings on an even grid over the map's plane: the classic picture of what each region of "
               "latent space draws." + held)
    c = st.columns([1, 1.2, 1, 0.8], vertical_alignment="bottom")
    session.kept(c[0].slider, "Points a side", 5, 25, key="grid_n", default=15)
    if name.startswith("pca"):
        session.kept(c[1].radio, "Other components at", ["current point", "data mean"], key="grid_ref",
                     default="current point", horizontal=True)
    session.kept(c[2].toggle, "Show encodings", key="grid_points", default=False)
    c[3].button("Draw grid", on_click=_on_grid, type="primary", width="stretch", key="draw_grid")
    res = state.grid
    if res and res["proj"] == name:
        st.plotly_chart(grid_figure(loaded, res, bool(session.kept_value("grid_points", False))), key="grid_chart",
                        config={"displaylogo": False})
        entries = show.sheet_downloads(res["picture"], "grid")
        download_buttons(st.columns(max(len(entries), 3)), entries, "grid_dl")


# ------------------------------------------------------------------------------ bookmarks

def _on_goto(name: str) -> None:
    bm = state.bookmarks.get(name)
    if bm:
        state.z_label = bm.get("label", 0)
        session.move(state.loaded, bm["z"])
        session.rerun(Fragment.LIVE, Fragment.CONTROLS)


def _on_delete(name: str) -> None:
    state.bookmarks.pop(name, None)


def _bookmarks_tab(loaded) -> None:
    st.caption("Points you named with Save (beside the decoder). They live in the page's address (`bm`), so "
               "a reload or a copied address keeps them; each link opens that one point.")
    if not state.bookmarks:
        st.info("No bookmarks yet: move somewhere interesting, then press Save beside the decoder.")
        return
    for name, bm in list(state.bookmarks.items()):
        c = st.columns([0.5, 2, 0.8, 0.8], vertical_alignment="center")
        c[0].html(display.for_bundle(loaded).tag(_decode(loaded, bm["z"][None], bm.get("label"))[0], 44, alt=name))
        query = urllib.parse.urlencode({"bundle": loaded.name, "proj": state.proj_pick, "z": explore.format_latent(bm["z"])})
        # the name may come from a link (the URL keeps bookmarks): literal text, never Markdown
        c[1].html(f'<b class="bookmark-name">{html.escape(name)}</b> · <a href="?{html.escape(query)}" target="_self">link</a>')
        c[2].button("Go", key=f"bm_go_{name}", on_click=_on_goto, args=(name,), width="stretch")
        c[3].button("Delete", key=f"bm_del_{name}", on_click=_on_delete, args=(name,), width="stretch")


def _overview_tab(loaded) -> None:
    noun = display.for_bundle(loaded).NOUN
    grid = "a grid of decodings over the map's plane" if any(
        p.exact_inverse for p in loaded.pre.projections.values()) else "a grid (needs a PCA or latent map)"
    st.caption("**Interpolate**: decodings along the path between two points, drawn on the map, as a strip or a GIF. "
               "**Traverse**: sweep one latent dimension or direction through the current point. "
               f"**Grid**: {grid}. **Your {noun}**: bring your own, see it encoded, reconstructed and placed on "
               "the map. **Bookmarks**: the points you saved, with links to share.")


@st.fragment(key=Fragment.TOOLS)
def panel() -> None:
    loaded = state.loaded
    st.markdown("##### Tools")
    own = f"Your {display.for_bundle(loaded).NOUN}"
    tabs = st.tabs(["Overview", "Interpolate", "Traverse", "Grid", own, "Bookmarks"], key="tools_tab",
                   on_change="rerun")
    for tab, fn in zip(tabs, (_overview_tab, _interpolate_tab, _traverse_tab, _grid_tab, own_example.tab, _bookmarks_tab)):
        if not tab.open:
            continue  # lazy: only the open tab runs
        with tab:
            try:
                fn(loaded)
            except VAEError as exc:
                st.error(str(exc))
    session.write_url(loaded)  # bookmarks saved or deleted: the address keeps them for a reload
