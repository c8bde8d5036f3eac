"""Time to quality on Fashion-MNIST: this project's recipe against the TensorFlow CVAE tutorial's, side by side.

    python scripts/time_to_quality.py                       # both recipes, 10 reference epochs
    python scripts/time_to_quality.py --only ours --ours-epochs 8

The reference is the tutorial's recipe (tensorflow/docs cvae.ipynb): two stride-2 convs, a dense
posterior, three transposed convs, Adam 1e-4, batch 32, a single-sample Monte Carlo ELBO, no XLA.
The two take turns of a second or so (every 25 of our batches, the reference catches up to the same share
of its own run), so that both train under the same machine load even where it changes by the minute. Both
are scored after every epoch with the same test -ELBO (closed-form KL, nats per image) on the 10,000 test
images; scoring time is not counted as training time.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae.data import load_dataset  # noqa: E402
from vae.metrics import negative_elbo  # noqa: E402
from vae.model import LOG_2PI  # noqa: E402
from vae.training import TrainConfig, pipeline, split_validation  # noqa: E402

TUTORIAL_TARGET = 247.4  # test -ELBO of the tutorial recipe after 10 epochs, measured on this machine


class TutorialCVAE(keras.Model):
    """The tutorial's network, with the methods this project's metrics call (encode, decode, compute_terms)."""

    def __init__(self, latent_dim: int):
        from vae import modalities

        super().__init__()
        self.latent_dim = latent_dim
        self.modality = modalities.get("image")  # the metrics read pixels through it (model_input: to [0, 1])
        self.encoder = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(64, 3, strides=2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(2 * latent_dim)])
        self.decoder = keras.Sequential([
            keras.Input((latent_dim,)),
            keras.layers.Dense(7 * 7 * 32, activation="relu"),
            keras.layers.Reshape((7, 7, 32)),
            keras.layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2DTranspose(1, 3, strides=1, padding="same")])

    def encode(self, x, labels=None):
        mean, logvar = tf.split(self.encoder(x), 2, axis=1)
        return mean, logvar

    def decode(self, z, labels=None, apply_sigmoid=False):
        logits = self.decoder(z)
        return tf.sigmoid(logits) if apply_sigmoid else logits

    def compute_terms(self, x, labels=None):
        from vae.model import gaussian_kl
        from vae.modalities.image.networks import bernoulli_nll

        mean, logvar = self.encode(x)
        z = mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))
        return bernoulli_nll(x, self.decode(z)), gaussian_kl(mean, logvar)


def tutorial_loss(model: TutorialCVAE, x):
    """The tutorial's compute_loss: -E[log p(x|z) + log p(z) - log q(z|x)] with one sample."""
    mean, logvar = model.encode(x)
    z = mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))
    logits = model.decode(z)
    logpx_z = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=[1, 2, 3])
    logpz = tf.reduce_sum(-0.5 * (z ** 2 + LOG_2PI), axis=1)
    logqz_x = tf.reduce_sum(-0.5 * ((z - mean) ** 2 * tf.exp(-logvar) + logvar + LOG_2PI), axis=1)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


class Reference:
    """The tutorial's recipe, trained a few batches at a time: `run(n)` trains up to n batches of the current
    epoch and says whether the epoch ended; `seconds` counts training time only."""

    BATCH = 32

    def __init__(self, ds, latent_dim: int):
        keras.utils.set_random_seed(0)
        self.model = TutorialCVAE(latent_dim)
        optimizer = keras.optimizers.Adam(1e-4)
        self.data = (tf.data.Dataset.from_tensor_slices(ds.x_train.astype(np.float32) / 255.0)
                     .shuffle(60000, seed=0).batch(self.BATCH))
        self.steps_per_epoch = math.ceil(len(ds.x_train) / self.BATCH)
        self.steps, self.seconds, self._batches = 0, 0.0, None
        model = self.model

        @tf.function
        def train_step(x):
            with tf.GradientTape() as tape:
                loss = tutorial_loss(model, x)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

        self._train_step = train_step

    def run(self, n: int) -> bool:
        t0 = time.perf_counter()
        if self._batches is None:
            self._batches = iter(self.data)
        left = self.steps_per_epoch - self.steps % self.steps_per_epoch
        for _ in range(min(n, left)):
            self._train_step(next(self._batches))
            self.steps += 1
        ended = n >= left
        if ended:
            self._batches = None
        self.seconds += time.perf_counter() - t0
        return ended


class Turns(keras.callbacks.Callback):
    """Inside our fit: every `every` batches, hands the machine to `catch_up(share of our `epochs` done)`; at
    `checkpoints` evenly spaced batches of each epoch (its last among them), to `score(model, our training
    seconds so far, epochs done)`, which says whether to stop. The seconds both take are not our training time."""

    def __init__(self, catch_up, score, epochs: int, every: int = 25, checkpoints: int = 10):
        super().__init__()
        self.catch_up, self.score, self.epochs, self.every, self.checkpoints = catch_up, score, epochs, every, checkpoints
        self.batches, self.lent, self.start, self.marks = 0, 0.0, None, set()

    def on_train_begin(self, logs=None):
        steps = self.params["steps"]
        self.marks = {round(k * steps / self.checkpoints) for k in range(1, self.checkpoints + 1)}
        self.start = time.perf_counter()

    def _lend(self, task, *args):
        t0 = time.perf_counter()
        out = task(*args)
        self.lent += time.perf_counter() - t0
        return out

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        steps = self.params["steps"]
        if self.batches % self.every == 0:
            self._lend(self.catch_up, self.batches / (self.epochs * steps))
        if batch + 1 in self.marks:
            trained = time.perf_counter() - self.start - self.lent
            if self._lend(self.score, self.model, trained, round(self.batches / steps, 2)):
                self.model.stop_training = True


def train_ours(ds, cfg: TrainConfig, epochs: int, turns: Turns):
    """scripts/train.py's recipe (vae.training's model, optimizer and pipeline) for `epochs`, trained by `fit`
    with `turns` inside it."""
    from vae.model import VAE
    from vae.training import _optimizer

    keras.utils.set_random_seed(cfg.seed)
    x_tr, y_tr, _, _ = split_validation(ds.x_train, ds.y_train, cfg.val_fraction, cfg.seed)
    model = VAE(**cfg.model_kwargs(ds))
    model.compile(optimizer=_optimizer(cfg, len(x_tr) // cfg.batch_size), jit_compile=cfg.jit_compile)
    model.fit(pipeline(x_tr, y_tr, cfg.batch_size, shuffle=True, seed=cfg.seed), epochs=epochs, verbose=0,
              shuffle=False, callbacks=[turns])


def race(ds, reference: Reference | None, cfg: TrainConfig | None, epochs: dict, target: float | None,
         log, every: int = 25, checkpoints: int = 10) -> dict:
    """Both recipes in small turns, each kept at the same share of its own run (so that ours, a few epochs,
    is spread over the reference's ten and both see the same machine load); the reference scored after every
    epoch, ours at `checkpoints` points of every epoch, all with the same test -ELBO; scoring time is counted
    as neither's training."""
    points = {name: [] for name, on in (("reference", reference), ("ours", cfg)) if on is not None}

    def score(name, model, seconds, epoch):
        point = {"epoch": epoch, "train_seconds": round(seconds, 1), **negative_elbo(model, ds.x_test)}
        points[name].append(point)
        log(name, point)
        return point

    def reference_until(share: float):
        if reference is None:
            return
        total = epochs["reference"] * reference.steps_per_epoch
        goal = min(math.ceil(share * total), total)
        while reference.steps < goal:
            if reference.run(goal - reference.steps):
                score("reference", reference.model, reference.seconds, reference.steps // reference.steps_per_epoch)

    def score_ours(model, seconds, epoch):
        neg_elbo = score("ours", model, seconds, epoch)["neg_elbo"]
        return target is not None and neg_elbo <= target

    if cfg is not None:
        train_ours(ds, cfg, epochs["ours"], Turns(reference_until, score_ours, epochs["ours"], every, checkpoints))
    reference_until(1.0)
    return points


def first_reaching(points: list[dict], target: float) -> float | None:
    return next((p["train_seconds"] for p in points if p["neg_elbo"] <= target), None)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["both", "ours", "reference"], default="both")
    p.add_argument("--epochs", type=int, default=10, help="reference epochs (the tutorial's 10)")
    p.add_argument("--ours-epochs", type=int, default=5, help="epochs of our recipe to run")
    p.add_argument("--schedule-epochs", type=int, default=TrainConfig.epochs,
                   help="length of our cosine schedule (train.py's default run)")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="our peak learning rate (train.py --lr)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="our batch (train.py --batch-size)")
    p.add_argument("--checkpoints", type=int, default=10,
                   help="times per epoch ours is scored (1: at epoch ends only); the reference at its epoch ends")
    p.add_argument("--stop-at-target", action="store_true", help="stop our run once it reaches the target")
    p.add_argument("--json", default=None, help="write all points to this file")
    args = p.parse_args(argv)
    ds = load_dataset("fashion_mnist")

    def log(who, point):
        print(f"{who:9s} epoch {point['epoch']:5.2f}  {point['train_seconds']:7.1f} s  -ELBO {point['neg_elbo']:.2f}", flush=True)

    result = {"machine": f"{os.cpu_count()} CPU cores", "tensorflow": tf.__version__}
    reference = Reference(ds, args.latent_dim) if args.only in ("both", "reference") else None
    cfg = (TrainConfig(latent_dim=args.latent_dim, epochs=args.schedule_epochs, lr=args.lr,
                       batch_size=args.batch_size) if args.only in ("both", "ours") else None)
    # the reference's own 10-epoch figure is the target when it runs; else the tutorial's recorded one
    stop = TUTORIAL_TARGET if args.stop_at_target else None
    result.update(race(ds, reference, cfg, {"reference": args.epochs, "ours": args.ours_epochs}, stop, log,
                       checkpoints=args.checkpoints))
    target = result["reference"][-1]["neg_elbo"] if "reference" in result else TUTORIAL_TARGET
    result["target"] = target
    if "reference" in result and "ours" in result:
        ref_t, our_t = result["reference"][-1]["train_seconds"], first_reaching(result["ours"], target)
        result["ratio"] = None if our_t is None else our_t / ref_t
        at_ends = first_reaching([q for q in result["ours"] if q["epoch"] == int(q["epoch"])], target)
        result["ratio_at_epoch_ends"] = None if at_ends is None else at_ends / ref_t
        result["ours_seconds_to_tutorial_target"] = first_reaching(result["ours"], TUTORIAL_TARGET)
        print(f"\nreference reaches {target:.2f} nats in {ref_t:.1f} s; ours in "
              f"{'never' if our_t is None else f'{our_t:.1f} s'}"
              f"{'' if our_t is None else f' ({our_t / ref_t:.2f} of the reference time)'}"
              f"{'' if at_ends is None else f', at an epoch end in {at_ends:.1f} s ({at_ends / ref_t:.2f})'}; "
              f"ours best {min(q['neg_elbo'] for q in result['ours']):.2f} nats")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
