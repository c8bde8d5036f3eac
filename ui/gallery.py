"""The gallery page: many samples at once from the prior, per class region or per class (conditional),
shown as one grid; click a sample to explore from it; download the grid, an .npz, or a zip of class folders.

The seed is shown and editable: "Draw" moves it on by one, and typing a seed draws that seed's samples
again. A draw is kept per session and redone only when a setting or the seed changes.
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae import BundleError, VAEError, export, generate

from . import bundles, display, session
from .state import state

MAX_PER_CLASS = 1000
MAX_PRIOR = 10_000
SHOW_COLS = 16          # at most this many samples of a row (a class) are shown; the downloads hold all
SHOW_PRIOR = 160
LIST_SAMPLES = 24  # samples listed for data that do not tile into one picture
GRID_WIDTH = 1100       # CSS pixels the grid may take: small pictures are drawn up to 3x within it
PROGRESS_FROM = 1024    # a progress bar for draws at least this large
SOURCE_TITLES = {"prior": "Prior", "region": "Class regions", "conditional": "Per class (conditional)"}
REGION_TITLES = {"gaussian": "Gaussian per class", "mixture": "Mixture per class", "exemplar": "Near labelled encodings"}
CHART_KEY = "gallery_grid"


def _advance_seed() -> None:
    session.set_kept("gallery_seed", int(state.widget("gallery_seed", 0)) + 1)


def _on_pick() -> None:
    """A click on a sample: remember it; the page run opens it in the explorer."""
    points = (state.widget(CHART_KEY) or {}).get("selection", {}).get("points", [])
    if points and points[0].get("customdata") is not None:
        state.gallery_open = int(np.ravel(points[0]["customdata"])[0])


def settings(loaded) -> dict:
    """The controls; returns the chosen source, counts, temperature, region kind, classes and seed."""
    b = loaded.bundle
    sources = ["prior", "region"] + (["conditional"] if b.conditional else [])
    if session.kept_value("gallery_source") not in sources:
        session.set_kept("gallery_source", "conditional" if b.conditional else "region")
    c1, c2, c3 = st.columns([2, 1.3, 1.3])
    with c1:
        source = session.kept(st.radio, "Draw from", sources, key="gallery_source", format_func=SOURCE_TITLES.get,
                              horizontal=True, help="Prior: N(0, T²I), no labels. Class regions: around each class's "
                                                    "encodings. Per class: the conditional decoder given the class.")
        names = list(b.class_names)
        classes = list(range(len(names)))
        if source != "prior":
            if any(c not in classes for c in session.kept_value("gallery_classes", [])):  # another bundle's
                session.set_kept("gallery_classes", classes)
            classes = session.kept(st.multiselect, "Classes (one row each)", classes, key="gallery_classes",
                                   default=classes, format_func=lambda c: names[c]) or classes
    with c2:
        if source == "prior":
            count = session.kept(st.number_input, "Samples", 1, MAX_PRIOR, key="gallery_n", default=100, step=10)
        else:
            count = session.kept(st.number_input, "Samples per class", 1, MAX_PER_CLASS, key="gallery_per_class",
                                 default=10, step=5)
        temperature = session.kept(st.slider, "Temperature", 0.0, 2.0, key="gallery_temperature", default=1.0,
                                   step=0.05, help="Scales the spread: below 1 gives typical samples, above 1 unusual ones.")
    with c3:
        kind = "gaussian"
        if source == "region":
            kind = session.kept(st.selectbox, "Region", list(REGION_TITLES), key="gallery_region", default="gaussian",
                                format_func=REGION_TITLES.get,
                                help="Gaussian: each class's mean and shrunk covariance. Mixture: up to "
                                     f"{generate.MIXTURE_COMPONENTS} Gaussians per class. Near labelled encodings: "
                                     "the posterior of a randomly chosen encoding of the class.")
        seed = session.kept(st.number_input, "Seed", 0, 2**31 - 1, key="gallery_seed", default=0, step=1,
                            help="Type a seed to draw its samples again.")
        st.button("Draw", key="gallery_draw_button", on_click=_advance_seed, type="primary",
                  icon=":material/casino:", help="New samples: the seed moves on by one.")
    return {"source": source, "count": int(count), "temperature": float(temperature), "region": kind,
            "classes": [int(c) for c in classes], "seed": int(seed)}


@st.cache_resource(max_entries=8, show_spinner=False)
def _regions(path: str, kind: str, arrays_id: int, _loaded) -> generate.ClassRegions:
    pre = _loaded.pre
    return generate.ClassRegions(kind).fit(pre.mean, pre.labels, pre.logvar, num_classes=len(_loaded.bundle.class_names))


def draw(loaded, chosen: dict) -> dict:
    """The samples of these settings (kept in the session until a setting changes)."""
    key = (loaded.name, repr(sorted(chosen.items())))
    kept = state.gallery_draw
    if kept is not None and kept["key"] == key:
        return kept
    src = chosen["source"]
    per_class = None if src == "prior" else chosen["count"]
    n = chosen["count"] if src == "prior" else None
    total = n if src == "prior" else per_class * len(chosen["classes"])
    bar = st.progress(0.0, text=f"Decoding {total:,} samples...") if total >= PROGRESS_FROM else None
    regions = _regions(str(loaded.bundle.path), chosen["region"], id(loaded.pre), loaded) if src == "region" else None
    images, labels, z = generate.draw(
        loaded.bundle, src, per_class=per_class, n=n, temperature=chosen["temperature"], seed=chosen["seed"],
        classes=chosen["classes"], regions=regions,
        progress=None if bar is None else lambda done, all_: bar.progress(done / all_, text=f"Decoded {done:,} of {all_:,}"))
    if bar is not None:
        bar.empty()
    state.gallery_draw = {"key": key, "images": images, "labels": labels, "z": z, "settings": dict(chosen)}
    return state.gallery_draw


def shown_rows(labels: np.ndarray, source: str) -> list[np.ndarray]:
    """Which samples the grid shows, row by row: a class per row (up to SHOW_COLS), or the prior's first ones."""
    if source == "prior":
        idx = np.arange(min(len(labels), SHOW_PRIOR))
        return [idx[i:i + SHOW_COLS] for i in range(0, len(idx), SHOW_COLS)]
    return [np.flatnonzero(labels == c)[:SHOW_COLS] for c in dict.fromkeys(labels.tolist())]


def grid_figure(show, samples, labels: np.ndarray, rows: list[np.ndarray], class_names, scale: int = 3,
                gap: int = 2) -> go.Figure:
    """One picture of the shown samples (the display module's sheet), with an invisible clickable marker on
    each (customdata: sample index)."""
    cols = max(len(r) for r in rows)
    cells = [samples[r[c]] if c < len(r) else None for r in rows for c in range(cols)]
    pic = show.sheet(cells, cols=cols, gap=gap)
    h, w = (pic.shape[0] + gap) // len(rows) - gap, (pic.shape[1] + gap) // cols - gap  # one cell
    xs, ys, custom, text = [], [], [], []
    for r, idx in enumerate(rows):
        for c, i in enumerate(idx):
            xs.append((c * (w + gap) + w / 2) * scale)
            ys.append((r * (h + gap) + h / 2) * scale)
            custom.append(int(i))
            text.append(html.escape(str(class_names[labels[i]])) if labels[i] >= 0 else "prior sample")
    source = show.sheet_uri(pic, scale=scale)
    fig = go.Figure(go.Image(source=source, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", customdata=custom, text=text,
                             hovertemplate="%{text}<br>sample #%{customdata}<br>click to explore<extra></extra>",
                             marker=dict(size=max(h, w) * scale * 0.9, symbol="square", color="rgba(0,0,0,0)"),
                             selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                             showlegend=False))
    height, width = pic.shape[0] * scale, pic.shape[1] * scale
    first = [int(idx[0]) for idx in rows if len(idx)]
    labelled = all(labels[i] >= 0 for i in first) and len({int(labels[i]) for i in first}) == len(first)
    names = [html.escape(str(class_names[labels[i]]))[:24] for i in first] if labelled else []  # a class per row
    left = 10 + 7 * max((len(n) for n in names), default=0)
    fig.update_layout(height=height + 10, width=width + left + 5, margin=dict(l=left, r=5, t=5, b=5), dragmode=False,
                      xaxis=dict(visible=False, range=[-0.5, width - 0.5]),
                      yaxis=dict(visible=bool(names), range=[height - 0.5, -0.5], scaleanchor="x", showgrid=False,
                                 zeroline=False, tickvals=[(r * (h + gap) + h / 2) * scale for r in range(len(names))],
                                 ticktext=names, ticks=""),
                      hovermode="closest", clickmode="event+select", uirevision="gallery")
    return fig


def open_in_explorer(loaded, kept: dict, i: int) -> None:
    """Make sample i the explorer's current point (and class, if conditional) and go there."""
    session.move(loaded, kept["z"][i])
    if loaded.bundle.conditional and kept["labels"][i] >= 0:
        state.z_label = int(kept["labels"][i])
    session.switch_page("app_pages/explorer.py")


def downloads(loaded, kept: dict) -> None:
    """The grid as PNG, the samples as .npz and as a zip of class folders; each built when clicked."""
    samples, labels, chosen = kept["images"], kept["labels"], kept["settings"]
    show = display.for_bundle(loaded)
    names = list(loaded.bundle.class_names)
    info = export.record(loaded.bundle, {k: v for k, v in chosen.items() if k != "seed"}, chosen["seed"], labels)
    stem = f"{loaded.name}-{chosen['source']}-seed{chosen['seed']}"
    order = np.argsort(labels, kind="stable") if chosen["source"] != "prior" else np.arange(len(labels))
    cols = chosen["count"] if chosen["source"] != "prior" else min(SHOW_COLS, len(labels))
    c1, c2, c3 = st.columns(3)
    label, data, file_name, mime = show.sheet_downloads(show.sheet(samples[order], cols=min(cols, 100), gap=2), stem)[0]
    c1.download_button(label, data, file_name=file_name, mime=mime, on_click="ignore", icon=":material/grid_on:",
                       key="gallery_png")
    c2.download_button("Samples (.npz)", lambda: export.npz_bytes(samples, labels, names), file_name=f"{stem}.npz",
                       mime="application/octet-stream", on_click="ignore", icon=":material/download:", key="gallery_npz",
                       help="x (N, H, W, C) uint8, y labels, class_names: load it with --dataset npz:PATH.")
    c3.download_button("Samples (zip of class folders)", lambda: export.zip_bytes(samples, labels, names, info, root=stem),
                       file_name=f"{stem}.zip", mime="application/zip", on_click="ignore", icon=":material/folder_zip:",
                       key="gallery_zip", help="PNG folders by class, and generation.json: unzip and load --dataset folder:PATH.")
    st.caption("As extra training data: measured with the shipped Fashion-MNIST bundle, adding such samples to 10 to 6,000 real images per class "
               "did not raise a small CNN's test accuracy (BENCHMARKS.md, \"Generated data as augmentation\"). "
               "`scripts/augment.py` writes a whole labelled set.")


def page() -> None:
    loaded = state.ctx.loaded if state.ctx else None
    if loaded is None:
        return  # app.py already explained why
    st.markdown(f"## Gallery · {loaded.name}")
    chosen = settings(loaded)
    try:
        bundles.load_model(loaded)
        kept = draw(loaded, chosen)
    except (BundleError, VAEError) as exc:
        st.error(str(exc), icon=":material/error:")
        return
    pending, state.gallery_open = state.gallery_open, None
    if pending is not None and 0 <= pending < len(kept["z"]):
        open_in_explorer(loaded, kept, pending)
    samples, labels = kept["images"], kept["labels"]
    show = display.for_bundle(loaded)
    if not hasattr(show, "sheet"):  # melodies, sentences: a list of the first samples, not one picture
        names, k = loaded.bundle.class_names, min(len(labels), LIST_SAMPLES)
        st.caption(f"Seed {chosen['seed']} · {len(labels):,} samples, the first {k} shown")
        captions = [names[int(y)] if 0 <= int(y) < len(names) else "" for y in labels[:k]]
        st.html(show.CSS + show.row(samples[:k], captions, 150))
        return
    rows = shown_rows(labels, chosen["source"])
    n_shown = sum(len(r) for r in rows)
    st.caption(f"Seed {chosen['seed']} · {len(labels):,} samples"
               + (f", {n_shown:,} shown (the downloads hold all)" if n_shown < len(labels) else "")
               + " · click a sample to explore from it")
    if n_shown:
        cols = max(len(r) for r in rows)
        width = show.sheet(samples[:1], cols=1).shape[1]
        scale = int(np.clip(GRID_WIDTH // (cols * (width + 2)), 1, 3))
        st.plotly_chart(grid_figure(show, samples, labels, rows, loaded.bundle.class_names, scale=scale), key=CHART_KEY,
                        on_select=_on_pick, selection_mode="points", config={"displayModeBar": False})
        downloads(loaded, kept)
