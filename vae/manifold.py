"""The off-manifold meter: how far a latent point is from the encodings of real data.

    ref = manifold_reference(means, k=5, dims=active_dimensions(kl_per_dim))
    report = off_manifold(z, means, k=5, reference=ref)     # {"verdict": "typical" | "unusual" | "far off", ...}

The distance to the k nearest encodings, in the dimensions the model uses, read as a percentile of the
same distance among the encodings themselves (a KD-tree; brute force without a reference), with the
prior's log-density beside it.
"""
from __future__ import annotations

import math

import numpy as np

from . import checks
from .errors import VAEError
from .latent import nearest

LOG_2PI = math.log(2 * math.pi)


def log_prior(z) -> np.ndarray:
    """log N(z; 0, I) in nats, (M,)."""
    z = checks.rows(z, None, "the latent points", finite=False)
    return -0.5 * (z.shape[1] * LOG_2PI + (z ** 2).sum(1))


INACTIVE_KL = 0.01  # nats: below this mean KL a dimension carries no information and the decoder ignores it


def active_dimensions(kl_per_dim) -> np.ndarray:
    """The latent dimensions the model uses: mean KL from the prior of at least INACTIVE_KL nats (indices,
    in order). The one definition of "active" for the sliders, the model card and the off-manifold meter;
    NaN (not measured) counts as inactive."""
    kl = np.nan_to_num(np.asarray(kl_per_dim, np.float64).reshape(-1), nan=0.0)
    return np.flatnonzero(kl >= INACTIVE_KL)


def manifold_reference(means, k: int = 5, sample: int = 2000, seed: int = 0, dims=None) -> dict:
    """What is typical among the encodings: sorted k-NN distances (of a sample), prior log-densities,
    and a KD-tree of the encodings that makes each later off_manifold call take well under a millisecond.

    `dims`: the latent dimensions to measure in (active_dimensions: where prior draws and encodings differ
    only in what the decoder ignores, a distance over every dimension calls every prior draw far off);
    None or empty: all of them. The sample's neighbours come from the same tree, so memory stays O(N)
    (70,000 encodings: a few MB, where a brute-force (sample, N) distance table would take ~0.5 GB)."""
    from scipy.spatial import cKDTree

    means = checks.rows(means, None, "the encodings", min_rows=1, dtype=np.float32)  # finite: a tree needs it
    k = checks.integer(k, "k", 1)
    d = means.shape[1]
    dims = np.arange(d) if dims is None or len(dims) == 0 else np.asarray(dims, np.int64).reshape(-1)
    if dims.min() < 0 or dims.max() >= d:
        raise VAEError(f"the dimensions to measure in must lie in 0..{d - 1}.")
    used = means[:, dims]
    tree = cKDTree(used.astype(np.float64))
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(used), size=min(sample, len(used)), replace=False)
    kk = min(k + 1, len(used))
    dist = tree.query(used[pick].astype(np.float64), k=kk)[0].reshape(len(pick), kk)
    knn = np.sort(dist[:, 1:].mean(1)) if kk > 1 else np.zeros(1)  # column 0 is the point itself
    return {"k": k, "knn_sorted": knn, "log_prior_sorted": np.sort(log_prior(used)), "tree": tree,
            "dims": dims, "latent_dim": d}


def off_manifold(z, means, k: int = 5, reference: dict | None = None) -> dict:
    """How far z lies from the encodings, compared with how far encodings lie from each other, measured
    in the reference's dimensions (all, or the active ones: see manifold_reference).

    Returns knn_distance (mean distance to the k nearest encodings), ratio (that over the median among
    encodings), percentile (share of encodings whose own k-NN distance is smaller, 0-100), verdict
    ("typical" below the 90th percentile, "unusual" below the 99th, else "far off"), log_prior (nats,
    over the measured dimensions) and log_prior_percentile (share of encodings with a lower prior
    density), dims_used and latent_dim (how many dimensions were measured, of how many). Scalars for
    one z (d,), arrays for z (M, d). Pass `reference` from `manifold_reference` to make repeated calls cheap.
    """
    single = np.ndim(z) == 1
    if reference is not None and "tree" in reference:  # the app's path: no pass over all the encodings
        ref = reference
        d = int(ref.get("latent_dim", ref["tree"].m))
        dims = ref.get("dims", np.arange(d))
        q = checks.rows(z, d, "the latent points", dtype=np.float32)[:, dims]
        dist = ref["tree"].query(q.astype(np.float64), k=min(ref["k"], ref["tree"].n))[0].reshape(len(q), -1)
    else:
        means = checks.table(means, "the encodings", min_rows=1)
        ref = reference or manifold_reference(means, k)
        d = means.shape[1]
        dims = ref.get("dims", np.arange(d))
        q = checks.rows(z, d, "the latent points", dtype=np.float32)[:, dims]
        _, dist = nearest(q, means[:, dims], ref["k"])
    knn = dist.mean(1)
    typical = float(np.median(ref["knn_sorted"]))
    pct = 100.0 * np.searchsorted(ref["knn_sorted"], knn, side="right") / len(ref["knn_sorted"])
    lp = log_prior(q)
    lp_pct = 100.0 * np.searchsorted(ref["log_prior_sorted"], lp, side="left") / len(ref["log_prior_sorted"])
    verdict = np.where(pct < 90, "typical", np.where(pct < 99, "unusual", "far off"))
    out = {"knn_distance": knn, "typical_distance": typical, "ratio": knn / max(typical, 1e-12),
           "percentile": pct, "verdict": verdict, "log_prior": lp, "log_prior_percentile": lp_pct}
    if single:
        out = {key: (val[0].item() if isinstance(val, np.ndarray) else val) for key, val in out.items()}
    out["dims_used"], out["latent_dim"] = int(len(dims)), d
    return out


# --------------------------------------------------------------------------------- edit fidelity
