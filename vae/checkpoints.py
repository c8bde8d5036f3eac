"""A training run's folder: per-epoch atomic checkpoints, best weights, and state.json, the commit point that
resume reads back (checked key by key: a damaged one is one sentence).

    callback = EpochCheckpoint(run_dir, cfg, history, best_val)    # in model.fit's callbacks
    state = load_state(run_dir)                                    # None if nothing to resume
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np

from . import meta_schema
from .errors import VAEError
from .files import atomic_save, atomic_write_bytes, atomic_write_json, sha256
from .train_config import TrainConfig, option_fields

# state.json is the commit point of an epoch: it names that epoch's checkpoint and best-weights files,
# which are written (under new, epoch-numbered names) before it. A run killed at any moment resumes
# from the files the last state.json names; files it does not name are leftovers and are removed.
CHECKPOINT, BEST, STATE = "checkpoint.keras", "best.weights.h5", "state.json"  # CHECKPOINT, BEST: older runs
MAX_STATE_BYTES = 64 << 20  # a state.json holds the settings and a few numbers per epoch


def checkpoint_name(epoch: int) -> str:
    return f"checkpoint-{epoch:04d}.keras"


def best_name(epoch: int) -> str:
    return f"best-{epoch:04d}.weights.npz"


class CheckpointError(VAEError):
    """A checkpoint could not be written (disk full, read-only run folder)."""


class EpochCheckpoint(keras.callbacks.Callback):
    """After each finite epoch: the full model (with optimizer), the best weights and the run state."""

    def __init__(self, run_dir: Path, cfg: TrainConfig, history: dict, best_val: float, best_file: str | None = None):
        super().__init__()
        self.run_dir, self.cfg, self.history, self.best_val = run_dir, cfg, history, best_val
        self.best_file = best_file
        self.diverged_at: int | None = None
        self.epoch_started = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if logs and not math.isfinite(float(logs.get("loss", 0.0))):
            self.diverged_at = len(self.history.get("loss", [])) + 1
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if self.diverged_at is not None or not all(math.isfinite(v) for v in logs.values()):
            self.diverged_at = self.diverged_at or epoch + 1
            self.model.stop_training = True
            return  # nothing of this epoch is saved: the last good checkpoint stays the one to resume from
        n = epoch + 1
        history = {k: list(v) for k, v in self.history.items()}
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        history.setdefault("seconds", []).append(round(time.time() - self.epoch_started, 2))
        best_val, best_file = self.best_val, self.best_file
        written = []  # this epoch's files: until state.json names them they are orphans, removed if a write fails
        try:
            if logs.get("val_loss", math.inf) < best_val:
                best_val, best_file = logs["val_loss"], best_name(n)
                written.append(self.run_dir / best_file)
                save_weights(self.model, written[-1])
            ckpt = checkpoint_name(n)
            written.append(self.run_dir / ckpt)
            atomic_save(self.model.save, written[-1])
            atomic_write_json(self.run_dir / STATE, {
                "epoch": n, "best_val_loss": best_val, "checkpoint": ckpt, "checkpoint_sha256": sha256(self.run_dir / ckpt),
                "best": best_file, "config": dataclasses.asdict(self.cfg), "history": history})
        except OSError as exc:
            for f in written:
                with contextlib.suppress(OSError):
                    f.unlink()
            reason = os.strerror(exc.errno) if exc.errno else exc.__class__.__name__
            raise CheckpointError(f"Could not write the checkpoint of epoch {n} in {self.run_dir} ({reason}): free "
                                  "some disk space or make the folder writable, then continue with --resume.") from None
        self.history.clear()
        self.history.update(history)
        self.best_val, self.best_file = best_val, best_file
        prune_run(self.run_dir, keep={ckpt, best_file})


def save_weights(model, path: Path) -> None:
    """The model's weights as an .npz written atomically from memory.

    Not Keras's save_weights: h5py writing straight to a full disk can crash the process
    (segmentation fault in H5Fclose, seen here under RLIMIT_FSIZE) instead of raising OSError.
    """
    buf = io.BytesIO()
    np.savez(buf, *model.get_weights())
    atomic_write_bytes(path, buf.getvalue())


def load_weights(model, path: Path) -> None:
    if path.suffix == ".h5":  # runs from before .npz best weights
        model.load_weights(path)
        return
    with np.load(path, allow_pickle=False) as f:
        model.set_weights([f[f"arr_{i}"] for i in range(len(f.files))])


def prune_run(run_dir: Path, keep: set) -> None:
    """Remove checkpoints, best weights and temporaries that state.json does not name."""
    for pattern in ("checkpoint-*.keras", "best-*.weights.npz", CHECKPOINT, BEST, ".checkpoint*.tmp.*", ".best*.tmp"):
        for f in run_dir.glob(pattern):
            if f.name not in keep:
                with contextlib.suppress(OSError):
                    f.unlink()


STATE_KEYS = {"epoch", "best_val_loss", "checkpoint", "checkpoint_sha256", "best", "config", "history"}


def _config_problem(config) -> str | None:
    """What is wrong with state.json's "config" (TrainConfig's fields, each of its declared type), or None."""
    if not isinstance(config, dict):
        return "its config is not a JSON object"
    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    for name, value in config.items():
        if name not in fields:
            continue  # a modality's setting (older runs kept them flat): TrainConfig.from_dict checks it
        kind = fields[name].replace(" | None", "")
        ok = ((value is None and "None" in fields[name]) or
              (kind == "int" and isinstance(value, int) and not isinstance(value, bool)) or
              (kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)) or
              (kind == "bool" and isinstance(value, bool)) or (kind == "str" and isinstance(value, str)) or
              (kind == "dict" and isinstance(value, dict)))
        if not ok:
            return f"its config setting {name} is not a{'n' if kind == 'int' else ''} {kind}"
    from . import modalities

    name = config.get("modality", "image")
    if name not in modalities.names():
        return f"its config names an unknown modality, {json.dumps(str(name)[:40])}"
    allowed = set(fields) | set(option_fields(modalities.get(name))) | set(config.get("options") or {})
    unknown = sorted(set(config) - allowed)
    if unknown:
        return f"its config has {len(unknown)} unknown setting(s), the first {json.dumps(unknown[0][:40])}"
    try:
        TrainConfig.from_dict(config)
    except VAEError as exc:
        return f"its config is out of range ({str(exc).rstrip('.')})"
    except TypeError:
        return "its config holds a setting of the wrong type"
    return None


def _state_problem(state) -> str | None:
    """What is wrong with a parsed state.json, or None: types, ranges and keys, before anything uses it."""
    unknown = sorted(set(state) - STATE_KEYS)
    if unknown:
        return f"it has {len(unknown)} unknown key(s), the first {json.dumps(unknown[0][:40])}"
    missing = sorted({"epoch", "config", "history"} - set(state))
    if missing:
        return f"it lacks {missing[0]}"
    epoch, history, best_val = state["epoch"], state["history"], state.get("best_val_loss", math.inf)
    if not (isinstance(epoch, int) and not isinstance(epoch, bool) and 0 <= epoch <= 10**6):
        return "its epoch is not a whole number from 0 to 1,000,000"
    if not (isinstance(best_val, (int, float)) and not isinstance(best_val, bool) and not math.isnan(best_val)):
        return "its best_val_loss is not a number"
    for key in ("checkpoint", "best"):
        name = state.get(key)
        if name is not None and not (isinstance(name, str) and name and Path(name).name == name and "\\" not in name):
            return f"its {key} is not the name of a file in the run folder"
    if not (state.get("checkpoint_sha256") is None or isinstance(state["checkpoint_sha256"], str)):
        return "its checkpoint_sha256 is not a checksum"
    if not (isinstance(history, dict) and all(isinstance(v, list) and len(v) <= 10**6 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v) for v in history.values())):
        return "its history is not a mapping of lists of finite numbers"
    return _config_problem(state["config"])


def load_state(run_dir) -> dict | None:
    """The last completed epoch's state, with "checkpoint" and "best" naming its files; None if there is none.

    state.json is read like meta.json (regular file, size and depth capped) and checked key by key:
    a damaged one is one sentence ("state.json is damaged: ...; start again with --restart")."""
    run_dir = Path(run_dir)
    f = run_dir / STATE
    if not f.exists() and not f.is_symlink():
        return None
    try:
        state = meta_schema.read_json_object(f, limit=MAX_STATE_BYTES)
        problem = _state_problem(state)
    except meta_schema.UnreadableJSON as exc:
        problem = str(exc)[len("is damaged: "):] if str(exc).startswith("is damaged: ") else f"it {exc}"
    if problem:
        raise VAEError(f"{f} is damaged: {problem}; start again with --restart.")
    ckpt = state.setdefault("checkpoint", CHECKPOINT)  # runs from before epoch-numbered files
    state.setdefault("best", BEST if (run_dir / BEST).is_file() else None)
    if not (run_dir / ckpt).is_file():
        if ckpt == CHECKPOINT:
            return None
        raise VAEError(f"{f} names the checkpoint {json.dumps(ckpt[:60])}, which is missing: start again with --restart.")
    if state.get("checkpoint_sha256") and sha256(run_dir / ckpt) != state["checkpoint_sha256"]:
        raise VAEError(f"The checkpoint {run_dir / ckpt} is damaged (its checksum does not match state.json): "
                       "start again with --restart.")
    return state
