"""Wrap a Keras encoder and decoder trained elsewhere (e.g. the keras-io VAE example) as a bundle.

    python scripts/import_model.py --encoder enc.keras --decoder dec.keras --dataset digits --out pretrained/mine
    python scripts/precompute.py pretrained/mine
    streamlit run app.py -- --bundle pretrained/mine

The encoder must give the posterior mean and log-variance (chosen by output name or position; other
outputs such as the sampled z are cut off), the decoder one image of logits or sigmoid probabilities
(detected from its last layer, or say which). Custom layer classes that stay in use are read from the
Python files given with --custom-layers; set VAE_CUSTOM_LAYERS to the same files for precompute,
evaluate and the app. Everything loads with Keras safe_mode=True.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.errors import VAEError  # noqa: E402


def _numbers(text: str, count: int, kind, flag: str, p) -> tuple:
    try:
        values = tuple(kind(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        p.error(f"{flag} takes {count} comma-separated numbers, got {text[:40]!r}")
    return values


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.error = lambda message: p.exit(2, f"error: {message} (see python scripts/import_model.py --help).\n")
    p.add_argument("--encoder", required=True, help="the encoder's .keras file: image -> [z_mean, z_log_var, ...]")
    p.add_argument("--decoder", required=True, help="the decoder's .keras file: z -> image")
    p.add_argument("--dataset", required=True, help="its data: digits, mnist, fashion_mnist, folder:PATH or npz:PATH")
    p.add_argument("--out", required=True, help="the bundle folder to write, e.g. pretrained/mine")
    p.add_argument("--mean-output", help="the encoder output that is the posterior mean, by name or position "
                                         "(default: one named z_mean or mean, else 0)")
    p.add_argument("--logvar-output", help="the encoder output that is the log-variance, by name or position "
                                           "(default: one named z_log_var or log_var, else 1)")
    p.add_argument("--decoder-output", choices=["auto", "logits", "probabilities"], default="auto",
                   help="what the decoder gives; auto: probabilities after a sigmoid, logits after no activation")
    p.add_argument("--input-range", default="0,1", help="the pixel range the encoder was trained on: LOW,HIGH")
    p.add_argument("--image-shape", help="H,W,C when the encoder takes flattened images")
    p.add_argument("--custom-layers", action="append", default=[], metavar="FILE.py",
                   help="a Python file defining custom layer classes the networks use (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/test split for folder: and npz: data")
    args = p.parse_args(argv)
    args.input_range = _numbers(args.input_range, 2, float, "--input-range", p)
    if not args.input_range[0] < args.input_range[1]:
        p.error(f"--input-range must be LOW,HIGH with LOW < HIGH, got {args.input_range}")
    if args.image_shape is not None:
        args.image_shape = _numbers(args.image_shape, 3, int, "--image-shape", p)
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from vae.importer import import_pair

    try:
        meta = import_pair(args.encoder, args.decoder, args.dataset, args.out, args.mean_output, args.logvar_output,
                           args.decoder_output, args.input_range, args.image_shape, args.custom_layers, args.seed)
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    imp = meta["imported"]
    print(f"Imported into {args.out}: latent size {meta['latent_dim']}, images {tuple(meta['image_shape'])}, "
          f"data {meta['dataset']}.")
    print(f"  encoder outputs kept: {imp['mean_output']} (mean), {imp['logvar_output']} (log-variance); cut off: "
          f"{', '.join(imp['dropped_outputs']) or 'none'}")
    print(f"  decoder gives {imp['decoder_output']} ({imp['decoder_output_decided_by']})")
    env = f"VAE_CUSTOM_LAYERS={os.pathsep.join(imp['custom_layer_files'])} " if imp["custom_layers"] else ""
    print(f"Now: {env}python scripts/precompute.py {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
