"""The big map: a WebGL scatter of every encoding, built once per (bundle, projection, colouring).

The figure object is cached and handed to st.plotly_chart unchanged on every run, so its spec -
and with it the chart's zoom and selection - stays the same while a person drags, slides and
clicks. The moving current point, paths and marks are drawn over it by the latent pad's script.
"""
from __future__ import annotations

import threading

import numpy as np
import plotly.graph_objects as go

from vae import render

# Tableau 10, then 10 more: readable on white, distinct for colour-blind readers in the first 10
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a",
           "#d62728", "#ff9896", "#9467bd", "#c5b0d5"]
CLASS = "class"
RECON = "reconstruction error"
PROJECTION_TITLES = {"pca2": "PCA 2-D", "pca3": "PCA 3-D", "tsne": "t-SNE", "umap": "UMAP", "latent": "Latent (2-D)"}
MAP_HEIGHT = 640
LEGEND_NAME_CHARS = 14  # class names longer than this put the legend under the map: beside it, it squeezes the map
# showTips off: Plotly's "double-click on legend" note is pinned to the window's top right, over the decoder
CHART_CONFIG = {"displaylogo": False, "showTips": False}

_cache: dict = {}
_lock = threading.Lock()


def class_colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def colour_rgb(labels: np.ndarray) -> np.ndarray:
    """(N,) class indices -> (N, 3) uint8 palette colours."""
    table = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in PALETTE], np.uint8)
    return table[np.asarray(labels) % len(PALETTE)]


def projection_title(name: str) -> str:
    return PROJECTION_TITLES.get(name, name)


def axis_titles(name: str, dims: int) -> list[str]:
    if name.startswith("pca"):
        return [f"PC{i + 1}" for i in range(dims)]
    if name == "latent":
        return ["z0", "z1"]
    return [f"{projection_title(name)} {i + 1}" for i in range(dims)]


def chart_key(dims: int) -> str:
    """The big map's st.plotly_chart key (2-D maps report selections; the 3-D one only clicks, via the pad)."""
    return "map3d" if dims == 3 else "map"


def mark(p, label: str) -> dict:
    """A labelled mark at map point p (2 or 3 coordinates), as the latent pad draws it."""
    out = {"x": float(p[0]), "y": float(p[1]), "label": label}
    if len(p) > 2:
        out["z"] = float(p[2])
    return out


def default_projection(pre) -> str:
    """The map shown first: the latent plane of a 2-D model, else PCA, t-SNE, UMAP, 3-D PCA."""
    for name in ("latent", "pca2", "tsne", "umap", "pca3"):
        if name in pre.projections:
            return name
    return next(iter(pre.projections))


def colour_options(pre) -> list[str]:
    return [CLASS] + [a for a in pre.attributes if np.isfinite(pre.attributes[a]).any()] + \
        ([RECON] if np.isfinite(pre.recon_error).any() else [])


def _memo(key, build):
    with _lock:
        if key in _cache:
            return _cache[key]
    value = build()
    with _lock:
        if len(_cache) > 48:
            _cache.clear()
        return _cache.setdefault(key, value)


def figure(loaded, projection: str, colour: str) -> go.Figure:
    """The cached map figure: one WebGL trace per class (the legend shows and hides classes)."""
    return _memo(("fig", str(loaded.choice.path), projection, colour), lambda: _build(loaded, projection, colour))


def _build(loaded, projection: str, colour: str) -> go.Figure:
    pre = loaded.pre
    proj = pre.projections[projection]
    emb = np.asarray(proj.embedding, np.float32)  # float32 (and float32 customdata below): fewer bytes to send
    dims = int(proj.dims)
    names = list(loaded.bundle.class_names)
    labels = pre.labels
    n = len(labels)
    values = None
    if colour == RECON:
        values, unit = pre.recon_error, "nats"
    elif colour != CLASS:
        values, unit = pre.attributes[colour], pre.attribute_info.get(colour, {}).get("unit", "")
    size = 5 if n <= 5000 else 4 if n <= 20000 else 3
    fig = go.Figure()
    for k in np.unique(labels):
        idx = np.nonzero(labels == k)[0]
        name = names[k] if 0 <= k < len(names) else str(k)
        if values is None:
            marker = dict(color=class_colour(int(k)), size=size, opacity=0.75)
            custom = idx
            hover = f"<b>{name}</b><br>#%{{customdata}}<extra></extra>"
        else:
            marker = dict(color=values[idx].astype(np.float32), coloraxis="coloraxis", size=size, opacity=0.8)
            custom = np.stack([idx, values[idx]], 1).astype(np.float32)
            hover = f"<b>{name}</b><br>#%{{customdata[0]:.0f}}<br>{colour}: %{{customdata[1]:.3g}}<extra></extra>"
        # coloured by a value, a class's points carry no class colour: a point-less trace shows it in the legend
        common = dict(name=name, legendgroup=name, customdata=custom, hovertemplate=hover, marker=marker,
                      mode="markers", showlegend=values is None)
        if dims == 2:  # a selection fades the rest only a little: the map stays readable
            common.update(selected=dict(marker=dict(opacity=1.0)), unselected=dict(marker=dict(opacity=0.35)))
        if dims == 3:
            small = {**marker, "size": max(size - 2, 2)}  # 3-D markers read larger
            trace = go.Scatter3d(x=emb[idx, 0], y=emb[idx, 1], z=emb[idx, 2], **{**common, "marker": small})
        else:
            trace = go.Scattergl(x=emb[idx, 0], y=emb[idx, 1], **common)
        fig.add_trace(trace)
        if values is not None:
            proxy = dict(name=name, legendgroup=name, mode="markers", hoverinfo="skip", showlegend=True,
                         marker=dict(color=class_colour(int(k)), size=size))
            # on a 2-D map an SVG trace: the browser builds no WebGL for a legend entry
            fig.add_trace(go.Scatter3d(x=[None], y=[None], z=[None], **proxy) if dims == 3
                          else go.Scatter(x=[None], y=[None], **proxy))
    titles = axis_titles(projection, dims)
    # the top margin is the tool bar's band: it would otherwise cover the legend's title
    layout = dict(height=MAP_HEIGHT, margin=dict(l=10, r=10, t=34, b=10), uirevision=f"{projection}",
                  legend=dict(title=dict(text="class (click to hide)"), itemsizing="constant", orientation="v"),
                  hovermode="closest", dragmode="zoom" if dims == 2 else "orbit")
    long_names = max((len(str(n)) for n in loaded.bundle.class_names), default=0) > LEGEND_NAME_CHARS
    if values is not None or long_names:  # a colour bar, or long class names: the legend goes below the plot
        if values is not None:
            finite = values[np.isfinite(values)]
            lo, hi = (np.percentile(finite, [1, 99]) if len(finite) else (0.0, 1.0))
            layout["coloraxis"] = dict(colorscale="Viridis", cmin=float(lo), cmax=float(hi),
                                       colorbar=dict(title=dict(text=f"{colour}<br><sub>{unit}</sub>", side="right"),
                                                     thickness=12, len=0.8, x=1.02, xanchor="left"))
        layout["legend"].update(orientation="h", x=0.0, xanchor="left", y=-0.1 if dims == 2 else 0.0, yanchor="top",
                                title=dict(text="class (click to hide)", side="top left"))
    if dims == 3:
        # the camera further back than Plotly's (1.25, 1.25, 1.25): the whole box and its axis titles fit a narrow column
        layout["scene"] = dict(xaxis_title=titles[0], yaxis_title=titles[1], zaxis_title=titles[2], aspectmode="cube",
                               camera=dict(eye=dict(x=2.3, y=2.3, z=1.5)))
    else:
        x0, x1, y0, y1 = loaded.view.bounds[projection]
        layout.update(xaxis=dict(title=titles[0], range=[x0, x1], zeroline=False),
                      yaxis=dict(title=titles[1], range=[y0, y1], zeroline=False),
                      clickanywhere=True)  # clicks on empty space reach the latent pad's script
    fig.update_layout(**layout)
    return fig


def pad_background(loaded, projection: str, size: int = 256) -> str:
    """A small picture of the map (points in class colours) as a data URI: the pad's backdrop."""
    def build():
        emb = loaded.pre.projections[projection].embedding[:, :2]
        picture = render.rasterize_points(emb, colour_rgb(loaded.pre.labels), size=size,
                                          bounds=loaded.view.bounds[projection], radius=1 if len(emb) > 3000 else 2)
        return render.data_uri(render.png_bytes(picture))
    return _memo(("pad", str(loaded.choice.path), projection, size), build)


def selected_rows(selection) -> tuple[list[int], bool]:
    """Dataset rows of a map selection, and whether a lasso or box made it (rather than a click)."""
    if not selection:
        return [], False
    sel = selection.get("selection", selection) if hasattr(selection, "get") else {}
    rows = []
    for p in sel.get("points", []) or []:
        c = p.get("customdata")
        if isinstance(c, (list, tuple)):
            c = c[0] if c else None
        if c is None:
            continue
        try:
            rows.append(int(round(float(c))))
        except (TypeError, ValueError):
            continue
    area = bool(sel.get("lasso") or sel.get("box"))
    return rows, area
