"""The decoder view: a Streamlit components-v2 widget showing the decoding, its meter and the
latent pad, a square over the current map's plane to drag the latent point through, live.

What the decoding looks like comes from the bundle's display module (`pad_preview`): an image, a
text block (shown as literal text) and/or a sound (an <audio> player that plays by itself when a
drag is released, and on its play button).

Streamlit's own slider reports only on release; this pad reports while the pointer moves. Its
JavaScript (latent_pad.js) sends {"x", "y", "seq", "dragging", "source"} with `setStateValue`,
which reruns the fragment the pad lives in; the new image comes back in the component's own data,
so a drag step updates this single element. At most two points are unanswered at a time (`ack` names the
last one the server handled): Streamlit queues a fragment rerun behind the running one, so the next decoding
starts while the last one travels and is drawn, and the image follows the pointer instead of a backlog.
The same script draws the current point, a path and marks over the big Plotly map (an SVG laid on
top, so the figure itself never changes), reports clicks on the map's empty space
(layout.clickanywhere) as points with source "map", clears the map's selection once Python has
used it, and keeps the legend filter (hidden classes) in the tab's sessionStorage, so it outlives
a page change, a reload and a new colouring.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae import debug

from .state import state

_HTML = """
<div class="lp-title">Decoder</div>
<div class="lp">
 <div class="lp-view">
  <img class="decoded px" alt="decoded image" draggable="false">
  <pre class="decoded-text" hidden></pre>
  <div class="lp-audio" hidden><audio class="decoded-audio" controls preload="auto"></audio>
   <label class="lp-live" hidden><input type="checkbox" class="lp-live-toggle"> Play while dragging</label></div>
  <div class="lp-side"></div>
 </div>
 <div class="lp-padcol">
  <div class="lp-pad" tabindex="0" role="slider" aria-label="Latent pad: drag to move through the map">
    <img class="lp-bg" alt="" draggable="false">
    <svg viewBox="0 0 1000 1000" preserveAspectRatio="none">
      <polyline class="lp-path" points=""></polyline>
      <g class="lp-marks"></g>
      <line class="lp-h lp-cross" x1="0" x2="1000" y1="-10" y2="-10"></line>
      <line class="lp-v lp-cross" y1="0" y2="1000" x1="-10" x2="-10"></line>
      <circle class="lp-handle" cx="-100" cy="-100" r="26"></circle>
    </svg>
  </div>
  <div class="lp-readout"></div>
 </div>
</div>
<div class="lp-help"></div>
"""

_CSS = """
.lp { font-family: var(--st-font); color: var(--st-text-color); user-select: none;
  display: grid; grid-template-columns: 1fr 1fr; gap: 12px; align-items: start; }
.lp-view img.decoded { display: block; width: 100%; aspect-ratio: 1 / 1; object-fit: contain; border-radius: 8px;
  image-rendering: pixelated; background: #000; border: 1px solid var(--st-border-color); }
.lp-view img.decoded[hidden], .lp-view [hidden] { display: none; }
.decoded-text { margin: 0; padding: 10px 12px; border-radius: 8px; border: 1px solid var(--st-border-color);
  background: var(--st-secondary-background-color); font-family: var(--st-font); font-size: .95rem; line-height: 1.4;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 14em; overflow-y: auto; }
.lp-audio audio { display: block; width: 100%; height: 36px; margin-top: 6px; }
.lp-live { display: flex; gap: 6px; align-items: center; font-size: .85rem; margin-top: 4px; cursor: pointer; }
.lp-live[hidden] { display: none; }
.lp-side { margin-top: 8px; font-size: 0.85rem; }
.lp-title { font-family: var(--st-heading-font, var(--st-font)); font-weight: 600; font-size: 1.05rem;
  color: var(--st-text-color); margin: 0 0 .5rem 0; }
.lp-help { font-family: var(--st-font); font-size: .875rem; color: var(--st-text-color); opacity: .65;
  margin-top: .5rem; line-height: 1.45; }
/* fixed heights: a verdict or figure that wraps differently never shifts the panel during a drag */
.meter-head { display: flex; flex-direction: column; align-items: flex-start; line-height: 1.3; height: 3.9em; }
.meter-verdict { font-weight: 600; }
.meter[data-verdict="typical"] .meter-verdict { color: #1f9d55; }
.meter[data-verdict="unusual"] .meter-verdict { color: #d97706; }
.meter[data-verdict="far off"] .meter-verdict { color: #dc2626; }
.meter-pct { font-size: .75rem; opacity: .7; white-space: nowrap; }
.meter-bar { position: relative; height: 6px; margin: 4px 0 3px; border-radius: 3px; opacity: .85;
  background: linear-gradient(90deg, #1f9d55 0 90%, #d97706 90% 99%, #dc2626 99%); }
.meter-tick { position: absolute; top: -3px; width: 4px; height: 12px; border-radius: 2px;
  background: var(--st-text-color); }
.meter-text { font-size: .75rem; opacity: .8; line-height: 1.3; min-height: 6.5em; }  /* 5 lines at 1280 wide */
.lp-pad { position: relative; width: 100%; aspect-ratio: 1 / 1; border-radius: 8px; overflow: hidden;
  border: 1px solid var(--st-border-color); background: var(--st-secondary-background-color);
  cursor: crosshair; touch-action: none; outline: none; }
.lp-pad:focus-visible { box-shadow: 0 0 0 2px var(--st-primary-color); }
.lp-pad.lp-disabled { cursor: not-allowed; opacity: .6; }
.lp-bg { position: absolute; inset: 0; width: 100%; height: 100%; image-rendering: auto; pointer-events: none; }
.lp-pad svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.lp-cross { stroke: var(--st-text-color); stroke-opacity: .35; stroke-width: 2; vector-effect: non-scaling-stroke; }
.lp-handle { fill: #e5484d; fill-opacity: .25; stroke: #e5484d; stroke-width: 2.5; vector-effect: non-scaling-stroke; cursor: grab; }
.lp-path { fill: none; stroke: var(--st-text-color); stroke-width: 2; stroke-dasharray: 5 3; vector-effect: non-scaling-stroke; }
.lp-mark { fill: var(--st-text-color); stroke: var(--st-background-color); stroke-width: 2; vector-effect: non-scaling-stroke; }
.lp-mark-label { font-size: 44px; font-weight: 700; fill: var(--st-text-color); }
.lp-readout { font-size: 0.8rem; opacity: .75; margin-top: 4px; font-variant-numeric: tabular-nums; min-height: 1.2em; }
"""

_JS = (Path(__file__).with_name("latent_pad.js")).read_text(encoding="utf-8")

_component = st.components.v2.component("latent_explorer.latent_pad", html=_HTML, css=_CSS, js=_JS)


def latent_pad(key: str, *, preview: dict, bounds, point, rev: int, ack: int, on_change, side: str = "", help: str = "",
               background: str = "", axes=("x", "y"), map_key: str | None = None, map_dims: int = 2, point3=None,
               path=(), marks=(), alt: str = "decoded image", disabled: bool = False, clear_sel: int = 0,
               legend_key: str = ""):
    """Mount the decoder view. Returns its state ({"point": {...}} once moved); `on_change` runs on each new point.

    preview: the display module's pad_preview of the decoding, {"image": data URI or "", "text": str or "",
    "audio": data URI or ""} and optionally "notes" ([start step, end step, MIDI pitch] each) with "step_s" (seconds
    a step): the browser then offers "Play while dragging", a loop whose notes follow the decoding; side: HTML under it (the meter, our own markup); help: text below;
    bounds: (x0, x1, y0, y1) of the pad in map units; point: (x, y) where Python last put the handle,
    adopted by the browser whenever `rev` changes; ack: the seq of the last point the server handled.
    map_key: the key of the big map's st.plotly_chart to mark the current point on; map_dims 3 with point3,
    the current point's three map coordinates, for a 3-D map (whose point clicks come back as {"row": i});
    path and marks then carry a third coordinate (a path point [x, y, z], a mark's "z") for that map.
    clear_sel: a counter; each new value clears the big map's selection (a click consumed, a lasso used).
    legend_key: names the map's legend filter (the classes hidden), kept in the browser tab's sessionStorage.
    """
    data = {
        "image": str(preview.get("image") or ""),
        "text": str(preview.get("text") or ""),
        "audio": str(preview.get("audio") or ""),
        "notes": [[int(a), int(b), int(m)] for a, b, m in (preview.get("notes") or [])],
        "step_s": float(preview.get("step_s") or 0.125),
        "side": side,
        "help": help,
        "alt": alt,
        "bounds": [float(v) for v in bounds],
        "point": [float(point[0]), float(point[1])],
        "rev": int(rev),
        "ack": int(ack),
        "bg": background,
        "axes": list(axes),
        "map_key": map_key,
        "map_dims": int(map_dims),
        "point3": None if point3 is None else [float(v) for v in point3[:3]],
        "path": [[float(v) for v in p[:3]] for p in path],
        "marks": [{"x": float(m["x"]), "y": float(m["y"]), "z": float(m.get("z", 0.0)), "label": str(m["label"])}
                  for m in marks],
        "disabled": bool(disabled),
        "clear_sel": int(clear_sel),
        "legend_key": str(legend_key),
        "timing": debug.on("timing"),  # the page's timing log for the benchmarks (vae/debug.py)
    }
    return _component(key=key, data=data, on_point_change=on_change)


def pad_point(key: str) -> dict | None:
    """The last point the pad reported ({"x", "y", "seq", "dragging", "source"}, or {"row", "seq", "source":
    "map3d"} for a point clicked on a 3-D map), or None."""
    value = state.widget(key)
    point = value.get("point") if hasattr(value, "get") else None
    return point if isinstance(point, dict) else None
