"""Posterior-collapse remedies compared on equal terms, each one a scripts/train.py run of the sentence VAE.

    python -m vae.modalities.text.remedies --epochs 6 --out remedies.json        # one row per remedy

Every remedy is a set of generic training settings (vae.training.TrainConfig): the same data, epochs,
batch, seed, learning rate and gradient clipping, and only the KL schedule, free bits and character
dropout differ. "lm" is Bowman's anchor: the same decoder trained alone, fed z = 0, without a KL term
(--no-latent), i.e. a plain character language model of the same size; its figures are exact.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

REMEDIES = {   # name -> (TrainConfig settings, the text modality's options); {E} is half the run's epochs
    "none": ({}, {"token_dropout": 0.0}),
    "anneal": ({"kl_warmup": "{E}"}, {"token_dropout": 0.0}),
    "cyclical": ({"kl_cycles": 4}, {"token_dropout": 0.0}),
    "dropout": ({}, {"token_dropout": 0.3}),
    "anneal+dropout": ({"kl_warmup": "{E}"}, {"token_dropout": 0.3}),
    "cyclical+dropout": ({"kl_cycles": 4}, {"token_dropout": 0.3}),
    "freebits+dropout": ({"free_bits": 0.25}, {"token_dropout": 0.3}),
    "anneal+dropout+freebits": ({"kl_warmup": "{E}", "free_bits": 0.25}, {"token_dropout": 0.3}),
    "lm": ({"no_latent": True}, {"token_dropout": 0.0}),
}


def config(remedy: str, epochs: int, dataset: str = "fortunes", latent_dim: int = 16, seed: int = 0,
           training: dict | None = None, **options):
    """The TrainConfig of one remedy's run; `training`: other TrainConfig settings shared by every remedy (e.g.
    batch_size), options: the text modality's (e.g. the sizes of a tiny test run)."""
    from ...train_config import TrainConfig

    settings, text_options = REMEDIES[remedy]
    settings = {k: (epochs / 2 if v == "{E}" else v) for k, v in settings.items()}
    base = {"dataset": dataset, "modality": "text", "latent_dim": latent_dim, "epochs": epochs, "seed": seed,
            "clip_norm": 5.0}
    return TrainConfig(**{**base, **(training or {}), **settings}, options={**text_options, **options})


def compare(remedies, epochs: int, dataset: str = "fortunes", test_rows: int = 1000, k: int = 1,
            run_root=None, log=print, training: dict | None = None, **options) -> list[dict]:
    """Train each remedy with vae.training.train and score it on the test split (vae.modalities.text.measure)."""
    from ...training import train
    from . import MODALITY
    from .measure import measure

    ds = None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in remedies:
            cfg = config(name, epochs, dataset, training=training, **options)
            ds = ds or MODALITY.load_dataset(dataset, **cfg.data_options())
            started = time.perf_counter()
            model, history, _ = train(cfg, Path(run_root or tmp) / name, dataset=ds, verbose=0)
            row = {"remedy": name, "epochs": epochs, "seconds": round(time.perf_counter() - started, 1),
                   **measure(model, ds, k=k, rows=test_rows, anchor=name == "lm")}
            rows.append(row)
            log(json.dumps(row))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remedies", default=",".join(REMEDIES), help="comma-separated, of: " + ", ".join(REMEDIES))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--dataset", default="fortunes")
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--k", type=int, default=1, help="importance samples of the bound (1: the ELBO)")
    parser.add_argument("--out", default="", help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    names = args.remedies.split(",")
    unknown = [n for n in names if n not in REMEDIES]
    if unknown:
        parser.error(f"unknown remedy {unknown[0][:40]!r}: choose from {', '.join(REMEDIES)}")
    rows = compare(names, args.epochs, args.dataset, args.test_rows, args.k)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
