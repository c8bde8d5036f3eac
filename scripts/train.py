"""Train a VAE and write a bundle the app can open.

    python scripts/train.py --dataset fashion_mnist --latent-dim 16 --epochs 30 --out pretrained/my_model
    python scripts/train.py --dataset folder:~/my_images --image-size 64 --channels 3 --out pretrained/mine
    python scripts/train.py --out pretrained/my_model --resume        # continue a killed run

Then `python scripts/precompute.py pretrained/my_model` and `streamlit run app.py`.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vae.errors import VAEError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # one line for a bad argument, not the usage dump: "error: ... (python scripts/train.py --help)"
    p.error = lambda message: p.exit(2, f"error: {message} (see python scripts/train.py --help).\n")
    p.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist, mnist, digits, folder:PATH or npz:PATH")
    p.add_argument("--out", default=None, help="bundle folder to write (default: pretrained/<dataset>)")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--epochs", type=int, default=None, help="epochs in all (default 30; with --resume: the run's own)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate of Adam (default 2e-3; with --resume: "
                   "the run's own unless given, e.g. lower after a divergence)")
    p.add_argument("--lr-schedule", choices=["cosine", "constant"], default=None, help="default cosine; with --resume: the run's own")
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (beta-VAE)")
    p.add_argument("--kl-warmup", type=float, default=0.0,
                   help="epochs over which beta ramps up from 0 (KL annealing: fewer collapsed latent units)")
    p.add_argument("--conditional", action="store_true", help="condition encoder and decoder on the class label")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--base-filters", type=int, default=32, help="filters of the first conv stage (doubling per stage)")
    p.add_argument("--hidden-units", type=int, default=256, help="dense layer between convs and latent (0: none)")
    p.add_argument("--convs-per-stage", type=int, default=1)
    p.add_argument("--val-fraction", type=float, default=0.1, help="part of the training split held out for validation")
    p.add_argument("--max-train", type=int, default=None, help="train on the first N images only (quick runs)")
    p.add_argument("--image-size", type=int, default=None, help="folder datasets: resize images to this square size (default 64)")
    p.add_argument("--channels", type=int, choices=[1, 3], default=None, help="folder datasets: 1 grey, 3 RGB (default: detect)")
    p.add_argument("--run-dir", default=None, help="checkpoints and logs (default: runs/<bundle name>)")
    p.add_argument("--resume", action="store_true", help="continue from the last completed epoch in --run-dir")
    p.add_argument("--restart", action="store_true", help="start again even though --run-dir holds an unfinished run "
                   "(its checkpoints are replaced)")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to <run-dir>/tensorboard")
    p.add_argument("--strategy", choices=["default", "mirrored"], default="default",
                   help="mirrored: tf.distribute.MirroredStrategy over all GPUs (works on one CPU too)")
    p.add_argument("--jit", dest="jit_compile", action="store_true", help="compile training steps with XLA")
    p.add_argument("--no-evaluate", dest="evaluate", action="store_false", help="skip the test-set figures at the end")
    p.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    args = p.parse_args(argv)
    if not 1 <= args.latent_dim <= 4096:
        p.error(f"--latent-dim must be between 1 and 4096, got {args.latent_dim}")
    if not 0 <= args.beta < float("inf"):  # also refuses nan
        p.error(f"--beta must be a finite number >= 0, got {args.beta}")
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    if args.epochs is not None and args.epochs < 1:
        p.error(f"--epochs must be at least 1, got {args.epochs}")
    from vae.limits import MAX_SIDE, model_size_problem  # no TensorFlow: absurd sizes are refused at once

    if args.image_size is not None and not 4 <= args.image_size <= MAX_SIDE:
        p.error(f"--image-size must be between 4 and {MAX_SIDE}, got {args.image_size}")
    side = args.image_size or 4  # the weight count's lower bound until the images are read
    size = model_size_problem((side, side, args.channels or 1), args.latent_dim, base_filters=args.base_filters,
                              hidden_units=args.hidden_units, convs_per_stage=args.convs_per_stage)
    if size:
        p.error(size)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from vae.bundle import check_out, save_bundle, update_bundle

    out = Path(args.out or Path("pretrained") / args.dataset.split(":")[-1].rstrip("/").split("/")[-1])
    run_dir = Path(args.run_dir or Path("runs") / out.name)
    try:
        check_out(out)  # before TensorFlow's import and training: --out must be new, empty or a bundle
        from vae.training import TrainConfig, train

        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
        if args.resume:
            from vae.training import load_state

            state = load_state(run_dir)
            if state:  # the run's own settings win, except --epochs, --lr and --lr-schedule when given
                given = {k: getattr(args, k) for k in ("epochs", "lr", "lr_schedule") if getattr(args, k) is not None}
                cfg = TrainConfig(**{**state["config"], **given})
                print(f"Resuming {run_dir} after epoch {state['epoch']} of {cfg.epochs}.")
        elif not args.restart:
            from vae.training import load_state

            try:
                state = load_state(run_dir)
            except VAEError:
                state = None  # a damaged run cannot be resumed anyway: the fresh start replaces it
            if state and state["epoch"] < state["config"].get("epochs", 0):
                raise VAEError(f"{run_dir} holds an unfinished run (epoch {state['epoch']} of "
                               f"{state['config']['epochs']}): continue it with --resume, or start again with --restart.")
        verbose = 2 if (args.quiet or not sys.stdout.isatty()) else 1
        model, history, info = train(cfg, run_dir, resume=args.resume, verbose=verbose, tensorboard=args.tensorboard)
        save_bundle(out, model, info, history)
        print(f"Saved bundle {out} ({info['training']['epochs_done']} epochs, best validation loss "
              f"{info['training']['best_val_loss']:.2f} nats).")
        if args.evaluate:
            from vae.metrics import negative_elbo, encode_means, knn_accuracy, knn_chance
            from vae.data import load_dataset

            ds = load_dataset(cfg.dataset, **cfg.data_options())
            y_te = ds.y_test if cfg.conditional else None
            figures = negative_elbo(model, ds.x_test, y_te)
            te, _ = encode_means(model, ds.x_test, y_te)
            tr, _ = encode_means(model, ds.x_train, ds.y_train if cfg.conditional else None)
            figures["knn_accuracy"] = knn_accuracy(tr, ds.y_train, te, ds.y_test)
            figures["knn_chance"] = knn_chance(ds.y_train, ds.y_test)
            update_bundle(out, meta_updates={"metrics": figures})
            print(f"Test -ELBO {figures['neg_elbo']:.2f} nats (reconstruction {figures['reconstruction']:.2f}, "
                  f"KL {figures['kl']:.2f}); 10-NN accuracy {figures['knn_accuracy']:.3f} "
                  f"(chance {figures['knn_chance']:.3f}). "
                  f"Full figures: python scripts/evaluate.py {out}")
        print(f"Next: python scripts/precompute.py {out}")
    except VAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nStopped. Continue with: python scripts/train.py --out {out} --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
