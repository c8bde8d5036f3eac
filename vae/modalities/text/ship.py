"""Write a bundle from weights trained by `remedies --save` (the standalone loop), scored like train.py's.

    python -m vae.modalities.text.ship /tmp/text_runs/long --out pretrained/fortunes --steps 1000 --warmup 300

The networks are the ones the generic VAE builds for the text modality (same layers, same names), so the
weights load into `VAE(modality="text")` and the bundle is an ordinary one: safe_mode loading, meta.json,
the generic metrics. The training settings the loop used are recorded under meta.json "training".
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path


def save(prefix: str, out, run: dict, latent_dim: int = 16, dataset: str = "fortunes", log=print):
    from ...bundle import save_bundle, update_bundle
    from ...data import dataset_spec
    from ... import metrics
    from ...model import VAE
    from . import MODALITY

    ds = MODALITY.load_dataset(dataset)
    spec = MODALITY.spec_for(ds, {})
    model = VAE(modality="text", latent_dim=latent_dim, num_classes=len(ds.class_names), **spec.to_dict())
    model.encoder.load_weights(f"{prefix}.encoder.weights.h5")
    model.decoder.load_weights(f"{prefix}.decoder.weights.h5")
    info = {"modality": "text", "dataset": ds.name, "dataset_spec": dataset_spec(dataset), "source": ds.source,
            "class_names": ds.class_names, "splits": {"train": int(len(ds.x_train)), "test": int(len(ds.x_test))},
            "skipped_files": ds.skipped, "data_options": {"seed": 0, "stratify": True},
            "corpus": ds.corpus_counts,
            "training": {"loop": "python -m vae.modalities.text.remedies (standalone, Adam, clipnorm 5)", **run}}
    save_bundle(out, model, info, {})
    figures = metrics.evaluate(model, ds.x_test, ds.y_test, ds.x_train, ds.y_train, iwae_k=0, seed=0)
    update_bundle(out, meta_updates={"metrics": figures})
    log(json.dumps(figures))
    return figures


def main(argv=None) -> int:
    from .remedies import REMEDIES, Run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("prefix")
    p.add_argument("--out", required=True)
    p.add_argument("--remedy", default="anneal+dropout+freebits", choices=list(REMEDIES))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--warmup", type=int, default=0)
    args = p.parse_args(argv)
    schedule, free_bits, dropout = REMEDIES[args.remedy]
    run = {**dataclasses.asdict(Run(args.remedy, args.steps, warmup=args.warmup)), "kl_schedule": schedule,
           "free_bits": free_bits, "token_dropout": dropout}
    save(args.prefix, Path(args.out), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
