"""Encode a dataset split and store everything the app shows in the bundle (no dataset needed afterwards).

    python scripts/precompute.py pretrained/fashion_mnist                     # test split, 10,000 points
    python scripts/precompute.py pretrained/fashion_mnist --split all         # all 70,000
    python scripts/precompute.py /tmp/b --max-points 2000 --no-umap           # a quick look
    python scripts/precompute.py pretrained/mine --dataset folder:/new/place/my_images   # the data moved

The pipeline is vae.precompute (options from its Settings); each step's time is printed at the end and
kept in meta.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.cli import add_options, given, one_line_errors  # noqa: E402
from vae.errors import VAEError  # noqa: E402
from vae.precompute import CPU_SECONDS, Settings, app_command, precompute  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = one_line_errors(argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                                formatter_class=argparse.ArgumentDefaultsHelpFormatter),
                        "scripts/precompute.py")
    p.add_argument("bundle", help="bundle folder written by scripts/train.py")
    add_options(p, dataclasses.fields(Settings))
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    try:
        args.settings = Settings(**given(args, dataclasses.fields(Settings)))
    except VAEError as exc:
        p.error(str(exc).rstrip("."))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        timings, notes = precompute(args.bundle, args.settings, progress=not args.no_progress)
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(note)
    print(f"\n{'step':<24} {'seconds':>9} {'CPU s':>9}")
    for step, seconds in timings.items():
        print(f"{step:<24} {seconds:>9.2f} {CPU_SECONDS.get(step, float('nan')):>9.2f}")
    print(f"\nSaved into {args.bundle}. Now: {app_command(args.bundle)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
