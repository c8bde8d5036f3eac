"""What the explorer computes around the current latent point: slider units, edits, map points, grids.

    from vae import explore
    scale = explore.direction_scale(means, v)                 # {"center": ..., "spread": ...} along v
    z2 = explore.move_to(z, v, explore.along(z, v, scale) + 1.0, scale, keep=[w])   # one spread further
    zs, shape = explore.plane_grid(projection, bounds, n=12, z_ref=z)               # (144, d), (12, 12)

Sliders count in spreads (the standard deviation of the encodings along the slider's axis), so
+1 means "as far again as a typical encoding lies from the average". No Streamlit here.
"""
from __future__ import annotations

import numpy as np

from . import checks, directions, latent
from .errors import VAEError


def direction_scale(means, vector) -> dict:
    """Centre and spread of the encodings projected on `vector`: the zero and unit of its slider."""
    means = checks.table(means, "the encodings", min_rows=1)
    proj = means @ checks.vector(vector, means.shape[1], "the direction").astype(means.dtype)
    spread = float(proj.std())
    if not np.isfinite(spread):
        raise VAEError("the encodings or the direction contain NaN or infinity.")
    return {"center": float(proj.mean()), "spread": spread if spread > 1e-9 else 1.0}


def direction_scales(means, vectors) -> list[dict]:
    """direction_scale for many directions at once, (K, d) vectors: one matrix product over the encodings."""
    vectors = np.asarray(vectors, np.float64).reshape(-1, np.asarray(means).shape[1])
    proj = np.asarray(means, np.float32) @ vectors.T.astype(np.float32)  # (N, K)
    centers, spreads = proj.mean(0, dtype=np.float64), proj.std(0, dtype=np.float64)
    return [{"center": float(c), "spread": float(s) if s > 1e-9 else 1.0} for c, s in zip(centers, spreads)]


def along(z, vector, scale: dict) -> float:
    """Where z lies along `vector`, in spreads from the encodings' centre."""
    z = checks.vector(z, None, "the latent point")
    center, spread = _scale(scale)
    return (float(z @ checks.vector(vector, len(z), "the direction")) - center) / spread


def _scale(scale) -> tuple[float, float]:
    """A slider's (center, spread) from direction_scale's dict: finite, spread > 0."""
    try:
        center, spread = float(scale["center"]), float(scale["spread"])
    except (TypeError, KeyError, ValueError):
        raise VAEError("a slider scale needs a 'center' and a 'spread' (see direction_scale).") from None
    if not (np.isfinite(center) and np.isfinite(spread) and spread > 0):
        raise VAEError("a slider scale needs a finite center and a positive spread.")
    return center, spread


def move_to(z, vector, target: float, scale: dict, keep=()) -> np.ndarray:
    """z moved so that along(z, vector) == target, leaving its position along each of `keep` unchanged
    where it can.

    The step is taken along `vector` with the `keep` directions projected out (InterFaceGAN's
    conditional editing), then lengthened so the slider lands exactly on its target. When that leaves
    nothing to move along (as many kept directions as latent dimensions, or `vector` in their span), the
    step is the one that changes the kept directions least in the least-squares sense (keep_step).
    """
    z = checks.vector(z, None, "the latent point").astype(np.float32)
    v = latent.unit(checks.vector(vector, len(z), "the direction"))
    keep = [checks.vector(k, len(z), "a direction kept fixed").astype(np.float32) for k in keep]
    target = checks.scalar(target, "the slider value")
    center, spread = _scale(scale)
    u = keep_step(v, keep)
    want = center + target * spread
    return (z + (want - float(z @ v)) / float(u @ v) * u).astype(np.float32)


def keep_step(v, keep) -> np.ndarray:
    """The unit direction to step along to move along unit `v` while changing the `keep` directions least:
    `v` with their span projected out when that leaves room; otherwise argmin ||K s|| over steps s with
    v·s = 1 (K: the kept directions as unit rows), s ∝ (KᵀK + λI)⁻¹ v with a small ridge λ."""
    v = np.asarray(v, np.float64)
    if not len(keep):
        return v.astype(np.float32)
    k = np.array([latent.unit(w) for w in keep], np.float64)  # (K, d)
    try:
        u = latent.orthogonalize(v, k)
        if float(u @ v) >= 1e-3:
            return u.astype(np.float32)
    except VAEError:
        pass  # v lies in their span
    m = k.T @ k + 1e-3 * np.eye(len(v))
    return latent.unit(np.linalg.solve(m, v)).astype(np.float32)


def set_dimension(z, dim: int, target: float, mean, std) -> np.ndarray:
    """z with dimension `dim` at `target` spreads from the encodings' mean."""
    out = checks.vector(z, None, "the latent point").astype(np.float32)
    dim = checks.integer(dim, "the latent dimension", 0, len(out) - 1)
    mean, std = checks.vector(mean, len(out), "the mean"), checks.vector(std, len(out), "the spread")
    out[dim] = float(mean[dim]) + checks.scalar(target, "the slider value") * float(std[dim])
    return out


def in_spreads(z, mean, std) -> np.ndarray:
    """z in spreads from the encodings' mean, per dimension: (d,), the dimension sliders' values
    (set_dimension's inverse)."""
    z = checks.vector(z, None, "the latent point")
    mean, std = checks.vector(mean, len(z), "the mean"), checks.vector(std, len(z), "the spread")
    if not np.all(std > 0):
        raise VAEError("the spreads must be positive.")
    return ((z - mean) / std).astype(np.float32)


def map_point(projection, z) -> np.ndarray:
    """The current point's place on the map: (dims,)."""
    return np.asarray(projection.transform(checks.vector(z, None, "the latent point")[None]), np.float32)[0]


def from_map(projection, xy, z_ref) -> np.ndarray:
    """The latent under map point xy (2 numbers): the projection's inverse, z_ref filling what the map hides.

    For a 3-D map the third coordinate stays z_ref's; for PCA the components off the plane stay
    z_ref's (drag only changes what the map shows); neighbourhood maps (t-SNE, UMAP) ignore z_ref.
    """
    z_ref = checks.vector(z_ref, None, "the current latent point").astype(np.float32)
    p = map_point(projection, z_ref) if projection.dims > 2 else np.zeros(2, np.float32)
    xy = checks.numbers(xy, "the map point").reshape(-1)
    if len(xy) < 2 or not np.isfinite(xy[:2]).all():
        raise VAEError("a map point needs two finite coordinates.")
    p[:2] = xy[:2]
    out = np.asarray(projection.inverse_transform(p[None], z_ref=z_ref), np.float32)[0]
    if not np.all(np.isfinite(out)):
        raise VAEError("The map gave no finite latent point there: try a point nearer the data.")
    return out


def plane_grid(projection, bounds, n: int, z_ref) -> tuple[np.ndarray, tuple[int, int]]:
    """Latents under an n x n grid over the map's plane, top row first (high y), left to right.

    Decoded and tiled, they make the classic manifold picture (Kingma & Welling 2014, fig. 4).
    """
    n = checks.integer(n, "the grid size", 2, 200)
    bounds = checks.numbers(bounds, "the grid bounds").reshape(-1)
    if bounds.shape != (4,) or not np.isfinite(bounds).all():
        raise VAEError("the grid bounds must be four finite numbers: x0, x1, y0, y1.")
    x0, x1, y0, y1 = bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y1, y0, n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n): rows go down the picture
    z_ref = checks.vector(z_ref, None, "the current latent point").astype(np.float32)
    base = map_point(projection, z_ref)
    pts = np.repeat(base[None], n * n, axis=0)
    pts[:, 0], pts[:, 1] = gx.ravel(), gy.ravel()
    zs = np.asarray(projection.inverse_transform(pts, z_ref=z_ref), np.float32)
    return zs, (n, n)


def group_direction(means, idx_a, idx_b) -> tuple[np.ndarray, dict]:
    """The unit vector from group A's centroid to group B's, and how well it separates them.

    fit: n_a, n_b; accuracy, the share of both groups on their own side of the midpoint between the
    two centroids along the vector (1.0: cleanly apart, 0.5: no better than chance); gap, the
    distance between the centroids in spreads of the encodings along the vector.
    """
    means = checks.table(means, "the encodings", min_rows=1)
    idx_a, idx_b = checks.indices(idx_a, len(means), "group A"), checks.indices(idx_b, len(means), "group B")
    if not idx_a.size or not idx_b.size:
        raise VAEError("Select at least one point in each of the two groups.")
    if np.intersect1d(idx_a, idx_b).size == max(idx_a.size, idx_b.size):
        raise VAEError("Groups A and B are the same points: select two different groups.")
    v = latent.direction_from_sets(means[idx_a], means[idx_b])
    pa, pb = means[idx_a] @ v, means[idx_b] @ v
    mid = 0.5 * (pa.mean() + pb.mean())
    acc = (np.sum(pa < mid) + np.sum(pb >= mid)) / (len(pa) + len(pb))
    spread = float((means @ v).std()) or 1.0
    return v, {"n_a": int(len(pa)), "n_b": int(len(pb)), "accuracy": float(acc),
               "gap": float((pb.mean() - pa.mean()) / spread)}


def attribute_effects(decode, measure, means, vector, span: float, steps: int = 9, points: int = 48,
                      seed: int = 0) -> dict:
    """What moving along `vector` does to each measured attribute of the decoded image.

    `points` encodings are moved by `steps` values in [-span, span] and decoded once; `measure(images)`
    returns {name: (M,)}. Returns {name: median rank correlation of step and attribute}, strongest
    first: for a slider made from two lassoed groups, which attributes it really changes.
    """
    means = checks.table(means, "the encodings", min_rows=1)
    vector = checks.vector(vector, means.shape[1], "the direction")
    span = checks.scalar(span, "the span")
    steps = checks.integer(steps, "the number of steps", 2, 101)
    pick, _, z = directions.moved_along(means, vector, span, steps, points, seed)
    measured = measure(decode(z))
    out = {name: float(np.median(directions.step_rank_correlation(np.asarray(vals).reshape(len(pick), steps))))
           for name, vals in measured.items()}
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1])))


def parse_latent(text, d: int) -> np.ndarray:
    """'0.1,-2,3e-1' -> (d,) float32; raises VAEError for the wrong length, NaN/inf or non-numbers."""
    if not isinstance(text, str) or not text.strip():
        raise VAEError("the latent vector is empty")
    parts = text.replace(";", ",").split(",")
    if len(parts) != d:
        raise VAEError(f"the latent vector has {len(parts)} numbers, this bundle needs {d}")
    try:
        z = np.array([float(p) for p in parts], np.float64)
    except ValueError:
        raise VAEError("the latent vector holds something that is not a number") from None
    if not np.all(np.isfinite(z)) or np.abs(z).max() > 1e4:
        raise VAEError("the latent vector holds NaN, infinity or a huge number")
    return z.astype(np.float32)


MAX_BOOKMARKS = 30
BOOKMARK_NAME_CHARS = 60


def format_bookmark(name: str, z, label: int = 0) -> str:
    """A named latent point as one URL value, 'LABEL:z0,z1,...:NAME' (parse_bookmark reads it back)."""
    return f"{int(label)}:{format_latent(z)}:{str(name)[:BOOKMARK_NAME_CHARS]}"


def parse_bookmark(text, d: int, num_classes: int = 1) -> tuple[str, np.ndarray, int]:
    """'LABEL:z0,z1,...:NAME' -> (name, (d,) float32, label); raises VAEError naming what is wrong."""
    parts = text.split(":", 2) if isinstance(text, str) else []
    if len(parts) != 3:
        raise VAEError("a bookmark is written LABEL:z0,z1,...:NAME")
    label, z, name = parts
    name = name.strip()[:BOOKMARK_NAME_CHARS]
    if not name:
        raise VAEError("a bookmark has no name")
    if not label.isdigit() or int(label) >= max(int(num_classes), 1):
        raise VAEError("a bookmark's class is not one of this bundle's")
    return name, parse_latent(z, d), int(label)


def format_latent(z, digits: int = 4) -> str:
    """(d,) -> '0.1234,-1.5' (the URL form that parse_latent reads back)."""
    return ",".join(np.format_float_positional(round(float(v), digits) + 0.0, trim="-")
                    for v in np.asarray(z).reshape(-1))
