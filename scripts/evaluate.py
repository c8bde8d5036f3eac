"""Score a bundle on its dataset's test split and store the figures in its meta.json.

    python scripts/evaluate.py pretrained/fashion_mnist
    python scripts/evaluate.py pretrained/fashion_mnist --iwae-k 1000 --iwae-points 500
    python scripts/evaluate.py pretrained/mine --dataset folder:/new/place/my_images   # the data moved
    python scripts/evaluate.py runs/binary_flat --binarized     # the literature's protocol: k = 5000, all test images

Figures: -ELBO (nats per image) with its reconstruction and KL parts, the importance-weighted bound
(IWAE, k samples on a seeded subset), active units (Cov over the test set of posterior means > 0.01,
Burda et al.), 10-NN accuracy on posterior means (fit on train, score on test) with its chance level
(guessing with the training split's class frequencies), reconstruction MSE.

--binarized scores on the standard density-estimation protocol instead: the bundle's grey dataset's test split
binarised once with a fixed seed (vae.modalities.image.datasets.binarized), IWAE with k = 5000 on every test
image unless --iwae-k / --iwae-points say otherwise; its figures are stored apart, under metrics "binarized".
A bundle trained with --dataset binarized_fashion_mnist saw the training side of that protocol (dynamic
binarisation); one trained on grey pixels is scored on black-and-white images it never saw.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.errors import VAEError  # noqa: E402

ROWS = [("neg_elbo", "-ELBO (nats each)", ".2f"), ("reconstruction", "  reconstruction", ".2f"),
        ("kl", "  KL", ".2f"), ("iwae_nll", "IWAE -log p(x) bound", ".2f"), ("active_units", "active units", "d"),
        ("knn_accuracy", "10-NN accuracy", ".4f"), ("knn_chance", "  chance (random guess)", ".4f"), ("reconstruction_mse", "reconstruction MSE", ".5f"),
        ("reconstruction_distance", "reconstruction distance", ".5f")]


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def table(figures: dict) -> str:
    lines = [f"{label:24s} {format(figures[key], fmt)}" for key, label, fmt in ROWS if key in figures]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # one line for a bad argument, not the usage dump: "error: ... (python scripts/evaluate.py --help)"
    p.error = lambda message: p.exit(2, f"error: {message} (see python scripts/evaluate.py --help).\n")
    p.add_argument("bundle")
    p.add_argument("--iwae-k", type=int, default=None, help="importance samples per image (0: skip; default 1000, "
                   "5000 with --binarized)")
    p.add_argument("--iwae-points", type=int, default=None, help="test images in the IWAE subset (default 500, all "
                   "with --binarized)")
    p.add_argument("--binarized", action="store_true", help="the density-estimation protocol: the test split binarised "
                   "once (fixed seed), k = 5000 on all of it")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dataset", default=None, metavar="SPEC",
                   help="where the bundle's data is now, if it moved (folder:PATH or npz:PATH; default: where it was trained)")
    args = p.parse_args(argv)
    if args.iwae_k is None:
        args.iwae_k = 5000 if args.binarized else 1000
    if args.iwae_points is None:
        args.iwae_points = 10 ** 9 if args.binarized else 500
    if args.iwae_k < 0 or args.iwae_points < 0:
        p.error("--iwae-k and --iwae-points must be >= 0")
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    from vae import load_bundle
    from vae.store import update_bundle
    from vae.data import bundle_dataset

    try:
        bundle = load_bundle(args.bundle)
        from vae.metrics import evaluate
        meta = bundle.meta
        ds = bundle_dataset(meta, args.dataset)
        if args.binarized:
            ds = _binarized(ds)
        if ds.example_shape != bundle.input_shape:
            raise VAEError(f"The dataset's examples are {ds.example_shape} but the bundle expects {bundle.input_shape}.")
        t0 = time.perf_counter()
        figures = evaluate(bundle.model, ds.x_test, ds.y_test, ds.x_train, ds.y_train,
                           iwae_k=args.iwae_k, iwae_points=args.iwae_points, seed=args.seed)
        figures["evaluate_seconds"] = round(time.perf_counter() - t0, 1)
        if args.binarized:
            figures = {"binarized": {**figures, "protocol": f"{ds.name} test split binarised once (seed "
                                     f"{_test_seed()}); IWAE k = {args.iwae_k} on {figures.get('iwae_points', 0):,} "
                                     f"of {len(ds.x_test):,} images"}}
        update_bundle(args.bundle, meta_updates={"metrics": {**(meta.get("metrics") or {}), **figures}})
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    noun = bundle.modality.noun
    print(f"{bundle.name} on {ds.name} test split ({len(ds.x_test):,} {noun if len(ds.x_test) == 1 else _plural(noun)})")
    if args.binarized:
        print(figures["binarized"]["protocol"])
        figures = figures["binarized"]
    print(table(figures))
    return 0


def _test_seed() -> int:
    from vae.modalities.image.datasets import BINARIZE_TEST_SEED

    return BINARIZE_TEST_SEED


def _binarized(ds):
    """The dataset under the binarised protocol (a binarized_* dataset as it is)."""
    from vae.modalities.image import datasets

    if ds.name.startswith("binarized_"):
        return ds
    if ds.x_test.ndim != 4 or ds.x_test.shape[-1] != 1:
        raise VAEError(f"--binarized needs grey images; {ds.name} is not: leave --binarized out.")
    return datasets.binarized(ds)


if __name__ == "__main__":
    sys.exit(main())
