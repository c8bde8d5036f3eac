"""Images as HTML: small PNGs scaled up in the browser with crisp (nearest-neighbour) pixels.

A 28x28 decoding travels as a ~1 kB PNG in a data URI and is drawn 8x larger with CSS
`image-rendering: pixelated`: no media-file round trip, nothing blurred.
"""
from __future__ import annotations

import html

import numpy as np

from vae import render

CSS = """
<style>
.block-container, [data-testid=stMainBlockContainer] { padding-top: 4.2rem; }
/* "Sliders shown" grows with its choices instead of scrolling (a half-cut last row hides sliders) */
.st-key-shown_dirs [data-testid=stMultiSelectTagsContainer],
.st-key-shown_dirs :has(> [data-testid=stMultiSelectTagsContainer]) {
  max-height: none !important; height: auto !important; overflow: visible !important; }
img.px { image-rendering: pixelated; image-rendering: crisp-edges; display: block;
         border-radius: 6px; border: 1px solid rgba(128,128,128,.25); background: #000; }
.px-row { display: flex; flex-wrap: wrap; gap: 5px; align-items: flex-start; }
.px-cell { display: flex; flex-direction: column; align-items: center; font-size: .72rem; line-height: 1.15;
           text-align: center; opacity: .9; }
.px-cell span { max-width: 60px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.px-row:has(> .px-cell > img.neighbour) { display: grid; grid-template-columns: repeat(8, minmax(0, 60px)); }
.px-cell img.neighbour { width: 100% !important; height: auto !important; }
.px-cell:has(> img.neighbour) { min-width: 0; }
.px-cell:has(> img.neighbour) span { max-width: 100%; }
.px-caption { font-size: .8rem; opacity: .75; margin-top: 2px; }
.panel-title { margin: 0 0 .2rem 0; font-weight: 600; font-size: 1.05rem; }
.panel-help { font-size: .875rem; opacity: .65; margin-bottom: .6rem; line-height: 1.45; }
.inspector { display: flex; gap: 10px; align-items: flex-start; flex-wrap: wrap; }
.inspector-info { flex: 1; min-width: 180px; }
.inspected { font-size: 1.05rem; margin-bottom: 4px; }
.inspector details summary { cursor: pointer; font-size: .8rem; opacity: .75; margin-top: 4px; }
.zvec { display: block; font-size: .7rem; white-space: normal; word-break: break-all; }
.zrow { display: flex; gap: 1px; align-items: flex-end; }
.zcell { position: relative; width: 14px; height: 56px; }
.zcell.faded { opacity: .35; }
.zcell::after { content: ""; position: absolute; left: 0; right: 0; top: 28px; height: 1px; background: rgba(128,128,128,.5); }
.zbar { position: absolute; left: 2px; width: 10px; border-radius: 2px; background: #4e79a7; }
.zbar.neg { background: #e15759; }
.zlabel { width: 14px; text-align: center; font-size: .6rem; opacity: .6; }
</style>
"""


def uri(image) -> str:
    """(H, W, C) float [0, 1] or uint8 -> PNG data URI at native size."""
    return render.data_uri(render.png_bytes(image))


def tag(image, width: int, alt: str = "", cls: str = "", **data) -> str:
    """An <img> of `image` drawn `width` CSS pixels wide (height follows the aspect); data-* from **data."""
    h, w = np.asarray(image).shape[:2]
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items())
    return (f'<img class="px {cls}" src="{uri(image)}" alt="{html.escape(alt)}" width="{width}" '
            f'height="{round(width * h / w)}" {attrs}>')


def row(images, captions, width: int, cls: str = "") -> str:
    """A wrapping row of small images with a caption under each (" · " starts a new caption line)."""
    def lines(c: str) -> str:
        return "".join(f'<span title="{html.escape(c)}">{html.escape(part)}</span>' for part in c.split(" · "))
    cells = [f'<div class="px-cell">{tag(im, width, alt=c, cls=cls)}{lines(c)}</div>' for im, c in zip(images, captions)]
    return f'<div class="px-row">{"".join(cells)}</div>'
