"""Load test: N browser sessions drag the latent pad and release sliders against one `streamlit run app.py`.

    python scripts/loadtest.py --sessions 1 5 20 --seconds 60        # pretrained/fashion_mnist
    python scripts/loadtest.py --bundle /tmp/b --sessions 2 --seconds 20 --json /tmp/load.json

One server on 127.0.0.1 (a free port) serves every level in turn; each session is a Playwright
context in one Chromium. For --seconds each session drags the pad along random paths and now and
then releases a dimension slider. Recorded per level:

- errors (goal 0): page errors, console errors, Streamlit exception boxes, tracebacks in the
  server's log; timeouts: an interaction the app had not finished 30 s later;
- browser latency: pad point sent -> decoded image painted (the pad's own performance.now() log),
  and slider release -> new image (timed here); pad images shown per second of dragging;
- server decode latency: Bundle.decode timings, recorded with VAE_DEBUG=timing:FILE (vae/debug.py);
- the server's resident memory (VmRSS) before, at its peak and after the level.

Then every session moves to a point of its own; once all have moved, each must still show its own
point and image (sessions never share state).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from scripts.browser import CHROMIUM, CHROMIUM_ARGS, FIND_DECODED, READY, ROOT, free_port

IDLE_TIMEOUT_MS = 30_000
PAD_HOST = ".st-key-pad [data-testid=stBidiComponentIsolated]"


# ----------------------------------------------------------------------------------- server

class Server:
    """`streamlit run app.py -- --bundle B` on 127.0.0.1, its log, its decode timings and its memory."""

    def __init__(self, bundle: Path, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path, self.timing_path = workdir / "streamlit.log", workdir / "decode_times.log"
        # the pad's timing log in each page and Bundle.decode's times in timing_path (vae/debug.py)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "VAE_DEBUG": f"timing:{self.timing_path}"}
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--", "--bundle", str(bundle)]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            time.sleep(0.2)
        raise TimeoutError("streamlit did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def sample_memory(self, every: float = 0.25) -> None:
        def loop():
            while not self._stop.is_set():
                with contextlib.suppress(OSError, ValueError):
                    self.samples.append((time.time(), self.rss_mb()))
                self._stop.wait(every)
        threading.Thread(target=loop, daemon=True).start()

    def decode_ms(self, since: float, until: float) -> list[float]:
        """Server-side Bundle.decode times (ms) of single vectors decoded in [since, until]."""
        out = []
        with contextlib.suppress(OSError):
            for line in self.timing_path.read_text().splitlines():
                t, what, rows, ms = line.split()
                if what == "decode" and rows == "1" and since <= float(t) <= until:
                    out.append(float(ms))
        return out

    def tracebacks(self) -> int:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace").count("Traceback (most recent call last)")
        return 0

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


# ---------------------------------------------------------------------------------- sessions

class Session:
    """One browser tab: what it did, what went wrong, how long things took."""

    def __init__(self, index: int, page):
        self.index, self.page = index, page
        self.errors: list[str] = []
        self.script_errors: list[str] = []  # the driver's own trouble (a thumb not found in time), not the app's
        self.timeouts = 0
        self.slider_ms: list[float] = []
        self.drag_seconds = 0.0
        self.interactions = 0
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {str(e)[:200]}"))
        page.on("console", lambda m: self.errors.append(f"console: {m.text[:200]}") if m.type == "error" else None)

    async def idle(self) -> bool:
        """Until no script or fragment run is going on (checked twice, a moment apart)."""
        try:
            await self.page.wait_for_selector(READY, timeout=IDLE_TIMEOUT_MS)
            await self.page.wait_for_timeout(120)
            await self.page.wait_for_selector(READY, timeout=IDLE_TIMEOUT_MS)
        except Exception:  # playwright's TimeoutError: the app did not answer in time
            self.timeouts += 1
            return False
        if await self.page.locator("[data-testid=stException]").count():
            text = await self.page.locator("[data-testid=stException]").first.inner_text()
            self.errors.append(f"exception shown: {text[:200]}")
        return True

    async def decoded_src(self) -> str | None:
        return await self.page.evaluate(f"() => {{ const im = ({FIND_DECODED})(); return im ? im.getAttribute('src') : null; }}")

    async def pad_box(self) -> dict:
        await self.page.wait_for_function(f"() => {{ const h = document.querySelector('{PAD_HOST}'); "
                                          "return h && h.shadowRoot && h.shadowRoot.querySelector('.lp-pad'); }",
                                          timeout=IDLE_TIMEOUT_MS)
        return await self.page.evaluate(f"""() => {{ const h = document.querySelector('{PAD_HOST}');
            const r = h.shadowRoot.querySelector('.lp-pad').getBoundingClientRect();
            return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }}""")

    async def drag(self, rng: random.Random, steps: int = 25, end=None) -> None:
        """Press on the pad, move along a random path (a step every ~30 ms, as a hand does), release.

        A drag that brings no new image at all counts as an error (the pad stopped answering).
        """
        await self.page.locator(PAD_HOST).scroll_into_view_if_needed(timeout=IDLE_TIMEOUT_MS)
        shown_before = await self.page.evaluate("() => (window.__latentPad?.shown || []).length")
        box = await self.pad_box()
        x, y = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        mouse = self.page.mouse
        await mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        await mouse.down()
        started = time.perf_counter()
        for k in range(steps):
            if end is not None:  # straight to a chosen end point
                x, y = x + (end[0] - x) / (steps - k), y + (end[1] - y) / (steps - k)
            else:
                x, y = min(max(x + rng.uniform(-0.06, 0.06), 0.02), 0.98), min(max(y + rng.uniform(-0.06, 0.06), 0.02), 0.98)
            await mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
            await self.page.wait_for_timeout(30)
        await mouse.up()
        self.drag_seconds += time.perf_counter() - started
        self.interactions += 1
        if await self.idle():
            if await self.page.evaluate("() => (window.__latentPad?.shown || []).length") == shown_before:
                self.errors.append("a drag on the pad brought no new image")

    async def release_slider(self, rng: random.Random) -> None:
        """Drag a latent-dimension slider's thumb by a random amount and release: one new image."""
        sliders = self.page.locator("[data-testid=stSlider]").filter(has_text="KL")
        if not await sliders.count():
            return
        # the thumb: the element Streamlit's slider centres with translate(-50%, ...), as in scripts/browser.py
        thumb = sliders.nth(rng.randrange(min(4, await sliders.count()))).locator("div[style*='translate(-50%']").first
        try:
            await thumb.scroll_into_view_if_needed(timeout=5_000)
            box = await thumb.bounding_box()
        except Exception as exc:  # not a fault of the app under load: the page layout changed under the script
            self.script_errors.append(f"no slider thumb to drag ({str(exc).splitlines()[0][:80]})")
            return
        if box is None:
            return
        before = await self.decoded_src()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        dx = rng.choice([-1, 1]) * rng.uniform(15, 50)
        await self.page.mouse.move(x, y)
        await self.page.mouse.down()
        for k in range(1, 6):
            await self.page.mouse.move(x + dx * k / 5, y)
        started = time.perf_counter()
        await self.page.mouse.up()
        try:
            await self.page.wait_for_function(
                f"(old) => {{ const im = ({FIND_DECODED})(); return im && im.getAttribute('src') !== old; }}",
                arg=before, timeout=IDLE_TIMEOUT_MS)
            self.slider_ms.append((time.perf_counter() - started) * 1000)
        except Exception:
            pass  # the thumb may already sit at the end of its range: no new value, no new image
        self.interactions += 1
        await self.idle()
        await self.page.mouse.move(10, 10)

    async def pad_latencies(self) -> tuple[list[float], int]:
        """(sent -> painted ms for each pad point answered, images shown) from the pad's own log."""
        log = await self.page.evaluate("() => window.__latentPad || {}")
        sent = {r["seq"]: r["t"] for r in log.get("sent", [])}
        shown = log.get("shown", [])
        return [r["painted"] - sent[r["seq"]] for r in shown if r["seq"] in sent], len(shown)

    async def url_z(self) -> str | None:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.page.url).query)
        return (query.get("z") or [None])[0]


async def _open(context, url: str, index: int) -> Session:
    page = await context.new_page()
    s = Session(index, page)
    await page.goto(url + "/")
    await page.wait_for_function(f"() => {{ const im = ({FIND_DECODED})(); return im && im.getAttribute('src'); }}",
                                 timeout=120_000)
    await s.idle()
    return s


async def _work(s: Session, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if rng.random() < 0.2:
            await s.release_slider(rng)
        else:
            await s.drag(rng, steps=rng.randint(10, 40))


async def _own_points(sessions: list[Session]) -> dict:
    """Each session drags to a point of its own; after all have, each must still show its own."""
    n = len(sessions)
    mine = {}
    for s in sessions:  # one after another: every later move is a chance to leak into earlier sessions
        end = (0.1 + 0.8 * s.index / max(n - 1, 1), 0.3 + 0.4 * (s.index % 2))
        before = await s.url_z()
        await s.drag(random.Random(s.index), steps=12, end=end)
        deadline = time.time() + 30
        while await s.url_z() == before and time.time() < deadline:
            await s.page.wait_for_timeout(100)
        mine[s.index] = (await s.url_z(), await s.decoded_src())
    await asyncio.sleep(1.0)
    kept = 0
    for s in sessions:
        await s.idle()
        kept += (await s.url_z(), await s.decoded_src()) == mine[s.index]
    points = [z for z, _ in mine.values()]
    return {"sessions_kept_their_own_point": kept, "distinct_points": len(set(points)), "sessions": n}


async def run_level(browser, server: Server, sessions: int, seconds: float, seed: int = 0) -> dict:
    contexts = [await browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(sessions)]
    try:
        opened = await asyncio.gather(*[_open(c, server.url, i) for i, c in enumerate(contexts)])
        rss_before = server.rss_mb()
        t0 = time.time()
        await asyncio.gather(*[_work(s, seconds, seed * 1000 + s.index) for s in opened])
        t1 = time.time()
        isolation = await _own_points(list(opened))
        pad_ms, shown = [], 0
        for s in opened:
            ms, n = await s.pad_latencies()
            pad_ms += ms
            shown += n
        rss = [mb for t, mb in server.samples if t0 <= t <= time.time()]
        decode = server.decode_ms(t0, t1)
        return {
            "sessions": sessions, "seconds": round(t1 - t0, 1),
            "interactions": sum(s.interactions for s in opened),
            "errors": sum(len(s.errors) for s in opened), "error_samples": [e for s in opened for e in s.errors][:10],
            "timeouts": sum(s.timeouts for s in opened),
            "script_errors": sum(len(s.script_errors) for s in opened),
            "pad_ms": _quantiles(pad_ms), "pad_images_per_s": round(shown / max(sum(s.drag_seconds for s in opened), 1e-9), 1),
            "slider_ms": _quantiles([m for s in opened for m in s.slider_ms]),
            "decode_ms": _quantiles(decode), "decodes": len(decode),
            "rss_mb": {"before": round(rss_before), "peak": round(max(rss, default=float("nan"))),
                       "after": round(server.rss_mb())},
            "isolation": isolation,
        }
    finally:
        for c in contexts:
            await c.close()


def _quantiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    q = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else [values[0]] * 19
    return {"n": len(values), "p50": round(statistics.median(values), 2), "p95": round(q[18], 2)}


async def _main_async(bundle: Path, levels: list[int], seconds: float, headless: bool = True) -> dict:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="loadtest-") as work:
        server = Server(bundle, Path(work))
        try:
            server.wait_healthy()
            server.sample_memory()
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless)
                try:
                    results = {"bundle": str(bundle), "levels": []}
                    for n in levels:
                        level = await run_level(browser, server, n, seconds)
                        level["server_tracebacks_so_far"] = server.tracebacks()
                        results["levels"].append(level)
                        _print_level(level)
                    results["rss_mb_start"] = round(server.samples[0][1]) if server.samples else None
                    return results
                finally:
                    await browser.close()
        finally:
            server.stop()


def run(bundle, levels=(2,), seconds: float = 20.0) -> dict:
    """The load test as a function (tests/e2e/test_load.py): results as printed, in a dict."""
    return asyncio.run(_main_async(Path(bundle), list(levels), seconds))


def _print_level(r: dict) -> None:
    iso = r["isolation"]
    print(f"N={r['sessions']:<3} {r['seconds']:>5.0f}s  {r['interactions']:>4} interactions  "
          f"errors {r['errors']}  timeouts {r['timeouts']}  script {r['script_errors']}  "
          f"pad sent->painted p50 {r['pad_ms'].get('p50', '-')} p95 {r['pad_ms'].get('p95', '-')} ms "
          f"({r['pad_images_per_s']} images/s dragging)  slider p50 {r['slider_ms'].get('p50', '-')} "
          f"p95 {r['slider_ms'].get('p95', '-')} ms  server decode p50 {r['decode_ms'].get('p50', '-')} "
          f"p95 {r['decode_ms'].get('p95', '-')} ms  RSS {r['rss_mb']['before']}->{r['rss_mb']['peak']}"
          f"->{r['rss_mb']['after']} MB  own point kept {iso['sessions_kept_their_own_point']}/{iso['sessions']}",
          flush=True)
    for e in r["error_samples"]:
        print("   ", e)


def default_bundle() -> Path:
    return ROOT / "pretrained" / "fashion_mnist"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.error = lambda message: p.exit(2, f"error: {message} (see python scripts/loadtest.py --help).\n")
    p.add_argument("--bundle", type=Path, default=default_bundle(), help="a precomputed bundle folder")
    p.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20], help="concurrent sessions, one level each")
    p.add_argument("--seconds", type=float, default=60.0, help="interaction time per level")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--headed", action="store_true", help="show the browser windows")
    args = p.parse_args(argv)
    if not args.bundle.is_dir():
        p.error(f"no bundle folder at {args.bundle}")
    if min(args.sessions) < 1 or max(args.sessions) > 100:
        p.error("--sessions must be between 1 and 100")
    if not 1 <= args.seconds <= 3600:
        p.error("--seconds must be between 1 and 3600")
    if not Path(CHROMIUM).exists():
        p.error(f"no Chromium at {CHROMIUM} (set CHROMIUM=/path/to/chromium)")
    results = asyncio.run(_main_async(args.bundle, args.sessions, args.seconds, headless=not args.headed))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    bad = sum(r["errors"] + r["timeouts"] for r in results["levels"])
    leaks = sum(r["isolation"]["sessions"] - r["isolation"]["sessions_kept_their_own_point"] for r in results["levels"])
    return 0 if bad == 0 and leaks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
