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
import io
import json
import os
import platform
import shutil
import stat
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a reader may then clear a live writer's temporary folder
    fcntl = None

import numpy as np

from . import meta_schema
from .errors import BundleError, VAEError
from .keras_config import check_imported

FORMAT_VERSION = 1
META, HISTORY, MODEL = "meta.json", "history.json", "model.keras"
PRECOMPUTE_HINT = "python scripts/precompute.py {path}"
# With VAE_TIMING_LOG=FILE set, each Bundle.decode appends "unix_time decode rows milliseconds" to FILE:
# the server-side latency that scripts/loadtest.py reads while browsers drive the app.
TIMING_LOG = os.environ.get("VAE_TIMING_LOG")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _public(path, folder: bool = False) -> None:
    """Give a file (0666) or folder (0777) made by mkstemp/mkdtemp (0600/0700) the umask's usual mode,
    so that an app running as another user can read the bundle."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and a rename: readers see the old or the new file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _public(tmp)
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


def _lock_file(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def _writer_lock(out: Path, wait: bool = True):
    """An exclusive lock on `out` held by its one writer; the kernel drops it when the writer dies.

    Yields True when held, False when another live process holds it (wait=False) or locking is
    impossible here (no fcntl, read-only folder): then nobody may clear temporary folders. The
    lock file is removed on release; a waiter that locked a removed file tries again.
    """
    if fcntl is None:
        yield False
        return
    lock = _lock_file(out)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:  # held by a live process (wait=False), or no locks on this filesystem
            os.close(fd)
            yield False
            return
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed this file as we waited on it: lock the new one
    try:
        yield True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)  # closing releases the lock


def _recover_locked(out: Path) -> None:
    olds = sorted(out.parent.glob(f".{out.name}.old-*"))
    if olds and not out.exists():
        os.rename(olds.pop(), out)  # the crash fell between the two renames: put the old bundle back
    for leftover in olds + list(out.parent.glob(f".{out.name}.tmp-*")):
        if leftover.is_symlink():
            leftover.unlink()
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def recover(out: Path) -> None:
    """Finish or undo a swap that a crash interrupted, and clear temporary leftovers.

    Only when no live process is writing this bundle (its lock is free): a reader must never
    clear the temporary folder of a save still in progress.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return
    if not any(out.parent.glob(f".{out.name}.old-*")) and not any(out.parent.glob(f".{out.name}.tmp-*")):
        return  # nothing to do: no lock file is created by a plain read
    with _writer_lock(out, wait=False) as held:
        if held:
            _recover_locked(out)


def check_out(out: Path) -> None:
    """Refuse to write a new bundle over something that is not a bundle: a file, or a folder of other
    files (a save swaps the whole folder, so they would be lost). Nothing is changed either way."""
    out = Path(out)
    if out.is_symlink() and not out.is_dir():
        raise BundleError(f"{out} is a symbolic link, not a bundle folder: choose a new folder for the bundle "
                          "(nothing was changed).")
    if out.exists() and not out.is_dir():
        raise BundleError(f"{out} is an existing file, not a bundle folder: choose a new folder for the bundle "
                          "(the file was left as it is).")
    if out.is_dir():
        try:
            entries = [f.name for f in out.iterdir()]
        except OSError as exc:
            raise BundleError(f"Cannot read the folder {out} ({exc.strerror}): choose a writable folder.") from exc
        if entries and META not in entries and MODEL not in entries:
            raise BundleError(f"{out} is a folder of {len(entries)} other file(s), not a bundle: choose a new or empty "
                              "folder for the bundle (nothing was changed).")


@contextlib.contextmanager
def transaction(out: Path, start_from: Path | None = None):
    """Yield a temporary folder to fill; on success it replaces `out` whole, with fresh checksums.

    `start_from` (usually `out` itself) is copied in first, so an update keeps what it does not touch.
    The body must leave a meta.json in the folder. A new bundle (no `start_from`) may replace only a
    bundle or an empty folder, never a file or a folder of other files (check_out). Writers of one bundle take turns (a file lock
    held from the copy to the swap), so two updates at once both land; a killed writer's lock is
    released by the kernel and its leftovers are cleared by the next reader or writer.
    """
    out = Path(out)
    if out.is_symlink():  # a linked bundle folder (pretrained/x -> elsewhere): write where it points, keep the link
        out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BundleError(f"Cannot write a bundle in {out.parent} ({exc.strerror}): choose a writable folder.") from exc
    with _writer_lock(out) as held:
        try:
            if held:
                _recover_locked(out)
            if start_from is None:
                check_out(out)  # under the lock: nothing can appear there before the swap
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            _public(tmp, folder=True)
        except OSError as exc:
            raise BundleError(f"Cannot write a bundle in {out.parent} ({exc.strerror}): choose a writable folder.") from exc
        old = None
        try:
            if start_from is not None:
                for f in Path(start_from).iterdir():
                    if f.name.startswith("."):
                        continue
                    if f.is_symlink():
                        raise BundleError(f"{f.name} in bundle {start_from} is a symbolic link: bundles hold plain "
                                          "files only; replace it with the file itself.")
                    if f.is_file():
                        shutil.copy2(f, tmp / f.name)
            yield tmp
            meta = json.loads((tmp / META).read_text())
            meta["files"] = {f.name: sha256(f) for f in sorted(tmp.iterdir()) if f.is_file() and f.name != META}
            meta_schema.validate(json.loads(json.dumps(meta, default=_json_default)), out / META)  # never write what a reader refuses
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
            reason = os.strerror(exc.errno) if exc.errno else exc.__class__.__name__
            raise BundleError(f"Could not save the bundle at {out} ({reason}); the previous bundle, if any, is "
                              "unchanged: free some disk space or make the folder writable, then run the command "
                              "again.") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None and not out.exists():
                os.rename(old, out)
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
            "modality": clean.config.modality,
            "input_shape": list(clean.config.input_shape),
            **({"image_shape": list(clean.config.input_shape)} if clean.config.modality == "image" else {}),
            "latent_dim": clean.config.latent_dim,
            "beta": clean.config.beta,
            "conditional": clean.config.conditional,
        })
    return out


def update_bundle(path, arrays: dict | None = None, meta_updates: dict | None = None) -> None:
    """Add or replace .npz arrays ({"file_stem": {"key": array}}) and top-level meta keys, atomically."""
    path = Path(path)
    if not path.is_dir() and not any(path.parent.glob(f".{path.name}.old-*")):
        read_meta(path)  # no bundle there: say so before taking any lock
    with transaction(path, start_from=path) as tmp:
        read_meta(path)  # under the writers' lock: refuse to update something that is not a bundle
        for stem, content in (arrays or {}).items():
            np.savez_compressed(tmp / f"{stem}.npz", **content)
        meta = json.loads((tmp / META).read_text())
        meta.update(meta_updates or {})
        atomic_write_json(tmp / META, meta)


def read_meta(path: Path) -> dict:
    """The bundle's meta.json, read and checked field by field (vae/meta_schema.py) before anyone uses it."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"No bundle folder at {path}: train one with `python scripts/train.py --out {path}`.")
    try:
        return meta_schema.read_meta_file(path / META)
    except FileNotFoundError as exc:
        raise BundleError(f"{path} has no meta.json, so it is not a bundle: train one with scripts/train.py.") from exc


def _plain_file(path: Path, name) -> Path:
    """The file `name` directly inside bundle folder `path`; anything else is refused.

    A name from meta.json must be a plain file name (no folder part, no "..", not hidden), and the
    file a regular file, not a symbolic link: nothing a bundle says reaches outside its folder.
    """
    name = str(name)
    if not name or name != Path(name).name or name.startswith(".") or "\\" in name or "\0" in name:
        raise BundleError(f"meta.json in {path} names a file outside the bundle ({name[:80]!r}): the bundle is "
                          "damaged or tampered with; restore it or retrain it.")
    f = path / name
    if f.is_symlink():
        raise BundleError(f"{name} in bundle {path} is a symbolic link: bundles hold plain files only; "
                          "replace it with the file itself.")
    return f


def verify_files(path: Path, meta: dict) -> None:
    """Check each file against the checksum meta.json records; name the first one that differs."""
    files = meta.get("files")
    if not isinstance(files, dict) or MODEL not in files:
        raise BundleError(f"meta.json in {path} lists no file checksums: the bundle is damaged; restore or retrain it.")
    for name, digest in files.items():
        f = _plain_file(path, name)
        if not f.is_file():
            raise BundleError(f"{f.name} is missing from bundle {path}: restore it, or retrain/precompute the bundle.")
        if sha256(f) != digest:
            raise BundleError(f"{f.name} in bundle {path} is damaged (its checksum does not match meta.json): "
                              "restore it, or retrain/precompute the bundle.")


# What a model.keras written by save_bundle holds: a VAE rebuilt from plain values, nothing else.
MODEL_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
MODEL_KEYS = {"module", "class_name", "config", "registered_name", "compile_config", "build_config"}
VAE_KEYS = {"name", "trainable", "dtype", "seed", "modality", "latent_dim", "beta", "conditional", "num_classes"}


def vae_keys(modality) -> set:
    """What a VAE's config may hold: VAE_KEYS and the named modality's settings (an unknown modality: BundleError)."""
    import dataclasses

    from . import modalities

    try:
        m = modalities.get(modality)
    except VAEError as exc:
        raise BundleError(str(exc)) from None
    return VAE_KEYS | {f.name for f in dataclasses.fields(m.spec_class)}
MAX_CONFIG_BYTES = 1 << 16
MAX_IMPORTED_CONFIG_BYTES = 16 << 20
IMPORTED_CLASS = ("ImportedVAE", "vae>ImportedVAE", "vae.imported")


def _plain_value(v, depth: int = 0) -> bool:
    """Numbers, strings, booleans, None and lists of them: nothing that names code."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, list) and depth < 3 and all(_plain_value(x, depth + 1) for x in v)


def check_model_archive(f: Path) -> dict:
    """Refuse a model.keras that is not this project's VAE before Keras reads it (defence in depth
    behind safe_mode): the archive's config may name only the registered VAE class and plain values,
    so no Lambda, no function, no module of the file's choosing. Returns the VAE's config (plain values)."""
    def refuse(reason: str):
        raise BundleError(f"model.keras in {f.parent} could not be loaded safely: {reason}; retrain the bundle "
                          "with scripts/train.py.")
    if not zipfile.is_zipfile(f):
        refuse("it is not a Keras archive")
    try:
        with zipfile.ZipFile(f) as z:
            members = {i.filename: i for i in z.infolist()}
            if set(members) != MODEL_MEMBERS:
                refuse(f"it holds {sorted(members)[:6]}, not a VAE saved by this project")
            if members["config.json"].file_size > MAX_IMPORTED_CONFIG_BYTES:
                refuse("its config.json is too large")
            config = json.loads(z.read("config.json"))
    except BundleError:
        raise
    except Exception as exc:  # whatever stops the archive or its JSON being read (a RecursionError too)
        refuse(f"its archive is unreadable ({exc.__class__.__name__})")
    if not isinstance(config, dict) or not set(config) <= MODEL_KEYS:
        refuse("its config.json is not a model config")
    if config.get("compile_config") not in (None, {}):
        refuse("it carries a compile configuration (loss, optimizer) that a bundle never has")
    build = config.get("build_config")
    if build is not None and not (isinstance(build, dict) and all(_plain_value(v) for v in build.values())):
        refuse("its build configuration holds more than plain values")
    if (config.get("class_name"), config.get("registered_name"), config.get("module")) == IMPORTED_CLASS:
        reason, _ = check_imported(config)  # a pair imported by scripts/import_model.py: Keras built-ins and
        if reason:                          # the custom classes the app's operator registers
            refuse(reason)
        return
    if members["config.json"].file_size > MAX_CONFIG_BYTES:
        refuse("its config.json is too large")
    if config.get("class_name") != "VAE" or config.get("registered_name") != "vae>VAE" or config.get("module") != "vae.model":
        refuse(f"it holds a {str(config.get('class_name'))[:40]!r}, not this project's VAE")
    inner = config.get("config")
    modality = inner.get("modality", "image") if isinstance(inner, dict) else None
    if not isinstance(modality, str):
        refuse("its VAE config names no modality as text")
    keys = vae_keys(modality)
    if not isinstance(inner, dict) or not set(inner) <= keys:
        extra = sorted(set(inner) - keys)[:5] if isinstance(inner, dict) else []
        refuse(f"its VAE config has unexpected entries {extra}")
    for key, value in inner.items():
        if key == "dtype" and isinstance(value, dict):
            policy = value.get("config")
            if not (value.get("module") == "keras" and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy")
                    and value.get("registered_name") is None and isinstance(policy, dict)
                    and set(policy) == {"name"} and isinstance(policy["name"], str)):
                refuse("its dtype policy is not a plain Keras one")
        elif not _plain_value(value):
            refuse(f"its VAE config entry {key!r} is not a plain value")
    return inner


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

        from . import model as _registers_vae  # noqa: F401  (registers the VAE class for loading)
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

    def decode(self, z, labels=None, batch_size: int = 1024) -> np.ndarray:
        """The decoded form of z (N, d): images (N, H, W, C) float32 in [0, 1]; sequences (N, T) greedy token ids."""
        started = time.perf_counter()
        x = self._decode(z, labels, batch_size)
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

    def _decode(self, z, labels, batch_size: int) -> np.ndarray:
        _check_batch_size(batch_size)
        z = self._latents(z)
        y = self._labels(labels, len(z))
        self.load_model()
        if not len(z):  # the compiled decoder gives the wrong trailing shape for an empty batch
            return np.zeros((0, *self.input_shape), self._decoded_dtype)
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

        onehot = model._onehot(y) if self.conditional else None
        return np.asarray(self.modality.sample(model.decoder, tf.constant(z), onehot, float(temperature), seed))

    def nll(self, examples, z, labels=None, batch_size: int = 1024) -> np.ndarray:
        """-log p(x | z) in nats per example, (N,): how well the decoder at z explains each example."""
        model = self.load_model()
        x = self.modality.check_examples(_array(examples, "examples"), self.spec)
        z = self._latents(z)
        y = self._labels(labels, len(x))
        out = [np.asarray(model.nll(z[i:i + batch_size], model.modality.model_input(x[i:i + batch_size]),
                                    y[i:i + batch_size] if self.conditional else None))
               for i in range(0, len(x), batch_size)]
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
