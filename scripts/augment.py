"""Generate a labelled dataset from a bundle, in the formats the project reads (npz: and folder:).

    python scripts/augment.py pretrained/fashion_mnist --per-class 500 --out runs/generated.npz
    python scripts/augment.py pretrained/fashion_mnist --per-class 100 --out runs/generated --seed 3
    python scripts/train.py --dataset npz:runs/generated.npz ...           # read it back like any dataset

Sources: region (default: sample around each class's precomputed encodings), conditional (the prior
with the class as the decoder's input; conditional bundles), prior (unlabelled). The bundle, the
settings, the seed and the date are written beside the output (NAME.json, or generation.json inside
a folder). See vae/generate.py and vae/export.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.errors import VAEError  # noqa: E402
from vae.generate import REGION_KINDS, SOURCES  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("bundle", type=Path, help="a bundle folder (precomputed, for --source region)")
    p.add_argument("--per-class", type=int, required=True, help="samples per class (prior: per class of the bundle, in all)")
    p.add_argument("--out", type=Path, required=True, help="PATH.npz, or a folder to create (class folders of PNGs)")
    p.add_argument("--source", choices=SOURCES, default="region")
    p.add_argument("--region", choices=REGION_KINDS, default="gaussian", help="how a class's region is fitted")
    p.add_argument("--temperature", type=float, default=1.0, help="scales the spread of the samples")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run(args) -> int:
    from vae import load_bundle
    from vae.export import record, write_dataset
    from vae.generate import bundle_regions, draw

    bundle = load_bundle(args.bundle)
    regions = bundle_regions(bundle, args.region) if args.source == "region" else None
    images, labels, _ = draw(bundle, args.source, per_class=args.per_class, temperature=args.temperature,
                             seed=args.seed, regions=regions)
    settings = {"source": args.source, "per_class": args.per_class, "temperature": args.temperature}
    if args.source == "region":
        settings["region"] = args.region
    out = write_dataset(args.out, images, labels, bundle.class_names, record(bundle, settings, args.seed, labels))
    kind = "npz" if out.suffix.lower() == ".npz" else "folder"
    print(f"Wrote {len(labels):,} samples to {out}; read them back as --dataset {kind}:{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
