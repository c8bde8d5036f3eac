"""Driving the app in a browser, for the e2e tests (tests/e2e/) and the browser benchmarks (benchmark.py
--browser, loadtest.py, bench_map.py): start `streamlit run`, drive Debian's Chromium with Playwright,
and read the app's state from the page."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
# the app's debug switch for the pad's timing log in the page (window.__latentPad; see vae/debug.py)
TIMING = {"VAE_DEBUG": "timing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: str = "app.py", bundles=(), env=None, timeout: float = 90.0, log=None, port: int | None = None,
                     cwd=None):
    """Run `streamlit run script -- --bundle B ...` on `port` (or a free one); yield its base URL; stop it after."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    extra = [a for b in bundles for a in ("--bundle", str(b))]
    if extra:
        cmd += ["--", *extra]
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=cwd or ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise TimeoutError("streamlit did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_ready(page, timeout: float = 90_000) -> None:
    """Until the script has finished running (and the decoded image is there, on the explorer)."""
    page.wait_for_selector(READY, timeout=timeout)


def wait_idle(page, timeout: float = 30_000, settle_ms: int = 150) -> None:
    """Until no script or fragment run is going on (checked twice, a moment apart)."""
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(READY, timeout=timeout)


# the decoded image lives in the decoder view's shadow root
FIND_DECODED = """() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
    return h && h.shadowRoot ? h.shadowRoot.querySelector('img.decoded') : null; }"""


def decoded(page) -> dict | None:
    """The decoded image's src (its pixels, as a PNG data URI) and the pad seq it answers."""
    return page.evaluate(f"""() => {{ const im = ({FIND_DECODED})();
        return im && im.getAttribute('src') ? {{src: im.getAttribute('src'), seq: Number(im.dataset.seq)}} : null; }}""")


def wait_decoded(page, timeout: float = 60_000) -> dict:
    page.wait_for_function(f"() => {{ const im = ({FIND_DECODED})(); return im && im.getAttribute('src'); }}", timeout=timeout)
    return decoded(page)


def wait_decoded_change(page, old_src: str, timeout: float = 15_000) -> dict:
    page.wait_for_function(f"(old) => {{ const im = ({FIND_DECODED})(); return im && im.getAttribute('src') !== old; }}",
                           arg=old_src, timeout=timeout)
    return decoded(page)


def inspected_row(page) -> int | None:
    return page.evaluate("() => { const e = document.querySelector('.inspected'); return e ? Number(e.dataset.row) : null; }")


def pad_box(page) -> dict:
    """The latent pad's bounding box (the square inside its shadow root)."""
    page.wait_for_function("() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]'); "
                           "return h && h.shadowRoot && h.shadowRoot.querySelector('.lp-pad'); }", timeout=30_000)
    return page.evaluate("""() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
        const r = h.shadowRoot.querySelector('.lp-pad').getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height}; }""")


def map_point_xy(page, row: int) -> tuple[float, float] | None:
    """Screen position of encoding `row` on the big map (its trace's customdata holds the rows)."""
    return page.evaluate("""(row) => {
        const gd = document.querySelector('.st-key-map .js-plotly-plot');
        if (!gd || !gd._fullLayout) return null;
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        for (const tr of gd._fullData) {
            const cd = tr.customdata; if (!cd || !tr.visible || tr.visible === 'legendonly') continue;
            for (let i = 0; i < cd.length; i++) {
                const v = (cd[i] !== null && typeof cd[i] === 'object') ? cd[i][0] : cd[i];
                if (Math.round(v) === row) {
                    return [box.left + xa._offset + xa.l2p(tr.x[i]), box.top + ya._offset + ya.l2p(tr.y[i])];
                }
            }
        }
        return null; }""", row)


def isolated_point(page, min_px: float = 10.0, skip: int = 0):
    """(row, x, y) of a visible encoding with no other within min_px on screen, so a click picks it alone."""
    return page.evaluate("""([minPx, skip]) => {
        const gd = document.querySelector('.st-key-map .js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        const pts = [];
        for (const tr of gd._fullData) {
            if (!tr.customdata || tr.visible === 'legendonly') continue;
            for (let i = 0; i < tr.x.length; i++) {
                const cd = tr.customdata[i];
                pts.push([xa._offset + xa.l2p(tr.x[i]), ya._offset + ya.l2p(tr.y[i]), Math.round(typeof cd === 'object' ? cd[0] : cd)]);
            }
        }
        const cell = new Map(), key = (x, y) => Math.floor(x / minPx) + ',' + Math.floor(y / minPx);
        for (const p of pts) { const k = key(p[0], p[1]); if (!cell.has(k)) cell.set(k, []); cell.get(k).push(p); }
        let found = 0;
        for (const p of pts) {
            if (p[0] < xa._offset + 20 || p[0] > xa._offset + xa._length - 20 || p[1] < ya._offset + 20 || p[1] > ya._offset + ya._length - 20) continue;
            let alone = true;
            const cx = Math.floor(p[0] / minPx), cy = Math.floor(p[1] / minPx);
            for (let dx = -1; dx <= 1 && alone; dx++) for (let dy = -1; dy <= 1 && alone; dy++)
                for (const q of cell.get((cx + dx) + ',' + (cy + dy)) || [])
                    if (q !== p && Math.hypot(q[0] - p[0], q[1] - p[1]) < minPx) { alone = false; break; }
            if (alone && found++ === skip) return [p[2], box.left + p[0], box.top + p[1]];
        }
        return null; }""", [min_px, skip])


# a 3-D map: each point's pixel from Plotly's own camera (the way Plotly places its hover labels)
_SCENE_POINTS = """() => {
    const gd = document.querySelector('.st-key-map3d .js-plotly-plot');
    const sc = gd && gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (!sc || !sc.glplot || !sc.glplot.cameraParams || !sc.dataScale) return null;
    const c = sc.glplot.cameraParams, ds = sc.dataScale, r = sc.container.getBoundingClientRect();
    const mul = (m, v) => { const o = [0, 0, 0, 0]; for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; };
    const pts = [];
    for (const tr of gd._fullData) {
        if (!tr.customdata || tr.visible !== true) continue;
        for (let i = 0; i < tr.x.length; i++) {
            const q = mul(c.projection, mul(c.view, mul(c.model, [tr.x[i] * ds[0], tr.y[i] * ds[1], tr.z[i] * ds[2], 1])));
            const cd = tr.customdata[i];
            pts.push([r.left + (0.5 + 0.5 * q[0] / q[3]) * r.width, r.top + (0.5 - 0.5 * q[1] / q[3]) * r.height,
                      Math.round(typeof cd === 'object' ? cd[0] : cd), q[2] / q[3]]);
        }
    }
    return {pts, box: [r.left, r.top, r.right, r.bottom]};
}"""


def scene_isolated_point(page, min_px: float = 8.0, skip: int = 0):
    """(row, x, y) of a point on the 3-D map with no other point within min_px on screen."""
    found = page.evaluate(_SCENE_POINTS)
    if not found:
        return None
    pts, (left, top, right, bottom) = found["pts"], found["box"]
    cells: dict = {}
    for p in pts:
        cells.setdefault((int(p[0] // min_px), int(p[1] // min_px)), []).append(p)
    hits = 0
    for p in pts:
        if not (left + 40 < p[0] < right - 40 and top + 40 < p[1] < bottom - 40):
            continue
        cx, cy = int(p[0] // min_px), int(p[1] // min_px)
        near = [q for dx in (-1, 0, 1) for dy in (-1, 0, 1) for q in cells.get((cx + dx, cy + dy), [])
                if q is not p and ((q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2) ** 0.5 < min_px]
        if not near:
            if hits == skip:
                return p[2], p[0], p[1]
            hits += 1
    return None


def scene_point_xy(page, row: int) -> tuple[float, float] | None:
    found = page.evaluate(_SCENE_POINTS)
    return next(((p[0], p[1]) for p in (found or {}).get("pts", []) if p[2] == row), None)


def ring_xy(page, key: str = "map3d") -> tuple[float, float] | None:
    """Where the current point's ring is drawn over the big map, in page pixels (None: not shown)."""
    return page.evaluate("""(key) => { const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        const svg = gd && gd.querySelector('.latent-pad-overlay');
        if (!svg || !svg.dataset.ring) return null;
        const [x, y] = svg.dataset.ring.split(',').map(Number), box = gd.getBoundingClientRect();
        return [box.left + x, box.top + y]; }""", key)


def map_data_to_screen(page, x: float, y: float) -> tuple[float, float]:
    return page.evaluate("""([x, y]) => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)]; }""", [x, y])


def slider_thumb(page, label_prefix: str):
    """The thumb of the slider whose label starts with `label_prefix`."""
    slider = page.locator("[data-testid=stSlider]").filter(has_text=label_prefix).first
    return slider.locator("div[style*='translate(-50%']").first


def drag_slider(page, label_prefix: str, dx: float) -> None:
    """Press the slider's thumb, move it dx pixels, release: one value sent, on release."""
    thumb = slider_thumb(page, label_prefix)
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x + dx * k / 5, y)
    page.mouse.up()
