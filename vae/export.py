"""Generated samples as a labelled dataset the project reads back: an .npz (`npz:`), a folder of PNGs per class (`folder:`), a zip.

    from vae.export import write_dataset, record
    info = record(bundle, {"source": "region", "per_class": 100, "temperature": 1.0}, seed=0, labels=y)
    write_dataset("runs/generated.npz", images, y, bundle.class_names, info)   # + runs/generated.json
    write_dataset("runs/generated", images, y, bundle.class_names, info)       # runs/generated/00_T-shirt_top/000000.png ...

Class folders are named "NN_name" so that they sort in class order (the `folder:` loader numbers
classes by sorted folder name). Unlabelled samples (label -1, from the prior) go into one folder
"samples" and into the .npz without 'y'. Nothing existing is overwritten; every write is atomic.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import render
from .files import atomic_write_bytes, atomic_write_json, json_default, umask
from .errors import VAEError

RECORD = "generation.json"  # inside a folder or a zip; beside an .npz as NAME.json
UNLABELLED = "samples"


def _check(images, labels, class_names) -> tuple[np.ndarray, np.ndarray]:
    x = render.to_uint8(images)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 4 or len(x) != len(y) or x.shape[-1] not in (1, 3):
        raise VAEError(f"images (N, H, W, 1 or 3) and labels (N,) must agree, got {x.shape} and {y.shape}.")
    if len(y) and (y.max() >= len(class_names) or y.min() < -1):
        raise VAEError(f"labels must be class indices in [0, {len(class_names) - 1}] (or -1: unlabelled).")
    return x, y.astype(np.int32)


def folder_names(class_names) -> list[str]:
    """Folder name per class: zero-padded index, then the name with anything but letters, digits, '.', '-' as '_'."""
    width = len(str(max(len(class_names) - 1, 0)))
    return [f"{i:0{width}d}_{re.sub(r'[^A-Za-z0-9.-]+', '_', str(n)).strip('_.')[:60]}" for i, n in enumerate(class_names)]


def record(bundle, settings: dict, seed, labels=None) -> dict:
    """What produced a set of samples: the bundle (name, folder, model checksum), the settings, seed, date, counts."""
    info = {"bundle": bundle.name, "bundle_path": str(bundle.path),
            "model_sha256": (bundle.meta.get("files") or {}).get("model.keras"),
            "dataset": bundle.meta.get("dataset"), "settings": dict(settings), "seed": seed,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if labels is not None:
        y = np.asarray(labels)
        info["samples"] = int(len(y))
        info["per_class"] = {str(bundle.class_names[c]) if c >= 0 else UNLABELLED: int((y == c).sum())
                             for c in np.unique(y)}
    return info


def npz_bytes(images, labels, class_names) -> bytes:
    """x (N, H, W, C) uint8, y (N,) int32 and class_names (K,) text, readable with allow_pickle=False."""
    x, y = _check(images, labels, class_names)
    arrays = {"x": x}
    if len(y) and y.min() >= 0:
        arrays["y"] = y
        arrays["class_names"] = np.array([str(n) for n in class_names])
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _members(images, labels, class_names):
    """(relative path, PNG bytes) of every sample, class folder by class folder."""
    x, y = _check(images, labels, class_names)
    names = folder_names(class_names)
    width = len(str(max(len(x) - 1, 0)))
    for i in range(len(x)):
        folder = names[y[i]] if y[i] >= 0 else UNLABELLED
        yield f"{folder}/{i:0{width}d}.png", render.png_bytes(x[i])


def zip_bytes(images, labels, class_names, info: dict | None = None, root: str = "generated") -> bytes:
    """A zip of root/<class folder>/<n>.png (and root/generation.json): unzip it and load folder:root."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # PNGs are compressed already
        for rel, png in _members(images, labels, class_names):
            z.writestr(f"{root}/{rel}", png)
        if info is not None:
            z.writestr(f"{root}/{RECORD}", json.dumps(info, indent=2, default=json_default) + "\n")
    return buf.getvalue()


def record_path(out: Path) -> Path:
    """Where write_dataset puts the record: inside a folder, beside an .npz (NAME.json)."""
    out = Path(out)
    return out.with_suffix(".json") if out.suffix.lower() == ".npz" else out / RECORD


def write_dataset(out, images, labels, class_names, info: dict | None = None) -> Path:
    """Write an .npz (when `out` ends in .npz) or a folder of class folders of PNGs; returns the path."""
    out = Path(out).expanduser()
    if out.exists() or (out.suffix.lower() == ".npz" and record_path(out).exists()):
        raise VAEError(f"{out if out.exists() else record_path(out)} already exists: choose a new --out path "
                       "or move the old one away.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".npz":
            atomic_write_bytes(out, npz_bytes(images, labels, class_names))
            if info is not None:
                atomic_write_json(record_path(out), info)
            return out
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            for rel, png in _members(images, labels, class_names):
                (tmp / rel).parent.mkdir(exist_ok=True)
                (tmp / rel).write_bytes(png)
            if info is not None:
                atomic_write_json(tmp / RECORD, info)
            os.chmod(tmp, 0o777 & ~umask())
            os.rename(tmp, out)  # whole or not at all
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except OSError as exc:
        raise VAEError(f"Could not write {out} ({exc.strerror or exc.__class__.__name__}): choose a writable "
                       "folder with free space.") from exc
    return out

