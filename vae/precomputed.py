"""What scripts/precompute.py stores in a bundle, and loading it back for the app.

    from vae import load_bundle
    from vae.precomputed import load_precomputed
    pre = load_precomputed(load_bundle("pretrained/fashion_mnist"))
    pre.mean.shape, pre.projections["tsne"].inverse_transform([[3.0, -1.0]])      # (N, d), (1, d)

Layout (all .npz load with allow_pickle=False; strings are numpy unicode arrays):
    encodings.npz    mean, logvar (N, d) f32; labels (N,) i32; index (N,) i64 rows of the split;
                     recon_error (N,) f32 nats; recon_mse (N,) f32; latent_std, kl_per_dim (d,) f32
    images.npz       images (N, H, W, C) uint8
    attributes.npz   one (N,) f32 array per measured attribute
    projections.npz  "<name>.embedding" (N, dims) f32, and for PCA "<name>.components" / ".mean" /
                     ".explained_variance_ratio"
    directions.npz   names, kinds (K,) str; vectors (K, d) f32; probe_coef (C, d), probe_intercept (C,)
    meta.json        "precompute": split, timings, projections' info (inverse errors), attribute
                     units, directions' fit and fidelity (in the order of directions.npz), skipped steps
"""
from __future__ import annotations

import dataclasses
import threading
import weakref

import numpy as np

from . import manifold, projection
from .bundle import PRECOMPUTE_HINT
from .errors import BundleError, PrecomputeError
from .store import update_bundle

FORMAT = 1


@dataclasses.dataclass(eq=False)  # arrays inside: compare fields, not objects
class Direction:
    """A unit vector in latent space with how well it was fitted and how faithfully it edits."""

    name: str            # e.g. "class: Sneaker", "Sneaker -> Sandal", "brightness"
    kind: str            # "class" | "class_pair" | "attribute" | "custom"
    vector: np.ndarray   # (d,) float32 unit vector
    fit: dict            # {"accuracy": ...} or {"r2": ..., "slope": ...}
    fidelity: dict       # {"spearman": ..., "class_change_rate": ..., "steps": [...]} or {}


@dataclasses.dataclass(eq=False)  # arrays inside: compare fields, not objects
class Precomputed:
    """Everything the app shows for one bundle, loaded once."""

    split: str
    mean: np.ndarray
    logvar: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    recon_error: np.ndarray
    attributes: dict
    attribute_info: dict
    projections: dict
    directions: list
    latent_std: np.ndarray
    kl_per_dim: np.ndarray
    info: dict
    missing: list
    index: np.ndarray | None = None        # (N,) rows of the split the points came from
    recon_mse: np.ndarray | None = None     # (N,) mean squared error per pixel of decode(mean)
    class_probe: dict = dataclasses.field(default_factory=dict)  # {"coef": (C, d), "intercept": (C,), "accuracy"}
    lower: np.ndarray | None = None             # hierarchical models: (N, d1) each point's own details, standardised
    kl_lower_per_dim: np.ndarray | None = None  # hierarchical models: (d1,) mean KL of the lower level per dimension

    def __post_init__(self):
        self._reference = None
        self._lock = threading.Lock()

    def direction(self, name: str) -> Direction:
        for d in self.directions:
            if d.name == name:
                return d
        raise KeyError(f"no direction named {name!r}; there are {[d.name for d in self.directions][:8]}...")

    def predict_class(self, z) -> np.ndarray:
        """The linear probe's class for latents (M, d) -> (M,); needs a probe (labelled data)."""
        if not self.class_probe:
            raise BundleError("This bundle has no class probe (unlabelled data or an older precompute).")
        scores = np.atleast_2d(np.asarray(z, np.float32)) @ self.class_probe["coef"].T + self.class_probe["intercept"]
        return scores.argmax(1)

    def off_manifold(self, z, k: int = 5) -> dict:
        """vae.manifold.off_manifold against these encodings, in the active dimensions; the reference is built on
        the first call."""
        with self._lock:
            if self._reference is None or self._reference["k"] != k:
                active = manifold.active_dimensions(self.kl_per_dim)
                self._reference = manifold.manifold_reference(self.mean, k, dims=active)
        return manifold.off_manifold(z, self.mean, k, reference=self._reference)


# ------------------------------------------------------------------------------------------ save

def save_precomputed(path, pre: Precomputed, extra_info: dict | None = None) -> None:
    """Write every array and the meta.json "precompute" entry into the bundle, atomically."""
    d = pre.mean.shape[1]
    encodings = {"mean": pre.mean.astype(np.float32), "logvar": pre.logvar.astype(np.float32),
                 "labels": pre.labels.astype(np.int32), "recon_error": pre.recon_error.astype(np.float32),
                 "latent_std": pre.latent_std.astype(np.float32), "kl_per_dim": pre.kl_per_dim.astype(np.float32),
                 "index": (np.arange(len(pre.mean)) if pre.index is None else pre.index).astype(np.int64)}
    if pre.recon_mse is not None:
        encodings["recon_mse"] = pre.recon_mse.astype(np.float32)
    if pre.lower is not None:
        encodings["lower"] = pre.lower.astype(np.float16)  # a point's details: half precision is plenty
        encodings["kl_lower_per_dim"] = pre.kl_lower_per_dim.astype(np.float32)
    projections = {f"{name}.{key}": value for name, p in pre.projections.items() for key, value in p.to_arrays().items()}
    directions = {"names": np.array([x.name for x in pre.directions], dtype=str),
                  "kinds": np.array([x.kind for x in pre.directions], dtype=str),
                  "vectors": np.array([x.vector for x in pre.directions], np.float32).reshape(-1, d)}
    if pre.class_probe:
        directions["probe_coef"] = np.asarray(pre.class_probe["coef"], np.float32)
        directions["probe_intercept"] = np.asarray(pre.class_probe["intercept"], np.float32)
    info = {**pre.info, **(extra_info or {}), "format": FORMAT, "split": pre.split, "n_points": int(len(pre.mean)),
            "attributes": pre.attribute_info,
            "projections": {name: p.info() for name, p in pre.projections.items()},
            "directions": [{"name": x.name, "kind": x.kind, "fit": x.fit, "fidelity": x.fidelity} for x in pre.directions],
            "class_probe": {k: v for k, v in pre.class_probe.items() if k not in ("coef", "intercept")}}
    update_bundle(path, arrays={"encodings": encodings, "images": {"images": pre.images},
                                "attributes": {k: v.astype(np.float32) for k, v in pre.attributes.items()},
                                "projections": projections, "directions": directions},
                  meta_updates={"precompute": info})


# ------------------------------------------------------------------------------------------ load

_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def load_precomputed(bundle) -> Precomputed:
    """The bundle's precomputed arrays as a Precomputed, cached per Bundle object."""
    with _cache_lock:
        if bundle not in _cache:
            _cache[bundle] = _load(bundle)
        return _cache[bundle]


def _load(bundle) -> Precomputed:
    hint = PRECOMPUTE_HINT.format(path=bundle.path)
    info = bundle.meta.get("precompute")
    if not isinstance(info, dict) or not bundle.has("encodings"):
        raise PrecomputeError(f"Bundle {bundle.path} has no precomputed encodings yet: run `{hint}` "
                          "(about a minute for 10,000 images).")
    enc = bundle.arrays("encodings")
    mean = enc["mean"]
    n, d = mean.shape
    missing = []

    def optional(stem: str, what: str) -> dict:
        if bundle.has(stem):
            return bundle.arrays(stem)
        missing.append(f"{what}: run `{hint}`")
        return {}

    def column(arrays: dict, key: str, what: str, shape, dtype=np.float32):
        if key in arrays:
            if arrays[key].shape != shape:
                raise PrecomputeError(f"{key} in bundle {bundle.path} has shape {arrays[key].shape}, expected {shape}: "
                                  f"run `{hint}` again.")
            return arrays[key]
        missing.append(f"{what}: run `{hint}`")
        return np.full(shape, np.nan, dtype)

    model_sha = (bundle.meta.get("files") or {}).get("model.keras")
    if info.get("model_sha256") and model_sha and info["model_sha256"] != model_sha:
        missing.append(f"up-to-date encodings (the model was retrained after precompute): run `{hint}`")
    images = optional("images", "images").get("images", np.zeros((0, *bundle.image_shape), np.uint8))
    if len(images) and images.shape != (n, *bundle.image_shape):
        raise PrecomputeError(f"images in bundle {bundle.path} do not match the encodings: run `{hint}` again.")
    attribute_arrays = optional("attributes", "measured attributes")
    attributes = {k: column(attribute_arrays, k, k, (n,)) for k in attribute_arrays}
    projections = _projections(bundle, info, mean, optional("projections", "t-SNE / UMAP maps"))
    vectors = optional("directions", "attribute directions")
    listed = info.get("directions", [])
    directions = [Direction(str(name), str(kind), vec, dict(listed[i].get("fit", {})) if i < len(listed) else {},
                            dict(listed[i].get("fidelity", {})) if i < len(listed) else {})
                  for i, (name, kind, vec) in enumerate(zip(vectors.get("names", []), vectors.get("kinds", []),
                                                            vectors.get("vectors", [])))]
    probe = ({"coef": vectors["probe_coef"], "intercept": vectors["probe_intercept"], **info.get("class_probe", {})}
             if "probe_coef" in vectors else {})
    return Precomputed(
        split=str(info.get("split", "test")), mean=mean, logvar=column(enc, "logvar", "log-variances", (n, d)),
        labels=enc["labels"] if "labels" in enc else np.zeros(n, np.int32), images=images,
        recon_error=column(enc, "recon_error", "reconstruction errors", (n,)),
        attributes=attributes, attribute_info=dict(info.get("attributes", {})), projections=projections,
        directions=directions, latent_std=enc["latent_std"] if "latent_std" in enc else mean.std(0),
        kl_per_dim=column(enc, "kl_per_dim", "per-dimension KL", (d,)), info=info, missing=missing,
        index=enc.get("index"), recon_mse=enc.get("recon_mse"), class_probe=probe, **_levels(bundle, enc, n, hint))


def _levels(bundle, enc: dict, n: int, hint: str) -> dict:
    """A hierarchical model's lower level: each point's details and the level's KL per dimension."""
    lower_dim = (bundle.meta.get("model") or {}).get("lower_dim")
    if not lower_dim or "lower" not in enc:
        return {}
    lower, kl = enc["lower"], enc.get("kl_lower_per_dim")
    if lower.shape != (n, lower_dim) or kl is None or kl.shape != (lower_dim,):
        raise PrecomputeError(f"The lower level's arrays in bundle {bundle.path} do not match the model: run `{hint}` again.")
    return {"lower": lower.astype(np.float32), "kl_lower_per_dim": kl.astype(np.float32)}


def _projections(bundle, info: dict, mean: np.ndarray, arrays: dict) -> dict:
    """Stored maps rebuilt in the order they were written; PCA made on the spot if nothing is stored."""
    out = {}
    for name, p_info in info.get("projections", {}).items():
        own = {key.split(".", 1)[1]: value for key, value in arrays.items() if key.split(".", 1)[0] == name}
        if "embedding" not in own:
            continue
        if own["embedding"].shape[0] != len(mean):
            raise PrecomputeError(f"The {name} map in bundle {bundle.path} does not match the encodings: "
                              f"run `{PRECOMPUTE_HINT.format(path=bundle.path)}` again.")
        out[name] = projection.from_arrays(name, own, p_info, mean)
    if not out and mean.shape[1] >= 2:
        out["pca2"] = projection.PCAProjection(2).fit(mean)
        if mean.shape[1] == 2:
            out["latent"] = projection.IdentityProjection().fit(mean)
    return out
