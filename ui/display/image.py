"""How images are shown: small PNGs scaled up in the browser with crisp (nearest-neighbour) pixels.

A 28x28 decoding travels as a ~1 kB PNG in a data URI and is drawn 8x larger with CSS
`image-rendering: pixelated`: no media-file round trip, nothing blurred. The display contract is in
ui/display/__init__.py; the pictures themselves come from vae/render.py.
"""
from __future__ import annotations

import base64
import html

import numpy as np
import streamlit as st

from vae import render
from vae.modalities.image.attributes import background_is_light
from vae.modalities.image.reader import read_upload

from .. import session

NOUN = "image"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]

CSS = """
<style>
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
</style>
"""


def uri(image) -> str:
    """(H, W, C) float [0, 1] or uint8 -> PNG data URI at native size."""
    return render.data_uri(render.png_bytes(image))


def tag(x, width: int, alt: str = "", cls: str = "", **data) -> str:
    """An <img> of `x` drawn `width` CSS pixels wide (height follows the aspect); data-* from **data."""
    h, w = np.asarray(x).shape[:2]
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items())
    return (f'<img class="px {cls}" src="{uri(x)}" alt="{html.escape(alt)}" width="{width}" '
            f'height="{round(width * h / w)}" {attrs}>')


def row(xs, captions, width: int, cls: str = "") -> str:
    """A wrapping row of small images with a caption under each (" · " starts a new caption line)."""
    def lines(c: str) -> str:
        return "".join(f'<span title="{html.escape(c)}">{html.escape(part)}</span>' for part in c.split(" · "))
    cells = [f'<div class="px-cell">{tag(im, width, alt=c, cls=cls)}{lines(c)}</div>' for im, c in zip(xs, captions)]
    return f'<div class="px-row">{"".join(cells)}</div>'


def strip(frames, width: int, alt: str = "", cls: str = "") -> str:
    """A sequence (N, H, W, C) side by side as one picture, `width` CSS pixels wide."""
    return tag(render.strip(frames, gap=1), width, alt=alt, cls=cls)


def animation(frames, width: int) -> str:
    """A sequence as a looping animation (GIF, played forward then back), captioned; made once per sequence."""
    gif = "data:image/gif;base64," + base64.b64encode(render.gif_bytes(frames, scale=4)).decode("ascii")
    return (f'<img class="px animation" src="{gif}" alt="animated" width="{width}">'
            '<div class="px-caption">animated</div>')


def pad_preview(x) -> dict:
    """The latent pad shows the decoded image."""
    return {"image": uri(x), "text": "", "audio": ""}


def downloads(x, stem: str) -> list[tuple]:
    """One decoding as an 8x PNG, made when clicked."""
    return [("Image (PNG)", lambda: render.png_bytes(x, scale=8), f"{stem}.png", "image/png")]


def strip_downloads(frames, stem: str) -> list[tuple]:
    """A sequence as one strip picture (PNG) and as a looping animation (GIF), each made when clicked."""
    return [("Strip (PNG)", lambda: render.png_bytes(render.strip(frames, gap=1), scale=4), f"{stem}.png", "image/png"),
            ("Animation (GIF)", lambda: render.gif_bytes(frames, scale=8), f"{stem}.gif", "image/gif")]


def sheet(xs, cols: int, gap: int = 0) -> np.ndarray:
    """Many images tiled row by row into one uint8 picture (the grid tool, the gallery); a None in a list
    of images leaves its cell empty (white)."""
    if isinstance(xs, np.ndarray):
        return render.grid(xs, cols=cols, gap=gap)
    first = render.to_uint8(next(x for x in xs if x is not None))
    blank = np.full_like(first, 255)
    return render.grid(np.stack([blank if x is None else render.to_uint8(x) for x in xs]), cols=cols, gap=gap)


def sheet_uri(picture, scale: int = 1) -> str:
    """A sheet as a PNG data URI, enlarged `scale` times with crisp pixels (the grid tool, the gallery)."""
    return render.data_uri(render.png_bytes(picture, scale=scale))


def sheet_downloads(picture, stem: str) -> list[tuple]:
    return [("Grid (PNG)", lambda: render.png_bytes(picture, scale=2), f"{stem}.png", "image/png")]


def describe(bundle) -> str:
    """What the bundle's examples are, in words, for the model card: "image 28×28×1"."""
    return f"image {'×'.join(map(str, bundle.image_shape))}"


def own_example_input(key: str, noun: str = NOUN, **widget):
    """A file uploader for pictures; (raw bytes, file name) once one is chosen, else None."""
    return example_value(st.file_uploader(f"Your {noun}", type=UPLOAD_TYPES, key=key, **widget))


def example_value(value):
    """The uploader's value as (raw bytes, file name, cut to 80 characters), or None."""
    if value is None:
        return None
    return value.getvalue(), str(value.name)[:80]


# ------------------------------------------------------------------------ a person's own picture

def own_example_help(bundle) -> str:
    h, w, c = bundle.image_shape
    return (f"Upload any picture: it is fitted to the model's aspect (padded with its own background, or "
            f"centre-cropped), resized to {h}×{w} {'grey' if c == 1 else 'colour'}, encoded, reconstructed and "
            "placed on the map.")


def own_example_options(columns, data_options: dict, on_change) -> None:
    """The picture's reading options beside the uploader: fit (pad or crop) and colour inversion."""
    light = bool(data_options.get("invert", False))
    session.kept(columns[1].segmented_control, "Fit", ["pad", "crop"], key="upload_fit", default="pad",
                 on_change=on_change, format_func={"pad": "Pad", "crop": "Crop"}.get,
                 help="Pad: the whole picture, its background added to fill the model's aspect. Crop: the centre "
                      "only, filling the frame (a wide picture loses its sides).")
    session.kept(columns[0].toggle, "Invert colours", key="upload_invert", default=False, on_change=on_change,
                 help="The training images are " + ("dark on light" if light else "light on a black background") +
                      ": a picture the other way round is inverted (set automatically from its border).")


def own_example_read_options() -> dict:
    """What the image modality's read_example takes besides the file: how to fit the picture."""
    return {"fit": session.kept_value("upload_fit") or "pad"}


def own_example_adjust(x, data_options: dict, new: bool):
    """The picture as read -> as encoded: inverted when its background differs from the training images'
    (decided for a new picture from its border; then the "Invert colours" toggle decides)."""
    if new:
        light = bool(data_options.get("invert", False))
        session.set_kept("upload_invert", background_is_light(x[None]) != light)
    return 255 - x if session.kept_value("upload_invert", False) else x


def own_example_preview(source, name: str, bundle) -> str:
    """The picture as given (at most 256 pixels a side), captioned, as HTML; raises ImageError."""
    h, w, c = bundle.image_shape
    _, preview = read_upload(source, (h, w), c, name=name)
    return (f'<img class="upload-preview" src="{render.data_uri(render.png_bytes(preview))}" width="120" '
            'alt="your picture"><div class="px-caption">your picture</div>')
