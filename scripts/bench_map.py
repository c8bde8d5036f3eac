"""Map changes in Chromium: switching the projection (PCA 2-D / 3-D, t-SNE, ...) and the colouring.

    python scripts/bench_map.py                                   # this checkout, shipped fashion_mnist
    python scripts/bench_map.py --compare /tmp/before --repeats 5 # this app against another checkout, interleaved

Starts `streamlit run app.py` (or uses --url), opens the explorer at 1280x720 and, per repeat, picks
every projection in turn and then each colouring, timing from the pointer press on the control to
(a) the new map drawn (its Plotly figure shows the new axes or colour bar, two frames later) and
(b) the page idle again (no script or fragment run left), and (c) the last message from the server
for that change and the bytes it sent (read from the page's WebSocket): (a) minus (c) is the
browser's part. Prints medians in milliseconds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the big map's figure, whichever chart (2-D or 3-D) shows it (a kept chart out of sight is hidden); null if none
_STATE = """() => {
    const gd = [...document.querySelectorAll('.st-key-map .js-plotly-plot, .st-key-map3d .js-plotly-plot')]
        .find((g) => getComputedStyle(g).visibility !== 'hidden');
    const fl = gd && gd._fullLayout;
    if (!fl || !gd._fullData || !gd._fullData.length) return null;
    const t = (a) => (a && a.title && a.title.text) || '';
    const x = fl.scene ? t(fl.scene.xaxis) + '|' + t(fl.scene.zaxis) : t(fl.xaxis);
    const cb = fl.coloraxis && fl.coloraxis.colorbar ? t(fl.coloraxis.colorbar) : '';
    return {axes: x, colour: cb.split('<br>')[0], three: !!fl.scene};
}"""

# every WebSocket message's arrival time and size, from the page's first script on
_WIRE = """(() => { const W = window.WebSocket; window.__wire = [];
    window.WebSocket = function (...a) { const s = new W(...a);
        s.addEventListener('message', (e) => window.__wire.push([performance.now(), e.data.size || e.data.byteLength || 0]));
        return s; };
    window.WebSocket.prototype = W.prototype; Object.assign(window.WebSocket, W); })();"""

_SERVER = """() => { const t0 = window.__benchT0, m = (window.__wire || []).filter((x) => x[0] > t0);
    return [m.length ? m[m.length - 1][0] - t0 : 0, m.reduce((a, x) => a + x[1], 0)]; }"""

_ARM = """() => { window.__benchT0 = null;
    if (!window.__benchArmed) { window.__benchArmed = true;
        document.addEventListener('pointerdown', () => { if (window.__benchT0 === null) window.__benchT0 = performance.now(); },
                                  true); } }"""

_SEEN = """([want, key]) => { const s = (%s)(); return !!s && s[key] === want; }""" % _STATE
_PAINTED = """() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(
    () => r(performance.now() - window.__benchT0))))"""


def _wait(page, want: str, key: str, h) -> tuple[float, float, float, float]:
    """(ms to the new map drawn, ms to the page idle, ms to the server's last message, bytes it sent)
    after the press _ARM recorded."""
    page.wait_for_function(_SEEN, arg=[want, key], timeout=60_000, polling="raf")
    drawn = page.evaluate(_PAINTED)
    page.wait_for_selector(h.READY, timeout=60_000)
    page.wait_for_timeout(100)
    page.wait_for_selector(h.READY, timeout=60_000)
    idle = page.evaluate("() => performance.now() - window.__benchT0") - 100  # less the settle pause
    server, sent = page.evaluate(_SERVER)
    return float(drawn), float(idle), float(server), float(sent)


def expected_axes(name: str) -> str:
    from ui.map_view import axis_titles

    titles = axis_titles(name, 3 if name == "pca3" else 2)
    return f"{titles[0]}|{titles[2]}" if name == "pca3" else titles[0]


def pick_projection(page, title: str) -> None:
    page.locator("[data-testid=stRadio] label").filter(has_text=title).first.click()


def pick_colour(page, option: str) -> None:
    box = page.locator("[data-testid=stSelectbox]").filter(has_text="Colour by").first
    box.locator("input[role=combobox]").click()
    page.evaluate(_ARM)  # time from the choice, not from opening the list
    page.get_by_role("option", name=option, exact=True).first.click()


def measure(h, page, projections: list[str], colours: list[str], repeats: int) -> dict:
    from ui.map_view import projection_title

    out = {"projection": {}, "colour": {}}
    start = projections[0]
    for _ in range(repeats):
        for name in projections[1:] + [start]:
            page.evaluate(_ARM)
            pick_projection(page, projection_title(name))
            out["projection"].setdefault(name, []).append(_wait(page, expected_axes(name), "axes", h))
        for colour in colours[1:] + colours[:1]:
            pick_colour(page, colour)
            out["colour"].setdefault(colour, []).append(_wait(page, "" if colour == "class" else colour, "colour", h))
    return out


def summary(runs: dict) -> dict:
    res = {}
    for kind, by in runs.items():
        for name, pairs in by.items():
            res[f"{kind}: {name}"] = {"drawn_ms": round(statistics.median(p[0] for p in pairs)),
                                      "idle_ms": round(statistics.median(p[1] for p in pairs)),
                                      "server_ms": round(statistics.median(p[2] for p in pairs)),
                                      "sent_kB": round(statistics.median(p[3] for p in pairs) / 1000), "n": len(pairs)}
    return res


def open_explorer(h, browser, url: str, bundle: str, start: str, viewport):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.add_init_script(_WIRE)
    page.goto(f"{url}/?bundle={bundle}&proj={start}")
    h.wait_decoded(page)
    h.wait_idle(page, settle_ms=800)
    return page


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", default=str(ROOT / "pretrained" / "fashion_mnist"))
    p.add_argument("--url", help="an app already running (else one is started here)")
    p.add_argument("--compare", metavar="CHECKOUT", help="another checkout of this app, measured interleaved with this one")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--port", type=int, default=None, help="first port for the servers started here")
    p.add_argument("--viewport", default="1280x720")
    p.add_argument("--colours", default="class,brightness", help="comma-separated colourings to cycle through")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)
    import contextlib

    from playwright.sync_api import sync_playwright

    from scripts import browser as h

    bundle = Path(args.bundle).resolve()
    with __import__("numpy").load(bundle / "projections.npz", allow_pickle=False) as z:
        projections = [n for n in ("pca2", "pca3", "tsne", "umap", "latent") if f"{n}.embedding" in z.files]
    colours = args.colours.split(",")
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    checkouts = {"this": ROOT} | ({"other": Path(args.compare).resolve()} if args.compare else {})
    results = {k: {"projection": {}, "colour": {}} for k in checkouts}
    with sync_playwright() as pw, contextlib.ExitStack() as stack:
        browser = h.launch(pw)
        pages = {}
        for i, (label, where) in enumerate(checkouts.items()):
            url = args.url if (args.url and label == "this") else stack.enter_context(h.streamlit_server(
                where / "app.py", bundles=[bundle], cwd=where, port=(args.port + i) if args.port else None))
            pages[label] = open_explorer(h, browser, url, bundle.name, projections[0], viewport)
        for _ in range(args.repeats):  # interleaved: both see the same load
            for label, page in pages.items():
                one = measure(h, page, projections, colours, 1)
                for kind in one:
                    for name, pairs in one[kind].items():
                        results[label][kind].setdefault(name, []).extend(pairs)
        browser.close()
    out = {"bundle": str(bundle), "viewport": args.viewport, "repeats": args.repeats,
           "load_average": __import__("os").getloadavg()[0],
           **{label: summary(r) for label, r in results.items()}}
    print(f"median ms from the press to: the new map drawn / the page idle / the server's last message, and kB sent "
          f"({args.repeats} repeats, {args.viewport}, load average {out['load_average']:.1f})")
    for name in out["this"]:
        row = ""
        for label in out:
            if label in checkouts:
                r = out[label][name]
                row += f"   {label} {r['drawn_ms']:>6} / {r['idle_ms']:>6} / {r['server_ms']:>5}  {r['sent_kB']:>4} kB"
        print(f"  {name:<22}{row}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
