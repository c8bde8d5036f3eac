"""A standalone training loop for the melody networks (free bits, KL warm-up, transposition augmentation).

    nice -n 5 python -m vae.modalities.melody.fit OUT --minutes 35 --latent 32     # writes OUT/*.weights.h5

It trains exactly the encoder and decoder the modality builds, so the weights load into a VAE built
through the modality seam (`VAE.encoder.load_weights`, `VAE.decoder.load_weights`).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dataset", default="folk")
    ap.add_argument("--minutes", type=float, default=35)
    ap.add_argument("--latent", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--free-bits", type=float, default=0.25, help="nats per latent dimension")
    ap.add_argument("--warmup", type=int, default=1500, help="steps over which beta rises from 0 to 1")
    ap.add_argument("--decoder", default="autoregressive")
    ap.add_argument("--units", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import keras
    import tensorflow as tf

    from . import MODALITY
    from .networks import token_nll
    from .tokens import random_transpose

    keras.utils.set_random_seed(a.seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ds = MODALITY.load_dataset(a.dataset)
    spec = MODALITY.spec_for(ds, {"encoder_units": a.units, "decoder_units": a.units, "decoder": a.decoder})
    enc = MODALITY.build_encoder(spec, a.latent, 0)
    dec = MODALITY.build_decoder(spec, a.latent, 0)
    opt = keras.optimizers.Adam(a.lr)
    weights = enc.trainable_weights + dec.trainable_weights
    print(f"train {len(ds.x_train)} windows, test {len(ds.x_test)}; spec {spec}", flush=True)

    @tf.function(reduce_retracing=True)
    def step(x, beta):
        with tf.GradientTape() as tape:
            mean, logvar = enc([x], training=True)
            z = mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))
            kl_dim = -0.5 * (1 + logvar - mean ** 2 - tf.exp(logvar))                 # (B, d)
            kl_floor = tf.reduce_sum(tf.maximum(tf.reduce_mean(kl_dim, 0), a.free_bits))
            logits = dec([z, x], training=True)
            nll = tf.reduce_mean(token_nll(logits, x))
            loss = nll + beta * kl_floor
        grads = tape.gradient(loss, weights)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        opt.apply_gradients(zip(grads, weights))
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), x), tf.float32))
        return nll, tf.reduce_mean(tf.reduce_sum(kl_dim, 1)), acc

    rng = np.random.default_rng(a.seed)
    test = ds.x_test[rng.permutation(len(ds.x_test))[:512]]
    t0, i, log = time.time(), 0, []
    while time.time() - t0 < a.minutes * 60:
        idx = rng.integers(0, len(ds.x_train), a.batch)
        x = random_transpose(ds.x_train[idx], rng).astype(np.int32)
        beta = min(1.0, i / max(a.warmup, 1))
        nll, kl, acc = step(tf.constant(x), tf.constant(beta, tf.float32))
        i += 1
        if i % 100 == 0:
            mean, _ = enc([test])
            free = float(np.mean(MODALITY.generate(dec, mean) == test))
            row = {"step": i, "min": round((time.time() - t0) / 60, 1), "nll": float(nll), "kl": float(kl),
                   "acc_tf": float(acc), "test_free_acc": free, "beta": beta}
            log.append(row)
            print(json.dumps(row), flush=True)
            enc.save_weights(out / "encoder.weights.h5")
            dec.save_weights(out / "decoder.weights.h5")
    enc.save_weights(out / "encoder.weights.h5")
    dec.save_weights(out / "decoder.weights.h5")
    (out / "fit.json").write_text(json.dumps({"args": vars(a), "spec": spec.to_dict(), "log": log}, indent=1))


if __name__ == "__main__":
    main()
