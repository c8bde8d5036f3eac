"""Per-image measurements a person recognises: brightness, ink area, bounding box, symmetry, stroke.

    from vae.attributes import measure
    values = measure(images, digits=True)      # {"brightness": (N,), "ink_area": (N,), ...} float32

Images are uint8 in [0, 255] or floats in [0, 1], (N, H, W, C); colour is averaged to grey.
"Ink" is the foreground: bright pixels on a dark background (MNIST, Fashion-MNIST). For pictures
on a light background pass invert=True (or let `background_is_light` decide once per dataset).
Edges of the bounding box are found where a row or column profile crosses the threshold, with
linear interpolation between pixels, so the box changes smoothly when a decoded image does; a
filled s x s square of full intensity measures exactly s x s. Everything is vectorised numpy.
"""
from __future__ import annotations

import numpy as np

THRESHOLD = 0.5  # a pixel is "lit" (ink) above half intensity
CHUNK = 4096     # images per vectorised pass: bounds the temporary memory

INFO = {
    "brightness": {"unit": "fraction of white (0-1)",
                   "description": "mean pixel intensity over the whole image"},
    "ink_area": {"unit": "fraction of pixels (0-1)",
                 "description": "share of pixels brighter than half intensity"},
    "width": {"unit": "pixels", "description": "width of the bounding box of the lit pixels"},
    "height": {"unit": "pixels", "description": "height of the bounding box of the lit pixels"},
    "aspect": {"unit": "width / height", "description": "aspect ratio of the bounding box (above 1: wider than tall)"},
    "symmetry": {"unit": "0-1 (1 = mirror symmetric)",
                 "description": "left-right mirror symmetry about the image's vertical centre line"},
    "thickness": {"unit": "pixels",
                  "description": "stroke thickness, 2 x ink / perimeter (Morpho-MNIST measures it on the skeleton)"},
    "slant": {"unit": "degrees (positive: top leans right)",
              "description": "horizontal shear of the strokes from image moments, as in Morpho-MNIST"},
}
BASIC = ["brightness", "ink_area", "width", "height", "aspect", "symmetry"]
DIGIT_ONLY = ["thickness", "slant"]


def names(digits: bool = False) -> list[str]:
    """The attributes `measure` returns, in order."""
    return BASIC + (DIGIT_ONLY if digits else [])


def is_digit_dataset(dataset: str, class_names) -> bool:
    """Handwritten digits get stroke thickness and slant too."""
    return dataset in ("mnist", "digits") or [str(c) for c in class_names] == [str(i) for i in range(10)]


def grey(images, invert: bool = False) -> np.ndarray:
    """(N, H, W, C) uint8 or float images -> (N, H, W) float32 foreground intensity in [0, 1]."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {x.shape}")
    g = x.astype(np.float32).mean(axis=-1)
    if x.dtype == np.uint8:
        g /= 255.0
    return 1.0 - g if invert else g


def background_is_light(images) -> bool:
    """True when the median border pixel is bright: the ink is then the dark part of the picture."""
    g = grey(images[:1000])
    border = np.concatenate([g[:, 0], g[:, -1], g[:, :, 0], g[:, :, -1]], axis=1)
    return bool(np.median(border) > 0.5)


def measure(images, digits: bool = False, invert: bool = False, threshold: float = THRESHOLD) -> dict:
    """Every attribute of `names(digits)` for each image: {name: (N,) float32}."""
    n = len(images)
    out = {k: np.empty(n, np.float32) for k in names(digits)}
    for start in range(0, n, CHUNK):
        g = grey(images[start:start + CHUNK], invert)
        part = {"brightness": g.mean(axis=(1, 2)), "ink_area": (g > threshold).mean(axis=(1, 2))}
        part["width"] = extent(g.max(axis=1), threshold)  # column profile (N, W)
        part["height"] = extent(g.max(axis=2), threshold)  # row profile (N, H)
        part["aspect"] = np.where(part["height"] > 0, part["width"] / np.maximum(part["height"], 1e-6), 0.0)
        part["symmetry"] = symmetry(g)
        if digits:
            part["thickness"] = thickness(g)
            part["slant"] = slant(g)
        for k in out:
            out[k][start:start + len(g)] = part[k]
    return out


def extent(profile: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """(N, L) profiles -> (N,) distance between the first and last threshold crossings, in pixels.

    Pixel i covers [i - 0.5, i + 0.5]; a crossing between pixels i-1 and i is placed by linear
    interpolation, and a lit pixel on the image's edge counts up to the edge.
    """
    p = np.asarray(profile, np.float32)
    n, length = p.shape
    lit = p > threshold
    any_lit = lit.any(axis=1)
    first = np.argmax(lit, axis=1)                       # (N,) first lit index
    last = length - 1 - np.argmax(lit[:, ::-1], axis=1)  # (N,) last lit index
    rows = np.arange(n)
    left = _crossing(p[rows, np.maximum(first - 1, 0)], p[rows, first], threshold)
    left = np.where(first > 0, first - 1 + left, -0.5)
    right = _crossing(p[rows, np.minimum(last + 1, length - 1)], p[rows, last], threshold)
    right = np.where(last < length - 1, last + 1 - right, length - 0.5)
    return np.where(any_lit, right - left, 0.0).astype(np.float32)


def _crossing(outside: np.ndarray, inside: np.ndarray, threshold: float) -> np.ndarray:
    """Fraction of the way from the unlit pixel's centre to the lit one's where the profile crosses."""
    return np.clip((threshold - outside) / np.maximum(inside - outside, 1e-6), 0.0, 1.0)


def symmetry(g: np.ndarray) -> np.ndarray:
    """1 - |x - mirror(x)|_1 / (2 |x|_1): 1 for a mirror-symmetric image, 0 when nothing overlaps."""
    total = g.sum(axis=(1, 2))
    diff = np.abs(g - g[:, :, ::-1]).sum(axis=(1, 2))
    return np.where(total > 0, 1.0 - diff / np.maximum(2 * total, 1e-6), 1.0).astype(np.float32)


def thickness(g: np.ndarray) -> np.ndarray:
    """Stroke thickness in pixels: 2 x ink / perimeter, both measured on the grey image.

    A stroke of length L and thickness t has ink L t and perimeter about 2 L, so this is t for long
    strokes. The perimeter is the summed gradient length on the 2 x 2 cells between pixel centres
    (it sees slanted edges at their true length; an edge on the image border does not count).
    """
    ink = g.sum(axis=(1, 2))
    gx = 0.5 * (np.diff(g[:, 1:], axis=2) + np.diff(g[:, :-1], axis=2))        # (N, H-1, W-1)
    gy = 0.5 * (np.diff(g[:, :, 1:], axis=1) + np.diff(g[:, :, :-1], axis=1))  # (N, H-1, W-1)
    perimeter = np.sqrt(gx ** 2 + gy ** 2).sum(axis=(1, 2))
    return np.where(perimeter > 0, 2 * ink / np.maximum(perimeter, 1e-6), 0.0).astype(np.float32)


def slant(g: np.ndarray) -> np.ndarray:
    """Shear angle in degrees from second moments: x ~ x0 - s y (y grows downward), angle = atan(s)."""
    n, h, w = g.shape
    mass = g.sum(axis=(1, 2))
    safe = np.maximum(mass, 1e-6)
    ys = np.arange(h, dtype=np.float32)[None, :, None]
    xs = np.arange(w, dtype=np.float32)[None, None, :]
    my = (g * ys).sum(axis=(1, 2)) / safe
    mx = (g * xs).sum(axis=(1, 2)) / safe
    dy = ys - my[:, None, None]
    mu02 = (g * dy ** 2).sum(axis=(1, 2))
    mu11 = (g * dy * (xs - mx[:, None, None])).sum(axis=(1, 2))
    shear = np.where(mu02 > 1e-6, -mu11 / np.maximum(mu02, 1e-6), 0.0)
    return np.where(mass > 0, np.degrees(np.arctan(shear)), 0.0).astype(np.float32)
