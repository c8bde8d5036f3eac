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


def _opt(default, help: str, flag: str | None = None, **extra):
    """A dataclass field that is also a command-line option (scripts/train.py builds its parser from these)."""
    return dataclasses.field(default=default, metadata={"help": help, **({"flag": flag} if flag else {}), **extra})


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; stored in the run folder and in the bundle's meta.json. `options` holds the
    modality's own settings (its networks' and data options, e.g. hidden_units, image_size for images)."""

    dataset: str = _opt("fashion_mnist", "dataset name or spec (each modality lists its own; images: fashion_mnist, "
                        "mnist, digits, folder:PATH, npz:PATH)")
    modality: str = _opt("image", "kind of data: image, melody, text, ...")
    latent_dim: int = _opt(16, "latent dimensions")
    epochs: int = _opt(30, "epochs in all (with --resume: the run's own unless given)")
    batch_size: int = _opt(128, "examples per step")
    lr: float = _opt(2e-3, "peak learning rate of Adam (with --resume: the run's own unless given)")
    beta: float = _opt(1.0, "weight of the KL term (beta-VAE)")
    conditional: bool = _opt(False, "condition encoder and decoder on the class label")
    seed: int = _opt(0, "seed of the split, the initial weights and the batches")
    val_fraction: float = _opt(0.1, "part of the training split held out for validation")
    max_train: int | None = _opt(None, "train on the first N examples only (quick runs)")
    lr_schedule: str = _opt("cosine", "cosine or constant (with --resume: the run's own unless given)",
                            choices=("cosine", "constant"))
    kl_warmup: float = _opt(0.0, "epochs over which beta ramps up from 0 (KL annealing: fewer collapsed latent units; "
                                 "the logged loss is the true -ELBO)")
    free_bits: float = _opt(0.0, "nats per latent dimension below which the KL is not pushed down (free bits, "
                                 "Kingma et al. 2016); the logged loss is the true -ELBO")
    jit_compile: bool = _opt(False, "compile training steps with XLA (measured slower than oneDNN on this CPU)", flag="--jit")
    strategy: str = _opt("default", "mirrored: tf.distribute.MirroredStrategy over all GPUs (works on one CPU too)",
                         choices=("default", "mirrored"))
    options: dict = dataclasses.field(default_factory=dict, metadata={"modality": True})

    def __post_init__(self):
        from . import modalities

        checks = [(isinstance(self.modality, str) and self.modality in modalities.names(),
                   f"--modality must be one of {', '.join(modalities.names())}, got {str(self.modality)[:40]}"),
                  (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
                  (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
                  (1 <= self.latent_dim <= limits.MAX_LATENT,
                   f"--latent-dim must be between 1 and {limits.MAX_LATENT}, got {self.latent_dim}"),
                  (math.isfinite(self.beta) and self.beta >= 0, f"--beta must be a finite number >= 0, got {self.beta}"),
                  (self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
                  (math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr}"),
                  (0 < self.val_fraction < 1, f"--val-fraction must be between 0 and 1, got {self.val_fraction}"),
                  (self.lr_schedule in ("cosine", "constant"), f"--lr-schedule must be cosine or constant, got {self.lr_schedule}"),
                  (self.strategy in ("default", "mirrored"), f"--strategy must be default or mirrored, got {self.strategy}"),
                  (0 <= self.kl_warmup < 1e6, f"--kl-warmup must be >= 0 epochs, got {self.kl_warmup}"),
                  (0 <= self.free_bits < 1e3, f"--free-bits must be >= 0 nats, got {self.free_bits}"),
                  (self.max_train is None or self.max_train >= 2, f"--max-train must be at least 2, got {self.max_train}"),
                  (isinstance(self.options, dict), "options must be a mapping of the modality's settings")]
        for ok, message in checks:
            if not ok:
                raise VAEError(message + ".")
        modality = modalities.get(self.modality)
        known = option_fields(modality)
        unknown = sorted(set(self.options) - set(known))
        if unknown:
            raise VAEError(f"--{unknown[0].replace('_', '-')[:40]} is not a setting of the {self.modality} modality.")
        # sizes first, before any data is read; the weight count is checked again once the data's shape is known
        problem = modality.check_options(self.options, self.latent_dim)
        if problem:
            raise VAEError(problem + ".")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """From a stored config; older, flat ones kept the image settings beside the others."""
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in d.items() if k in fields}
        options = {**{k: v for k, v in d.items() if k not in fields}, **(known.pop("options", None) or {})}
        return cls(**known, options=options)

    def data_options(self) -> dict:
        from . import modalities

        return {**modalities.get(self.modality).data_options(self.options), "seed": self.seed, "stratify": True}

    def model_kwargs(self, ds: Dataset) -> dict:
        from . import modalities

        spec = modalities.get(self.modality).spec_for(ds, self.options)
        return dict(modality=self.modality, latent_dim=self.latent_dim, beta=self.beta, conditional=self.conditional,
                    num_classes=len(ds.class_names), seed=self.seed, **spec.to_dict())


def option_fields(modality) -> dict:
    """The modality's settings a user may give: {name: dataclasses.Field} of its spec and data options."""
    out = {}
    for cls in (modality.spec_class, getattr(modality, "data_options_class", None)):
        if cls is not None:
            out.update({f.name: f for f in dataclasses.fields(cls) if "help" in f.metadata})
    return out


def pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0,
             modality=None) -> tf.data.Dataset:
    """Natural arrays and labels -> batches of {"x": the encoder's input (modality.model_input), "label": int32}."""
    from . import modalities

    modality = modality or modalities.get()
    ds = tf.data.Dataset.from_tensor_slices({"x": x, "label": y.astype(np.int32)})
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=shuffle and len(x) >= batch_size)
    ds = ds.map(lambda d: {"x": modality.model_input(d["x"]), "label": d["label"]},
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
    ds = dataset or load_dataset(cfg.dataset, cfg.modality, **cfg.data_options())
    x, y = ds.x_train, ds.y_train
    if cfg.max_train:
        x, y = x[:cfg.max_train], y[:cfg.max_train]
    x_tr, y_tr, x_val, y_val = split_validation(x, y, cfg.val_fraction, cfg.seed)
    from . import modalities

    modality = modalities.get(cfg.modality)
    train_ds = pipeline(x_tr, y_tr, cfg.batch_size, shuffle=True, seed=cfg.seed, modality=modality)
    val_ds = pipeline(x_val, y_val, 1024, shuffle=False, modality=modality)
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
        model.free_bits = float(cfg.free_bits)
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
    info = {"modality": cfg.modality, "dataset": ds.name, "dataset_spec": dataset_spec(cfg.dataset), "source": ds.source, "class_names": ds.class_names,
            "splits": {"train": int(len(x_tr)), "validation": int(len(x_val)), "test": int(len(ds.x_test))},
            "skipped_files": ds.skipped, "data_options": cfg.data_options(),
            "training": {**dataclasses.asdict(cfg), "epochs_done": len(history.get("loss", [])),
                         "seconds_this_run": round(time.time() - started, 1),
                         "best_val_loss": checkpoint.best_val}}
    return model, history, info


def run(cfg: TrainConfig, out, run_dir, resume: bool = False, restart: bool = False, given: dict | None = None,
        evaluate: bool = True, verbose: int = 1, tensorboard: bool = False, log=print) -> dict:
    """scripts/train.py's whole job: train (or resume) in run_dir, save the bundle at out, score it on the
    test split. `given`: settings the user gave again on --resume (the run's own win otherwise)."""
    from . import metrics
    from .bundle import save_bundle, update_bundle

    run_dir, out = Path(run_dir), Path(out)
    if resume:
        state = load_state(run_dir)
        if state:  # the run's own settings win, except --epochs, --lr and --lr-schedule when given
            cfg = TrainConfig.from_dict({**state["config"], **(given or {})})
            log(f"Resuming {run_dir} after epoch {state['epoch']} of {cfg.epochs}.")
    elif not restart:
        try:
            state = load_state(run_dir)
        except VAEError:
            state = None  # a damaged run cannot be resumed anyway: the fresh start replaces it
        if state and state["epoch"] < state["config"].get("epochs", 0):
            raise VAEError(f"{run_dir} holds an unfinished run (epoch {state['epoch']} of "
                           f"{state['config']['epochs']}): continue it with --resume, or start again with --restart.")
    model, history, info = train(cfg, run_dir, resume=resume, verbose=verbose, tensorboard=tensorboard)
    save_bundle(out, model, info, history)
    log(f"Saved bundle {out} ({info['training']['epochs_done']} epochs, best validation loss "
        f"{info['training']['best_val_loss']:.2f} nats).")
    figures = {}
    if evaluate:
        ds = load_dataset(cfg.dataset, cfg.modality, **cfg.data_options())
        figures = metrics.evaluate(model, ds.x_test, ds.y_test, ds.x_train, ds.y_train, iwae_k=0, seed=cfg.seed)
        update_bundle(out, meta_updates={"metrics": figures})
        log(f"Test -ELBO {figures['neg_elbo']:.2f} nats (reconstruction {figures['reconstruction']:.2f}, "
            f"KL {figures['kl']:.2f}); 10-NN accuracy {figures['knn_accuracy']:.3f} (chance {figures['knn_chance']:.3f}). "
            f"Full figures: python scripts/evaluate.py {out}")
    log(f"Next: python scripts/precompute.py {out}")
    return figures
