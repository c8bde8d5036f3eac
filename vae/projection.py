"""Maps of the latent space: latent -> 2-D/3-D point (transform) and map point -> latent (inverse_transform).

    from vae.projection import PCAProjection
    pca = PCAProjection(dims=2).fit(means)                 # exact linear inverse
    z = pca.inverse_transform([[0.5, -1.0]], z_ref=z0)     # (1, d): z0 with its first two PCs replaced
    tsne = from_arrays("tsne", arrays, info, means)        # a stored t-SNE map: a NeighbourhoodMap
    tsne.inverse_error                                     # {"median_rel": ..., "p90_rel": ...} on held-out points

Fitting t-SNE and UMAP (precompute only) is vae/embeddings.py.

t-SNE and UMAP have no inverse and cannot be saved without pickle. Both become a
`NeighbourhoodMap` of the stored points: forward by the distance-weighted embedding of the k
nearest stored latents, inverse by the distance-weighted latents of the k nearest map points,
with the errors of both measured on held-out points. Nothing here needs openTSNE or umap-learn
to load a stored map.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .errors import VAEError

K_CHOICES = (5, 10, 20, 40)  # neighbours tried for the neighbourhood maps; the best on held-out points is kept
HELD_OUT = 0.1
MAX_HELD_OUT = 2000


class PCAProjection:
    """Principal components of the encodings: a linear map with an exact inverse."""

    exact_inverse = True
    inverse_error: dict = {}

    def __init__(self, dims: int = 2, name: str | None = None):
        self.dims = dims
        self.name = name or f"pca{dims}"

    def fit(self, latents):
        z = np.asarray(latents, np.float64)
        self.mean_ = z.mean(0)
        _, s, vt = np.linalg.svd(z - self.mean_, full_matrices=False)
        var = s ** 2
        self.components_ = vt.astype(np.float32)  # (d, d): rows are the principal axes, largest first
        self.explained_variance_ratio_ = (var / max(var.sum(), 1e-300)).astype(np.float32)
        self.mean_ = self.mean_.astype(np.float32)
        self.embedding = self.transform(z)
        return self

    @property
    def axes(self) -> np.ndarray:
        return self.components_[:self.dims]  # (dims, d)

    def transform(self, latents) -> np.ndarray:
        z = checks.rows(latents, len(self.mean_), "latent vectors", dtype=np.float32)
        return ((z - self.mean_) @ self.axes.T).astype(np.float32)

    def inverse_transform(self, points, z_ref=None) -> np.ndarray:
        """Map points (M, dims) -> latents (M, d); the other components at the mean, or at z_ref's own."""
        p = checks.rows(points, self.dims, "map points", dtype=np.float32)
        ref = self.mean_[None] if z_ref is None else checks.rows(z_ref, len(self.mean_), "the reference latent")
        if len(ref) not in (1, len(p)):
            raise VAEError(f"give one reference latent or one per map point ({len(p)}), got {len(ref)}.")
        base = np.broadcast_to(ref.astype(np.float32), (len(p), len(self.mean_)))
        # replace base's coordinates in the plane by p, keep everything orthogonal to it
        return (base + (p - self.transform(base)) @ self.axes).astype(np.float32)

    def to_arrays(self) -> dict:
        return {"embedding": self.embedding, "components": self.components_, "mean": self.mean_,
                "explained_variance_ratio": self.explained_variance_ratio_}

    def info(self) -> dict:
        return {"type": "pca", "dims": self.dims, "exact_inverse": True, "inverse_error": {},
                "explained_variance": float(self.explained_variance_ratio_[:self.dims].sum())}

    @classmethod
    def from_arrays(cls, name: str, arrays: dict, info: dict, latents=None):
        p = cls(int(info.get("dims", arrays["embedding"].shape[1])), name)
        p.components_, p.mean_ = arrays["components"], arrays["mean"]
        p.explained_variance_ratio_ = arrays["explained_variance_ratio"]
        p.embedding = arrays["embedding"]
        return p


class IdentityProjection(PCAProjection):
    """A 2-D latent space is its own map: a PCA whose axes are the latent dimensions, centred at 0."""

    def __init__(self, dims: int = 2, name: str = "latent"):
        super().__init__(2, name)

    def fit(self, latents):
        z = np.asarray(latents, np.float32)
        if z.ndim != 2 or z.shape[1] != 2:
            raise ValueError(f"the identity map needs a 2-D latent space, got shape {z.shape}")
        self.components_, self.mean_ = np.eye(2, dtype=np.float32), np.zeros(2, np.float32)
        self.explained_variance_ratio_ = (z.var(0) / max(z.var(0).sum(), 1e-300)).astype(np.float32)
        self.embedding = z
        return self

    def info(self) -> dict:
        return {**super().info(), "type": "identity"}


def _tree(points):
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(points, np.float64))


def _weighted(tree, queries, values, k: int, eps: float) -> np.ndarray:
    """Inverse-square-distance weighted mean of `values` at the k nearest tree points: (M, values' width)."""
    k = min(k, tree.n)
    dist, idx = tree.query(np.asarray(queries, np.float64), k=k)
    dist, idx = dist.reshape(len(queries), k), idx.reshape(len(queries), k)
    w = 1.0 / (dist ** 2 + eps ** 2)
    w /= w.sum(1, keepdims=True)
    return np.einsum("mk,mkd->md", w, values[idx]).astype(np.float32)


def _spread(x: np.ndarray) -> float:
    """Root-mean-square distance of the rows from their centroid: the unit of the relative errors."""
    return float(np.sqrt(((x - x.mean(0)) ** 2).sum(1).mean())) or 1.0


def _errors(pred: np.ndarray, true: np.ndarray, scale: float) -> np.ndarray:
    return np.linalg.norm(pred.astype(np.float64) - true, axis=1) / scale


class NeighbourhoodMap:
    """A stored map of the encodings, forward and inverse by distance-weighted nearest neighbours."""

    exact_inverse = False
    kind = "neighbourhood"

    def __init__(self, name: str = "map", k_forward: int = 10, k_inverse: int = 10, seed: int = 0):
        self.name, self.k_forward, self.k_inverse, self.seed = name, k_forward, k_inverse, seed
        self.params: dict = {}
        self.inverse_error: dict = {}
        self.forward_error: dict = {}

    @property
    def dims(self) -> int:
        return int(self.embedding.shape[1])

    def fit(self, latents, embedding=None):
        """Keep the points and their map positions; measure both directions' errors on held-out points."""
        self.latents = np.asarray(latents, np.float32)
        self.embedding = np.asarray(self.embed(self.latents) if embedding is None else embedding, np.float32)
        self._measure()
        return self._build()

    def embed(self, latents) -> np.ndarray:
        raise NotImplementedError("give the embedding to fit(), or use TSNEProjection / UMAPProjection")

    def restore(self, latents, embedding, info: dict):
        """Rebuild from stored arrays and the info() written at fit time; no fitting, no openTSNE."""
        self.latents, self.embedding = np.asarray(latents, np.float32), np.asarray(embedding, np.float32)
        self.k_forward, self.k_inverse = int(info.get("k_forward", 10)), int(info.get("k_inverse", 10))
        self.inverse_error, self.forward_error = dict(info.get("inverse_error", {})), dict(info.get("forward_error", {}))
        self.params, self.kind = dict(info.get("params", {})), str(info.get("type", self.kind))
        return self._build()

    def _build(self):
        self._map_tree = _tree(self.embedding)
        self._latent_tree = None  # built on the first transform(): load time stays small
        self._map_eps = 1e-3 * _spread(self.embedding)
        self._latent_eps = 1e-3 * _spread(self.latents)
        return self

    def transform(self, latents) -> np.ndarray:
        """Latents (M, d) -> map points (M, dims): the embedding of the nearest stored latents."""
        if self._latent_tree is None:
            self._latent_tree = _tree(self.latents)
        z = checks.rows(latents, self.latents.shape[1], "latent vectors", dtype=np.float32)
        return _weighted(self._latent_tree, z, self.embedding, self.k_forward, self._latent_eps)

    def inverse_transform(self, points, z_ref=None) -> np.ndarray:
        """Map points (M, dims) -> latents (M, d): the latents of the nearest map points (z_ref unused)."""
        p = checks.rows(points, self.dims, "map points", dtype=np.float32)
        return _weighted(self._map_tree, p, self.latents, self.k_inverse, self._map_eps)

    def _measure(self) -> None:
        """Choose k and measure errors: fit on 90%, choose on half the rest, report on the other half."""
        n = len(self.latents)
        n_out = min(MAX_HELD_OUT, max(2, int(n * HELD_OUT)))
        if n < 20:
            return
        order = np.random.default_rng(self.seed).permutation(n)
        fit, choose, report = order[n_out:], order[:n_out // 2], order[n_out // 2:n_out]
        z, e = self.latents.astype(np.float64), self.embedding.astype(np.float64)
        z_scale, e_scale = _spread(z), _spread(e)
        map_tree, latent_tree = _tree(e[fit]), _tree(z[fit])
        eps_e, eps_z = 1e-3 * e_scale, 1e-3 * z_scale

        def inverse(rows, k):
            return _errors(_weighted(map_tree, e[rows], z[fit], k, eps_e), z[rows], z_scale)

        def forward(rows, k):
            return _errors(_weighted(latent_tree, z[rows], e[fit], k, eps_z), e[rows], e_scale)

        self.k_inverse = min(K_CHOICES, key=lambda k: np.median(inverse(choose, k)))
        self.k_forward = min(K_CHOICES, key=lambda k: np.median(forward(choose, k)))
        inv, fwd = inverse(report, self.k_inverse), forward(report, self.k_forward)
        nn, _ = _tree(z[fit]).query(z[report], k=1)
        self.inverse_error = {"median_rel": float(np.median(inv)), "p90_rel": float(np.percentile(inv, 90)),
                              "median_abs": float(np.median(inv) * z_scale), "scale": z_scale,
                              "nn_rel": float(np.median(nn) / z_scale), "k": self.k_inverse, "held_out": int(len(report)),
                              "meaning": "distance from the true latent, over the RMS distance of encodings from "
                                         "their centroid; nn_rel: the same for the nearest other encoding"}
        self.forward_error = {"median_rel": float(np.median(fwd)), "p90_rel": float(np.percentile(fwd, 90)),
                              "k": self.k_forward, "held_out": int(len(report))}

    def to_arrays(self) -> dict:
        return {"embedding": self.embedding}  # the latents are the encodings' means, stored once

    def info(self) -> dict:
        return {"type": self.kind, "dims": self.dims,
                "exact_inverse": False, "inverse_error": self.inverse_error, "forward_error": self.forward_error,
                "k_forward": self.k_forward, "k_inverse": self.k_inverse, "params": self.params}

    @classmethod
    def from_arrays(cls, name: str, arrays: dict, info: dict, latents=None):
        return NeighbourhoodMap(name).restore(latents, arrays["embedding"], info)


LOADERS = {"pca": PCAProjection, "identity": IdentityProjection, "tsne": NeighbourhoodMap,
           "umap": NeighbourhoodMap, "neighbourhood": NeighbourhoodMap}


def from_arrays(name: str, arrays: dict, info: dict, latents) -> object:
    """Any stored projection, by the "type" its info() recorded."""
    return LOADERS[info["type"]].from_arrays(name, arrays, info, latents)
