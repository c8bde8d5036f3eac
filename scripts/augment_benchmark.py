"""Generated data as augmentation on Fashion-MNIST: a small CNN on k real images per class, with and without it.

    python scripts/augment_benchmark.py --out runs/augment.json               # the full table (resumes)
    python scripts/augment_benchmark.py --out /tmp/a.json --k 10 --seeds 1    # one quick row group
    python scripts/augment_benchmark.py --out runs/augment.json --table       # print the table of what is done

Each finished run is appended to the JSON file at once, so a killed run resumes where it stopped
(rows already there are skipped). Runs go k by k, seed by seed, so the low-data rows finish first.
See vae/augment.py for the conditions and the fixed step budget.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.augment import CONDITIONS, markdown_table  # noqa: E402
from vae.files import atomic_write_json  # noqa: E402
from vae.errors import VAEError  # noqa: E402

KS = (10, 50, 100, 500, 6000)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="JSON file of result rows (created, or resumed)")
    p.add_argument("--bundle", default="pretrained/fashion_mnist", help="unconditional bundle trained on the dataset")
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--k", type=int, nargs="+", default=list(KS), help="real training images per class")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1")
    p.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS), metavar="NAME")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: vae.augment.steps_for)")
    p.add_argument("--test-limit", type=int, default=None, help="score on the first N test images only")
    p.add_argument("--table", action="store_true", help="print the table of the rows in --out and stop")
    return p.parse_args(argv)


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text())["rows"])
    except (ValueError, KeyError, TypeError) as exc:
        raise VAEError(f"{path} is not a results file of this script: give a new --out path.") from exc


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args, argv)
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run(args, argv=None) -> int:
    """The benchmark itself; argv None: the command line is recorded with the results."""
    rows = read_rows(args.out)
    if args.table:
        print(markdown_table(rows, args.seeds))
        return 0
    from vae.bundle import load_bundle
    from vae.store import package_versions
    from vae.data import load_dataset

    bundle = load_bundle(args.bundle)
    data = load_dataset(args.dataset)
    header = {"command": "python " + " ".join([sys.argv[0], *sys.argv[1:]]) if argv is None else "",
              "bundle": str(args.bundle), "dataset": args.dataset, "machine": f"{platform.machine()}, "
              f"{os.cpu_count()} CPUs, {platform.platform()}", "versions": package_versions()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["k"], r["seed"], r["condition"]) for r in rows}
    from vae.augment import experiment

    for k in args.k:
        for seed in range(args.seeds):
            todo = [c for c in args.conditions if (k, seed, c) not in done]
            if not todo:
                continue
            for row in experiment(bundle, data, k, seed, todo, steps=args.steps, test_limit=args.test_limit):
                row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                rows.append(row)
                atomic_write_json(args.out, {**header, "rows": rows})
                print(f"k={k} seed={seed} {row['condition']}: {100 * row['accuracy']:.2f}% ({row['seconds']} s)", flush=True)
    print(markdown_table(rows, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
