"""Benchmarks, each measured against a reference in the same run; results go to BENCHMARKS.md by hand.

    python scripts/benchmark.py --decode pretrained/fashion_mnist
    python scripts/benchmark.py --train                      # time to quality vs the tutorial recipe (~5 min, ours at batch 64)
    python scripts/benchmark.py --browser                    # the explorer in Chromium: load, drag, slider (~2 min)
    python scripts/benchmark.py --precompute pretrained/fashion_mnist   # test split and all 70,000 (~6 min)
    python scripts/benchmark.py --meter pretrained/fashion_mnist        # off-manifold meter: KD-tree vs brute force
    python scripts/benchmark.py --meter-typical pretrained/fashion_mnist  # how often prior draws read "typical"
    git worktree add /tmp/before COMMIT && python scripts/benchmark.py --compare /tmp/before   # this app vs an older one

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
    """scripts/time_to_quality.py: both recipes in this process, in turns, scored the same way."""
    from scripts.time_to_quality import main as time_to_quality

    # batch 64: the setting that reaches the tutorial's quality in 2 epochs (BENCHMARKS.md, training time)
    return time_to_quality(["--batch-size", "64", "--ours-epochs", str(ours_epochs or 3)])


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
                                  "cpu_s": pre.get("cpu_seconds", {}), "load_average_after": pre.get("load_average"),
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


def bench_meter(bundle_path: str) -> dict:
    """The off-manifold meter, once per drag step: the app's KD-tree against a brute-force pass over all encodings."""
    from vae import load_bundle, manifold
    from vae.precomputed import load_precomputed

    pre = load_precomputed(load_bundle(bundle_path, lazy=True))
    t0 = time.perf_counter()
    ref = manifold.manifold_reference(pre.mean, k=5, sample=1000)
    build_ms = (time.perf_counter() - t0) * 1000
    brute = {key: val for key, val in ref.items() if key != "tree"}  # same numbers, no tree
    z = pre.mean[0] + 0.1
    out = {"points": int(len(pre.mean)), "reference_build_ms": round(build_ms, 1),
           "kdtree_ms": round(_median_ms(lambda: manifold.off_manifold(z, pre.mean, 5, reference=ref), 300), 3),
           "brute_force_ms": round(_median_ms(lambda: manifold.off_manifold(z, pre.mean, 5, reference=brute), 50), 3)}
    out["speed-up"] = round(out["brute_force_ms"] / out["kdtree_ms"], 1)
    print(f"\nOff-manifold meter on {out['points']:,} encodings ({machine()}): KD-tree {out['kdtree_ms']} ms, "
          f"brute force {out['brute_force_ms']} ms ({out['speed-up']}x); reference built in {out['reference_build_ms']} ms")
    return out


def bench_meter_typical(bundle_path: str, draws: int = 2000, held_out: float = 0.2, seed: int = 0,
                        decoded: bool = True) -> dict:
    """How often the off-manifold meter calls a point "typical": encodings it was not built from (held out)
    against draws from the prior N(0, I), measured in the active dimensions (the app's meter), in all latent
    dimensions (the meter before), and in decoded pixels (k-NN among the encodings' decodings)."""
    import numpy as np

    from vae import latent, load_bundle, manifold
    from vae.precomputed import load_precomputed

    pre = load_precomputed(load_bundle(bundle_path, lazy=True))
    rest, held = latent.split_holdout(len(pre.mean), held_out, seed)
    prior = latent.sample_prior(draws, pre.mean.shape[1], 1.0, seed + 1)
    out = {"bundle": bundle_path, "machine": machine(), "reference_points": int(len(rest)),
           "held_out_points": int(len(held)), "prior_draws": draws, "rates": {}}
    d = pre.mean.shape[1]
    spaces = [(f"{name} ({len(dims)} of {d})", pre.mean[rest][:, dims], pre.mean[held][:, dims], prior[:, dims])
              for name, dims in (("active dimensions", manifold.active_dimensions(pre.kl_per_dim)),
                                 ("all dimensions", np.arange(d)))]
    if decoded:  # the same question asked of the decodings (pixels in [0, 1]): slower, needs the model
        bundle = load_bundle(bundle_path)

        def pixels(z):
            return np.concatenate([bundle.decode(z[s:s + 500]).reshape(len(z[s:s + 500]), -1)
                                   for s in range(0, len(z), 500)]).astype(np.float32)  # (M, H*W*C) in [0, 1]
        spaces.append(("decoded images (pixels)", pixels(pre.mean[rest]), pixels(pre.mean[held]), pixels(prior)))
    for name, ref_points, held_points, prior_points in spaces:
        ref = manifold.manifold_reference(ref_points, k=5, sample=1000, seed=seed)
        rates = {}
        for what, z in (("held-out encodings", held_points), ("prior draws", prior_points)):
            verdict = manifold.off_manifold(z, None, reference=ref)["verdict"]
            rates[what] = {v: round(float(np.mean(verdict == v)), 3) for v in ("typical", "unusual", "far off")}
        out["rates"][name] = rates
    print(f"\nOff-manifold meter verdicts, {bundle_path} ({machine()}): reference {len(rest):,} encodings, "
          f"{len(held):,} held out, {draws:,} prior draws (T = 1)")
    print(f"{'measured in':<28}{'points':<22}{'typical':>9}{'unusual':>9}{'far off':>9}")
    for name, rates in out["rates"].items():
        for what, r in rates.items():
            print(f"{name:<28}{what:<22}{r['typical']:>9.1%}{r['unusual']:>9.1%}{r['far off']:>9.1%}")
    return out


def _bench_tsne(means) -> dict:
    """openTSNE (FFT, shared exact neighbour graph) against scikit-learn's Barnes-Hut TSNE, same points,
    with the share of each point's 10 nearest latent neighbours that stay among its 10 nearest on the map."""
    from vae.embeddings import TSNEProjection, knn_graph

    result = {"points": int(len(means))}
    truth = knn_graph(means, 10)[0]
    for backend in ("opentsne", "sklearn"):
        t0, cpu0 = time.perf_counter(), time.process_time()
        emb = TSNEProjection(30.0, seed=0, backend=backend).embed(means)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        kept = (knn_graph(emb, 10)[0][:, :, None] == truth[:, None, :]).any(2).mean()
        result[backend] = {"seconds": round(seconds, 1), "cpu_s": round(cpu, 1), "knn10_preserved": round(float(kept), 3),
                           "load_average_after": round(os.getloadavg()[0], 2)}
    return result


def _print_precompute(out: dict) -> None:
    print(f"\nPrecompute ({out['bundle']}, {out['machine']}, load average {out['load_average']:.1f} at start)")
    print(f"{'split':6s} {'points':>7s} {'wall s':>8s} {'CPU s':>7s} {'peak MiB':>9s} {'bundle MiB':>11s}  steps, wall s (CPU s)")
    for split, run in out["runs"].items():
        steps = ", ".join(f"{k} {v:.1f} ({run['cpu_s'].get(k, float('nan')):.1f})"
                          for k, v in run["steps_s"].items() if k != "total")
        print(f"{split:6s} {run['points'] or 0:7d} {run['wall_s']:8.1f} {run['cpu_s'].get('total', float('nan')):7.1f} "
              f"{run['peak_rss_mib']:9d} {run['bundle_mib']:11.1f}  {steps}")
    t = out["tsne"]
    print(f"t-SNE of {t['points']} points, same encodings: " + "; ".join(
        f"{name} {t[key]['seconds']:.1f} s wall, {t[key]['cpu_s']:.1f} s CPU, 10-NN kept {t[key]['knn10_preserved']:.2f}"
        for key, name in (("opentsne", "openTSNE"), ("sklearn", "scikit-learn"))))
    app = out.get("app", {})
    if app:
        print(f"App side, {app['points']} points: load_precomputed {app['load_precomputed_ms']:.0f} ms; "
              f"off_manifold {app['off_manifold_ms']:.2f} ms; inverse_transform of one point (ms): "
              + ", ".join(f"{k} {v:.3f}" for k, v in app["inverse_ms"].items()))


# the explorer in a real browser ----------------------------------------------------------------
# Playwright drives Debian's Chromium against `streamlit run app.py`; the page's own timestamps
# (performance.now) time each step, so Python's overhead in driving the browser does not count.

MINIMAL_PAGE = '''import numpy as np
import streamlit as st
st.line_chart(np.random.default_rng(0).normal(size=(50, 3)))
st.image(np.random.default_rng(0).random((28, 28)), width=224)
'''


def _browser_tools():
    from scripts import browser  # the e2e tests' server and page helpers

    return browser


def _minimal_page() -> Path:
    import tempfile

    minimal = Path(tempfile.mkdtemp(prefix="minimal_page_")) / "minimal_app.py"
    minimal.write_text(MINIMAL_PAGE)
    return minimal


def _page_drawn_s(h, browser, script, bundles) -> float:
    """Seconds from `streamlit run script` to its page fully drawn (the explorer's map and image, or the
    minimal page's chart and image)."""
    explorer = (f"() => {{ const im = ({h.FIND_DECODED})(); const gd = document.querySelector('.st-key-map .js-plotly-plot'); "
                "return im && im.getAttribute('src') && gd && gd._fullLayout && gd.querySelector('canvas'); }")
    minimal = ("() => document.querySelector('[data-testid=stImage] img') && "
               "document.querySelector('[data-testid=stVegaLiteChart] canvas, [data-testid=stArrowVegaLiteChart] canvas, .vega-embed canvas, .vega-embed svg')")
    t0 = time.perf_counter()
    with h.streamlit_server(script, bundles=bundles) as url:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url + "/")
        page.wait_for_function(explorer if bundles else minimal, timeout=120_000)
        page.wait_for_selector(h.READY, timeout=120_000)
        seconds = time.perf_counter() - t0
        page.close()
    return seconds


def bench_page_load(h, browser, bundle: str, repeats: int) -> dict:
    """Seconds from `streamlit run` to a fully drawn page: the explorer against a one-chart-one-image page."""
    minimal = _minimal_page()
    app, base = [], []
    for _ in range(repeats):  # interleaved, so a busy moment hurts both alike
        base.append(_page_drawn_s(h, browser, minimal, ()))
        app.append(_page_drawn_s(h, browser, h.ROOT / "app.py", (bundle,)))
    out = {"minimal_s": statistics.median(base), "explorer_s": statistics.median(app), "runs": repeats,
           "minimal_all": base, "explorer_all": app}
    out["extra_s"] = out["explorer_s"] - out["minimal_s"]
    return out


def bench_compare(other: str, bundle: str, big_bundle: str | None, repeats: int = 4, drag_seconds: float = 5.0) -> dict:
    """This checkout's app against another checkout's (e.g. `git worktree add /tmp/before COMMIT`), run by run
    interleaved: page drawn minus the minimal page, and dragging the pad on `big_bundle` (or `bundle`)."""
    from playwright.sync_api import sync_playwright

    h = _browser_tools()
    apps = {"other": Path(other).resolve() / "app.py", "this": h.ROOT / "app.py"}
    if not apps["other"].is_file():
        raise SystemExit(f"error: no app.py in {other}: give a checkout of this project (git worktree add DIR COMMIT).")
    bundle, drag_bundle = str(Path(bundle).resolve()), str(Path(big_bundle or bundle).resolve())
    minimal = _minimal_page()
    out = {"other": str(apps["other"].parent), "bundle": bundle, "drag_bundle": drag_bundle, "load": os.getloadavg()[0],
           "minimal_s": [], **{f"{k}_page_s": [] for k in apps}, **{f"{k}_drag": [] for k in apps}}
    with sync_playwright() as p:
        browser = h.launch(p)
        for _ in range(repeats):
            out["minimal_s"].append(_page_drawn_s(h, browser, minimal, ()))
            for name, script in apps.items():
                out[f"{name}_page_s"].append(_page_drawn_s(h, browser, script, (bundle,)))
        for _ in range(2):
            for name, script in apps.items():
                with h.streamlit_server(script, bundles=(drag_bundle,), env=h.TIMING) as url:
                    page = _open_explorer(h, browser, url)
                    bench_drag(h, page, 1.0)  # warm-up
                    out[f"{name}_drag"].append(bench_drag(h, page, drag_seconds))
                    page.close()
        browser.close()
    out["load_after"] = os.getloadavg()[0]
    base = statistics.median(out["minimal_s"])
    print(f"\nThis checkout against {out['other']} ({machine()}, load average {out['load']:.1f} -> {out['load_after']:.1f})")
    print(f"{'measure':48s} {'other':>14s} {'this':>14s}  ratio")
    extra = {k: statistics.median(out[f"{k}_page_s"]) - base for k in apps}
    print(f"{'page drawn minus minimal page (s, median)':48s} {extra['other']:14.2f} {extra['this']:14.2f}  "
          f"{extra['this'] / extra['other']:.2f}")
    for key, label in (("move_to_image_ms_median", "drag: pointer move -> image (ms, median)"),
                       ("images_per_s", "drag: new images a second")):
        runs = {k: [d[key] for d in out[f"{k}_drag"]] for k in apps}
        print(f"{label:48s} {', '.join(f'{v:.1f}' for v in runs['other']):>14s} "
              f"{', '.join(f'{v:.1f}' for v in runs['this']):>14s}  "
              f"{statistics.mean(runs['this']) / statistics.mean(runs['other']):.2f}")
    print(f"(minimal page: {base:.2f} s; drags on {drag_bundle})")
    return out


def _open_explorer(h, browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(url + "/")
    h.wait_decoded(page)
    h.wait_idle(page, settle_ms=500)
    return page


IN_PAGE_DRAG = """async ({cx, cy, r, ms}) => {
    // pointer moves dispatched on the pad at each animation frame: a browser coalesces a real mouse's
    // moves to one per frame, and a busy page gets fewer frames, so this is what a hand on a mouse gives
    const pad = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]').shadowRoot.querySelector('.lp-pad');
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
        await new Promise(requestAnimationFrame);
        const a = (performance.now() - t0) / 500;
        pad.dispatchEvent(new PointerEvent('pointermove', {clientX: cx + r * Math.cos(a), clientY: cy + r * Math.sin(a),
            pointerId: 1, pointerType: 'mouse', isPrimary: true, buttons: 1, bubbles: true}));
    }
}"""


def bench_drag(h, page, seconds: float, in_page: bool = True) -> dict:
    """Drag the pad's handle in circles for `seconds`: images a second and pointer-move-to-image latency.
    `in_page`: moves from the page's own animation frames (default) rather than one Playwright call each."""
    import math

    box = h.pad_box(page)
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.3
    start = page.evaluate("() => ({sent: (window.__latentPad?.sent || []).length, shown: (window.__latentPad?.shown || []).length, move: (window.__latentPad?.move || []).length})")
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    if in_page:  # a pointer move every animation frame the page has time for, as a real mouse gives
        page.evaluate(IN_PAGE_DRAG, {"cx": cx, "cy": cy, "r": r, "ms": seconds * 1000})
    else:  # one Playwright round trip per move: ~13 moves a second on 2 cores, fewer than a hand makes
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            a = (time.perf_counter() - t0) * 2.0
            page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a))
            page.wait_for_timeout(15)
    log = page.evaluate("() => window.__latentPad")
    page.mouse.up()
    h.wait_idle(page)
    moves = [m["t"] for m in log["move"][start["move"]:]]
    sent = {s["seq"]: s["t"] for s in log["sent"][start["sent"]:]}
    shown = [s for s in log["shown"][start["shown"]:] if s["seq"] in sent]
    span_ms = moves[-1] - moves[0] if len(moves) > 1 else float("nan")
    during = [s for s in shown if s["t"] <= moves[-1]]
    pairs = sorted((sent[s["seq"]], s["painted"]) for s in shown)
    move_to_image = []
    for t in moves:  # the first image computed from a point sent at or after this move
        later = [painted for t_sent, painted in pairs if t_sent >= t]
        if later:
            move_to_image.append(min(later) - t)
    rtt = [s["painted"] - sent[s["seq"]] for s in shown]
    return {"seconds": span_ms / 1000, "pointer_moves_per_s": 1000 * len(moves) / span_ms,
            "images_per_s": 1000 * len(during) / span_ms, "images": len(during),
            "move_to_image_ms_median": _median(move_to_image), "move_to_image_ms_p90": _p90(move_to_image),
            "send_to_image_ms_median": _median(rtt)}


def _median(values):
    return statistics.median(values) if values else float("nan")  # nothing shown (a warm-up that only compiled)


def _p90(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(0.9 * len(values)))] if values else float("nan")


def bench_slider(h, page, repeats: int) -> dict:
    """Release a latent-dimension slider `repeats` times: release to new image in the browser."""
    page.evaluate("() => { window.__release = []; window.addEventListener('pointerup', () => window.__release.push(performance.now()), true); }")
    first = page.locator("[data-testid=stSlider]").filter(has_text="KL").first
    label = first.locator("[data-testid=stWidgetLabel]").inner_text().split("·")[0].strip()
    times = []
    for k in range(repeats):
        before = h.decoded(page)
        n = page.evaluate("() => window.__latentPad.shown.length")
        h.drag_slider(page, label, 30 if k % 2 == 0 else -30)
        h.wait_decoded_change(page, before["src"])
        page.wait_for_function("(n) => window.__latentPad.shown.length > n", arg=n)
        released = page.evaluate("() => window.__release[window.__release.length - 1]")
        painted = page.evaluate("(n) => window.__latentPad.shown[n].painted", n)
        times.append(painted - released)
        h.wait_idle(page)
    return {"release_to_image_ms_median": statistics.median(times), "p90": _p90(times), "runs": repeats}


def bench_click(h, page, repeats: int) -> dict:
    """Click encodings on the map: click to the inspector showing it."""
    times = []
    for k in range(repeats):
        row, x, y = h.isolated_point(page, skip=5 * k)
        t0 = page.evaluate("() => performance.now()")
        page.mouse.click(x, y)
        page.wait_for_function("(row) => { const e = document.querySelector('.inspected'); return e && e.dataset.row == row; }",
                               arg=str(row), timeout=30_000)
        times.append(page.evaluate("() => performance.now()") - t0)
        h.wait_idle(page)
    return {"click_to_inspector_ms_median": statistics.median(times), "runs": repeats}


def bench_map_zoom(h, page, repeats: int) -> dict:
    """Wheel-zoom the big WebGL map: wheel event to Plotly's redraw finished."""
    box = page.locator(".st-key-map .js-plotly-plot").bounding_box()
    page.evaluate("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
        window.__zoom = []; gd.on('plotly_afterplot', () => window.__zoom.push(performance.now())); }""")
    times = []
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    for k in range(repeats):
        n = page.evaluate("() => window.__zoom.length")
        t0 = page.evaluate("() => performance.now()")
        page.mouse.wheel(0, -120 if k % 2 == 0 else 120)
        page.wait_for_function("(n) => window.__zoom.length > n", arg=n, timeout=30_000)
        times.append(page.evaluate("(n) => window.__zoom[n]", n) - t0)
        page.wait_for_timeout(300)
    return {"wheel_to_redraw_ms_median": statistics.median(times), "runs": repeats}


def bench_drag_any(bundle: str, runs: int = 3, seconds: float = 5.0, in_flight=()) -> dict:
    """Dragging the pad on a bundle of any modality: decodings shown a second (an image, a piano roll, a
    sentence: the pad logs each answer it shows) and pointer move to decoding, median of `runs` drags.
    `in_flight`: compare these limits on unanswered points (the pad's IN_FLIGHT), drag by drag in turn, in
    the same page (a timing build only: window.__latentPadInFlight)."""
    from playwright.sync_api import sync_playwright

    h = _browser_tools()
    out = {"bundle": bundle, "load": os.getloadavg()[0], "drags": []}
    depths = list(in_flight) or [None]
    with sync_playwright() as p, h.streamlit_server(bundles=(bundle,), env=h.TIMING) as url:
        browser = h.launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url + f"/?bundle={Path(bundle).name}")
        page.wait_for_function("() => (window.__latentPad?.shown || []).length > 0", timeout=120_000)
        h.wait_idle(page, settle_ms=500)
        bench_drag(h, page, 1.0)  # warm-up
        for _ in range(runs):
            for depth in depths:
                if depth is not None:
                    page.evaluate("(d) => { window.__latentPadInFlight = d; }", depth)
                out["drags"].append({**bench_drag(h, page, seconds), "in_flight": depth})
    keys = ("images_per_s", "move_to_image_ms_median", "pointer_moves_per_s", "send_to_image_ms_median")
    for depth in depths:
        drags = [d for d in out["drags"] if d["in_flight"] == depth]
        row = {key: statistics.median(d[key] for d in drags) for key in keys}
        if depth is None:
            out.update(row)
        else:
            out[f"in_flight_{depth}"] = row
        said = "" if depth is None else f" [{depth} in flight]"
        print(f"{bundle}{said}: {row['images_per_s']:.1f} decodings shown a second while dragging, pointer move -> "
              f"decoding {row['move_to_image_ms_median']:.0f} ms, sent -> shown {row['send_to_image_ms_median']:.0f} ms "
              f"(medians of {runs} drags of {seconds:.0f} s; {row['pointer_moves_per_s']:.0f} pointer moves a second; "
              f"load average {out['load']:.1f})")
    return out


def bench_browser(bundle: str, repeats: int = 3, drag_seconds: float = 5.0, big_bundle: str | None = None) -> dict:
    """The explorer's interaction budgets, measured in Chromium (see DESIGN.md's table)."""
    from playwright.sync_api import sync_playwright

    h = _browser_tools()
    out = {"bundle": bundle, "load": os.getloadavg()[0]}
    with sync_playwright() as p:
        browser = h.launch(p)
        out["page_load"] = bench_page_load(h, browser, bundle, repeats)
        with h.streamlit_server(bundles=(bundle,), env=h.TIMING) as url:
            page = _open_explorer(h, browser, url)
            bench_drag(h, page, 1.0)  # warm-up: first traces, first paints
            out["drag"] = bench_drag(h, page, drag_seconds)
            out["slider"] = bench_slider(h, page, max(6, 3 * repeats))
            out["click"] = bench_click(h, page, max(3, repeats))
            out["map_zoom"] = bench_map_zoom(h, page, 6)
            page.close()
        if big_bundle:
            with h.streamlit_server(bundles=(big_bundle,), env=h.TIMING) as url:
                t0 = time.perf_counter()
                page = _open_explorer(h, browser, url)
                big = {"bundle": big_bundle, "first_page_s": time.perf_counter() - t0}
                big["map_zoom"] = bench_map_zoom(h, page, 6)
                big["drag"] = bench_drag(h, page, drag_seconds)
                big["click"] = bench_click(h, page, 3)
                out["big"] = big
                page.close()
        browser.close()
    out["load_after"] = os.getloadavg()[0]
    _print_browser(out)
    return out


def _print_browser(out: dict) -> None:
    pl, dr, sl = out["page_load"], out["drag"], out["slider"]
    print(f"\nExplorer in Chromium ({out['bundle']}, {machine()}, load average {out['load']:.1f} -> {out['load_after']:.1f})")
    print(f"{'measure':44s} {'value':>10s}   budget")
    rows = [("page drawn: explorer (s, median)", pl["explorer_s"], ""),
            ("page drawn: minimal page (s, median)", pl["minimal_s"], ""),
            ("page drawn: explorer - minimal (s)", pl["extra_s"], "<= 4"),
            ("drag: images a second", dr["images_per_s"], ">= 10"),
            ("drag: pointer move -> image (ms, median)", dr["move_to_image_ms_median"], "<= 100"),
            ("drag: pointer move -> image (ms, p90)", dr["move_to_image_ms_p90"], ""),
            ("drag: pointer moves the browser took a second", dr["pointer_moves_per_s"], ""),
            ("slider release -> image (ms, median)", sl["release_to_image_ms_median"], "<= 250"),
            ("map click -> inspector (ms, median)", out["click"]["click_to_inspector_ms_median"], ""),
            ("map wheel zoom -> redrawn (ms, median)", out["map_zoom"]["wheel_to_redraw_ms_median"], "")]
    if "big" in out:
        big = out["big"]
        rows += [(f"big map: first page (s)", big["first_page_s"], ""),
                 ("big map: wheel zoom -> redrawn (ms, median)", big["map_zoom"]["wheel_to_redraw_ms_median"], ""),
                 ("big map: drag images a second", big["drag"]["images_per_s"], ">= 10"),
                 ("big map: drag move -> image (ms, median)", big["drag"]["move_to_image_ms_median"], "<= 100"),
                 ("big map: click -> inspector (ms, median)", big["click"]["click_to_inspector_ms_median"], "")]
    for name, value, budget in rows:
        print(f"{name:44s} {value:10.2f}   {budget}")


# memory: resident size on a big bundle, and no growth over reruns or sessions ------------------
# The server's VmRSS while one browser session drags the pad and releases sliders (each a rerun of
# the decoder's fragments, counted by the decodes in the timing log, VAE_DEBUG=timing:FILE), then while sessions come and go.

def bench_leak(bundle: str, reruns: int = 1000, sessions: int = 20) -> dict:
    """RSS after the first page, then every 100 reruns up to `reruns`, then after `sessions` sessions opened
    and closed one by one; growth is measured from the warm state (after the first 100 reruns)."""
    import asyncio

    out = asyncio.run(_leak_async(Path(bundle), reruns, sessions))
    _print_leak(out)
    return out


async def _leak_async(bundle: Path, reruns: int, sessions: int) -> dict:
    import random
    import tempfile

    from playwright.async_api import async_playwright

    from scripts.loadtest import CHROMIUM, CHROMIUM_ARGS, Server, _open

    def decodes() -> int:
        try:
            return len(server.timing_path.read_text().splitlines())
        except OSError:
            return 0

    with tempfile.TemporaryDirectory(prefix="leak-") as work:
        server = Server(bundle, Path(work))
        try:
            server.wait_healthy()
            rss_idle = server.rss_mb()
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                    s = await _open(context, server.url, 0)
                    rss_loaded, start = server.rss_mb(), decodes()
                    rng, curve, t0 = random.Random(0), [(0, rss_loaded)], time.perf_counter()
                    while decodes() - start < reruns:
                        if rng.random() < 0.1:
                            await s.release_slider(rng)
                        else:
                            await s.drag(rng, steps=40)
                        done = decodes() - start
                        if done >= 100 * len(curve):
                            curve.append((done, server.rss_mb()))
                    rerun_seconds = time.perf_counter() - t0
                    await context.close()
                    churn = []
                    for i in range(sessions):  # a session opened, drawn, used a little, closed
                        c = await browser.new_context(viewport={"width": 1400, "height": 1000})
                        one = await _open(c, server.url, i + 1)
                        await one.drag(rng, steps=10)
                        await c.close()
                        churn.append(server.rss_mb())
                    errors = s.errors + s.timeouts * ["timeout"]
                finally:
                    await browser.close()
        finally:
            server.stop()
    warm = next((mb for n, mb in curve if n >= 100), curve[-1][1])
    xs, ys = [n for n, _ in curve if n >= 100], [mb for n, mb in curve if n >= 100]
    slope = (statistics.linear_regression(xs, ys).slope * 1000) if len(xs) >= 2 and len(set(xs)) > 1 else float("nan")
    return {"bundle": str(bundle), "rss_idle_mb": rss_idle, "rss_first_page_mb": rss_loaded,
            "reruns": curve[-1][0], "rerun_seconds": round(rerun_seconds, 1), "curve": curve,
            "growth_after_warmup_mb": curve[-1][1] - warm, "slope_mb_per_1000_reruns": slope,
            "sessions": sessions, "rss_after_sessions_mb": churn, "session_growth_mb": (churn[-1] - churn[0]) if churn else 0.0,
            "errors": errors}


def _print_leak(out: dict) -> None:
    print(f"\nServer memory (VmRSS), {out['bundle']}, {machine()}")
    print(f"started, no session {out['rss_idle_mb']:8.0f} MB")
    print(f"first page drawn    {out['rss_first_page_mb']:8.0f} MB")
    for n, mb in out["curve"][1:]:
        print(f"after {n:5d} reruns  {mb:8.0f} MB")
    print(f"growth from 100 to {out['reruns']} reruns: {out['growth_after_warmup_mb']:+.1f} MB "
          f"(slope {out['slope_mb_per_1000_reruns']:+.1f} MB per 1000 reruns, {out['rerun_seconds']:.0f} s)")
    churn = out["rss_after_sessions_mb"]
    if churn:
        print(f"{out['sessions']} sessions opened and closed: {churn[0]:.0f} -> {churn[-1]:.0f} MB "
              f"({out['session_growth_mb']:+.1f} MB)")
    print(f"errors: {len(out['errors'])}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--decode", metavar="BUNDLE", help="decode latency of BUNDLE")
    p.add_argument("--train", action="store_true", help="training time to quality against the tutorial recipe")
    p.add_argument("--precompute", metavar="BUNDLE", help="precompute of BUNDLE's test split and all points "
                   "(on a copy), openTSNE against scikit-learn's TSNE, and the app's loading costs")
    p.add_argument("--precompute-splits", default="test,all", help="splits for --precompute, comma-separated")
    p.add_argument("--tsne-points", type=int, default=10000, help="points for the t-SNE library comparison")
    p.add_argument("--browser", nargs="?", const="pretrained/fashion_mnist", metavar="BUNDLE",
                   help="the explorer's page load, drag, slider and click timings in Chromium (default bundle: %(const)s)")
    p.add_argument("--drag", metavar="BUNDLE", help="decodings a second while dragging the pad, for a bundle of any "
                   "modality (images, melodies, text)")
    p.add_argument("--in-flight", metavar="N,M", help="with --drag: compare these limits on points in flight "
                    "(the pad's IN_FLIGHT), drag by drag in turn")
    p.add_argument("--browser-big", metavar="BUNDLE", help="with --browser: also a large bundle (e.g. 70,000 points)")
    p.add_argument("--browser-repeats", type=int, default=3, help="cold page loads (and the other steps' repeats)")
    p.add_argument("--leak", metavar="BUNDLE", help="the app's resident memory on BUNDLE (e.g. 70,000 points) and "
                   "its growth over --leak-reruns reruns and --leak-sessions sessions")
    p.add_argument("--leak-reruns", type=int, default=1000, help="reruns for --leak")
    p.add_argument("--leak-sessions", type=int, default=20, help="sessions opened and closed one by one for --leak")
    p.add_argument("--compare", metavar="CHECKOUT", help="this app against another checkout's, interleaved: page "
                   "load and drag (bundle: --browser's, drag on --browser-big if given)")
    p.add_argument("--meter", metavar="BUNDLE", help="the off-manifold meter per drag step: KD-tree against brute force")
    p.add_argument("--meter-typical", metavar="BUNDLE", help="how often the off-manifold meter reads \"typical\" for "
                   "held-out encodings and for prior draws")
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
    if args.browser and not args.compare:
        results["browser"] = bench_browser(args.browser, args.browser_repeats, big_bundle=args.browser_big)
    if args.compare:
        results["compare"] = bench_compare(args.compare, args.browser or "pretrained/fashion_mnist", args.browser_big,
                                           max(args.browser_repeats, 4))
    if args.drag:
        depths = [int(v) for v in args.in_flight.split(",")] if args.in_flight else ()
        results["drag"] = bench_drag_any(args.drag, in_flight=depths)
    if args.leak:
        results["leak"] = bench_leak(args.leak, args.leak_reruns, args.leak_sessions)
    if args.meter:
        results["meter"] = bench_meter(args.meter)
    if args.meter_typical:
        results["meter_typical"] = bench_meter_typical(args.meter_typical)
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
