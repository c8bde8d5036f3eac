"""A trained bundle, loaded: the model behind compiled encode/decode, its metadata and precomputed arrays.

    from vae import load_bundle
    b = load_bundle("pretrained/fashion_mnist")
    mean, logvar = b.encode(examples)        # natural form (images uint8 (N, H, W, C); token ids (N, T)) -> (N, d)
    x = b.decode(z)                          # (N, d) -> decoded form (images float32 in [0, 1]; greedy token ids)

Writing bundles is vae/store.py; atomic files and locks vae/files.py; the model archive's checks vae/archive.py.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
from pathlib import Path

import numpy as np

from . import debug, meta_schema
from .archive import check_model_archive
from .errors import BundleError, VAEError
from .files import atomic_write_json, sha256  # noqa: F401  (the bundle API: loading here, writing from store)
from .store import (FORMAT_VERSION, HISTORY, META, MODEL, _plain_file, check_out, package_versions,  # noqa: F401
                    read_meta, recover, save_bundle, transaction, update_bundle, verify_files)

PRECOMPUTE_HINT = "python scripts/precompute.py {path}"
# With VAE_DEBUG=timing:FILE (vae/debug.py, the one debug switch), each Bundle.decode appends
# "unix_time decode rows milliseconds" to FILE: the server-side latency scripts/loadtest.py reads.
TIMING_LOG = debug.setting("timing") or None


def _array(value, what: str) -> np.ndarray:
    """np.asarray that answers a ragged or non-numeric input with a VAEError instead of numpy's."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise VAEError(f"{what} must be a rectangular array of numbers ({str(exc).splitlines()[0][:80]}).") from None


def _log_timing(what: str, rows: int, seconds: float) -> None:
    with contextlib.suppress(OSError), open(TIMING_LOG, "a") as f:  # one short append: atomic across threads
        f.write(f"{time.time():.3f} {what} {rows} {seconds * 1000:.3f}\n")


def _check_batch_size(batch_size) -> None:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise VAEError(f"batch_size must be a whole number >= 1, got {batch_size!r}.")


class Bundle:
    """A loaded bundle: the model behind compiled encode/decode, its metadata and its arrays.

    lazy=True reads and checks everything but the model, without importing TensorFlow (a fraction
    of a second); the model loads on first use or with load_model(), e.g. from another thread."""

    def __init__(self, path, verify: bool = True, lazy: bool = False):
        self.path = Path(path)
        self.verify = verify
        with contextlib.suppress(OSError):  # a read-only folder: nothing can be put back, read what is there
            recover(self.path)
        for attempt in range(3):
            try:
                self.meta = read_meta(self.path)
                if verify:
                    verify_files(self.path, self.meta)
                break
            except BundleError:
                if attempt == 2:
                    raise
                time.sleep(0.05)  # a save may be swapping the bundle in right now: look again
        if _plain_file(self.path, MODEL).is_file():
            # meta.json must describe the model it sits beside: checked from the archive, before TensorFlow
            meta_schema.check_agrees(self.meta, check_model_archive(self.path / MODEL), self.path / META)
        self._arrays: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._model = self._model_error = None
        spec = self.meta.get("model") if isinstance(self.meta.get("model"), dict) else {}
        from . import modalities

        try:
            self.modality = modalities.get(spec.get("modality") or self.meta.get("modality"))
        except VAEError as exc:
            raise BundleError(f"meta.json in {self.path}: {exc}") from None
        try:
            shape = self.meta.get("input_shape") or spec["image_shape"]
            self.latent_dim, self.input_shape, self.conditional, num_classes = (
                int(spec["latent_dim"]), tuple(int(v) for v in shape), bool(spec.get("conditional", False)),
                int(spec.get("num_classes") or 0))
        except (KeyError, TypeError, ValueError):  # an older meta.json: the model itself says
            lazy = False
            num_classes = 0
        self.class_names = list(self.meta.get("class_names") or [str(i) for i in range(max(num_classes, 1))])
        self.lower_dim = int(spec.get("lower_dim") or 0)  # a hierarchical model's lower level (checked: meta_schema)
        if not lazy:
            self.load_model()

    @property
    def image_shape(self) -> tuple:
        """The shape of one example (images: (H, W, C)); the name image code reads."""
        return self.input_shape

    @property
    def spec(self):
        """The modality's settings of this model (image_shape, ...), from model.keras."""
        return self.load_model().config.spec

    @property
    def model_ready(self) -> bool:
        """Whether the model is loaded (encode and decode then return without waiting for TensorFlow)."""
        return self._model is not None

    @property
    def model(self):
        """The Keras VAE (loaded on first use for a lazy bundle)."""
        return self.load_model()

    def load_model(self):
        """Load model.keras safely, compile encode/decode and trace decode once; idempotent and
        thread-safe (a second caller waits for the first). Raises BundleError, every time, if it cannot."""
        if self._model is not None:
            return self._model
        with self._model_lock:
            if self._model is None and self._model_error is None:
                try:
                    self._load_model_locked()
                except BundleError as exc:
                    self._model_error = exc
            if self._model_error is not None:
                raise self._model_error
            return self._model

    def _load_model_locked(self) -> None:
        import keras  # here, not at import: a missing or damaged bundle is reported without TensorFlow's import
        import tensorflow as tf

        from . import hierarchy as _registers_vae  # noqa: F401  (registers VAE and LadderVAE for loading)
        from .imported import custom_objects_for

        objects = custom_objects_for(self.path / MODEL)  # {} unless an imported pair needs registered classes
        try:
            model = keras.saving.load_model(self.path / MODEL, compile=False, safe_mode=True, custom_objects=objects)
        except Exception as exc:
            raise BundleError(f"model.keras in {self.path} could not be loaded safely ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0][:200]}): retrain the bundle with scripts/train.py.") from exc
        cfg = model.config
        if hasattr(self, "latent_dim") and (self.latent_dim, self.input_shape, self.conditional) != (
                cfg.latent_dim, tuple(cfg.input_shape), cfg.conditional):
            raise BundleError(f"meta.json in {self.path} describes a different model from model.keras (latent size, "
                              f"data shape or conditioning): retrain the bundle with scripts/train.py.")
        self.latent_dim, self.input_shape, self.conditional = cfg.latent_dim, tuple(cfg.input_shape), cfg.conditional
        self.modality = model.modality
        if not self.meta.get("class_names"):
            self.class_names = [str(i) for i in range(max(cfg.num_classes, 1))]

        label_spec = tf.TensorSpec((None,), tf.int32)
        z_spec = tf.TensorSpec((None, cfg.latent_dim), tf.float32)
        self._decode_fn = tf.function(lambda z, y: model.generate(z, y if cfg.conditional else None),
                                      input_signature=[z_spec, label_spec])
        # encode takes the natural dtype (uint8 or float pixels, int ids): one compiled function per dtype
        self._encoders = {}

        def encoder_for(dtype):
            if dtype not in self._encoders:
                x_spec = tf.TensorSpec((None, *cfg.input_shape), tf.as_dtype(dtype))
                self._encoders[dtype] = tf.function(
                    lambda x, y: model.encode(model.modality.model_input(x), y if cfg.conditional else None),
                    input_signature=[x_spec, label_spec])
            return self._encoders[dtype]

        self._encoder_for = encoder_for
        # -log p(x|z) compiled too (eagerly, a sequence decoder's 32 steps cost 3x its greedy decoding)
        self._nll_fn = tf.function(lambda z, x, y: model.nll(z, x, y if cfg.conditional else None), reduce_retracing=True)
        zero = np.zeros((1, cfg.latent_dim), np.float32)
        self._decoded_dtype = self._decode_fn(zero, np.zeros(1, np.int32)).dtype.as_numpy_dtype  # trace once, now
        self._model = model

    def __repr__(self):
        return f"Bundle({str(self.path)!r}, {self.modality.name}, latent_dim={self.latent_dim}, shape={self.input_shape})"

    @property
    def name(self) -> str:
        return self.path.name

    def _labels(self, labels, n: int) -> np.ndarray:
        if labels is None:
            if self.conditional:
                raise VAEError("This bundle is class-conditional: pass labels (one class index per row).")
            return np.zeros(n, np.int32)
        y = _array(labels, "labels").reshape(-1)
        if y.size == 1 and n > 1:
            y = np.repeat(y, n)
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= len(self.class_names))):
            raise VAEError(f"labels must be {n} class indices in [0, {len(self.class_names) - 1}].")
        return y.astype(np.int32)

    def encode(self, examples, labels=None, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances, each (N, d) float32, of examples in natural form (images: uint8
        in [0, 255] or floats in [0, 1], (N, H, W, C); sequences: token ids (N, T))."""
        _check_batch_size(batch_size)
        self.load_model()
        x = self.modality.check_examples(_array(examples, "examples"), self.spec)
        y = self._labels(labels, len(x))
        means, logvars = [], []
        for i in range(0, len(x), batch_size):
            m, lv = self._encoder_for(x.dtype)(x[i:i + batch_size], y[i:i + batch_size])
            means.append(m.numpy())
            logvars.append(lv.numpy())
        if not means:
            return np.zeros((0, self.latent_dim), np.float32), np.zeros((0, self.latent_dim), np.float32)
        return np.concatenate(means), np.concatenate(logvars)

    def decode(self, z, labels=None, batch_size: int = 1024, lower=None) -> np.ndarray:
        """The decoded form of z (N, d): images (N, H, W, C) float32 in [0, 1]; sequences (N, T) greedy token ids.
        Hierarchical bundles: z is the top level, `lower` the details (vae.hierarchy.decode_with_details)."""
        started = time.perf_counter()
        x = self._decode(z, labels, batch_size, lower)
        if TIMING_LOG:
            _log_timing("decode", len(x), time.perf_counter() - started)
        return x

    def _latents(self, z) -> np.ndarray:
        z = _array(z, "latent vectors")
        if z.dtype.kind not in "biuf":
            raise VAEError(f"latent vectors must be real numbers, got dtype {z.dtype}.")
        with np.errstate(over="ignore"):  # beyond float32's range becomes inf, refused below
            z = z.astype(np.float32, copy=False)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise VAEError(f"latent vectors must have length {self.latent_dim} for this bundle, got shape {z.shape}.")
        if not np.all(np.isfinite(z)):
            raise VAEError("latent vectors contain NaN or infinity: give finite numbers.")
        return z

    def _decode(self, z, labels, batch_size: int, lower=None) -> np.ndarray:
        _check_batch_size(batch_size)
        z = self._latents(z)
        y = self._labels(labels, len(z))
        self.load_model()
        if not len(z):  # the compiled decoder gives the wrong trailing shape for an empty batch
            return np.zeros((0, *self.input_shape), self._decoded_dtype)
        if lower is not None:  # a hierarchical bundle's details
            from .hierarchy import decode_with_details
            return decode_with_details(self._model, z, y, lower)
        if len(z) <= batch_size:
            return self._decode_fn(z, y).numpy()
        return np.concatenate([self._decode_fn(z[i:i + batch_size], y[i:i + batch_size]).numpy()
                               for i in range(0, len(z), batch_size)])

    def sample(self, z, labels=None, temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
        """Draws from p(x | z) in decoded form (sequences: sampled at `temperature`; images: the mean image)."""
        z = self._latents(z)
        y = self._labels(labels, len(z))
        model = self.load_model()
        if not np.isfinite(temperature) or temperature <= 0:
            raise VAEError(f"temperature must be a positive number, got {temperature}.")
        import tensorflow as tf

        onehot, z = model._onehot(y) if self.conditional else None, tf.constant(z)
        if hasattr(model, "lower_latent"):  # a hierarchical model's decoder reads the lower level (most likely details)
            z = model.lower_latent(z, None, y if self.conditional else None)
        return np.asarray(self.modality.sample(model.decoder, z, onehot, float(temperature), seed))

    def nll(self, examples, z, labels=None, batch_size: int = 1024) -> np.ndarray:
        """-log p(x | z) in nats per example, (N,): how well the decoder at z explains each example."""
        model = self.load_model()
        x = self.modality.check_examples(_array(examples, "examples"), self.spec)
        z = self._latents(z)
        y = self._labels(labels, len(x))
        out = [np.asarray(self._nll_fn(z[i:i + batch_size], model.modality.model_input(x[i:i + batch_size]),
                                       y[i:i + batch_size])) for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    # precomputed arrays -------------------------------------------------------------------------

    def has(self, stem: str) -> bool:
        f = self.path / f"{stem}.npz"
        return f.is_file() and not f.is_symlink()

    def arrays(self, stem: str) -> dict:
        """The read-only arrays of `stem`.npz, loaded once; a clear message if precompute has not run."""
        with self._lock:
            if stem not in self._arrays:
                f = _plain_file(self.path, f"{stem}.npz")
                if not f.is_file():
                    raise BundleError(f"Bundle {self.path} has no precomputed {stem}: run "
                                      f"`{PRECOMPUTE_HINT.format(path=self.path)}`.")
                raw = f.read_bytes()
                if self.verify:  # checked again here: the file may have changed since load_bundle
                    digest = (self.meta.get("files") or {}).get(f.name)
                    if digest is None:
                        raise BundleError(f"{f.name} in bundle {self.path} is not listed in meta.json's checksums: "
                                          f"run `{PRECOMPUTE_HINT.format(path=self.path)}` again.")
                    if hashlib.sha256(raw).hexdigest() != digest:
                        raise BundleError(f"{f.name} in bundle {self.path} is damaged (its checksum does not match "
                                          f"meta.json): run `{PRECOMPUTE_HINT.format(path=self.path)}` again.")
                try:
                    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                        loaded = {k: data[k] for k in data.files}
                except Exception as exc:
                    raise BundleError(f"{f.name} in {self.path} is unreadable ({exc.__class__.__name__}): "
                                      f"run `{PRECOMPUTE_HINT.format(path=self.path)}` again.") from exc
                for a in loaded.values():
                    a.flags.writeable = False
                self._arrays[stem] = loaded
            return self._arrays[stem]


def load_bundle(path, verify: bool = True, lazy: bool = False) -> Bundle:
    """Load a bundle folder; checks file checksums unless verify=False. lazy=True: the model
    (and TensorFlow) loads on first encode/decode or Bundle.load_model()."""
    return Bundle(path, verify=verify, lazy=lazy)
