"""Draw latent points and decode them: from the prior, around a class's encodings, or per class of a conditional VAE.

    from vae.generate import ClassRegions, draw, draw_prior
    z = draw_prior(64, latent_dim=16, temperature=0.8, seed=3)                 # (64, 16) float32
    regions = ClassRegions("gaussian").fit(mean, labels)                       # encodings of labelled images
    z, y = regions.sample([8] * 10, temperature=1.0, seed=3)                   # 8 per class, (80, 16), (80,)
    images, labels = draw(bundle, "region", per_class=8, seed=3)               # decoded, (80, H, W, C) in [0, 1]

Sources: "prior" samples N(0, temperature^2 I) (labels are -1: unknown); "region" samples each class's
region fitted on the bundle's precomputed encodings; "conditional" samples the prior with the class
as the decoder's input (conditional bundles only). Everything is seeded: the same seed gives the same samples.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import VAEError

MAX_SAMPLES = 20_000        # one draw decodes at most this many images
SOURCES = ("prior", "region", "conditional")
REGION_KINDS = ("gaussian", "mixture", "exemplar")
MIXTURE_COMPONENTS = 3      # at most, and one per 10 encodings of the class
MIN_REGION_POINTS = 2       # a class needs this many encodings to have a region


def _check_temperature(temperature) -> float:
    t = float(temperature)
    if not math.isfinite(t) or t < 0:
        raise VAEError(f"temperature must be a finite number >= 0, got {temperature}.")
    return t


def check_count(n, what: str = "the number of samples") -> int:
    """A whole number of samples in [0, MAX_SAMPLES], or one sentence saying what to give."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= MAX_SAMPLES:
        raise VAEError(f"{what} must be a whole number from 0 to {MAX_SAMPLES:,}, got {n!r}.")
    return int(n)


def draw_prior(n: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """n points from N(0, temperature^2 I), (n, latent_dim) float32."""
    n, t = check_count(n), _check_temperature(temperature)
    return (t * np.random.default_rng(seed).standard_normal((n, int(latent_dim)))).astype(np.float32)


class ClassRegions:
    """Where each class lives in latent space, fitted on labelled encodings; sample() draws from it.

    kind="gaussian": one Gaussian per class, its mean and Ledoit-Wolf shrunk covariance (stable with
    few points per class). kind="mixture": a small diagonal Gaussian mixture per class (classes with
    several modes, e.g. sandals of different shapes). kind="exemplar": a mixture of the labelled points' posteriors, a uniformly
    chosen point's N(mean_i, exp(logvar_i)) (as Exemplar VAE does); without log-variances, a small
    isotropic spread of a tenth of the class's standard deviation.
    """

    def __init__(self, kind: str = "gaussian"):
        if kind not in REGION_KINDS:
            raise VAEError(f"Unknown region kind {kind!r}: use one of {', '.join(REGION_KINDS)}.")
        self.kind = kind

    def fit(self, mean: np.ndarray, labels: np.ndarray, logvar: np.ndarray | None = None,
            num_classes: int | None = None) -> "ClassRegions":
        mean = np.asarray(mean, np.float64)
        labels = np.asarray(labels).reshape(-1)
        if mean.ndim != 2 or len(mean) != len(labels) or (logvar is not None and np.shape(logvar) != mean.shape):
            raise VAEError(f"encodings (N, d), labels (N,) and log-variances (N, d) must agree, got {mean.shape} "
                           f"and {labels.shape}.")
        if not np.all(np.isfinite(mean)):
            raise VAEError("the encodings contain NaN or infinity: precompute the bundle again.")
        self.num_classes = int(num_classes if num_classes is not None else (labels.max() + 1 if len(labels) else 0))
        self.latent_dim = mean.shape[1]
        self.means, self.covs, self.points, self.stds, self.weights = {}, {}, {}, {}, {}
        for c in range(self.num_classes):
            rows = labels == c
            if rows.sum() < MIN_REGION_POINTS:
                continue  # too few points: no region, sample() says so if asked
            m = mean[rows]
            self.means[c] = m.mean(axis=0)
            if self.kind == "gaussian":
                from sklearn.covariance import LedoitWolf

                self.covs[c] = LedoitWolf().fit(m).covariance_
            elif self.kind == "mixture":
                from sklearn.mixture import GaussianMixture

                k = int(min(MIXTURE_COMPONENTS, max(1, len(m) // 10)))
                gm = GaussianMixture(k, covariance_type="diag", reg_covar=1e-4, random_state=0).fit(m)
                self.points[c], self.stds[c], self.weights[c] = gm.means_, np.sqrt(gm.covariances_), gm.weights_
            else:
                self.points[c] = m
                self.stds[c] = (np.exp(0.5 * np.asarray(logvar, np.float64)[rows]) if logvar is not None
                                else np.full_like(m, 0.1) * m.std(axis=0, keepdims=True))
        return self

    @property
    def classes(self) -> list[int]:
        """Classes that have a region (enough encodings)."""
        return sorted(self.means)

    def sample(self, per_class, temperature: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """per_class[c] points of each class c (a list, or one int for every class with a region):
        (sum, d) float32 latents and (sum,) int32 labels, class by class. temperature scales the spread."""
        t = _check_temperature(temperature)
        if isinstance(per_class, (int, np.integer)) and not isinstance(per_class, bool):
            per_class = [per_class if c in self.means else 0 for c in range(self.num_classes)]
        counts = [check_count(n, "the samples per class") for n in per_class]
        check_count(sum(counts), "the total number of samples")
        rng = np.random.default_rng(seed)
        zs, ys = [np.zeros((0, self.latent_dim))], [np.zeros(0, np.int32)]
        for c, n in enumerate(counts):
            if not n:
                continue
            if c not in self.means:
                raise VAEError(f"class {c} has fewer than {MIN_REGION_POINTS} encodings, so no region to sample: "
                               "precompute more points or choose another class.")
            if self.kind == "gaussian":
                chol = np.linalg.cholesky(self.covs[c] + 1e-9 * np.eye(self.latent_dim))
                z = self.means[c] + t * rng.standard_normal((n, self.latent_dim)) @ chol.T
            else:  # exemplar: a labelled point's posterior; mixture: a component, by its weight
                weights = self.weights.get(c)
                pick = rng.choice(len(self.points[c]), n, p=weights) if weights is not None else rng.integers(0, len(self.points[c]), n)
                z = self.points[c][pick] + t * self.stds[c][pick] * rng.standard_normal((n, self.latent_dim))
            zs.append(z)
            ys.append(np.full(n, c, np.int32))
        return np.concatenate(zs).astype(np.float32), np.concatenate(ys)


def decode_in_batches(bundle, z: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 256,
                      progress=None, lower: np.ndarray | None = None) -> np.ndarray:
    """bundle.decode in batches, calling progress(done, total) after each: (N, H, W, C) float32 in [0, 1].
    `lower`: a hierarchical bundle's details, one row per point."""
    total = len(z)
    out = []
    for i in range(0, total, batch_size):
        y = None if labels is None else labels[i:i + batch_size]
        out.append(bundle.decode(z[i:i + batch_size], y) if lower is None else
                   bundle.decode(z[i:i + batch_size], y, lower=lower[i:i + batch_size]))
        if progress is not None:
            progress(min(i + batch_size, total), total)
    return np.concatenate(out) if out else np.zeros((0, *bundle.image_shape), np.float32)


def bundle_regions(bundle, kind: str = "gaussian") -> ClassRegions:
    """ClassRegions fitted on a bundle's precomputed encodings (and their labels)."""
    enc = bundle.arrays("encodings")
    return ClassRegions(kind).fit(enc["mean"], enc["labels"], enc.get("logvar"), num_classes=len(bundle.class_names))


def latents(bundle, source: str, per_class: int | None = None, n: int | None = None, temperature: float = 1.0,
            seed: int = 0, classes=None, regions: ClassRegions | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The latent points and labels (-1 for the prior) of one draw, before decoding.

    prior: n points (or per_class * number of classes). region and conditional: per_class points of
    each class in `classes` (default: all), class by class."""
    if source not in SOURCES:
        raise VAEError(f"Unknown source {source!r}: use one of {', '.join(SOURCES)}.")
    k = len(bundle.class_names)
    classes = list(range(k)) if classes is None else [int(c) for c in classes]
    if any(not 0 <= c < k for c in classes):
        raise VAEError(f"classes must be class indices in [0, {k - 1}].")
    if source == "prior":
        n = check_count(n if n is not None else (per_class or 0) * k)
        if bundle.conditional:  # the decoder needs a class: draw one uniformly per point
            y = np.random.default_rng([seed, 1]).integers(0, k, n).astype(np.int32)
        else:
            y = np.full(n, -1, np.int32)
        return draw_prior(n, bundle.latent_dim, temperature, seed), y
    counts = [0] * k
    for c in classes:
        counts[c] = check_count(per_class or 0, "the samples per class")
    check_count(sum(counts), "the total number of samples")
    if source == "conditional":
        if not bundle.conditional:
            raise VAEError("This bundle is not class-conditional: choose the prior or the class regions instead.")
        y = np.repeat(np.arange(k, dtype=np.int32), counts)
        return draw_prior(len(y), bundle.latent_dim, temperature, seed), y
    regions = regions if regions is not None else bundle_regions(bundle)
    return regions.sample(counts, temperature, seed)


def draw(bundle, source: str = "prior", per_class: int | None = None, n: int | None = None,
         temperature: float = 1.0, seed: int = 0, classes=None, regions: ClassRegions | None = None,
         progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decoded samples: images (N, H, W, C) float32 in [0, 1], labels (N,) int32 (-1: unknown), latents (N, d)."""
    z, y = latents(bundle, source, per_class, n, temperature, seed, classes, regions)
    lower = None
    if getattr(bundle, "lower_dim", 0):  # a hierarchical bundle: details drawn from the prior too, at the temperature
        lower = (np.random.default_rng([seed, 2]).standard_normal((len(z), bundle.lower_dim)) *
                 _check_temperature(temperature)).astype(np.float32)
    images = decode_in_batches(bundle, z, y if bundle.conditional else None, progress=progress, lower=lower)
    return images, y, z


def readings(bundle, z, labels=None, samples: int = 3, temperature: float = 0.8, seed: int = 0,
             lower=None) -> np.ndarray:
    """What each point means to a sequence model: its decoding (greedy), then `samples` draws from p(x | z) at
    `temperature`, (B, 1 + samples, *decoded shape). One string is what the point decodes to at best; the
    draws show how much of it the point decides (a VAE's decoder is a distribution, not a function).
    The same seed gives the same draws, so a point keeps its readings while a person looks at it."""
    z = np.asarray(z, np.float32).reshape(-1, bundle.latent_dim)
    first = bundle.decode(z, labels) if lower is None else bundle.decode(z, labels, lower=lower)  # hierarchical
    if samples <= 0:
        return first[:, None]
    more = None if labels is None else np.repeat(np.asarray(labels), samples)
    drawn = bundle.sample(np.repeat(z, samples, axis=0), more, temperature, seed)
    return np.concatenate([first[:, None], drawn.reshape(len(z), samples, *first.shape[1:])], axis=1)
