"""Writing and checking a bundle folder: a new bundle or an update swapped in whole, crash recovery, checksums.

    save_bundle("pretrained/mine", model, meta, history)
    update_bundle("pretrained/mine", arrays={"precomputed": {...}}, meta_updates={"metrics": {...}})

Every write is atomic: the new bundle is assembled in a temporary sibling folder, then swapped in
by renames, so a crash never leaves half a bundle where a good one was.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

from . import meta_schema
from .errors import BundleError
from .files import atomic_write_json, fsync_dir, json_default, public, sha256, writer_lock

FORMAT_VERSION = 1
META, HISTORY, MODEL = "meta.json", "history.json", "model.keras"


def package_versions() -> dict:
    import keras
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__}


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
    with writer_lock(out, wait=False) as held:
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
    with writer_lock(out) as held:
        try:
            if held:
                _recover_locked(out)
            if start_from is None:
                check_out(out)  # under the lock: nothing can appear there before the swap
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            public(tmp, folder=True)
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
            meta_schema.validate(json.loads(json.dumps(meta, default=json_default)), out / META)  # never write what a reader refuses
            atomic_write_json(tmp / META, meta)
            fsync_dir(tmp)
            if out.exists():
                old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(out, old)
            os.rename(tmp, out)
            fsync_dir(out.parent)
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


def save_bundle(out, model, meta: dict, history: dict | None = None) -> Path:
    """Write a new bundle from a trained model (no optimizer state) with its metadata and history."""
    out = Path(out)
    clean = type(model).from_config(model.get_config())  # uncompiled copy: no optimizer state in the file
    clean.set_weights(model.get_weights())
    with transaction(out) as tmp:
        clean.save(tmp / MODEL)
        atomic_write_json(tmp / HISTORY, history or {})
        atomic_write_json(tmp / META, {
            "format_version": FORMAT_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": package_versions(),
            **meta,
            "model": {**clean.config.to_dict(), **getattr(clean, "level_settings", {})},
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