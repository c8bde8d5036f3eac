"""Training: tf.data pipelines, per-epoch atomic checkpoints, resume, best weights, stop on NaN.

    from vae.training import TrainConfig, train
    model, history, info = train(TrainConfig(dataset="digits", latent_dim=4, epochs=3), run_dir="runs/digits")
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
import tensorflow as tf

from . import limits, meta_schema
from .bundle import atomic_write_bytes, atomic_write_json, sha256
from .data import Dataset, dataset_spec, load_dataset
from .errors import VAEError
from .model import VAE

# state.json is the commit point of an epoch: it names that epoch's checkpoint and best-weights files,
# which are written (under new, epoch-numbered names) before it. A run killed at any moment resumes
# from the files the last state.json names; files it does not name are leftovers and are removed.
CHECKPOINT, BEST, STATE = "checkpoint.keras", "best.weights.h5", "state.json"  # CHECKPOINT, BEST: older runs
MAX_STATE_BYTES = 64 << 20  # a state.json holds the settings and a few numbers per epoch


def checkpoint_name(epoch: int) -> str:
    return f"checkpoint-{epoch:04d}.keras"


def best_name(epoch: int) -> str:
    return f"best-{epoch:04d}.weights.npz"


class TrainingDiverged(VAEError):
    """The loss became NaN or infinite."""


class CheckpointError(VAEError):
    """A checkpoint could not be written (disk full, read-only run folder)."""


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; stored in the run folder and in the bundle's meta.json."""

    dataset: str = "fashion_mnist"
    latent_dim: int = 16
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    beta: float = 1.0
    conditional: bool = False
    seed: int = 0
    base_filters: int = 32
    hidden_units: int = 256
    convs_per_stage: int = 1
    val_fraction: float = 0.1
    image_size: int | None = None   # folder datasets: resize to this square size
    channels: int | None = None     # folder datasets: 1 (grey) or 3 (RGB); None: detect
    max_train: int | None = None    # use only this many training images (quick runs)
    lr_schedule: str = "cosine"     # "cosine" or "constant"
    kl_warmup: float = 0.0          # epochs over which beta ramps up from 0 (the logged loss is the true -ELBO)
    jit_compile: bool = False       # XLA: measured slower than oneDNN kernels on this CPU
    strategy: str = "default"       # "default" or "mirrored" (tf.distribute.MirroredStrategy)

    def __post_init__(self):
        checks = [(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
                  (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
                  (math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr}"),
                  (0 < self.val_fraction < 1, f"--val-fraction must be between 0 and 1, got {self.val_fraction}"),
                  (self.lr_schedule in ("cosine", "constant"), f"--lr-schedule must be cosine or constant, got {self.lr_schedule}"),
                  (self.strategy in ("default", "mirrored"), f"--strategy must be default or mirrored, got {self.strategy}"),
                  (0 <= self.kl_warmup < 1e6, f"--kl-warmup must be >= 0 epochs, got {self.kl_warmup}"),
                  (self.max_train is None or self.max_train >= 2, f"--max-train must be at least 2, got {self.max_train}"),
                  (self.image_size is None or 4 <= self.image_size <= limits.MAX_SIDE,
                   f"--image-size must be between 4 and {limits.MAX_SIDE}, got {self.image_size}")]
        # sizes first, before any data is read; the weight count is checked again once the image shape is known
        size = limits.model_size_problem((self.image_size or 4, self.image_size or 4, self.channels or 1), self.latent_dim,
                                         base_filters=self.base_filters, hidden_units=self.hidden_units,
                                         convs_per_stage=self.convs_per_stage)
        checks.append((size is None, size))
        for ok, message in checks:
            if not ok:
                raise VAEError(message + ".")

    def data_options(self) -> dict:
        return {"image_size": self.image_size, "channels": self.channels, "seed": self.seed, "stratify": True}

    def model_kwargs(self, ds: Dataset) -> dict:
        return dict(image_shape=ds.image_shape, latent_dim=self.latent_dim, beta=self.beta,
                    conditional=self.conditional, num_classes=len(ds.class_names), base_filters=self.base_filters,
                    hidden_units=self.hidden_units, convs_per_stage=self.convs_per_stage, seed=self.seed)


def pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0) -> tf.data.Dataset:
    """uint8 images and labels -> batches of {"image": float32 [0, 1], "label": int32}."""
    ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y.astype(np.int32)})
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=shuffle and len(x) >= batch_size)
    ds = ds.map(lambda d: {"image": tf.cast(d["image"], tf.float32) / 255.0, "label": d["label"]},
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def split_validation(x, y, fraction: float, seed: int):
    """A seeded held-out part of the training split: (x_train, y_train, x_val, y_val)."""
    order = np.random.default_rng(seed + 1).permutation(len(x))
    n_val = min(max(1, int(round(len(x) * fraction))), len(x) - 1)
    return x[order[n_val:]], y[order[n_val:]], x[order[:n_val]], y[order[:n_val]]


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
            _save_file(self.model.save, written[-1])
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


def _save_file(save, path: Path) -> None:
    """save(tmp) then fsync and rename to `path`; a failed save leaves no temporary behind.

    Keras writes a .keras archive's weights into memory first, then the zip through Python, so a
    full disk is an OSError here.
    """
    tmp = path.with_name(f".{path.name.split('.')[0]}.tmp.{path.name.split('.', 1)[1]}")
    try:
        save(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prune_run(run_dir: Path, keep: set) -> None:
    """Remove checkpoints, best weights and temporaries that state.json does not name."""
    for pattern in ("checkpoint-*.keras", "best-*.weights.npz", CHECKPOINT, BEST, ".checkpoint*.tmp.*", ".best*.tmp"):
        for f in run_dir.glob(pattern):
            if f.name not in keep:
                with contextlib.suppress(OSError):
                    f.unlink()


def _optimizer(cfg: TrainConfig, steps_per_epoch: int):
    lr = cfg.lr
    if cfg.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=max(1, cfg.epochs * steps_per_epoch), alpha=0.05)
    return keras.optimizers.Adam(lr)


STATE_KEYS = {"epoch", "best_val_loss", "checkpoint", "checkpoint_sha256", "best", "config", "history"}


def _config_problem(config) -> str | None:
    """What is wrong with state.json's "config" (TrainConfig's fields, each of its declared type), or None."""
    if not isinstance(config, dict):
        return "its config is not a JSON object"
    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(config) - set(fields))
    if unknown:
        return f"its config has {len(unknown)} unknown setting(s), the first {json.dumps(unknown[0][:40])}"
    for name, value in config.items():
        kind = fields[name].replace(" | None", "")
        ok = ((value is None and "None" in fields[name]) or
              (kind == "int" and isinstance(value, int) and not isinstance(value, bool)) or
              (kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)) or
              (kind == "bool" and isinstance(value, bool)) or (kind == "str" and isinstance(value, str)))
        if not ok:
            return f"its config setting {name} is not a{'n' if kind == 'int' else ''} {kind}"
    try:
        TrainConfig(**config)
    except VAEError as exc:
        return f"its config is out of range ({str(exc).rstrip('.')})"
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


def _resume_optimizer(loaded, cfg: TrainConfig, old_cfg: dict, steps: int, model):
    """The checkpoint's optimizer, or, when --lr / --lr-schedule changed, a new one that keeps its step count
    and moment estimates (so a run that diverged can go on with a lower learning rate)."""
    if (cfg.lr, cfg.lr_schedule) == (old_cfg.get("lr"), old_cfg.get("lr_schedule")):
        return loaded
    fresh = _optimizer(cfg, steps)
    fresh.build(model.trainable_variables)
    old = {v.path.split("/", 1)[-1]: v for v in loaded.variables}
    for v in fresh.variables:
        o = old.get(v.path.split("/", 1)[-1])
        if o is not None and "learning_rate" not in v.path and tuple(o.shape) == tuple(v.shape):
            v.assign(o)
    return fresh


def train(cfg: TrainConfig, run_dir, resume: bool = False, dataset: Dataset | None = None, verbose: int = 1,
          tensorboard: bool = False):
    """Train (or continue) a VAE; returns (model with the best weights, history, info dict)."""
    keras.utils.set_random_seed(cfg.seed)
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"Cannot create the run folder {run_dir} ({exc.strerror}): choose a writable --run-dir.") from None
    state = load_state(run_dir) if resume else None
    if resume and state is None:
        print(f"No checkpoint in {run_dir}: starting from scratch.")
    ds = dataset or load_dataset(cfg.dataset, **cfg.data_options())
    x, y = ds.x_train, ds.y_train
    if cfg.max_train:
        x, y = x[:cfg.max_train], y[:cfg.max_train]
    x_tr, y_tr, x_val, y_val = split_validation(x, y, cfg.val_fraction, cfg.seed)
    train_ds = pipeline(x_tr, y_tr, cfg.batch_size, shuffle=True, seed=cfg.seed)
    val_ds = pipeline(x_val, y_val, 1024, shuffle=False)
    steps = max(1, len(x_tr) // cfg.batch_size)

    strategy = tf.distribute.MirroredStrategy() if cfg.strategy == "mirrored" else tf.distribute.get_strategy()
    with strategy.scope():
        if state:
            model = keras.saving.load_model(run_dir / state["checkpoint"], safe_mode=True)  # weights and optimizer
            optimizer = _resume_optimizer(model.optimizer, cfg, state["config"], steps, model)
        else:
            model = VAE(**cfg.model_kwargs(ds))
            optimizer = _optimizer(cfg, steps)
        model.compile(optimizer=optimizer, jit_compile=cfg.jit_compile)
        model.kl_warmup_steps = int(cfg.kl_warmup * steps)
    history = state["history"] if state else {}
    initial_epoch = state["epoch"] if state else 0
    checkpoint = EpochCheckpoint(run_dir, cfg, history, state["best_val_loss"] if state else math.inf,
                                 state["best"] if state else None)
    if not state and (run_dir / STATE).is_file():
        (run_dir / STATE).unlink()  # a fresh start replaces an earlier run here: never resume that one by mistake
    prune_run(run_dir, keep={state["checkpoint"], state["best"]} if state else set())
    callbacks = [checkpoint]
    if tensorboard:
        try:
            import tensorboard as _tb  # noqa: F401
        except ImportError as exc:
            raise VAEError("--tensorboard needs the tensorboard package: pip install tensorboard.") from exc
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))
    started = time.time()
    if initial_epoch < cfg.epochs:
        model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, initial_epoch=initial_epoch,
                  callbacks=callbacks, verbose=verbose, shuffle=False)  # the pipeline shuffles
    if checkpoint.diverged_at is not None:
        raise TrainingDiverged(f"Training diverged (NaN or infinite loss) in epoch {checkpoint.diverged_at}: "
                               f"the last good checkpoint is in {run_dir}; lower --lr and continue with --resume.")
    if checkpoint.best_file and (run_dir / checkpoint.best_file).is_file():
        load_weights(model, run_dir / checkpoint.best_file)
    info = {"dataset": ds.name, "dataset_spec": dataset_spec(cfg.dataset), "source": ds.source, "class_names": ds.class_names,
            "splits": {"train": int(len(x_tr)), "validation": int(len(x_val)), "test": int(len(ds.x_test))},
            "skipped_files": ds.skipped, "data_options": cfg.data_options(),
            "training": {**dataclasses.asdict(cfg), "epochs_done": len(history.get("loss", [])),
                         "seconds_this_run": round(time.time() - started, 1),
                         "best_val_loss": checkpoint.best_val}}
    return model, history, info
