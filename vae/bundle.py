"""A trained bundle: a folder with model.keras, meta.json, history.json and precomputed .npz arrays.

    from vae import load_bundle
    b = load_bundle("pretrained/fashion_mnist")
    mean, logvar = b.encode(images)          # uint8 [0, 255] or float [0, 1], (N, H, W, C) -> (N, d) float32
    x = b.decode(z)                          # (N, d) -> (N, H, W, C) float32 in [0, 1]

Every write is atomic: the new bundle is assembled in a temporary sibling folder, then swapped in
by renames, so a crash never leaves half a bundle where a good one was.
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np

from .errors import BundleError, VAEError

FORMAT_VERSION = 1
META, HISTORY, MODEL = "meta.json", "history.json", "model.keras"
PRECOMPUTE_HINT = "python scripts/precompute.py {path}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and a rename: readers see the old or the new file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n").encode())


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def package_versions() -> dict:
    import keras
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def recover(out: Path) -> None:
    """Finish or undo a swap that a crash interrupted, and clear temporary leftovers."""
    out = Path(out)
    parent = out.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{out.name}.old-*"))
    if olds and not out.exists():
        os.rename(olds.pop(), out)  # the crash fell between the two renames: put the old bundle back
    for leftover in olds + list(parent.glob(f".{out.name}.tmp-*")):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def transaction(out: Path, start_from: Path | None = None):
    """Yield a temporary folder to fill; on success it replaces `out` whole, with fresh checksums.

    `start_from` (usually `out` itself) is copied in first, so an update keeps what it does not touch.
    The body must leave a meta.json in the folder.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        recover(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise BundleError(f"Cannot write a bundle in {out.parent} ({exc.strerror}): choose a writable folder.") from exc
    old = None
    try:
        if start_from is not None:
            for f in Path(start_from).iterdir():
                if f.is_file() and not f.name.startswith("."):
                    shutil.copy2(f, tmp / f.name)
        yield tmp
        meta = json.loads((tmp / META).read_text())
        meta["files"] = {f.name: sha256(f) for f in sorted(tmp.iterdir()) if f.is_file() and f.name != META}
        atomic_write_json(tmp / META, meta)
        _fsync_dir(tmp)
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out, old)
        os.rename(tmp, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.rename(old, out)
        raise BundleError(f"Could not save the bundle at {out} ({exc.strerror or exc}); "
                          "the previous bundle, if any, is unchanged: free some disk space or choose another --out.") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_bundle(out, model, meta: dict, history: dict | None = None) -> Path:
    """Write a new bundle from a trained model (no optimizer state) with its metadata and history."""
    from .model import VAE

    out = Path(out)
    clean = VAE.from_config(model.get_config())  # uncompiled copy: no optimizer state in the file
    clean.set_weights(model.get_weights())
    with transaction(out) as tmp:
        clean.save(tmp / MODEL)
        atomic_write_json(tmp / HISTORY, history or {})
        atomic_write_json(tmp / META, {
            "format_version": FORMAT_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": package_versions(),
            **meta,
            "model": clean.config.to_dict(),
            "image_shape": list(clean.config.image_shape),
            "latent_dim": clean.config.latent_dim,
            "beta": clean.config.beta,
            "conditional": clean.config.conditional,
        })
    return out


def update_bundle(path, arrays: dict | None = None, meta_updates: dict | None = None) -> None:
    """Add or replace .npz arrays ({"file_stem": {"key": array}}) and top-level meta keys, atomically."""
    path = Path(path)
    read_meta(path)  # refuse to update something that is not a bundle
    with transaction(path, start_from=path) as tmp:
        for stem, content in (arrays or {}).items():
            np.savez_compressed(tmp / f"{stem}.npz", **content)
        meta = json.loads((tmp / META).read_text())
        meta.update(meta_updates or {})
        atomic_write_json(tmp / META, meta)


def read_meta(path: Path) -> dict:
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"No bundle folder at {path}: train one with `python scripts/train.py --out {path}`.")
    try:
        meta = json.loads((path / META).read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"{path} has no meta.json, so it is not a bundle: train one with scripts/train.py.") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"meta.json in {path} is damaged ({exc.__class__.__name__}): restore the bundle or retrain it.") from exc
    if not isinstance(meta, dict):
        raise BundleError(f"meta.json in {path} is damaged (not an object): restore the bundle or retrain it.")
    return meta


def verify_files(path: Path, meta: dict) -> None:
    """Check each file against the checksum meta.json records; name the first one that differs."""
    files = meta.get("files")
    if not isinstance(files, dict) or MODEL not in files:
        raise BundleError(f"meta.json in {path} lists no file checksums: the bundle is damaged; restore or retrain it.")
    for name, digest in files.items():
        f = path / Path(str(name)).name  # a name from meta.json never leaves the bundle folder
        if not f.is_file():
            raise BundleError(f"{f.name} is missing from bundle {path}: restore it, or retrain/precompute the bundle.")
        if sha256(f) != digest:
            raise BundleError(f"{f.name} in bundle {path} is damaged (its checksum does not match meta.json): "
                              "restore it, or retrain/precompute the bundle.")


class Bundle:
    """A loaded bundle: the model behind compiled encode/decode, its metadata and its arrays."""

    def __init__(self, path, verify: bool = True):
        import keras
        import tensorflow as tf

        from . import model as _registers_vae  # noqa: F401  (registers the VAE class for loading)

        self.path = Path(path)
        recover(self.path)
        self.meta = read_meta(self.path)
        if verify:
            verify_files(self.path, self.meta)
        try:
            self.model = keras.saving.load_model(self.path / MODEL, compile=False, safe_mode=True)
        except Exception as exc:
            raise BundleError(f"model.keras in {self.path} could not be loaded safely ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0][:200]}): retrain the bundle with scripts/train.py.") from exc
        cfg = self.model.config
        self.latent_dim, self.image_shape, self.conditional = cfg.latent_dim, cfg.image_shape, cfg.conditional
        self.class_names = list(self.meta.get("class_names") or [str(i) for i in range(max(cfg.num_classes, 1))])
        self._arrays: dict[str, dict] = {}
        self._lock = threading.Lock()

        label_spec = tf.TensorSpec((None,), tf.int32)
        z_spec = tf.TensorSpec((None, cfg.latent_dim), tf.float32)
        x_spec = tf.TensorSpec((None, *cfg.image_shape), tf.float32)
        m = self.model
        self._decode_fn = tf.function(lambda z, y: m.decode(z, y if cfg.conditional else None, apply_sigmoid=True),
                                      input_signature=[z_spec, label_spec])
        self._encode_fn = tf.function(lambda x, y: m.encode(x, y if cfg.conditional else None),
                                      input_signature=[x_spec, label_spec])
        self.decode(np.zeros((1, cfg.latent_dim), np.float32), labels=[0] if cfg.conditional else None)  # trace once

    def __repr__(self):
        return f"Bundle({str(self.path)!r}, latent_dim={self.latent_dim}, image_shape={self.image_shape})"

    @property
    def name(self) -> str:
        return self.path.name

    def _labels(self, labels, n: int) -> np.ndarray:
        if labels is None:
            if self.conditional:
                raise VAEError("This bundle is class-conditional: pass labels (one class index per row).")
            return np.zeros(n, np.int32)
        y = np.asarray(labels).reshape(-1)
        if y.size == 1 and n > 1:
            y = np.repeat(y, n)
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= len(self.class_names))):
            raise VAEError(f"labels must be {n} class indices in [0, {len(self.class_names) - 1}].")
        return y.astype(np.int32)

    def encode(self, images, labels=None, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and log-variances, each (N, d) float32."""
        x = np.asarray(images)
        if x.shape == self.image_shape:
            x = x[None]
        if x.ndim != 4 or x.shape[1:] != self.image_shape:
            raise VAEError(f"images must have shape (N, {', '.join(map(str, self.image_shape))}) for this bundle, "
                           f"got {x.shape}: resize them first (vae.data.convert_image).")
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / 255.0
        elif np.issubdtype(x.dtype, np.floating):
            if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
                raise VAEError("float images must be finite and in [0, 1]; uint8 images in [0, 255].")
            x = x.astype(np.float32)
        else:
            raise VAEError(f"images have dtype {x.dtype}: use uint8 in [0, 255] or floats in [0, 1].")
        y = self._labels(labels, len(x))
        means, logvars = [], []
        for i in range(0, len(x), batch_size):
            m, lv = self._encode_fn(x[i:i + batch_size], y[i:i + batch_size])
            means.append(m.numpy())
            logvars.append(lv.numpy())
        if not means:
            return np.zeros((0, self.latent_dim), np.float32), np.zeros((0, self.latent_dim), np.float32)
        return np.concatenate(means), np.concatenate(logvars)

    def decode(self, z, labels=None, batch_size: int = 1024) -> np.ndarray:
        """Bernoulli means of the decoder, (N, H, W, C) float32 in [0, 1]."""
        z = np.asarray(z, dtype=np.float32) if np.asarray(z).dtype != np.float32 else np.asarray(z)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise VAEError(f"latent vectors must have length {self.latent_dim} for this bundle, got shape {z.shape}.")
        if not np.all(np.isfinite(z)):
            raise VAEError("latent vectors contain NaN or infinity: give finite numbers.")
        y = self._labels(labels, len(z))
        if len(z) <= batch_size:
            return self._decode_fn(z, y).numpy()
        return np.concatenate([self._decode_fn(z[i:i + batch_size], y[i:i + batch_size]).numpy()
                               for i in range(0, len(z), batch_size)])

    # precomputed arrays -------------------------------------------------------------------------

    def has(self, stem: str) -> bool:
        return (self.path / f"{stem}.npz").is_file()

    def arrays(self, stem: str) -> dict:
        """The read-only arrays of `stem`.npz, loaded once; a clear message if precompute has not run."""
        with self._lock:
            if stem not in self._arrays:
                f = self.path / f"{stem}.npz"
                if not f.is_file():
                    raise BundleError(f"Bundle {self.path} has no precomputed {stem}: run "
                                      f"`{PRECOMPUTE_HINT.format(path=self.path)}`.")
                try:
                    with np.load(f, allow_pickle=False) as data:
                        loaded = {k: data[k] for k in data.files}
                except Exception as exc:
                    raise BundleError(f"{f.name} in {self.path} is unreadable ({exc.__class__.__name__}): "
                                      f"run `{PRECOMPUTE_HINT.format(path=self.path)}` again.") from exc
                for a in loaded.values():
                    a.flags.writeable = False
                self._arrays[stem] = loaded
            return self._arrays[stem]


def load_bundle(path, verify: bool = True) -> Bundle:
    """Load a bundle folder; checks file checksums unless verify=False."""
    return Bundle(path, verify=verify)
