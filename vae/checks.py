"""Checks at the library's edges: numbers of the expected shape, or one VAEError saying what was expected.

    from vae import checks
    z = checks.rows(z, d, "latent vectors")         # (d,) or (M, d) -> (M, d) float64, finite
    n = checks.integer(n, "steps", 0, checks.MAX_STEPS)

numpy alone would answer a ragged list, a string, a wrong length or a NaN with a broadcasting
error deep inside (or silently with NaN); the app and the scripts expect VAEError and its sentence.
"""
from __future__ import annotations

import numbers as _numbers

import numpy as np

from .errors import VAEError
from .limits import MAX_LATENT

MAX_STEPS = 10_000     # points on an interpolation or traversal, rows of a sampled batch
MAX_DIM = MAX_LATENT   # latent dimensions


def numbers(x, what: str) -> np.ndarray:
    """Any real numbers (bool, int, float) as a float64 array; VAEError for text, objects, complex, ragged."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError, OverflowError):
        raise VAEError(f"{what} must be a rectangular array of numbers.") from None
    if a.dtype.kind not in "biuf":
        raise VAEError(f"{what} must be real numbers, got {a.dtype.name} values.")
    with np.errstate(over="ignore"):
        return a.astype(np.float64)


def _finite(a: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(a).all():
        raise VAEError(f"{what} contain NaN or infinity: give finite numbers.")
    return a


def rows(x, width: int | None, what: str, finite: bool = True, min_rows: int = 0, dtype=np.float64) -> np.ndarray:
    """(width,) or (M, width) -> (M, width) of `dtype`; width None: whatever the last axis is (>= 1).

    finite: NaN, infinity and numbers beyond `dtype`'s range (1e300 as float32) are refused.
    """
    a = numbers(x, what)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[1] < 1 or (width is not None and a.shape[1] != width):
        want = "(d,) or (N, d)" if width is None else f"length {width}"
        raise VAEError(f"{what} must have {want}, got shape {np.shape(x)}.")
    if len(a) < min_rows:
        raise VAEError(f"{what} need at least {min_rows} row(s), got {len(a)}.")
    with np.errstate(over="ignore"):
        a = a.astype(dtype, copy=False)
    return _finite(a, what) if finite else a


def table(x, what: str, min_rows: int = 0) -> np.ndarray:
    """A 2-D array of real numbers as it is: no copy, no scan for NaN (for large stored arrays, such as
    70,000 encodings on the interactive path, where a float64 copy would cost milliseconds)."""
    a = x if isinstance(x, np.ndarray) else numbers(x, what)
    if a.ndim != 2 or a.shape[1] < 1 or a.dtype.kind not in "biuf" or len(a) < min_rows:
        raise VAEError(f"{what} must be a table (N, d) of numbers with N >= {min_rows}, got shape {np.shape(x)}.")
    return a


def vector(x, width: int | None, what: str, finite: bool = True) -> np.ndarray:
    """One vector of `width` numbers (a (1, width) row is accepted too) -> (width,) float64."""
    a = numbers(x, what)
    if a.ndim == 2 and len(a) == 1:
        a = a[0]
    if a.ndim != 1 or len(a) < 1 or (width is not None and len(a) != width):
        want = "a vector" if width is None else f"{width} numbers"
        raise VAEError(f"{what} must be {want}, got shape {np.shape(x)}.")
    return _finite(a, what) if finite else a


def scalar(x, what: str, finite: bool = True) -> float:
    a = numbers(x, what)
    if a.size != 1:
        raise VAEError(f"{what} must be one number, got shape {a.shape}.")
    v = float(a.reshape(-1)[0])
    if finite and not np.isfinite(v):
        raise VAEError(f"{what} must be a finite number, got {v}.")
    return v


def integer(x, what: str, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (int or numpy integer, not bool) within [lo, hi]."""
    if isinstance(x, bool) or not isinstance(x, (_numbers.Integral, np.integer)):
        raise VAEError(f"{what} must be a whole number, got {str(x)[:40]!r}.")
    v = int(x)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        span = f"between {lo} and {hi}" if lo is not None and hi is not None else (f">= {lo}" if lo is not None else f"<= {hi}")
        raise VAEError(f"{what} must be {span}, got {v}.")
    return v


def indices(x, n: int, what: str) -> np.ndarray:
    """Row numbers into n rows -> (K,) int64; VAEError for non-integers or rows that do not exist."""
    a = numbers(x, what).reshape(-1)
    if a.size and (not np.all(a == np.round(a)) or a.min() < 0 or a.max() >= n):
        raise VAEError(f"{what} must be row numbers between 0 and {n - 1}.")
    return a.astype(np.int64)
