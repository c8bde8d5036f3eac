"""Pictures for the model: any file Pillow opens -> uint8 (H, W, C), decoded in bounded memory.

    from vae.image_input import read_image, read_upload
    x = read_image("cat.png", (28, 28), 1)                              # (28, 28, 1) uint8, centre-cropped
    x, preview = read_upload(raw_bytes, (28, 28), 1, fit="pad")         # padded with the picture's background

Used by folder datasets (vae/data.py) and the upload panel (ui/tools.py). Memory: the header is read
first and a picture whose decoded pixels would take over MAX_DECODED_BYTES is refused before decoding;
JPEGs are decoded at 1/2..1/8 scale (Image.draft); everything else is box-reduced strip by strip in a
working mode, so no full-size RGBA or float copy is ever made; large pictures are decoded at most
LARGE_DECODES_AT_ONCE at a time in a process. 16-bit and float pictures (I;16, I, F) are scaled to
8 bits by their range instead of clipped.
"""
from __future__ import annotations

import io
import math
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ...errors import ImageError

MAX_DECODED_BYTES = 48 << 20  # one decoded picture in Pillow's own layout (Pillow's own limit: ~180 MP x 4 bytes)
WORK_BYTES = 4 << 20          # the reduced working copy, in its working mode
STRIP_BYTES = 4 << 20         # each strip converted to the working mode while reducing
SMALL_DECODE_BYTES = 4 << 20   # pictures decoding to more than this take turns:
LARGE_DECODES_AT_ONCE = 4      # ... so N uploads at once hold at most 4 x MAX_DECODED_BYTES, not N x
_LARGE_DECODES = threading.BoundedSemaphore(LARGE_DECODES_AT_ONCE)
PREVIEW_SIDE = 256
FITS = ("pad", "crop")
EXTERNAL_FORMATS = ("EPS",)  # decoded by running Ghostscript on the file: never for an upload
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # more than 8 bits per pixel: scaled by range
ORIENTATION = 0x0112  # EXIF tag
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
             5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}  # as ImageOps.exif_transpose


def read_image(source, size: tuple[int, int], channels: int, fit: str = "crop", name: str | None = None) -> np.ndarray:
    """A picture (bytes or a path) -> uint8 (H, W, C) of `size` (H, W), grey (C=1) or RGB (C=3)."""
    return _model_image(_load(source, size, name), size, channels, fit)


def read_upload(source, size: tuple[int, int], channels: int, fit: str = "pad",
                name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(model image (H, W, C) uint8, RGB preview (h, w, 3) uint8 at most PREVIEW_SIDE a side, each side >= 1)."""
    img = _load(source, size, name)
    preview = img.convert("RGB")
    scale = min(1.0, PREVIEW_SIDE / max(preview.size))
    preview = preview.resize(_scaled(preview.size, scale), Image.Resampling.LANCZOS)
    return _model_image(img, size, channels, fit), np.asarray(preview)


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """Bytes Pillow holds for a decoded picture: 1 per pixel for 1/L/P, 2 for 16-bit, 4 for the rest."""
    per = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return width * height * per


def _load(source, size: tuple[int, int], name: str | None) -> Image.Image:
    """Decode into a small working image: "L", "RGB", "RGBA" or "F"-scaled-to-"L", EXIF orientation applied."""
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the file")
    stage = "open"
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source, formats=_formats()) as im:
            w, h = im.size
            if w < 1 or h < 1:
                raise ImageError(f"{label} is {w}x{h} pixels: use a picture at least 1 pixel wide and high.")
            if im.mode in ("L", "RGB", "CMYK", "YCbCr"):
                work = _work_side(size)
                im.draft(im.mode if im.mode in ("L", "RGB") else "RGB", (work, work))  # JPEG: decode at 1/k scale
            need = decoded_bytes(im.mode, *im.size)
            if need > MAX_DECODED_BYTES:
                raise ImageError(f"{label} is {w}x{h} pixels, {need / 2**20:.0f} MB decoded, over the "
                                 f"{MAX_DECODED_BYTES >> 20} MB a picture may take here: shrink it (1000 pixels a "
                                 "side is plenty) and try again.")
            stage = "decode"
            if need <= SMALL_DECODE_BYTES:
                return working_image(im, size)
            with _LARGE_DECODES:  # at most LARGE_DECODES_AT_ONCE large pictures in memory at once, process-wide
                return working_image(im, size)
    except ImageError:
        raise
    except Exception as exc:  # any failure of Pillow's decoding: damaged files raise many different types
        if isinstance(exc, Image.DecompressionBombError):  # Pillow's own size limit, met in Image.open
            raise ImageError(f"{label} is over {Image.MAX_IMAGE_PIXELS * 2 / 1e6:.0f} megapixels: shrink it (1000 "
                             "pixels a side is plenty) and try again.") from None
        what = ("is not a picture in a format this app reads, or its header is damaged" if stage == "open"
                else f"is damaged or incomplete ({exc.__class__.__name__} while decoding)")
        raise ImageError(f"{label} {what}: use a PNG, JPEG, GIF, BMP, WebP or TIFF file.") from None


def working_image(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An opened picture -> a small "L", "RGB" or "RGBA" copy, EXIF orientation applied (decodes `im`)."""
    orientation = im.getexif().get(ORIENTATION, 1)
    im.load()
    img = _reduce(im, _work_side(size))
    if img.mode == "F":
        img = _to_8_bits(img)
    method = TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return img.transpose(method) if method is not None else img


def model_image(img: Image.Image, size: tuple[int, int], channels: int, fit: str = "crop") -> np.ndarray:
    """An opened picture (already checked for size) -> uint8 (H, W, C)."""
    return _model_image(working_image(img, size), size, channels, fit)


def _work_side(size: tuple[int, int]) -> int:
    """The short side pictures are reduced to before the final resize: enough for the preview and the model."""
    return max(PREVIEW_SIDE, 4 * max(size))


def _formats() -> list[str]:
    """Every format Pillow opens except those it hands to another program (EPS: Ghostscript)."""
    Image.init()
    return [f for f in Image.OPEN if f not in EXTERNAL_FORMATS]


def _working_mode(im: Image.Image) -> str:
    if im.mode in WIDE_MODES:
        return "F"
    if im.mode in ("1", "L"):
        return "L"
    if im.mode in ("RGBA", "LA", "La", "PA", "RGBa") or (im.mode == "P" and "transparency" in im.info):
        return "RGBA"
    return "RGB"


def _reduce(im: Image.Image, work: int) -> Image.Image:
    """Box-reduce by an integer factor, strip by strip in the working mode: about `work` px on the short side."""
    w, h = im.size
    mode = _working_mode(im)
    f = max(1, min(w, h) // work, math.ceil(math.sqrt(w * h * 4 / WORK_BYTES)))
    if f == 1:
        return im.convert(mode) if im.mode != mode else im.copy()
    rows = max(f, STRIP_BYTES // (4 * w) // f * f)  # a multiple of f: strips reduce exactly as the whole would
    out = Image.new(mode, (math.ceil(w / f), math.ceil(h / f)))
    for y0 in range(0, h, rows):
        strip = im.crop((0, y0, w, min(h, y0 + rows)))
        out.paste(strip.convert(mode).reduce(f), (0, y0 // f))
    return out


def _to_8_bits(img: Image.Image) -> Image.Image:
    """A float picture -> "L", scaled by its range: [min(0, lowest), highest] -> 0..255 (kept if already 0..255)."""
    a = np.asarray(img, dtype=np.float32)
    a = np.where(np.isfinite(a), a, 0.0)
    lo, hi = min(0.0, float(a.min())), float(a.max())
    if lo >= 0 and hi <= 255 and np.all(a == np.round(a)):
        return Image.fromarray(a.astype(np.uint8))  # 8-bit values stored wide: as they are
    scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return Image.fromarray(np.round(scaled).astype(np.uint8))


def _scaled(wh: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(wh[0] * scale)), max(1, round(wh[1] * scale))


def _model_image(img: Image.Image, size: tuple[int, int], channels: int, fit: str) -> np.ndarray:
    """Working image -> uint8 (H, W, C): transparency over white, grey or RGB, padded or centre-cropped, resized."""
    if fit not in FITS:
        raise ImageError(f"Unknown fit {fit!r}: use pad or crop.")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("L" if channels == 1 else "RGB")
    th, tw = size
    if fit == "crop":
        img = ImageOps.fit(img, (tw, th), Image.Resampling.LANCZOS)
    else:
        a = np.asarray(img).reshape(img.size[1], img.size[0], -1)
        border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])  # (n, C) the picture's edge: its background
        colour = tuple(int(v) for v in np.median(border, axis=0))
        canvas = Image.new(img.mode, (tw, th), colour[0] if channels == 1 else colour)
        inner = img.resize(_scaled(img.size, min(tw / img.size[0], th / img.size[1])), Image.Resampling.LANCZOS)
        canvas.paste(inner, ((tw - inner.size[0]) // 2, (th - inner.size[1]) // 2))
        img = canvas
    arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if channels == 1 else arr
