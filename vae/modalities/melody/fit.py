"""A standalone training loop for the melody networks (free bits, KL warm-up, transposition augmentation).

    nice -n 5 python -m vae.modalities.melody.fit RUN --minutes 35 --latent 32     # writes RUN/*.weights.h5
    python -m vae.modalities.melody.fit RUN --minutes 0 --bundle pretrained/folk_melodies   # RUN's weights as a bundle

It trains exactly the encoder and decoder the modality builds, so the weights load into the generic VAE
built through the modality seam; --bundle saves that VAE with vae.bundle.save_bundle and scores it with
vae.metrics.evaluate, as scripts/train.py does. (The generic trainer has no augmentation hook yet: this
loop transposes every batch by a random shift.)
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
    ap.add_argument("--bundle", help="save RUN's weights as a bundle here")
    a = ap.parse_args(argv)
    if a.minutes > 0:
        fit(a)
    if a.bundle:
        save_as_bundle(Path(a.out), Path(a.bundle))


def train_config(args: dict):
    from ...training import TrainConfig
    return TrainConfig(dataset=args["dataset"], modality="melody", latent_dim=args["latent"], epochs=1,
                       batch_size=args["batch"], lr=args["lr"], seed=args["seed"], free_bits=args["free_bits"],
                       options={"encoder_units": args["units"], "decoder_units": args["units"],
                                "decoder": args["decoder"]})


def save_as_bundle(run: Path, out: Path) -> dict:
    """RUN's weights in a VAE built by the generic code, saved as a bundle and scored on the test split."""
    import dataclasses

    from ... import metrics
    from ...bundle import save_bundle, update_bundle
    from ...data import dataset_spec
    from ...model import VAE
    from . import MODALITY

    record = json.loads((run / "fit.json").read_text())
    cfg = train_config(record["args"])
    ds = MODALITY.load_dataset(cfg.dataset, seed=cfg.seed)
    model = VAE(**cfg.model_kwargs(ds))
    model.encoder.load_weights(run / "encoder.weights.h5")
    model.decoder.load_weights(run / "decoder.weights.h5")
    log = record["log"]
    info = {"modality": "melody", "dataset": ds.name, "dataset_spec": dataset_spec(cfg.dataset), "source": ds.source,
            "class_names": ds.class_names, "splits": {"train": len(ds.x_train), "validation": 0, "test": len(ds.x_test)},
            "skipped_files": ds.skipped, "data_options": cfg.data_options(),
            "training": {**dataclasses.asdict(cfg), "trainer": "vae.modalities.melody.fit", "fit": record["args"],
                         "steps": log[-1]["step"] if log else 0, "minutes": log[-1]["min"] if log else 0,
                         "best_val_loss": float("nan")}}
    history = {"loss": [r["nll"] + r["kl"] for r in log], "reconstruction": [r["nll"] for r in log],
               "kl": [r["kl"] for r in log]}
    save_bundle(out, model, info, history)
    figures = metrics.evaluate(model, ds.x_test, ds.y_test, ds.x_train, ds.y_train, iwae_k=0, seed=cfg.seed)
    update_bundle(out, meta_updates={"metrics": figures})
    print(json.dumps({k: v for k, v in figures.items() if isinstance(v, (int, float, str))}, indent=1))
    return figures


def fit(a):
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
