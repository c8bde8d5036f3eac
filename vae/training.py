"""Training: tf.data pipelines, the fit with checkpoints (vae/checkpoints.py), resume, best weights, stop on NaN.

    from vae.training import TrainConfig, train
    model, history, info = train(TrainConfig(dataset="digits", latent_dim=4, epochs=3), run_dir="runs/digits")
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .checkpoints import (STATE, CheckpointError, EpochCheckpoint, load_state, load_weights,  # noqa: F401
                          prune_run)
from .data import Dataset, dataset_spec, load_dataset
from .errors import VAEError
from . import hierarchy as _registers_models  # noqa: F401  (VAE and LadderVAE checkpoints load on resume)
from .train_config import TrainConfig, option_fields  # noqa: F401  (training's names: scripts and tests use them)

class TrainingDiverged(VAEError):
    """The loss became NaN or infinite."""


def pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0,
             modality=None, augment: bool = False, resample=None) -> tf.data.Dataset:
    """Natural arrays and labels -> batches of {"x": the encoder's input (modality.model_input), "label": int32};
    `resample` (a Dataset's: dynamic binarisation) draws each batch anew; with `augment`, each batch then goes
    through the modality's `augment`; both with seeded generators, one batch at a time."""
    from . import modalities

    modality = modality or modalities.get()
    ds = tf.data.Dataset.from_tensor_slices({"x": x, "label": y.astype(np.int32)})
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=shuffle and len(x) >= batch_size)
    steps = [f for f in (resample, modality.augment if augment and modality.augmentation else None) if f]
    if steps:
        rng = np.random.default_rng(seed + 2)

        def vary_numpy(b):
            for f in steps:
                b = f(b, rng)
            return b

        def vary(batch):
            out = tf.numpy_function(vary_numpy, [batch["x"]], batch["x"].dtype, stateful=True)
            return {"x": tf.ensure_shape(out, batch["x"].shape), "label": batch["label"]}

        ds = ds.map(vary, num_parallel_calls=1, deterministic=True)
    ds = ds.map(lambda d: {"x": modality.model_input(d["x"]), "label": d["label"]},
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def split_validation(x, y, fraction: float, seed: int):
    """A seeded held-out part of the training split: (x_train, y_train, x_val, y_val)."""
    order = np.random.default_rng(seed + 1).permutation(len(x))
    n_val = min(max(1, int(round(len(x) * fraction))), len(x) - 1)
    return x[order[n_val:]], y[order[n_val:]], x[order[:n_val]], y[order[:n_val]]


def _optimizer(cfg: TrainConfig, steps_per_epoch: int):
    lr = cfg.lr
    if cfg.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.lr, decay_steps=max(1, cfg.epochs * steps_per_epoch), alpha=0.05)
    return keras.optimizers.Adam(lr, global_clipnorm=cfg.clip_norm or None)


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
    if ds.resample:  # one fixed draw of the validation split, like the test split's
        x_val = ds.resample(x_val, np.random.default_rng(cfg.seed + 3))
    train_ds = pipeline(x_tr, y_tr, cfg.batch_size, shuffle=True, seed=cfg.seed, modality=modality, augment=cfg.augment,
                        resample=ds.resample)
    val_ds = pipeline(x_val, y_val, 1024, shuffle=False, modality=modality)
    steps = max(1, len(x_tr) // cfg.batch_size)

    strategy = tf.distribute.MirroredStrategy() if cfg.strategy == "mirrored" else tf.distribute.get_strategy()
    with strategy.scope():
        if state:
            model = keras.saving.load_model(run_dir / state["checkpoint"], safe_mode=True)  # weights and optimizer
            optimizer = _resume_optimizer(model.optimizer, cfg, state["config"], steps, model)
        else:
            model = cfg.build_model(ds)
            optimizer = _optimizer(cfg, steps)
        model.compile(optimizer=optimizer, jit_compile=cfg.jit_compile)
        model.kl_warmup_steps = int(cfg.kl_warmup * steps)
        model.kl_cycle_steps = int(math.ceil(cfg.epochs * steps / cfg.kl_cycles)) if cfg.kl_cycles else 0
        model.free_bits = float(cfg.free_bits)
        model.zero_latent = bool(cfg.no_latent)
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
    from .store import save_bundle, update_bundle

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
        if cfg.no_latent:  # the anchor: exact -log p(x) at z = 0; its encoder was never trained
            figures = metrics.anchor_figures(model, ds.x_test, ds.y_test if cfg.conditional else None)
            update_bundle(out, meta_updates={"metrics": figures})
            log(f"Test -log p(x) {figures['neg_elbo']:.2f} nats (the decoder alone at z = 0: an anchor to measure "
                f"a VAE against, not a bundle to explore).")
            return figures
        figures = metrics.evaluate(model, ds.x_test, ds.y_test, ds.x_train, ds.y_train, iwae_k=0, seed=cfg.seed)
        update_bundle(out, meta_updates={"metrics": figures})
        log(f"Test -ELBO {figures['neg_elbo']:.2f} nats (reconstruction {figures['reconstruction']:.2f}, "
            f"KL {figures['kl']:.2f}); 10-NN accuracy {figures['knn_accuracy']:.3f} (chance {figures['knn_chance']:.3f}). "
            f"Full figures: python scripts/evaluate.py {out}")
    log(f"Next: python scripts/precompute.py {out}")
    return figures
