"""Encode a dataset split and store everything the app shows in the bundle (no dataset needed afterwards).

    python scripts/precompute.py pretrained/fashion_mnist                     # test split, 10,000 points
    python scripts/precompute.py pretrained/fashion_mnist --split all         # all 70,000
    python scripts/precompute.py /tmp/b --max-points 2000 --no-umap           # a quick look
    python scripts/precompute.py pretrained/mine --dataset folder:/new/place/my_images   # the data moved

Stores posterior means and log-variances, labels, the images (uint8), reconstruction errors, measured
attributes, PCA / t-SNE / UMAP maps with their inverses, class and attribute directions with their
fit and edit fidelity; see vae/precomputed.py for the layout. Each step's time is printed at the end
and kept in meta.json.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from vae.errors import VAEError  # noqa: E402

BATCH = 1024
MAX_FIT = 20000         # directions and the class probe are fitted on at most this many points
FIDELITY_POINTS = 128   # encodings moved along each attribute direction
FIDELITY_STEPS = 9
FIDELITY_SPAN = 2.0     # in standard deviations of the encodings along the direction
MAX_PAIR_CLASSES = 20   # class-to-class directions only up to this many classes (n^2 of them)
UMAP_NEIGHBOURS = 15
UMAP_SEEDED_MAX = 20000  # above this many points UMAP runs unseeded, on all cores
COLLAPSED_STD = 1e-6    # encodings spread less than this in every dimension: one point, nothing to fit


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # one line for a bad argument, not the usage dump: "error: ... (python scripts/precompute.py --help)"
    p.error = lambda message: p.exit(2, f"error: {message} (see python scripts/precompute.py --help).\n")
    p.add_argument("bundle", help="bundle folder written by scripts/train.py")
    p.add_argument("--split", choices=["test", "train", "all"], default="test")
    p.add_argument("--max-points", type=int, default=None, help="a seeded random subset of the split")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    p.add_argument("--seed", type=int, default=0, help="seed of the subset, t-SNE, UMAP and the fits")
    p.add_argument("--tsne-backend", choices=["auto", "opentsne", "sklearn"], default="auto")
    p.add_argument("--no-tsne", action="store_true", help="skip t-SNE")
    p.add_argument("--no-umap", action="store_true", help="skip UMAP")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--dataset", default=None, metavar="SPEC",
                   help="where the bundle's data is now, if it moved (folder:PATH or npz:PATH; default: where it was trained)")
    args = p.parse_args(argv)
    if args.max_points is not None and args.max_points < 2:
        p.error(f"--max-points must be at least 2, got {args.max_points}")
    if not (args.perplexity > 0 and args.perplexity < float("inf")):
        p.error(f"--perplexity must be a positive number, got {args.perplexity}")
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    return args


CPU_SECONDS: dict[str, float] = {}  # step -> processor seconds of all this process's threads


@contextlib.contextmanager
def timed(timings: dict, step: str):
    """Record the wall time of the block, in seconds, as timings[step] (and its CPU time in CPU_SECONDS)."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    timings[step] = round(time.perf_counter() - start, 2)
    CPU_SECONDS[step] = round(time.process_time() - cpu, 2)


def batched(fn, x, desc: str, progress: bool, batch: int = BATCH):
    """fn over `x` in batches with a progress bar; results concatenated along the first axis."""
    parts = [fn(x[i:i + batch], i) for i in tqdm(range(0, len(x), batch), desc=desc, unit="batch", disable=not progress)]
    return [np.concatenate(p) for p in zip(*parts)] if isinstance(parts[0], tuple) else np.concatenate(parts)


def load_split(meta: dict, split: str, max_points: int | None, seed: int, dataset: str | None = None):
    from vae.data import bundle_dataset

    ds = bundle_dataset(meta, dataset)
    x, y = ds.split(split)
    index = np.arange(len(x))
    if max_points is not None and max_points < len(x):
        index = np.sort(np.random.default_rng(seed).choice(len(x), size=max_points, replace=False))
        x, y = x[index], y[index]
    return x, y.astype(np.int32), index


def reconstruction_errors(bundle, x, mean, labels, progress):
    """Per image: Bernoulli NLL of x under decode(mean) in nats, and mean squared error per pixel."""
    def one(xb, i):
        p = np.clip(bundle.decode(mean[i:i + len(xb)], labels[i:i + len(xb)] if bundle.conditional else None), 1e-6, 1 - 1e-6)
        t = xb.astype(np.float32) / 255.0
        bce = -(t * np.log(p) + (1 - t) * np.log1p(-p)).reshape(len(xb), -1).sum(1)
        return bce.astype(np.float32), ((p - t) ** 2).reshape(len(xb), -1).mean(1).astype(np.float32)
    return batched(one, x, "reconstruction errors", progress)


def fit_projections(mean, args, notes: list, progress: bool, timings: dict) -> dict:
    """PCA 2-D and 3-D; t-SNE and UMAP sharing one exact neighbour graph; the identity map for d = 2."""
    from vae.projection import IdentityProjection, PCAProjection, TSNEProjection, UMAPProjection, knn_graph

    d = mean.shape[1]
    maps = {}
    with timed(timings, "PCA"):
        for dims in (2, 3):
            if d >= dims:
                maps[f"pca{dims}"] = PCAProjection(dims).fit(mean)
    if d == 2:
        maps["latent"] = IdentityProjection().fit(mean)
        notes.append("t-SNE and UMAP skipped: the latent space is 2-D and is its own map ('latent').")
        return maps
    want_umap = not args.no_umap and UMAPProjection.available()
    if not args.no_umap and not want_umap:
        notes.append("UMAP skipped: umap-learn is not installed (pip install umap-learn).")
    knn = None
    if not args.no_tsne or want_umap:
        with timed(timings, "neighbour graph"):
            knn = knn_graph(mean, max(int(3 * args.perplexity), UMAP_NEIGHBOURS), progress=progress)
    if not args.no_tsne:
        with timed(timings, "t-SNE"):
            maps["tsne"] = TSNEProjection(args.perplexity, args.seed, args.tsne_backend, progress=progress).fit(mean, knn=knn)
    if want_umap:
        with timed(timings, "UMAP"):
            # a seed makes umap-learn single-threaded: on big maps speed wins over bit-for-bit repeatability
            seed = args.seed if len(mean) <= UMAP_SEEDED_MAX else None
            maps["umap"] = UMAPProjection(UMAP_NEIGHBOURS, seed=seed, progress=progress).fit(mean, knn=knn)
    return maps


def check_spread(mean) -> None:
    """Refuse encodings that are one point (a collapsed or dead encoder): no map or direction can be fitted."""
    spread = float(mean.std(0).max()) if mean.size else 0.0
    if not spread > COLLAPSED_STD:
        raise VAEError(f"The model encodes all {len(mean)} images to the same point (largest spread {spread:.1g}): "
                       "its encoder has collapsed, so there is no map or direction to compute; retrain it, e.g. with "
                       "--kl-warmup 5 or a lower --beta, and check its -ELBO with scripts/evaluate.py.")


def fit_directions(mean, labels, attributes, class_names, seed, progress, notes: list | None = None):
    """Class (one-versus-rest), class-to-class and attribute directions, plus a linear class probe.

    An attribute that does not vary over these points has no direction: skipped, with a note."""
    from vae import latent
    from vae.precomputed import Direction

    pick = np.arange(len(mean))
    if len(mean) > MAX_FIT:
        pick = np.random.default_rng(seed).choice(len(mean), MAX_FIT, replace=False)
    z, y = mean[pick], labels[pick]
    classes = [c for c in range(len(class_names)) if (y == c).sum() >= 2]
    directions, probe = [], {}
    if len(classes) >= 2:
        keep = np.isin(y, classes)
        clf = latent.linear_classifier(z[keep], y[keep], seed)
        train, test = latent.split_holdout(int(keep.sum()), 0.2, seed)
        held = latent.linear_classifier(z[keep][train], y[keep][train], seed)
        coef = np.zeros((len(class_names), z.shape[1]), np.float32)
        intercept = np.full(len(class_names), -1e9, np.float32)  # classes never seen are never predicted
        coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
        probe = {"coef": coef, "intercept": intercept,
                 "accuracy": float(np.mean(held.predict(z[keep][test]) == y[keep][test])), "held_out": int(len(test))}
        for c in tqdm(classes, desc="class directions", disable=not progress):
            v, fit = latent.class_direction(z, y, c, seed=seed)
            directions.append(Direction(f"class: {class_names[c]}", "class", v, {**fit, "target": int(c)}, {}))
        pairs = [(a, b) for a in classes for b in classes if a < b] if len(classes) <= MAX_PAIR_CLASSES else []
        for a, b in tqdm(pairs, desc="class-to-class directions", disable=not progress):
            v, fit = latent.class_direction(z, y, b, other=a, seed=seed)  # points from a towards b
            directions.append(Direction(f"{class_names[a]} -> {class_names[b]}", "class_pair", v,
                                        {**fit, "source": int(a), "target": int(b)}, {}))
            directions.append(Direction(f"{class_names[b]} -> {class_names[a]}", "class_pair", -v,
                                        {**fit, "source": int(b), "target": int(a)}, {}))
    for name, values in attributes.items():
        if not np.ptp(values[pick]) > 0:
            (notes if notes is not None else []).append(
                f"The {name} direction skipped: {name} is the same for all {len(pick)} images.")
            continue
        v, fit = latent.attribute_direction(z, values[pick], seed=seed)
        directions.append(Direction(name, "attribute", v, fit, {}))
    return directions, probe


def measure_fidelity(bundle, directions, mean, labels, probe, digits, invert, seed, progress) -> None:
    """Fill each attribute direction's fidelity: decode moved points and measure the attribute again."""
    from vae import attributes, latent

    predict = (lambda m: (m @ probe["coef"].T + probe["intercept"]).argmax(1)) if probe else None
    for direction in tqdm([x for x in directions if x.kind == "attribute"], desc="edit fidelity", disable=not progress):
        span = FIDELITY_SPAN * float(np.std(mean @ direction.vector))
        direction.fidelity = latent.edit_fidelity(
            bundle.decode, lambda imgs, n=direction.name: attributes.measure(imgs, digits, invert)[n], mean,
            direction.vector, span, FIDELITY_STEPS, FIDELITY_POINTS,
            encode=lambda imgs, *y: bundle.encode(imgs, *y)[0], probe=predict,
            labels=labels if bundle.conditional else None, seed=seed)


def measure_class_fidelity(bundle, directions, mean, labels, images, seed, progress) -> dict:
    """Fill each class direction's fidelity, judged by a pixel classifier that never saw the VAE.

    "class: X" moves points of the other classes, "A -> B" points of class A, FIDELITY_SPAN spreads
    either way; spearman is the rank correlation of the step with the judge's probability of the
    target class, reached the share of points the judge calls the target class at +span.
    Returns the judge's description (stored in meta.json)."""
    from vae import latent
    from vae.judge import PixelJudge

    chosen = [d for d in directions if d.kind in ("class", "class_pair") and "target" in d.fit]
    if not chosen:
        return {}
    pick = np.arange(len(images))
    if len(images) > MAX_FIT:
        pick = np.sort(np.random.default_rng(seed).choice(len(images), MAX_FIT, replace=False))
    judge = PixelJudge(seed=seed).fit(images[pick], labels[pick])
    info = {"judge": "PCA (50 components) + logistic regression on pixels", "accuracy": judge.accuracy,
            "held_out": judge.held_out, "fitted_on": int(len(pick) - judge.held_out)}
    for direction in tqdm(chosen, desc="class edit fidelity", disable=not progress):
        target = direction.fit["target"]
        start = labels == direction.fit["source"] if "source" in direction.fit else labels != target
        if not start.any():
            continue
        span = FIDELITY_SPAN * float(np.std(mean @ direction.vector))
        direction.fidelity = latent.edit_fidelity(
            bundle.decode, lambda imgs, t=target: judge.proba(imgs, t), mean[start], direction.vector, span,
            FIDELITY_STEPS, FIDELITY_POINTS, encode=lambda imgs, *y: imgs, probe=judge.predict,
            labels=labels[start] if bundle.conditional else None, seed=seed, target=target)
        direction.fidelity["judge_accuracy"] = judge.accuracy
    return info


def precompute(path, split="test", max_points=None, perplexity=30.0, seed=0, tsne_backend="auto",
               no_tsne=False, no_umap=False, progress=True, dataset=None) -> tuple[dict, list]:
    """Compute and store everything; returns the step timings in seconds and notes on skipped steps."""
    from vae import attributes as attrs
    from vae.bundle import load_bundle, sha256
    from vae.precomputed import Precomputed, save_precomputed

    if max_points is not None and max_points < 10:
        raise VAEError(f"--max-points must be at least 10, got {max_points}.")
    if not perplexity > 0:
        raise VAEError(f"--perplexity must be a positive number, got {perplexity}.")
    args = argparse.Namespace(perplexity=perplexity, seed=seed, tsne_backend=tsne_backend, no_tsne=no_tsne, no_umap=no_umap)
    timings, notes, total, cpu_total = {}, [], time.perf_counter(), time.process_time()
    with timed(timings, "load bundle and data"):
        bundle = load_bundle(path)
        meta = bundle.meta
        if "dataset" not in meta:
            raise VAEError(f"meta.json in {path} names no dataset: retrain the bundle with scripts/train.py.")
        x, labels, index = load_split(meta, split, max_points, seed, dataset)
        if x.shape[1:] != bundle.image_shape:
            raise VAEError(f"The {meta['dataset']} images are {x.shape[1:]} but the model expects {bundle.image_shape}: "
                           "give the bundle's dataset options (image size, channels) when training.")
    class_names = list(bundle.class_names)
    with timed(timings, "encode"):
        cond = labels if bundle.conditional else None
        mean, logvar = batched(lambda xb, i: bundle.encode(xb, None if cond is None else cond[i:i + len(xb)]),
                               x, f"encode {len(x)} images", progress)
    check_spread(mean)
    with timed(timings, "reconstruction errors"):
        recon_error, recon_mse = reconstruction_errors(bundle, x, mean, labels, progress)
    with timed(timings, "attributes"):
        digits = attrs.is_digit_dataset(meta["dataset"], class_names)
        invert = attrs.background_is_light(x)
        measured = {}
        for start in tqdm(range(0, len(x), attrs.CHUNK), desc="attributes", disable=not progress):
            for k, v in attrs.measure(x[start:start + attrs.CHUNK], digits, invert).items():
                measured.setdefault(k, []).append(v)
        measured = {k: np.concatenate(v) for k, v in measured.items()}
    maps = fit_projections(mean, args, notes, progress, timings)
    with timed(timings, "directions"):
        directions, probe = fit_directions(mean, labels, measured, class_names, seed, progress, notes)
    with timed(timings, "edit fidelity"):
        measure_fidelity(bundle, directions, mean, labels, probe, digits, invert, seed, progress)
    with timed(timings, "class edit fidelity"):
        judge = measure_class_fidelity(bundle, directions, mean, labels, x, seed, progress)
    kl = 0.5 * (mean.astype(np.float64) ** 2 + np.exp(logvar) - 1.0 - logvar)  # (N, d) closed form
    info = {"dataset": meta["dataset"], "seed": seed, "index_of": f"rows of load_dataset(...).split({split!r})", "skipped": notes, "model_sha256": sha256(bundle.path / "model.keras"),
            "attribute_options": {"digits": digits, "invert": invert, "threshold": attrs.THRESHOLD},
            "recon_error_unit": "nats (Bernoulli negative log-likelihood of the image under decode(mean))",
            "fidelity_settings": {"points": FIDELITY_POINTS, "steps": FIDELITY_STEPS, "span_std": FIDELITY_SPAN},
            "class_judge": judge}
    pre = Precomputed(split=split, mean=mean, logvar=logvar, labels=labels, images=x, recon_error=recon_error,
                      attributes=measured, attribute_info={k: attrs.INFO[k] for k in measured}, projections=maps,
                      directions=directions, latent_std=mean.std(0), kl_per_dim=kl.mean(0).astype(np.float32),
                      info=info, missing=[], index=index, recon_mse=recon_mse, class_probe=probe)
    with timed(timings, "save"):
        save_precomputed(path, pre, {"timings": {**timings, "total": round(time.perf_counter() - total, 2)},
                                     "cpu_seconds": {**{k: CPU_SECONDS[k] for k in timings},
                                                     "total": round(time.process_time() - cpu_total, 2)},
                                     "load_average": round(os.getloadavg()[0], 2)})
    timings["total"] = round(time.perf_counter() - total, 2)
    CPU_SECONDS["total"] = round(time.process_time() - cpu_total, 2)
    return timings, notes



def app_command(bundle) -> str:
    """The command that opens this bundle: shipped bundles (directly inside pretrained/) are in the picker."""
    path = Path(bundle).expanduser().resolve()
    if path.parent == (Path(__file__).resolve().parent.parent / "pretrained").resolve():
        return f"streamlit run app.py  (pick {path.name} in the sidebar)"
    return f"streamlit run app.py -- --bundle {path}"

def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        timings, notes = precompute(args.bundle, args.split, args.max_points, args.perplexity, args.seed,
                                    args.tsne_backend, args.no_tsne, args.no_umap, progress=not args.no_progress,
                                    dataset=args.dataset)
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
