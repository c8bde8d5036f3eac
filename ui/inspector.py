"""The inspector (fragment "inspector"): the selected encoding (its example and reconstruction), class,
latent vector and nearest neighbours in latent space."""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from vae import latent, manifold

from . import display, session, words
from .state import Fragment, state

NEIGHBOURS = 8


def _on_pick_pill() -> None:
    row = state.neighbour_pick
    if row is not None:
        session.select(state.loaded, int(row))
        session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS, Fragment.INSPECTOR)


def latent_bars(t: np.ndarray, kl: np.ndarray) -> str:
    """The latent vector as small bars in spreads (σ), one per dimension, with a tooltip each (CSS: style.CSS)."""
    cells, labels = [], []
    for i, v in enumerate(t):
        h = min(abs(float(v)) / 3.0, 1.0) * 26  # 3 σ fills half the cell
        top = 28 if v < 0 else 28 - h
        cls = "zbar neg" if v < 0 else "zbar"
        faded = " faded" if kl[i] < manifold.INACTIVE_KL else ""
        cells.append(f'<div class="zcell{faded}" title="z{i} = {v:+.2f} σ · KL {kl[i]:.2f}">'
                     f'<div class="{cls}" style="top:{top:.0f}px;height:{max(h, 1):.0f}px"></div></div>')
        labels.append(f'<div class="zlabel">{i}</div>')
    return f'<div class="zrow">{"".join(cells)}</div><div class="zrow">{"".join(labels)}</div>'


@st.fragment(key=Fragment.INSPECTOR)
def panel() -> None:
    """Drawn as one HTML element and one widget: a lighter page reruns faster while dragging."""
    loaded = state.loaded
    b, pre = loaded.bundle, loaded.pre
    show = display.for_bundle(loaded)
    row = int(state.sel)
    names = b.class_names
    class_of = lambda i: names[pre.labels[i]] if pre.labels[i] < len(names) else str(pre.labels[i])  # noqa: E731
    label = int(pre.labels[row])
    own = None if pre.lower is None else pre.lower[row][None]  # a hierarchical bundle: the point's own details
    recon = display.decodings(b, pre.mean[row][None], labels=[label] if b.conditional else None, lower=own)[0]
    lines = []
    if np.isfinite(pre.recon_error[row]):
        pct = 100.0 * np.mean(pre.recon_error < pre.recon_error[row])
        lines.append(f"reconstruction error {pre.recon_error[row]:.1f} nats ({words.percentile(pct)})")
    for a in list(pre.attributes)[:4]:
        v = pre.attributes[a][row]
        if np.isfinite(v):
            lines.append(f"{a.replace('_', ' ')} {v:.3g} {pre.attribute_info.get(a, {}).get('unit', '')}".strip())
    t = loaded.view.in_spreads(pre.mean[row])
    vector = ", ".join(f"{v:.4f}" for v in pre.mean[row])
    original = (f'<div>{show.tag(pre.images[row], 150, alt=f"original {show.NOUN}", cls="original", row=row)}'
                '<div class="px-caption">original</div></div>') if len(pre.images) else ""
    idx, dist = latent.nearest(pre.mean[row], pre.mean, NEIGHBOURS + 1)
    idx, dist = idx[1:], dist[1:]  # the first is the point itself
    neighbours = ""
    if len(pre.images):
        neighbours = ('<div class="px-caption" style="margin-top:10px">Nearest neighbours in latent space '
                      '(class · distance)</div>' +
                      show.row([pre.images[i] for i in idx], [f"{class_of(i)} · {d:.2f}" for i, d in zip(idx, dist)],
                                 54, cls="neighbour"))
    st.html(f"""
<h5 class="panel-title">Selected point</h5>
<div class="panel-help">Click a point on the map to inspect it: the {show.NOUN}, what the model makes of it, and its nearest
neighbours in latent space (pick one under them to jump to it).</div>
<div class="inspector">
  {original}
  <div>{show.tag(recon, 150, alt="reconstruction", cls="reconstruction", row=row)}
    <div class="px-caption">reconstruction (decoded mean)</div></div>
  <div class="inspector-info">
    <div class="inspected" data-row="{row}"><b>{html.escape(class_of(row))}</b> · #{row}</div>
    <div class="px-caption">{"<br>".join(html.escape(x) for x in lines)}</div>
    {latent_bars(t, np.nan_to_num(pre.kl_per_dim))}
    <details><summary>latent vector</summary><code class="zvec">[{vector}]</code></details>
  </div>
</div>
{neighbours}""")
    if len(pre.images):
        state.neighbour_pick = None
        st.pills("Jump to a neighbour", [int(i) for i in idx], format_func=lambda i: f"#{i}", key="neighbour_pick",
                 on_change=_on_pick_pill, label_visibility="collapsed")
