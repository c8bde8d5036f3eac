"""Posterior-collapse remedies compared in short runs of the sentence VAE, and the language-model anchor.

    python -m vae.modalities.text.remedies --steps 600 --out /tmp/remedies.json   # one row per remedy

A small standalone loop (Adam, one posterior sample per sentence) so that the remedies the generic
trainer does not have (cyclical annealing, free bits) can be compared with those it has on equal
terms: same data, steps, batch and seed. "lm" is Bowman's anchor: the same decoder with z zeroed and
no KL term, i.e. a plain character language model of the same size.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time

import numpy as np

REMEDIES = {   # name -> (KL schedule, free bits per latent unit in nats, token dropout)
    "none": ("constant", 0.0, 0.0),
    "anneal": ("linear", 0.0, 0.0),
    "cyclical": ("cyclical", 0.0, 0.0),
    "dropout": ("constant", 0.0, 0.3),
    "anneal+dropout": ("linear", 0.0, 0.3),
    "freebits+dropout": ("constant", 0.25, 0.3),
    "anneal+dropout+freebits": ("linear", 0.25, 0.3),
    "lm": ("zero_z", 0.0, 0.0),
}


def kl_weight(schedule: str, step: int, steps: int, cycles: int = 4, warmup: int = 0) -> float:
    """The KL term's weight at `step` (0-based): a linear ramp over `warmup` steps (0: the first half), or
    `cycles` ramps of half a cycle each (Fu et al. 2019)."""
    if schedule == "constant":
        return 1.0
    if schedule == "zero_z":
        return 0.0
    if schedule == "linear":
        return min(1.0, (step + 1) / max(1, warmup or steps // 2))
    if schedule == "cyclical":
        period = max(1, steps // cycles)
        return min(1.0, (step % period + 1) / max(1, period // 2))
    raise ValueError(f"unknown KL schedule {schedule!r}")


@dataclasses.dataclass
class Run:
    """Settings of one short run."""

    remedy: str = "none"
    steps: int = 600
    batch: int = 128
    latent_dim: int = 16
    learning_rate: float = 2e-3
    seed: int = 0
    warmup: int = 0         # linear annealing steps (0: half the run)


def train(x_train, spec, run: Run, save: str = "", log=None):
    """Train encoder and decoder on (N, T) ids; returns (encoder, decoder, seconds). With `save`, both
    networks' weights are written to SAVE.encoder/decoder.weights.h5 every 250 steps and at the end."""
    import keras
    import tensorflow as tf

    from . import networks

    schedule, free_bits, dropout = REMEDIES[run.remedy]
    keras.utils.set_random_seed(run.seed)
    spec = dataclasses.replace(spec, token_dropout=dropout)
    enc, dec = networks.build_encoder(spec, run.latent_dim), networks.build_decoder(spec, run.latent_dim)
    opt = keras.optimizers.Adam(run.learning_rate, clipnorm=5.0)
    zero_z = schedule == "zero_z"
    weights = enc.trainable_weights + dec.trainable_weights

    @tf.function
    def step(x, beta):
        with tf.GradientTape() as tape:
            mean, logvar = enc(x, training=True)
            z = mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))
            if zero_z:
                z = tf.zeros_like(z)
            recon = networks.nll(dec, z, x, training=True)
            kl_units = -0.5 * (1.0 + logvar - tf.square(mean) - tf.exp(logvar))       # (B, d)
            if free_bits > 0:   # Kingma et al. 2016: no pressure on a unit's batch-mean KL below the floor
                kl_units = tf.maximum(tf.reduce_mean(kl_units, axis=0, keepdims=True), free_bits)
            kl = tf.reduce_sum(kl_units, axis=-1)
            loss = tf.reduce_mean(recon) + (0.0 if zero_z else beta) * tf.reduce_mean(kl)
        grads = tape.gradient(loss, weights)
        opt.apply_gradients(zip(grads, weights))
        return loss

    rng = np.random.default_rng(run.seed)
    start = time.perf_counter()
    for i in range(run.steps):
        rows = rng.integers(0, len(x_train), run.batch)
        beta = kl_weight(schedule, i, run.steps, warmup=run.warmup)
        loss = step(tf.constant(x_train[rows]), tf.constant(beta, tf.float32))
        if save and ((i + 1) % 250 == 0 or i + 1 == run.steps):
            enc.save_weights(f"{save}.encoder.weights.h5")
            dec.save_weights(f"{save}.decoder.weights.h5")
            if log:
                log(f"step {i + 1} loss {float(loss):.2f} beta {beta:.3f} {time.perf_counter() - start:.0f}s")
    return enc, dec, time.perf_counter() - start


def evaluate(enc, dec, x_test, zero_z: bool = False, batch: int = 256, seed: int = 0) -> dict:
    """Test -ELBO per token and per sentence (one posterior sample), KL per sentence, active units, exact
    reconstructions from the posterior mean."""
    import tensorflow as tf

    from . import networks
    from .tokenizer import lengths

    tf.random.set_seed(seed)
    recon, kls, means, exact = [], [], [], []
    for lo in range(0, len(x_test), batch):
        x = x_test[lo:lo + batch]
        mean, logvar = (t.numpy() for t in enc(x))
        z = np.zeros_like(mean) if zero_z else mean + np.exp(0.5 * logvar) * np.random.default_rng(seed + lo).standard_normal(mean.shape)
        recon.append(networks.nll(dec, z.astype(np.float32), x).numpy())
        kls.append(np.zeros(len(x)) if zero_z else (-0.5 * (1 + logvar - mean ** 2 - np.exp(logvar))).sum(1))
        means.append(mean)
        exact.append(np.all(networks.greedy(dec, np.zeros_like(mean) if zero_z else mean) == x, axis=1))
    recon, kls, means = np.concatenate(recon), np.concatenate(kls), np.concatenate(means)
    tokens = lengths(x_test).sum()
    elbo = recon + kls
    return {"nelbo_per_token": float(elbo.sum() / tokens), "nelbo": float(elbo.mean()),
            "recon": float(recon.mean()), "kl": float(kls.mean()),
            "active_units": int((means.var(axis=0) > 0.01).sum()), "latent_dim": int(means.shape[1]),
            "exact": float(np.concatenate(exact).mean()),
            "perplexity_bound": float(math.exp(elbo.sum() / tokens))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remedies", default=",".join(REMEDIES))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--decoder-units", type=int, default=128)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=0, help="linear annealing steps (0: half the run)")
    parser.add_argument("--save", default="", help="weights path prefix, written every 250 steps")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)

    from . import MODALITY
    from .spec import TextSpec

    ds = MODALITY.load_dataset("fortunes")
    spec = TextSpec(length=ds.x_train.shape[1], decoder_units=args.decoder_units)
    rows = []
    for name in args.remedies.split(","):
        run = Run(name, args.steps, args.batch, args.latent_dim, warmup=args.warmup)
        enc, dec, seconds = train(ds.x_train, spec, run, args.save, log=lambda m: print(m, flush=True))
        row = {"remedy": name, **dataclasses.asdict(run), "seconds": round(seconds, 1),
               **evaluate(enc, dec, ds.x_test[:args.test_rows], zero_z=name == "lm")}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
