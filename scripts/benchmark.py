"""Benchmarks, each measured against a reference in the same run; results go to BENCHMARKS.md by hand.

    python scripts/benchmark.py --decode pretrained/fashion_mnist
    python scripts/benchmark.py --train                      # time to quality vs the tutorial recipe (~5 min)
    python scripts/benchmark.py --precompute pretrained/fashion_mnist   # test split and all 70,000 (~6 min)

Each section prints a small table and, with --json FILE, adds its figures to that file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# decode latency ------------------------------------------------------------------------------

def bench_decode(bundle_path: str, repeats: int = 300) -> dict:
    """Bundle.decode (compiled) against model.predict and a plain eager call, one vector and 256."""
    import numpy as np

    from vae import load_bundle

    b = load_bundle(bundle_path)
    rng = np.random.default_rng(0)
    one = rng.normal(size=(1, b.latent_dim)).astype(np.float32)
    batch = rng.normal(size=(256, b.latent_dim)).astype(np.float32)
    labels1 = np.zeros(1, np.int32) if b.conditional else None
    labels256 = np.zeros(256, np.int32) if b.conditional else None
    decoder = b.model.decoder
    inputs1 = [one, np.eye(b.model.config.num_classes, dtype=np.float32)[labels1]] if b.conditional else one
    inputs256 = [batch, np.eye(b.model.config.num_classes, dtype=np.float32)[labels256]] if b.conditional else batch
    for _ in range(5):  # warm every path
        b.decode(one, labels1), b.decode(batch, labels256), decoder.predict(inputs1, verbose=0), decoder(inputs1)
    out = {"bundle": bundle_path, "repeats": repeats}
    out["one_ms"] = {"Bundle.decode": _median_ms(lambda: b.decode(one, labels1), repeats),
                     "eager decoder call": _median_ms(lambda: decoder(inputs1), repeats),
                     "model.predict": _median_ms(lambda: decoder.predict(inputs1, verbose=0), max(30, repeats // 10))}
    out["batch256_ms"] = {"Bundle.decode": _median_ms(lambda: b.decode(batch, labels256), max(30, repeats // 5)),
                          "model.predict": _median_ms(lambda: decoder.predict(inputs256, verbose=0), 30)}
    print(f"\nDecode latency, median ms ({bundle_path}, {machine()})")
    print(f"{'path':22s} {'1 vector':>10s} {'256 vectors':>12s}")
    for path in out["one_ms"]:
        print(f"{path:22s} {out['one_ms'][path]:10.3f} {out['batch256_ms'].get(path, float('nan')):12.2f}")
    ratio = out["one_ms"]["model.predict"] / out["one_ms"]["Bundle.decode"]
    out["speedup_vs_predict"] = ratio
    print(f"Bundle.decode is {ratio:.0f}x faster than model.predict for one vector.")
    return out


# training time to quality --------------------------------------------------------------------

def bench_train(ours_epochs: int | None = None) -> dict:
    """scripts/time_to_quality.py: both recipes in this process, scored the same way after each epoch."""
    from scripts.time_to_quality import main as time_to_quality

    args = ["--ours-epochs", str(ours_epochs)] if ours_epochs else []
    return time_to_quality(args)


# precompute: end to end, t-SNE libraries, loading -------------------------------------------

def _run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """Run a command; its wall seconds, its peak resident memory in MiB (from wait4) and exit code."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(err[-2000:], file=sys.stderr)
    return seconds, usage.ru_maxrss / 1024, code  # ru_maxrss is in KiB on Linux


def bench_precompute(bundle_path: str, splits=("test", "all"), tsne_points: int = 10000) -> dict:
    """scripts/precompute.py on a copy of BUNDLE for each split (wall time, peak memory, its own step
    timings), openTSNE against scikit-learn's TSNE on the same encodings, and the app-side costs:
    load_precomputed and one inverse_transform per map."""
    import shutil
    import tempfile

    import numpy as np

    out = {"bundle": bundle_path, "machine": machine(), "load_average": os.getloadavg()[0], "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench_precompute_") as tmp:
        copy = Path(tmp) / Path(bundle_path).name
        for split in splits:
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(bundle_path, copy)
            cmd = [sys.executable, str(Path(__file__).parent / "precompute.py"), str(copy), "--split", split, "--no-progress"]
            seconds, peak_mib, code = _run_measured(cmd)
            meta = json.loads((copy / "meta.json").read_text())
            pre = meta.get("precompute", {})
            out["runs"][split] = {"command": " ".join(["python", "scripts/precompute.py", "BUNDLE", "--split", split]),
                                  "exit_code": code, "wall_s": round(seconds, 1), "peak_rss_mib": round(peak_mib),
                                  "points": pre.get("n_points"), "steps_s": pre.get("timings", {}),
                                  "bundle_mib": round(sum(f.stat().st_size for f in copy.iterdir()) / 2**20, 1)}
            if split == splits[0]:
                out["app"] = _bench_loading(copy)
                with np.load(copy / "encodings.npz") as f:
                    means = f["mean"][:tsne_points]
        out["tsne"] = _bench_tsne(means)
    _print_precompute(out)
    return out


def _bench_loading(path: Path) -> dict:
    """What the app pays: load_precomputed once, then inverse_transform / transform of one point."""
    from vae import load_bundle
    from vae.precomputed import load_precomputed

    bundle = load_bundle(path)
    t0 = time.perf_counter()
    pre = load_precomputed(bundle)
    result = {"load_precomputed_ms": round((time.perf_counter() - t0) * 1000, 1), "inverse_ms": {}, "transform_ms": {}}
    for name, p in pre.projections.items():
        point = p.embedding[:1] + 0.01
        p.inverse_transform(point), p.transform(pre.mean[:1])  # first call builds what is lazy
        result["inverse_ms"][name] = round(_median_ms(lambda: p.inverse_transform(point), 200), 3)
        result["transform_ms"][name] = round(_median_ms(lambda: p.transform(pre.mean[:1]), 200), 3)
    result["off_manifold_ms"] = round(_median_ms(lambda: pre.off_manifold(pre.mean[0]), 50), 2)
    result["points"] = int(len(pre.mean))
    return result


def _bench_tsne(means) -> dict:
    """openTSNE (FFT, shared exact neighbour graph) against scikit-learn's Barnes-Hut TSNE, same points,
    with the share of each point's 10 nearest latent neighbours that stay among its 10 nearest on the map."""
    from vae.projection import TSNEProjection, knn_graph

    result = {"points": int(len(means))}
    truth = knn_graph(means, 10)[0]
    for backend in ("opentsne", "sklearn"):
        t0 = time.perf_counter()
        emb = TSNEProjection(30.0, seed=0, backend=backend).embed(means)
        seconds = time.perf_counter() - t0
        kept = (knn_graph(emb, 10)[0][:, :, None] == truth[:, None, :]).any(2).mean()
        result[backend] = {"seconds": round(seconds, 1), "knn10_preserved": round(float(kept), 3)}
    return result


def _print_precompute(out: dict) -> None:
    print(f"\nPrecompute ({out['bundle']}, {out['machine']}, load average {out['load_average']:.1f} at start)")
    print(f"{'split':6s} {'points':>7s} {'wall s':>8s} {'peak MiB':>9s} {'bundle MiB':>11s}  steps (s)")
    for split, run in out["runs"].items():
        steps = ", ".join(f"{k} {v:.1f}" for k, v in run["steps_s"].items() if k != "total")
        print(f"{split:6s} {run['points'] or 0:7d} {run['wall_s']:8.1f} {run['peak_rss_mib']:9d} {run['bundle_mib']:11.1f}  {steps}")
    t = out["tsne"]
    print(f"t-SNE of {t['points']} points: openTSNE {t['opentsne']['seconds']:.1f} s "
          f"(10-NN kept {t['opentsne']['knn10_preserved']:.2f}), scikit-learn {t['sklearn']['seconds']:.1f} s "
          f"(10-NN kept {t['sklearn']['knn10_preserved']:.2f})")
    app = out.get("app", {})
    if app:
        print(f"App side, {app['points']} points: load_precomputed {app['load_precomputed_ms']:.0f} ms; "
              f"off_manifold {app['off_manifold_ms']:.2f} ms; inverse_transform of one point (ms): "
              + ", ".join(f"{k} {v:.3f}" for k, v in app["inverse_ms"].items()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--decode", metavar="BUNDLE", help="decode latency of BUNDLE")
    p.add_argument("--train", action="store_true", help="training time to quality against the tutorial recipe")
    p.add_argument("--precompute", metavar="BUNDLE", help="precompute of BUNDLE's test split and all points "
                   "(on a copy), openTSNE against scikit-learn's TSNE, and the app's loading costs")
    p.add_argument("--precompute-splits", default="test,all", help="splits for --precompute, comma-separated")
    p.add_argument("--tsne-points", type=int, default=10000, help="points for the t-SNE library comparison")
    p.add_argument("--json", help="merge the figures into this JSON file")
    args, rest = p.parse_known_args(argv)
    results = {"machine": machine()}
    if args.decode:
        results["decode"] = bench_decode(args.decode)
    if args.train:
        results["train"] = bench_train()
    if args.precompute:
        results["precompute"] = bench_precompute(args.precompute, tuple(args.precompute_splits.split(",")),
                                                 args.tsne_points)
    if len(results) == 1:
        p.print_help()
        return 2
    if args.json:
        path = Path(args.json)
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, **results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
