"""Train a VAE and write a bundle the app can open.

    python scripts/train.py --dataset fashion_mnist --latent-dim 16 --epochs 30 --out pretrained/my_model
    python scripts/train.py --dataset folder:~/my_images --image-size 64 --channels 3 --out pretrained/mine
    python scripts/train.py --modality melody --dataset folk --out pretrained/folk_melodies
    python scripts/train.py --out pretrained/my_model --resume        # continue a killed run

Then `python scripts/precompute.py pretrained/my_model` and `streamlit run app.py`. The options are built
from vae.training.TrainConfig and from the chosen modality's settings (`--modality NAME --help` lists them).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae import modalities  # noqa: E402
from vae.cli import add_options, given, one_line_errors  # noqa: E402
from vae.errors import VAEError  # noqa: E402
from vae.train_config import TrainConfig, option_fields  # noqa: E402  (no TensorFlow: settings checked first)

RESUMABLE = ("epochs", "lr", "lr_schedule")  # with --resume: the run's own value unless given


def parse_args(argv=None) -> argparse.Namespace:
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--modality", default="image")
    name = first.parse_known_args(argv)[0].modality
    p = one_line_errors(argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                                formatter_class=argparse.ArgumentDefaultsHelpFormatter),
                        "scripts/train.py")
    if name not in modalities.names():
        p.error(f"--modality must be one of {', '.join(modalities.names())}, got {name[:40]}")
    add_options(p.add_argument_group("training"), dataclasses.fields(TrainConfig), defaults_none=RESUMABLE)
    options = option_fields(modalities.get(name))
    add_options(p.add_argument_group(f"{name} settings"), options.values(), defaults_none=options)
    p.add_argument("--out", default=None, help="bundle folder to write (default: pretrained/<dataset>)")
    p.add_argument("--run-dir", default=None, help="checkpoints and logs (default: runs/<bundle name>)")
    p.add_argument("--resume", action="store_true", help="continue from the last completed epoch in --run-dir")
    p.add_argument("--restart", action="store_true", help="start again even though --run-dir holds an unfinished run "
                   "(its checkpoints are replaced)")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to <run-dir>/tensorboard")
    p.add_argument("--no-evaluate", dest="evaluate", action="store_false", help="skip the test-set figures at the end")
    p.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    args = p.parse_args(argv)
    try:  # every check of the settings, before TensorFlow's import and any data is read
        args.config = config_from(args, name)
    except VAEError as exc:
        p.error(str(exc).rstrip("."))
    return args


def config_from(args, name: str) -> TrainConfig:
    options = given(args, option_fields(modalities.get(name)).values())
    return TrainConfig(**given(args, dataclasses.fields(TrainConfig)), options=options)


def main(argv=None) -> int:
    args = parse_args(argv)
    from vae.store import check_out
    from vae.training import run

    out = Path(args.out or Path("pretrained") / args.config.dataset.split(":")[-1].rstrip("/").split("/")[-1])
    run_dir = Path(args.run_dir or Path("runs") / out.name)
    given = {k: getattr(args, k) for k in RESUMABLE if getattr(args, k) is not None}
    try:
        check_out(out)  # before TensorFlow's import and training: --out must be new, empty or a bundle
        run(args.config, out, run_dir, resume=args.resume, restart=args.restart, given=given,
            evaluate=args.evaluate, verbose=2 if (args.quiet or not sys.stdout.isatty()) else 1,
            tensorboard=args.tensorboard, log=print)
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nStopped. Continue with: python scripts/train.py --out {out} --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
