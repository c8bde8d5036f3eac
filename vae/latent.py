"""Latent-space operations: interpolation, traversal, sampling, neighbours, attribute directions.

    from vae import latent
    path = latent.slerp(z_a, z_b, 8)                              # (8, d)
    v, fit = latent.class_direction(means, labels, cls=7)          # unit (d,), {"accuracy": ...}
    edits = latent.traverse(z, v, [-2, 0, 2])                      # (3, d)

Directions follow InterFaceGAN (Shen et al. 2020): the unit normal of a linear classifier's
separating hyperplane for a class, a linear regression's coefficient for a measured attribute,
and conditional editing by projecting other directions out. `direction_from_sets` is Latent Space
Cartography's (Liu et al. 2019) mean of one selection minus the mean of another.
"""
from __future__ import annotations

import math

import numpy as np

from . import checks
from .errors import VAEError

# ---------------------------------------------------------------------------- moving and sampling

def lerp(a, b, n: int) -> np.ndarray:
    """n points on the straight line from a to b, both ends included: (n, d)."""
    a, b, n = _ends(a, b, n)
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    a, b = a.astype(np.float32), b.astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a, b, n: int) -> np.ndarray:
    """n points on the great-circle arc from a to b, norms interpolated linearly: (n, d).

    Under a Gaussian prior typical points lie near a sphere; the straight line between two of them
    passes closer to the origin than any typical point, the arc does not.
    """
    a, b, n = _ends(a, b, n)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    t = np.linspace(0.0, 1.0, n)[:, None]
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, n)
    ua, ub = a / na, b / nb
    omega = math.acos(float(np.clip(ua @ ub, -1.0, 1.0)))
    if omega < 1e-6 or (len(a) == 1 and math.pi - omega < 1e-6):  # 1-D opposite ends: no arc, only the line
        return lerp(a, b, n)
    if math.pi - omega < 1e-6:  # opposite: any great circle works; take one through a fixed helper axis
        helper = np.eye(len(a))[np.argmin(np.abs(ua))]
        ub_perp = helper - (helper @ ua) * ua
        ub_perp /= np.linalg.norm(ub_perp)
        unit = np.cos(omega * t) * ua + np.sin(omega * t) * ub_perp
    else:
        unit = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / math.sin(omega)
    return (unit * ((1 - t) * na + t * nb)).astype(np.float32)


def _ends(a, b, n):
    """Two finite latent vectors of one length and a number of points, checked."""
    a = checks.vector(a, None, "the start of the path")
    b = checks.vector(b, len(a), "the end of the path")
    return a, b, checks.integer(n, "the number of points", 0, checks.MAX_STEPS)


def traverse(z, direction, values) -> np.ndarray:
    """z moved by each of `values` along `direction` (a vector, or an int for one latent dimension): (len(values), d)."""
    z = checks.vector(z, None, "the latent vector").astype(np.float32)
    if isinstance(direction, (int, np.integer)) and not isinstance(direction, bool):
        if not 0 <= direction < len(z):
            raise VAEError(f"latent dimension {direction} does not exist: use 0 to {len(z) - 1}.")
        direction = np.eye(len(z), dtype=np.float32)[direction]
    v = checks.numbers(direction, "the direction").reshape(-1)
    if v.shape != z.shape:
        raise VAEError(f"direction has length {len(v)}, the latent vector {len(z)}.")
    values = checks.numbers(values, "the traversal values").reshape(-1)
    if len(values) > checks.MAX_STEPS or not np.isfinite(values).all() or not np.isfinite(v).all():
        raise VAEError(f"traversal values and direction must be finite, at most {checks.MAX_STEPS} values.")
    return (z[None, :] + values.astype(np.float32)[:, None] * v.astype(np.float32)[None, :]).astype(np.float32)


def sample_prior(n: int, d: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """n draws from N(0, temperature^2 I): (n, d) float32. Lower temperature: more typical samples."""
    n = checks.integer(n, "the number of samples", 0, checks.MAX_STEPS)
    d = checks.integer(d, "the latent size", 1, checks.MAX_DIM)
    temperature = checks.scalar(temperature, "the temperature")
    if not 0 <= temperature <= 1e3:
        raise VAEError(f"the temperature must be between 0 and 1000, got {temperature}.")
    rng = np.random.default_rng(checks.integer(seed, "the seed", 0))
    return (temperature * rng.standard_normal((n, d))).astype(np.float32)


def nearest(z, means, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k nearest rows of `means`, closest first.

    z (d,) gives (k,) arrays; z (M, d) gives (M, k).
    """
    means = checks.table(means, "the encodings", min_rows=1).astype(np.float32, copy=False)
    single = np.ndim(z) == 1
    q = checks.rows(z, means.shape[1], "the latent points", dtype=np.float32)
    k = min(checks.integer(k, "k", 1), len(means))
    # |q - m|^2 = |q|^2 - 2 q.m + |m|^2, (M, N)
    d2 = (q ** 2).sum(1)[:, None] - 2 * q @ means.T + (means ** 2).sum(1)[None, :]
    idx = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(means) else np.tile(np.arange(len(means)), (len(q), 1))
    part = np.take_along_axis(d2, idx, axis=1)
    order = np.argsort(part, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    dist = np.sqrt(np.maximum(np.take_along_axis(part, order, axis=1), 0.0))
    return (idx[0], dist[0]) if single else (idx, dist)


# ------------------------------------------------------------------------------------ directions

def unit(v) -> np.ndarray:
    v = checks.numbers(v, "the direction").reshape(-1)
    norm = np.linalg.norm(v)
    if not np.isfinite(norm) or norm < 1e-12:
        raise VAEError("The direction has zero length: choose two different sets of points or another attribute.")
    return (v / norm).astype(np.float32)


def orthogonalize(direction, others) -> np.ndarray:
    """`direction` with the span of `others` projected out, renormalised (InterFaceGAN conditional editing)."""
    v = checks.vector(direction, None, "the direction")
    others = checks.numbers(others, "the directions to keep fixed")
    if others.size % len(v) or not np.isfinite(others).all():
        raise VAEError(f"the directions to keep fixed must be finite vectors of length {len(v)}.")
    others = others.reshape(-1, len(v))
    if len(others):
        u, s, _ = np.linalg.svd(others.T, full_matrices=False)
        q = u[:, s > 1e-9 * max(s.max(), 1e-300)]  # (d, rank) orthonormal basis of the others' span
        v = v - q @ (q.T @ v)
    try:
        return unit(v)
    except VAEError:
        raise VAEError("The direction lies in the span of the ones to keep fixed: nothing is left to move along.") from None


def direction_from_sets(means_a, means_b) -> np.ndarray:
    """Unit vector from the centroid of selection A to the centroid of selection B."""
    a, b = checks.numbers(means_a, "set A"), checks.numbers(means_b, "set B")
    if a.ndim != 2 or b.ndim != 2 or not len(a) or not len(b):
        raise VAEError("Select at least one point in each of the two sets.")
    a, b = checks.rows(a, None, "set A"), checks.rows(b, a.shape[1], "set B")
    return unit(b.mean(0) - a.mean(0))


def split_holdout(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train rows, held-out rows) of n points; `fraction` of them held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * fraction)))
    return order[n_test:], order[:n_test]


def linear_classifier(x, y, seed: int = 0):
    from sklearn.linear_model import LogisticRegression

    # Newton-Cholesky: a handful of iterations on these few dimensions, 5-10x faster than lbfgs
    return LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200, random_state=seed).fit(x, y)


def unit_variance(means) -> tuple[np.ndarray, np.ndarray]:
    """A set of means centred and scaled to unit variance per dimension, (N, d), and the per-dimension std,
    (d,): what the direction fits (class_direction, attribute_direction) are fitted on."""
    means = np.asarray(means, np.float64)
    sd = means.std(0)
    return (means - means.mean(0)) / np.where(sd > 1e-12, sd, 1.0), sd


def class_direction(means, labels, cls: int, other: int | None = None, holdout: float = 0.2, seed: int = 0):
    """Normal of the hyperplane separating class `cls` from the rest (or from class `other`).

    InterFaceGAN takes the normal in an isotropic latent space. A VAE's aggregate posterior is not
    isotropic (inactive dimensions barely vary, and the decoder ignores them), so the classifier is
    fitted on standardised means and its normal is mapped back to a latent displacement (times the
    per-dimension std). Returns (unit vector pointing towards `cls`, fit) with held-out accuracy,
    balanced accuracy and mean_gap: how far apart, along the vector, the two groups' means lie.
    """
    labels = np.asarray(labels)
    keep = np.ones(len(labels), bool) if other is None else np.isin(labels, [cls, other])
    u, sd = unit_variance(means)
    x, u, y = np.asarray(means, np.float64)[keep], u[keep], (labels[keep] == cls).astype(int)
    if y.min() == y.max():
        raise VAEError(f"Class {cls} needs both examples and counter-examples among the encodings.")
    train, test = split_holdout(len(x), holdout, seed)
    if np.unique(y[train]).size < 2:
        train = test = np.arange(len(x))
    clf = linear_classifier(u[train], y[train], seed)
    v = unit(sd * clf.coef_[0])
    pred = clf.predict(u[test])
    recall = [np.mean(pred[y[test] == c] == c) for c in (0, 1) if np.any(y[test] == c)]
    gap = float(x[y == 1].mean(0) @ v - x[y == 0].mean(0) @ v)
    return v, {"accuracy": float(np.mean(pred == y[test])), "balanced_accuracy": float(np.mean(recall)),
               "mean_gap": gap, "held_out": int(len(test))}


def attribute_direction(means, values, holdout: float = 0.2, seed: int = 0):
    """Unit vector along which a measured attribute grows, by linear regression on the means.

    Fitted on standardised means like `class_direction`. Returns (vector, fit): r2 of the regression
    on held-out points, and slope and r2_along of the attribute against the position along the vector
    alone (slope: the attribute's change per unit step, in its own unit).
    """
    from sklearn.linear_model import Ridge

    z, values = np.asarray(means, np.float64), np.asarray(values, np.float64)
    u, sd = unit_variance(z)
    train, test = split_holdout(len(z), holdout, seed)
    reg = Ridge(alpha=1e-3).fit(u[train], values[train])
    v = unit(sd * reg.coef_)
    along = z @ v
    slope, intercept = np.polyfit(along[train], values[train], 1) if np.ptp(along[train]) > 0 else (0.0, 0.0)
    return v, {"r2": _r2(values[test], reg.predict(u[test])), "slope": float(slope),
               "r2_along": _r2(values[test], slope * along[test] + intercept), "held_out": int(len(test))}


def _r2(true, pred) -> float:
    total = ((true - true.mean()) ** 2).sum()
    return float(1 - ((true - pred) ** 2).sum() / total) if total > 0 else 0.0


# ---------------------------------------------------------------------------------- off-manifold
