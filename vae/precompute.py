"""Encode a dataset split and store everything the app shows in the bundle (no dataset needed afterwards).

    from vae.precompute import precompute, Settings
    timings, notes = precompute("pretrained/fashion_mnist", Settings(split="test"))

Stores posterior means and log-variances, labels, the examples themselves (natural form), reconstruction
errors, measured attributes, PCA / t-SNE / UMAP maps with their inverses, class and attribute directions
with their fit and edit fidelity; see vae/precomputed.py for the layout. Generic over the modality: what is
measured, judged and how reconstruction is scored come from it. Each step's wall and CPU time is returned
and kept in meta.json.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .errors import VAEError

BATCH = 1024
UMAP_NEIGHBOURS = 15
UMAP_SEEDED_MAX = 20000  # above this many points UMAP runs unseeded, on all cores
COLLAPSED_STD = 1e-6    # encodings spread less than this in every dimension: one point, nothing to fit


def _opt(default, help: str, **extra):
    return dataclasses.field(default=default, metadata={"help": help, **extra})


@dataclasses.dataclass
class Settings:
    """What to precompute; scripts/precompute.py builds its options from these fields."""

    split: str = _opt("test", "which split to encode", choices=("test", "train", "all"))
    max_points: int | None = _opt(None, "a seeded random subset of the split")
    perplexity: float = _opt(30.0, "t-SNE perplexity")
    seed: int = _opt(0, "seed of the subset, t-SNE, UMAP and the fits")
    tsne_backend: str = _opt("auto", "t-SNE implementation", choices=("auto", "opentsne", "sklearn"))
    no_tsne: bool = _opt(False, "skip t-SNE")
    no_umap: bool = _opt(False, "skip UMAP")
    dataset: str | None = _opt(None, "where the bundle's data is now, if it moved (folder:PATH or npz:PATH; "
                                     "default: where it was trained)", metavar="SPEC")

    def __post_init__(self):
        if self.split not in ("test", "train", "all"):
            raise VAEError(f"--split must be test, train or all, got {str(self.split)[:20]!r}.")
        if self.max_points is not None and self.max_points < 10:
            raise VAEError(f"--max-points must be at least 10, got {self.max_points}.")
        if not (isinstance(self.perplexity, (int, float)) and 0 < self.perplexity < math.inf):
            raise VAEError(f"--perplexity must be a positive number, got {self.perplexity}.")
        if self.seed < 0:
            raise VAEError(f"--seed must be >= 0, got {self.seed}.")


CPU_SECONDS: dict[str, float] = {}  # step -> processor seconds of all this process's threads


@contextlib.contextmanager
def timed(timings: dict, step: str):
    """Record the wall time of the block, in seconds, as timings[step] (and its CPU time in CPU_SECONDS)."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    timings[step] = round(time.perf_counter() - start, 2)
    CPU_SECONDS[step] = round(time.process_time() - cpu, 2)


def batched(fn, x, desc: str, progress: bool, batch: int = BATCH):
    """fn over `x` in batches with a progress bar; results concatenated along the first axis."""
    parts = [fn(x[i:i + batch], i) for i in tqdm(range(0, len(x), batch), desc=desc, unit="batch", disable=not progress)]
    return [np.concatenate(p) for p in zip(*parts)] if isinstance(parts[0], tuple) else np.concatenate(parts)


def load_split(meta: dict, split: str, max_points: int | None, seed: int, dataset: str | None = None):
    from .data import bundle_dataset

    ds = bundle_dataset(meta, dataset)
    x, y = ds.split(split)
    index = np.arange(len(x))
    if max_points is not None and max_points < len(x):
        index = np.sort(np.random.default_rng(seed).choice(len(x), size=max_points, replace=False))
        x, y = x[index], y[index]
    return x, y.astype(np.int32), index


def reconstruction_errors(bundle, x, mean, labels, progress):
    """Per example: -log p(x | z = posterior mean) in nats, and the modality's distance to decode(mean)."""
    def one(xb, i):
        z, y = mean[i:i + len(xb)], (labels[i:i + len(xb)] if bundle.conditional else None)
        return bundle.nll(xb, z, y), bundle.modality.distance(xb, bundle.decode(z, y)).astype(np.float32)
    return batched(one, x, "reconstruction errors", progress)


def fit_projections(mean, s: Settings, notes: list, progress: bool, timings: dict) -> dict:
    """PCA 2-D and 3-D; t-SNE and UMAP sharing one exact neighbour graph; the identity map for d = 2."""
    from .embeddings import TSNEProjection, UMAPProjection, knn_graph
    from .projection import IdentityProjection, PCAProjection

    d = mean.shape[1]
    maps = {}
    with timed(timings, "PCA"):
        for dims in (2, 3):
            if d >= dims:
                maps[f"pca{dims}"] = PCAProjection(dims).fit(mean)
    if d == 2:
        maps["latent"] = IdentityProjection().fit(mean)
        notes.append("t-SNE and UMAP skipped: the latent space is 2-D and is its own map ('latent').")
        return maps
    want_umap = not s.no_umap and UMAPProjection.available()
    if not s.no_umap and not want_umap:
        notes.append("UMAP skipped: umap-learn is not installed (pip install umap-learn).")
    knn = None
    if not s.no_tsne or want_umap:
        with timed(timings, "neighbour graph"):
            knn = knn_graph(mean, max(int(3 * s.perplexity), UMAP_NEIGHBOURS), progress=progress)
    if not s.no_tsne:
        with timed(timings, "t-SNE"):
            maps["tsne"] = TSNEProjection(s.perplexity, s.seed, s.tsne_backend, progress=progress).fit(mean, knn=knn)
    if want_umap:
        with timed(timings, "UMAP"):
            # a seed makes umap-learn single-threaded: on big maps speed wins over bit-for-bit repeatability
            seed = s.seed if len(mean) <= UMAP_SEEDED_MAX else None
            maps["umap"] = UMAPProjection(UMAP_NEIGHBOURS, seed=seed, progress=progress).fit(mean, knn=knn)
    return maps


def check_spread(mean, noun: str = "example") -> None:
    """Refuse encodings that are one point (a collapsed or dead encoder): no map or direction can be fitted."""
    spread = float(mean.std(0).max()) if mean.size else 0.0
    if not spread > COLLAPSED_STD:
        raise VAEError(f"The model encodes all {len(mean)} {noun}s to the same point (largest spread {spread:.1g}): "
                       "its encoder has collapsed, so there is no map or direction to compute; retrain it, e.g. with "
                       "--kl-warmup 5 or a lower --beta, and check its -ELBO with scripts/evaluate.py.")


def precompute(path, settings: Settings | None = None, progress: bool = True, **kw) -> tuple[dict, list]:
    """Compute and store everything; returns the step timings in seconds and notes on skipped steps.
    Settings may also be given as keywords (precompute(path, split="train", no_umap=True))."""
    from .bundle import load_bundle
    from .files import sha256
    from .directions import FIDELITY_POINTS, FIDELITY_SPAN, FIDELITY_STEPS, fit_directions, measure_class_fidelity, \
        measure_fidelity
    from .precomputed import Precomputed, save_precomputed

    s = settings or Settings(**kw)
    timings, notes, total, cpu_total = {}, [], time.perf_counter(), time.process_time()
    with timed(timings, "load bundle and data"):
        bundle = load_bundle(path)
        meta = bundle.meta
        if "dataset" not in meta:
            raise VAEError(f"meta.json in {path} names no dataset: retrain the bundle with scripts/train.py.")
        x, labels, index = load_split(meta, s.split, s.max_points, s.seed, s.dataset)
        if x.shape[1:] != bundle.input_shape:
            raise VAEError(f"The {meta['dataset']} examples are {x.shape[1:]} but the model expects {bundle.input_shape}: "
                           "give the bundle's dataset options (image size, channels) when training.")
    modality, class_names = bundle.modality, list(bundle.class_names)
    with timed(timings, "encode"):
        cond = labels if bundle.conditional else None
        mean, logvar = batched(lambda xb, i: bundle.encode(xb, None if cond is None else cond[i:i + len(xb)]),
                               x, f"encode {len(x)} examples", progress)
    check_spread(mean, modality.noun)
    with timed(timings, "reconstruction errors"):
        recon_error, recon_distance = reconstruction_errors(bundle, x, mean, labels, progress)
    with timed(timings, "attributes"):
        options = modality.attribute_options(x, {**meta, "class_names": class_names})
        measured = modality.attributes(x, **options)
    maps = fit_projections(mean, s, notes, progress, timings)
    with timed(timings, "directions"):
        directions, probe = fit_directions(mean, labels, measured, class_names, s.seed, progress, notes, modality.noun,
                                           class_directions=not bundle.conditional)
        if bundle.conditional:
            notes.append("No class directions: this model takes the class as an input (its decoder draws any class).")
    with timed(timings, "edit fidelity"):
        measure_fidelity(bundle, directions, mean, labels, probe, lambda xs: modality.attributes(xs, **options),
                         s.seed, progress)
    with timed(timings, "class edit fidelity"):
        judge = measure_class_fidelity(bundle, directions, mean, labels, x, modality.judge(s.seed), s.seed, progress)
    kl = 0.5 * (mean.astype(np.float64) ** 2 + np.exp(logvar) - 1.0 - logvar)  # (N, d) closed form
    levels = {}
    if bundle.lower_dim:  # a hierarchical model: each point's details and the lower level's KL
        with timed(timings, "lower level"):
            levels = lower_level(bundle, x, labels, progress)
    info = {"dataset": meta["dataset"], "modality": modality.name, "seed": s.seed, "skipped": notes,
            "index_of": f"rows of load_dataset(...).split({s.split!r})", "model_sha256": sha256(bundle.path / "model.keras"),
            "attribute_options": options, "distance_name": modality.distance_name,
            "recon_error_unit": f"nats (negative log-likelihood of the {modality.noun} under the decoder at its posterior mean)",
            "fidelity_settings": {"points": FIDELITY_POINTS, "steps": FIDELITY_STEPS, "span_std": FIDELITY_SPAN},
            "class_judge": judge}
    pre = Precomputed(split=s.split, mean=mean, logvar=logvar, labels=labels, images=x, recon_error=recon_error,
                      attributes=measured, attribute_info=modality.attribute_info(measured), projections=maps,
                      directions=directions, latent_std=mean.std(0), kl_per_dim=kl.mean(0).astype(np.float32),
                      info=info, missing=[], index=index, recon_mse=recon_distance, class_probe=probe, **levels)
    with timed(timings, "save"):
        save_precomputed(path, pre, {"timings": {**timings, "total": round(time.perf_counter() - total, 2)},
                                     "cpu_seconds": {**{k: CPU_SECONDS[k] for k in timings},
                                                     "total": round(time.process_time() - cpu_total, 2)},
                                     "load_average": round(os.getloadavg()[0], 2)})
    timings["total"] = round(time.perf_counter() - total, 2)
    CPU_SECONDS["total"] = round(time.process_time() - cpu_total, 2)
    return timings, notes


def lower_level(bundle, x, labels, progress=None) -> dict:
    """A hierarchical model's lower level over the points: each one's own details (standardised noise, the app
    decodes a selected point with them) and the level's mean KL per dimension; {} for a flat model."""
    model = bundle.model
    if not hasattr(model, "lower_noise"):
        return {}
    cond = labels if bundle.conditional else None
    noise, kl = [], []
    for i in range(0, len(x), 1000):
        xb = model.modality.model_input(x[i:i + 1000])
        yb = None if cond is None else cond[i:i + 1000]
        noise.append(np.asarray(model.lower_noise(xb, labels=yb)))
        kl.append(np.asarray(model.kl_per_level(xb, yb)[1]) * len(xb))
    return {"lower": np.concatenate(noise), "kl_lower_per_dim": (np.sum(kl, axis=0) / len(x)).astype(np.float32)}


def app_command(bundle) -> str:
    """The command that opens this bundle: shipped bundles (directly inside pretrained/) are in the picker."""
    path = Path(bundle).expanduser().resolve()
    if path.parent == (Path(__file__).resolve().parent.parent / "pretrained").resolve():
        return f"streamlit run app.py  (pick {path.name} in the sidebar)"
    return f"streamlit run app.py -- --bundle {path}"
