"""Fitting t-SNE and UMAP maps of the latent space (precompute only; the app loads them as NeighbourhoodMaps).

    from vae.embeddings import TSNEProjection, knn_graph
    knn = knn_graph(means, 90)                             # one exact neighbour graph for both
    tsne = TSNEProjection(perplexity=30, seed=0).fit(means, knn=knn)
    tsne.inverse_error                                     # {"median_rel": ..., "p90_rel": ...} on held-out points
"""
from __future__ import annotations

import importlib.util

import numpy as np

from .projection import NeighbourhoodMap

SMALL = 5000  # points below which t-SNE runs on one thread


def knn_graph(latents, k: int, n_jobs: int = -1, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest other points of every point: indices (N, k) int64, distances (N, k) float32.

    Computed once, it serves t-SNE's affinities and UMAP's fuzzy set. Brute force through BLAS is
    exact and, on 70,000 16-d points here, 4x faster than the Annoy index openTSNE would build.
    """
    from sklearn.neighbors import NearestNeighbors

    z = np.asarray(latents, np.float32)
    k = int(min(k, len(z) - 1))
    from tqdm import tqdm

    index = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", n_jobs=n_jobs).fit(z)
    parts = [index.kneighbors(z[i:i + 8192]) for i in tqdm(range(0, len(z), 8192), desc="neighbour graph",
                                                           unit="block", disable=not progress)]
    dist, idx = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    is_self = idx == np.arange(len(z))[:, None]
    order = np.argsort(np.where(is_self, -1.0, dist), axis=1, kind="stable")  # the point itself first, if found
    cols = np.arange(k)[None, :] + is_self.any(1)[:, None]  # skip it; rows without it drop their farthest
    pick = np.take_along_axis(order, cols, axis=1)
    return np.take_along_axis(idx, pick, axis=1), np.take_along_axis(dist, pick, axis=1).astype(np.float32)


class TSNEProjection(NeighbourhoodMap):
    """t-SNE map: openTSNE (FFT-accelerated), scikit-learn's TSNE where openTSNE is missing."""

    kind = "tsne"

    def __init__(self, perplexity: float = 30.0, seed: int = 0, backend: str = "auto", n_jobs: int | None = None,
                 progress: bool = False, name: str = "tsne"):
        super().__init__(name, seed=seed)
        self.perplexity, self.backend, self.n_jobs, self.progress = perplexity, backend, n_jobs, progress

    def fit(self, latents, embedding=None, knn=None):
        """knn: (indices, distances) from `knn_graph` with at least 3 x perplexity columns, to reuse."""
        self._knn = knn
        return super().fit(latents, embedding)

    def embed(self, latents) -> np.ndarray:
        z = np.asarray(latents, np.float64)
        perplexity = float(min(self.perplexity, max(1.0, (len(z) - 1) / 3.0)))  # t-SNE needs 3 x perplexity < N
        # threads pay off only on big maps: on a few thousand points, waiting threads cost more than they give
        self._jobs = self.n_jobs if self.n_jobs is not None else (1 if len(z) < SMALL else -1)
        backend = self.backend
        if backend == "auto":
            backend = "opentsne" if importlib.util.find_spec("openTSNE") else "sklearn"
        if backend == "opentsne":
            import openTSNE

            emb = np.asarray(self._opentsne(openTSNE, z, perplexity))
            version = f"openTSNE {openTSNE.__version__}"
        elif backend == "sklearn":
            import sklearn
            from sklearn.manifold import TSNE
            from threadpoolctl import threadpool_limits

            # its gradient runs on OpenMP threads whatever n_jobs says; on a busy machine two of them
            # spinning at each barrier made 400 points take 50 s instead of 5
            with threadpool_limits(limits=None if self._jobs == -1 else self._jobs, user_api="openmp"):
                emb = TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=self.seed,
                           n_jobs=self._jobs).fit_transform(z)
            version = f"scikit-learn {sklearn.__version__}"
        else:
            raise ValueError(f"unknown t-SNE backend {self.backend!r}: use auto, opentsne or sklearn")
        self.params = {"perplexity": perplexity, "seed": self.seed, "backend": version}
        return emb.astype(np.float32)

    def _opentsne(self, openTSNE, z, perplexity):
        from openTSNE import affinity, nearest_neighbors
        from tqdm import tqdm

        knn = getattr(self, "_knn", None)
        if knn is None or knn[0].shape[1] < min(len(z) - 1, int(3 * perplexity)):
            knn = knn_graph(z, int(3 * perplexity), self._jobs)
        affinities = affinity.PerplexityBasedNN(perplexity=perplexity, n_jobs=self._jobs, knn_index=
                                                nearest_neighbors.PrecomputedNeighbors(*knn))
        tsne = openTSNE.TSNE(perplexity=perplexity, random_state=self.seed, n_jobs=self._jobs, verbose=False)
        every = 25
        with tqdm(total=tsne.early_exaggeration_iter + tsne.n_iter, desc="t-SNE (openTSNE)", unit="it",
                  disable=not self.progress) as bar:
            def tick(iteration, error, embedding):
                bar.update(every)
                return False  # True would stop the optimisation

            if self.progress:
                tsne.callbacks, tsne.callbacks_every_iters = [tick], every
            return tsne.fit(z, affinities=affinities)


class UMAPProjection(NeighbourhoodMap):
    """UMAP map (umap-learn), with the same neighbourhood forward and inverse as t-SNE."""

    kind = "umap"

    def __init__(self, n_neighbors: int = 15, min_dist: float = 0.1, seed: int | None = 0, progress: bool = False,
                 name: str = "umap"):
        super().__init__(name, seed=seed or 0)
        self.n_neighbors, self.min_dist, self.umap_seed, self.progress = n_neighbors, min_dist, seed, progress

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("umap") is not None

    def fit(self, latents, embedding=None, knn=None):
        """knn: (indices, distances) from `knn_graph` with at least n_neighbors - 1 columns, to reuse."""
        self._knn = knn
        return super().fit(latents, embedding)

    def embed(self, latents) -> np.ndarray:
        import warnings

        import umap

        z = np.asarray(latents, np.float32)
        n_neighbors = int(min(self.n_neighbors, max(2, len(z) - 1)))
        knn = getattr(self, "_knn", None)
        if knn is None or knn[0].shape[1] < n_neighbors - 1:
            knn = knn_graph(z, n_neighbors - 1)
        # umap-learn counts the point itself as its first neighbour
        idx = np.concatenate([np.arange(len(z))[:, None], knn[0][:, :n_neighbors - 1]], axis=1)
        dist = np.concatenate([np.zeros((len(z), 1), np.float32), knn[1][:, :n_neighbors - 1]], axis=1)
        reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=self.min_dist, random_state=self.umap_seed,
                            n_components=2, precomputed_knn=(idx, dist, None), verbose=self.progress,
                            tqdm_kwds={"desc": "UMAP", "disable": not self.progress})
        with warnings.catch_warnings():  # "transform will be unavailable": the neighbourhood map does that
            warnings.filterwarnings("ignore", message=".*knn_search_index.*")
            warnings.filterwarnings("ignore", message=".*n_jobs value.*")
            emb = reducer.fit_transform(z)
        self.params = {"n_neighbors": n_neighbors, "min_dist": self.min_dist, "seed": self.umap_seed,
                       "backend": f"umap-learn {umap.__version__}"}
        return np.asarray(emb, np.float32)
