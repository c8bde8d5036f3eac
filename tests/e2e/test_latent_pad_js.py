"""The latent pad's script (ui/latent_pad.js) on a page of its own, no server: its marks on a Plotly map
land where Plotly draws that point, with Plotly's private layout fields and, when they are not there,
from the public layout ranges (said once in the console); a 3-D map without its private camera draws no
mark and says so once; the timing log exists only with the debug switch (VAE_DEBUG=timing).

Plotly is the plotly Python package's own plotly.min.js; the script is the one the app ships. The private
fields are hidden from latent_pad.js alone (a getter that looks at who asks), so Plotly itself still works."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.browser import ROOT

pytestmark = pytest.mark.e2e

ORIGIN = "http://pad.test"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="/plotly.js"></script><style>{css}</style></head>
<body style="margin:0">
<div class="st-key-map" style="width:760px"><div id="gd2"></div></div>
<div class="st-key-map3d" style="width:500px"><div id="gd3"></div></div>
<div id="pad" style="width:400px">{html}</div>
<script>
window.warnings = [];
const warn = console.warn.bind(console);
console.warn = (...a) => {{ window.warnings.push(a.join(" ")); warn(...a); }};
</script>
<script type="module">
import pad from "/latent_pad.js";
window.sent = [];
window.padRender = (data) => pad({{ data, parentElement: document.getElementById("pad"),
                                   setStateValue: (k, v) => window.sent.push(v) }});
window.padLoaded = true;
</script>
</body></html>"""

FIGURES = r"""async () => {
  const pts = { x: [-3, 5, 0, 2], y: [-2, 4, 1, -1], mode: "markers", type: "scatter", name: "a" };
  await Plotly.newPlot("gd2", [pts], { width: 760, height: 480, margin: { l: 10, r: 10, t: 34, b: 10 },
                                      showlegend: true, legend: { orientation: "v" } });
  await Plotly.newPlot("gd3", [{ ...pts, z: [0, 1, -1, 0.5], type: "scatter3d" }],
                       { width: 500, height: 420, margin: { l: 0, r: 0, t: 0, b: 0 } });
  // _fullLayout as latent_pad.js sees it: undefined while window.hidePrivate is set (Plotly still gets it;
  // set up after newPlot, which deletes and assigns it)
  window.hidePrivate = false;
  for (const id of ["gd2", "gd3"]) {
    const gd = document.getElementById(id);
    let real = gd._fullLayout;
    Object.defineProperty(gd, "_fullLayout", { configurable: true, set(v) { real = v; },
      get() { return window.hidePrivate && /latent_pad\.js/.test(new Error().stack || "") ? undefined : real; } });
  }
}"""

# where Plotly itself puts a data point over the 2-D chart (its own axes; not hidden from this page)
TRUTH = """([x, y]) => { const fl = document.getElementById("gd2")._fullLayout;
  return [fl.xaxis._offset + fl.xaxis.l2p(x), fl.yaxis._offset + fl.yaxis.l2p(y)]; }"""


def _data(**kw) -> dict:
    data = {"image": "", "side": "", "help": "", "alt": "decoded image", "bounds": [-3.0, 5.0, -2.0, 4.0],
            "point": [1.0, 1.0], "rev": 1, "ack": 0, "bg": "", "axes": ["x", "y"], "map_key": "map", "map_dims": 2,
            "point3": None, "path": [], "marks": [], "disabled": False, "clear_sel": 0, "legend_key": "t",
            "timing": False}
    return {**data, **kw}


@pytest.fixture(scope="module")
def page(chromium):
    import plotly

    from ui import latent_pad

    files = {"/": (PAGE.format(css=latent_pad._CSS, html=latent_pad._HTML), "text/html"),
             "/plotly.js": ((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(), "text/javascript"),
             "/latent_pad.js": ((ROOT / "ui" / "latent_pad.js").read_text(), "text/javascript")}

    def serve(route):
        path = "/" + route.request.url.removeprefix(ORIGIN).lstrip("/").split("?")[0]
        if path in files:
            body, mime = files[path]
            route.fulfill(status=200, body=body, content_type=mime)
        else:
            route.fulfill(status=404, body="")

    pg = chromium.new_page(viewport={"width": 1300, "height": 1000})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.route(f"{ORIGIN}/**", serve)
    pg.goto(f"{ORIGIN}/")
    pg.wait_for_function("() => window.padLoaded && window.Plotly")
    pg.evaluate(FIGURES)
    pg.errors = errors
    yield pg
    pg.close()


def _ring(pg, key: str):
    """The current point's ring over the chart under .st-key-KEY, as [x, y] pixels, or None when not drawn."""
    ring = pg.evaluate("(key) => { const s = document.querySelector(`.st-key-${key} .latent-pad-overlay`);"
                       " return s ? s.dataset.ring : null; }", key)
    assert ring is not None, f"no overlay on the {key} chart"
    return [float(v) for v in ring.split(",")] if ring else None


def _render(pg, **kw) -> None:
    pg.evaluate("(d) => window.padRender(d)", _data(**kw))


def test_2d_marks_land_on_plotlys_point_with_and_without_its_private_layout(page):
    _render(page, point=[1.0, 1.0], rev=1)
    assert _ring(page, "map") == pytest.approx(page.evaluate(TRUTH, [1.0, 1.0]), abs=0.6)
    assert not [w for w in page.evaluate("window.warnings") if "Plotly's" in w]

    page.evaluate("window.hidePrivate = true")
    for rev, point in enumerate(([2.0, -1.0], [-2.5, 3.5], [4.0, 0.0]), start=2):
        _render(page, point=point, rev=rev)
        assert _ring(page, "map") == pytest.approx(page.evaluate(TRUTH, point), abs=1.0), point
    said = [w for w in page.evaluate("window.warnings") if "axis placement" in w]
    assert len(said) == 1 and "public ranges" in said[0], said  # once, however often it is drawn
    page.evaluate("window.hidePrivate = false")
    assert not page.errors, page.errors


def test_3d_marks_need_the_private_camera_and_say_once_when_it_is_gone(page):
    if not page.evaluate("() => !!document.querySelector('#gd3 canvas')"):
        pytest.skip("no WebGL in this Chromium: the 3-D chart is not drawn")
    kw = dict(map_key="map3d", map_dims=3, point=[0.0, 0.0], point3=[0.0, 0.0, 0.0], legend_key="t3")
    _render(page, rev=10, **kw)
    at = _ring(page, "map3d")
    assert at is not None and 0 < at[0] < 500 and 0 < at[1] < 420, at

    page.evaluate("window.hidePrivate = true")
    for rev in (11, 12):
        _render(page, rev=rev, **{**kw, "point": [1.0, 0.5]})
        assert _ring(page, "map3d") is None
    page.wait_for_timeout(100)  # a few animation frames of following the camera
    said = [w for w in page.evaluate("window.warnings") if "3-D camera" in w]
    assert len(said) == 1 and "not marked" in said[0], said
    page.evaluate("window.hidePrivate = false")
    assert not page.errors, page.errors


def test_the_timing_log_is_kept_only_with_the_debug_switch(page):
    _render(page, rev=20, point=[1.0, 1.0], timing=False)
    page.focus(".lp-pad")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => window.sent.length") >= 1  # the point went to Python...
    assert page.evaluate("() => window.__latentPad === undefined")  # ...and nothing was recorded

    _render(page, rev=21, ack=10_000, timing=True)  # every point so far acknowledged
    page.keyboard.press("ArrowLeft")
    log = page.evaluate("() => window.__latentPad")
    assert log is not None and len(log["sent"]) == 1, json.dumps(log)[:300]
    assert not page.errors, page.errors


PRESS = """(n) => { const pad = document.querySelector(".lp-pad");
  for (let i = 0; i < n; ++i) pad.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
  return window.sent.length; }"""


def test_two_points_in_flight_then_only_the_newest(page):
    """Flow control: at most two points go unanswered (the server starts the next decoding while the last is
    drawn); moves beyond that wait, and an answer sends only the newest of them, so no backlog builds."""
    _render(page, rev=30, point=[0.0, 1.0], ack=10_000, timing=False)  # everything so far answered
    before = page.evaluate("() => window.sent.length")
    after = page.evaluate(PRESS, 5)                                 # five moves at once
    assert after - before == 2, page.evaluate("() => window.sent.slice(-5)")
    first, second = page.evaluate("(n) => window.sent.slice(n)", before)
    assert second["seq"] == first["seq"] + 1
    _render(page, rev=30, ack=first["seq"])                         # the first answer comes back
    third = page.evaluate("() => window.sent")[-1]
    assert len(page.evaluate("() => window.sent")) == after + 1 and third["seq"] == second["seq"] + 1
    step = 0.02 * (5.0 - -3.0)
    assert third["x"] == pytest.approx(0.0 + 5 * step)             # the newest point, not the third move
    _render(page, rev=30, ack=third["seq"])                         # all answered: nothing is left to send
    assert len(page.evaluate("() => window.sent")) == after + 1
    assert not page.errors, page.errors
