"""Tools under the map (fragment "tools"): interpolate, traverse, grid, your own image, bookmarks.

Results are computed in button callbacks and kept in session state, so rerunning this fragment
only redraws them. An interpolation's path and an upload's place are drawn on the map by the pad.
"""
from __future__ import annotations

import html
import urllib.parse

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from vae import VAEError, explore, latent, render
from vae.errors import ImageError
from vae.modalities.image.reader import read_upload

from . import images, map_view, session, words
from .session import ss


def _decode(loaded, zs, label=None) -> np.ndarray:
    b = loaded.bundle
    lab = None
    if b.conditional:
        lab = np.full(len(zs), int(ss.get("z_label", 0) if label is None else label), np.int32)
    return b.decode(np.asarray(zs, np.float32), labels=lab)


def _point(label: str) -> dict:
    return {"z": ss.z.copy(), "label": int(ss.get("z_label", 0)), "name": label}


# ----------------------------------------------------------------------------- interpolate

def _on_set_end(which: str) -> None:
    ss[f"end_{which}"] = _point("current point")
    _interpolate()


def _interpolate() -> None:
    loaded = ss._loaded
    a, b = ss.get("end_A"), ss.get("end_B")
    if not (a and b):
        ss.interp = None
        session.rerun("tools")
        return
    n = int(session.kept_value("interp_steps", 10))
    kind = session.kept_value("interp_kind", "spherical")
    path = (latent.slerp if kind == "spherical" else latent.lerp)(a["z"], b["z"], n)
    frames = _decode(loaded, path, a["label"])
    proj = loaded.pre.projections[ss.proj_pick]
    ss.interp = {"z": path, "frames": frames, "map_path": proj.transform(path).tolist(),
                 "kind": kind, "n": n, "gif": render.gif_bytes(frames, scale=4)}
    ss.interp_step = 0
    session.rerun("tools", "live")


def _on_interp_step() -> None:
    loaded = ss._loaded
    k = int(ss.interp_step)
    session.move(loaded, ss.interp["z"][k])
    session.rerun("live", "controls")


def _interpolate_tab(loaded) -> None:
    st.caption("Set end A and end B from the current point (click or drag somewhere first), then see the decodings "
               "along the straight (linear) or great-circle (spherical) path between them. The path is drawn on "
               "the map; spherical paths stay where a Gaussian prior puts its mass.")
    c = st.columns([1, 1, 1.2, 1.2], vertical_alignment="bottom")
    for col, which in zip(c[:2], "AB"):
        end = ss.get(f"end_{which}")
        with col:
            if end:
                st.html(images.tag(_decode(loaded, end["z"][None], end["label"])[0], 56, alt=f"end {which}"))
            st.button(f"{which} ← current point", key=f"set_{which}", on_click=_on_set_end, args=(which,), width="stretch")
    session.kept(c[2].radio, "Path", ["spherical", "linear"], key="interp_kind", default="spherical", horizontal=True,
                 on_change=_interpolate)
    session.kept(c[3].slider, "Steps", 3, 24, key="interp_steps", default=10, on_change=_interpolate)
    res = ss.get("interp")
    if not res:
        return
    strip = render.strip(res["frames"], gap=1)
    c0, c1 = st.columns([1, 6], vertical_alignment="center")
    c0.image(res["gif"], caption="animated", width=96)
    c1.html(images.tag(strip, min(56 * res["n"], 800), alt="interpolation strip", cls="interp-strip"))
    c1, c2, c3 = st.columns([1.4, 1, 1], vertical_alignment="bottom")
    c1.slider("Show step on the decoder", 0, res["n"] - 1, key="interp_step", on_change=_on_interp_step)
    c2.download_button("Strip (PNG)", data=render.png_bytes(strip, scale=4), file_name="interpolation.png",
                       mime="image/png", on_click="ignore", width="stretch")
    c3.download_button("Animation (GIF)", data=lambda f=res["frames"]: render.gif_bytes(f, scale=8),
                       file_name="interpolation.gif", mime="image/gif", on_click="ignore", width="stretch")


# ------------------------------------------------------------------------------- traverse

def _traverse_options(loaded) -> list[str]:
    kl = np.nan_to_num(loaded.pre.kl_per_dim)
    return [f"z{i} (KL {kl[i]:.2f})" for i in loaded.dim_order] + [d.name for d in session.all_directions(loaded)]


def _on_traverse() -> None:
    loaded = ss._loaded
    choice = session.kept_value("trav_what")
    span, n = float(session.kept_value("trav_span", 3.0)), int(session.kept_value("trav_steps", 9))
    t = np.linspace(-span, span, n)
    if choice and choice.startswith("z") and " (KL" in choice:
        i = int(choice[1:choice.index(" ")])
        zs = latent.traverse(ss.z, i, t * loaded.latent_std[i])
    else:
        d = session.find_direction(loaded, choice)
        if d is None:
            return
        spread = session.direction_scales(loaded)[d.name]["spread"]
        zs = latent.traverse(ss.z, d.vector, t * spread)
    ss.traverse = {"what": choice, "t": t, "frames": _decode(loaded, zs)}
    session.rerun("tools")


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
    res = ss.get("traverse")
    if res:
        strip = render.strip(res["frames"], gap=1)
        st.html(images.tag(strip, min(64 * len(res["frames"]), 900), alt="traversal strip", cls="traverse-strip"))
        st.caption(f"{res['what']}: from {res['t'][0]:+.1f} σ to {res['t'][-1]:+.1f} σ around the current point")
        st.download_button("Strip (PNG)", data=render.png_bytes(strip, scale=4), file_name="traversal.png",
                           mime="image/png", on_click="ignore")


# ----------------------------------------------------------------------------------- grid

def _on_grid() -> None:
    loaded = ss._loaded
    name = ss.proj_pick
    proj = loaded.pre.projections[name]
    n = int(session.kept_value("grid_n", 15))
    z_ref = ss.z if session.kept_value("grid_ref", "current point") == "current point" else loaded.latent_mean
    zs, shape = explore.plane_grid(proj, loaded.bounds[name], n, z_ref)
    frames = _decode(loaded, zs)
    ss.grid = {"picture": render.grid(frames, cols=n, gap=0), "n": n, "proj": name, "bounds": loaded.bounds[name]}
    session.rerun("tools")


def grid_figure(loaded, res: dict, show_points: bool) -> go.Figure:
    """The grid of decodings laid over the map plane, with the encodings faintly on top."""
    x0, x1, y0, y1 = res["bounds"]
    n = res["n"]
    dx, dy = (x1 - x0) / (n - 1), (y1 - y0) / (n - 1)
    fig = go.Figure()
    fig.add_layout_image(source=Image.fromarray(render.to_uint8(res["picture"]).squeeze()), xref="x", yref="y",
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
    name = ss.proj_pick
    proj = loaded.pre.projections[name]
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
    res = ss.get("grid")
    if res and res["proj"] == name:
        st.plotly_chart(grid_figure(loaded, res, bool(session.kept_value("grid_points", False))), key="grid_chart",
                        config={"displaylogo": False})
        st.download_button("Grid (PNG)", data=render.png_bytes(res["picture"], scale=2), file_name="grid.png",
                           mime="image/png", on_click="ignore")


# ------------------------------------------------------------------------------ your image

def _on_upload() -> None:
    loaded = ss._loaded
    f = ss.get("upload_file")
    ss.upload = None
    ss.marks_extra = []
    if f is None:
        session.rerun("tools", "live")
        return
    b = loaded.bundle
    h, w, c = b.image_shape
    try:
        x, preview = read_upload(f.getvalue(), (h, w), c, fit=session.kept_value("upload_fit") or "pad",
                                 name=f.name[:80])
    except ImageError as exc:
        ss.upload = {"error": str(exc)}
        session.rerun("tools", "live")
        return
    ident = (f.name, f.size)
    if ss.get("_upload_id") != ident:  # a new picture: match the training images' background by default
        ss._upload_id = ident
        light = bool(loaded.pre.info.get("attribute_options", {}).get("invert", False))
        session.set_kept("upload_invert", background_differs(x, light))
    if session.kept_value("upload_invert", False):
        x = 255 - x
    label = int(session.kept_value("upload_label", 0)) if b.conditional else None
    ss.upload = {"name": f.name, "preview": preview, **place_upload(loaded, x, label)}
    proj = loaded.pre.projections[ss.proj_pick]
    ss.marks_extra = [map_view.mark(proj.transform(ss.upload["z"][None])[0], "your image")]
    session.rerun("tools", "live")


def place_upload(loaded, x: np.ndarray, label: int | None) -> dict:
    """A converted picture (H, W, C) uint8 -> its encoding, reconstruction, nearest encodings and meter report."""
    b = loaded.bundle
    labels = [label] if label is not None else None
    mean, _ = b.encode(x[None], labels=labels)
    recon = b.decode(mean, labels=labels)[0]
    idx, dist = latent.nearest(mean[0], loaded.pre.mean, 8)
    return {"x": x, "z": mean[0], "recon": recon, "idx": idx, "dist": dist, "label": label,
            "meter": loaded.off_manifold(mean[0])}


def background_differs(x: np.ndarray, data_light: bool) -> bool:
    """Whether a converted picture's border (its background) is light while the data's is dark, or the reverse."""
    border = np.concatenate([x[0].ravel(), x[-1].ravel(), x[:, 0].ravel(), x[:, -1].ravel()])
    return bool((border.mean() > 127) != data_light)


def _on_explore_upload() -> None:
    up = ss.upload
    if up and "z" in up:
        if up["label"] is not None:
            ss.z_label = up["label"]
        session.move(ss._loaded, up["z"])
        session.rerun("live", "controls")


def _upload_tab(loaded) -> None:
    b = loaded.bundle
    st.caption(f"Upload any picture: it is fitted to the model's aspect (padded with its own background, or "
               f"centre-cropped), resized to {b.image_shape[0]}×{b.image_shape[1]} "
               f"{'grey' if b.image_shape[2] == 1 else 'colour'}, encoded, reconstructed and placed on the map.")
    light = bool(loaded.pre.info.get("attribute_options", {}).get("invert", False))
    c = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    c[0].file_uploader("Your image", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"], key="upload_file",
                       on_change=_on_upload)
    session.kept(c[3].segmented_control, "Fit", ["pad", "crop"], key="upload_fit", default="pad", on_change=_on_upload,
                 format_func={"pad": "Pad", "crop": "Crop"}.get,
                 help="Pad: the whole picture, its background added to fill the model's aspect. Crop: the centre "
                      "only, filling the frame (a wide picture loses its sides).")
    session.kept(c[1].toggle, "Invert colours", key="upload_invert", default=False, on_change=_on_upload,
                help="The training images are " + ("dark on light" if light else "light on a black background") +
                     ": a picture the other way round is inverted (set automatically from its border).")
    if b.conditional:
        session.kept(c[2].selectbox, "Its class", range(len(b.class_names)), format_func=lambda k: b.class_names[k],
                     key="upload_label", default=0, on_change=_on_upload)
    up = ss.get("upload")
    if not up:
        return
    if "error" in up:
        st.error(words.literal(up["error"], limit=400))  # it names the uploaded file: shown as typed, never as Markdown
        return
    names = b.class_names
    cols = st.columns([1, 1, 1, 1.5], gap="small")
    cols[0].image(up["preview"], caption="your picture", width=120)
    cols[1].html(images.tag(up["x"], 120, alt="converted", cls="upload-converted")
                 + '<div class="px-caption">as the model sees it</div>')
    cols[2].html(images.tag(up["recon"], 120, alt="reconstruction", cls="upload-recon")
                 + '<div class="px-caption">reconstruction</div>')
    with cols[3]:
        m = up["meter"]
        st.markdown(f"Placed on the map as **your image**. Nearest encodings: "
                    f"{', '.join(names[loaded.pre.labels[i]] for i in up['idx'][:3])}.")
        st.caption("Off-manifold: %s (%s)" % words.meter_words(m))
        st.button("Explore from here", on_click=_on_explore_upload, type="primary")
    st.html(images.row([loaded.pre.images[i] for i in up["idx"]],
                       [f"{names[loaded.pre.labels[i]]} · {d:.2f}" for i, d in zip(up["idx"], up["dist"])], 56))


# ------------------------------------------------------------------------------ bookmarks

def _on_goto(name: str) -> None:
    bm = ss.bookmarks.get(name)
    if bm:
        ss.z_label = bm.get("label", 0)
        session.move(ss._loaded, bm["z"])
        session.rerun("live", "controls")


def _on_delete(name: str) -> None:
    ss.bookmarks.pop(name, None)


def _bookmarks_tab(loaded) -> None:
    st.caption("Points you named with Save (beside the decoded image). They live in the page's address (`bm`), so "
               "a reload or a copied address keeps them; each link opens that one point.")
    if not ss.bookmarks:
        st.info("No bookmarks yet: move somewhere interesting, then press Save beside the decoded image.")
        return
    for name, bm in list(ss.bookmarks.items()):
        c = st.columns([0.5, 2, 0.8, 0.8], vertical_alignment="center")
        c[0].html(images.tag(_decode(loaded, bm["z"][None], bm.get("label"))[0], 44, alt=name))
        query = urllib.parse.urlencode({"bundle": loaded.name, "proj": ss.proj_pick, "z": explore.format_latent(bm["z"])})
        # the name may come from a link (the URL keeps bookmarks): literal text, never Markdown
        c[1].html(f'<b class="bookmark-name">{html.escape(name)}</b> · <a href="?{html.escape(query)}" target="_self">link</a>')
        c[2].button("Go", key=f"bm_go_{name}", on_click=_on_goto, args=(name,), width="stretch")
        c[3].button("Delete", key=f"bm_del_{name}", on_click=_on_delete, args=(name,), width="stretch")


def _overview_tab(loaded) -> None:
    grid = "a grid of decodings over the map's plane" if any(
        p.exact_inverse for p in loaded.pre.projections.values()) else "a grid (needs a PCA or latent map)"
    st.caption("**Interpolate**: decodings along the path between two points, drawn on the map, as a strip or a GIF. "
               "**Traverse**: sweep one latent dimension or direction through the current point. "
               f"**Grid**: {grid}. **Your image**: upload a picture, see it encoded, reconstructed and placed on "
               "the map. **Bookmarks**: the points you saved, with links to share.")


@st.fragment(key="tools")
def panel() -> None:
    loaded = ss._loaded
    st.markdown("##### Tools")
    tabs = st.tabs(["Overview", "Interpolate", "Traverse", "Grid", "Your image", "Bookmarks"], key="tools_tab",
                   on_change="rerun")
    for tab, fn in zip(tabs, (_overview_tab, _interpolate_tab, _traverse_tab, _grid_tab, _upload_tab, _bookmarks_tab)):
        if not tab.open:
            continue  # lazy: only the open tab runs
        with tab:
            try:
                fn(loaded)
            except VAEError as exc:
                st.error(str(exc))
    session.write_url(loaded)  # bookmarks saved or deleted: the address keeps them for a reload
