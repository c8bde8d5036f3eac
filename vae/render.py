"""Pictures of decodings: uint8 conversion, nearest-neighbour upscaling, strips, grids, PNG, GIF, CSV.

    from vae import render
    png = render.png_bytes(b.decode(z)[0], scale=8)            # one 28x28 decoding as a 224x224 PNG
    gif = render.gif_bytes(b.decode(path), scale=4)            # an interpolation as an animated GIF
    sheet = render.grid(b.decode(zs), cols=10)                 # (rows*H + gaps, cols*W + gaps, C) uint8

Pure numpy + Pillow, no Streamlit: the app and the scripts share these.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .errors import VAEError


def to_uint8(images) -> np.ndarray:
    """Floats in [0, 1] (or uint8 as they are) -> uint8, same shape."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x
    return (np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(image, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (H, W, C) or (H, W) by an integer factor: crisp pixels, no blur."""
    x = np.asarray(image)
    if scale <= 1:
        return x
    return np.repeat(np.repeat(x, scale, axis=0), scale, axis=1)


def _pil(image) -> Image.Image:
    x = to_uint8(image)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (3, 4)):
        raise VAEError(f"an image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {x.shape}.")
    return Image.fromarray(np.ascontiguousarray(x))


def png_bytes(image, scale: int = 1) -> bytes:
    """One image (H, W, C) as PNG bytes, upscaled by `scale` (fast, light compression)."""
    buf = io.BytesIO()
    _pil(upscale(to_uint8(image), scale)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes as a data: URI for an <img src=...>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def grid(images, cols: int | None = None, gap: int = 2, background: int = 255) -> np.ndarray:
    """(N, H, W, C) images tiled row by row into one uint8 picture with `gap`-pixel separators.

    cols=None puts them all in one row (a strip). Empty cells of the last row stay background.
    """
    x = to_uint8(images)
    if x.ndim != 4 or not len(x):
        raise VAEError(f"grid() needs a non-empty batch (N, H, W, C), got shape {x.shape}.")
    n, h, w, c = x.shape
    cols = n if cols is None else max(1, min(int(cols), n))
    rows = -(-n // cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, c), background, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = x[i]
    return out


def strip(images, gap: int = 2, background: int = 255) -> np.ndarray:
    """(N, H, W, C) side by side in one row."""
    return grid(images, cols=None, gap=gap, background=background)


def gif_bytes(frames, scale: int = 4, duration_ms: int = 80, bounce: bool = True) -> bytes:
    """(N, H, W, C) frames as a looping animated GIF; `bounce` plays forward then back."""
    x = to_uint8(frames)
    if x.ndim != 4 or not len(x):
        raise VAEError(f"gif_bytes() needs frames (N, H, W, C), got shape {x.shape}.")
    seq = list(x) + (list(x[-2:0:-1]) if bounce and len(x) > 2 else [])
    pics = [_pil(upscale(f, scale)) for f in seq]
    if pics[0].mode == "L":
        pics = [p.convert("P") for p in pics]  # grey is already a palette: no dithering
    else:
        pics = [p.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT) for p in pics]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=int(duration_ms), loop=0,
                 optimize=False, disposal=1)
    return buf.getvalue()


def latent_csv(z, names: list[str] | None = None) -> str:
    """A latent vector (d,) or a batch (M, d) as CSV text with a header row z0, z1, ..."""
    z = np.atleast_2d(np.asarray(z, np.float64))
    names = names or [f"z{i}" for i in range(z.shape[1])]
    rows = [",".join(names)] + [",".join(f"{v:.6g}" for v in row) for row in z]
    return "\n".join(rows) + "\n"


def rasterize_points(points, colors, size: int = 240, bounds=None, radius: int = 1, alpha: float = 0.55) -> np.ndarray:
    """A small RGBA picture of a 2-D scatter: (N, 2) points, (N, 3) uint8 colours -> (size, size, 4) uint8.

    y grows upwards as on a chart; `bounds` = (x0, x1, y0, y1), by default the points' extent.
    Used as the drag pad's background, so a person sees where the data lives while dragging.
    """
    p = np.asarray(points, np.float64)
    col = np.asarray(colors, np.float64).reshape(-1, 3)
    if p.ndim != 2 or p.shape[1] < 2 or len(col) != len(p):
        raise VAEError(f"rasterize_points needs (N, 2) points and (N, 3) colours, got {p.shape} and {col.shape}.")
    x0, x1, y0, y1 = bounds if bounds is not None else (p[:, 0].min(), p[:, 0].max(), p[:, 1].min(), p[:, 1].max())
    sx, sy = (size - 1) / max(x1 - x0, 1e-12), (size - 1) / max(y1 - y0, 1e-12)
    px = np.round((p[:, 0] - x0) * sx).astype(int)
    py = np.round((y1 - p[:, 1]) * sy).astype(int)
    keep = (px >= 0) & (px < size) & (py >= 0) & (py < size)
    px, py, col = px[keep], py[keep], col[keep]
    acc = np.zeros((size, size, 3))  # summed colours per pixel
    cnt = np.zeros((size, size))
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius:
                continue
            qx, qy = np.clip(px + dx, 0, size - 1), np.clip(py + dy, 0, size - 1)
            np.add.at(acc, (qy, qx), col)
            np.add.at(cnt, (qy, qx), 1)
    out = np.zeros((size, size, 4), np.uint8)
    hit = cnt > 0
    out[hit, :3] = np.clip(acc[hit] / cnt[hit, None], 0, 255).astype(np.uint8)
    # opacity grows with density, so crowded regions read darker than lone points
    out[hit, 3] = (255 * np.clip(alpha + (1 - alpha) * np.log1p(cnt[hit]) / np.log1p(cnt.max()), 0, 1)).astype(np.uint8)
    return out
