"""The gallery page in a real browser at 1280x720: the grid draws, and a clicked sample opens in the explorer."""
from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
import pytest

from scripts.browser import ROOT, wait_decoded, wait_idle
from PIL import Image

pytestmark = pytest.mark.e2e

GRID = ".st-key-gallery_grid .js-plotly-plot"


def pixels(src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"), np.int16)


def other_bundle() -> str | None:
    """A shipped bundle that is not the app's default, to check that the click keeps the chosen bundle."""
    b = ROOT / "pretrained" / "fashion_mnist_2d"
    try:
        return b.name if "precompute" in json.loads((b / "meta.json").read_text()) else None
    except (OSError, ValueError):
        return None


def test_click_a_sample_opens_it_in_the_explorer(browser, app_url, artifacts):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    bundle = other_bundle()
    page.goto(app_url + "/gallery" + (f"?bundle={bundle}" if bundle else ""))
    page.wait_for_selector(GRID, timeout=90_000)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as dl:  # built when clicked; no rerun (on_click="ignore")
        page.get_by_role("button", name="Samples (.npz)").click()
    with np.load(dl.value.path(), allow_pickle=False) as f:
        assert f["x"].dtype == np.uint8 and len(f["x"]) == len(f["y"]) == 100 and len(f["class_names"]) == 10
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Samples (zip of class folders)").click()
    with zipfile.ZipFile(dl.value.path()) as z:
        pngs = [n for n in z.namelist() if n.endswith(".png")]
        assert len(pngs) == 100 and any(n.endswith("/generation.json") for n in z.namelist())
    page.locator(GRID).evaluate("e => e.scrollIntoView({block: 'start'})")  # the grid's first rows on screen
    # the third sample of the second row: its marker's screen position, and its pixels cut from the grid picture
    cell = page.evaluate("""(sel) => {
        const gd = document.querySelector(sel);
        const img = gd._fullData[0], tr = gd._fullData[1], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const box = gd.getBoundingClientRect();
        const rowStarts = tr.y.map((y, k) => k).filter(k => k === 0 || tr.y[k] !== tr.y[k - 1]);
        const i = rowStarts[1] + 2;
        return {x: box.left + xa._offset + xa.l2p(tr.x[i]), y: box.top + ya._offset + ya.l2p(tr.y[i]),
                cx: tr.x[i], cy: tr.y[i], source: img.source, sample: tr.customdata[i]}; }""", GRID)
    page.screenshot(path=artifacts / "gallery_01_grid.png")
    page.mouse.click(cell["x"], cell["y"])
    page.wait_for_url(lambda url: "/gallery" not in url and "z=" in url, timeout=60_000)  # the explorer, at "/"
    shown = wait_decoded(page)
    wait_idle(page)
    page.screenshot(path=artifacts / "gallery_02_explorer.png")
    assert not errors, errors
    if bundle:
        assert f"bundle={bundle}" in page.url
    # the explorer decodes the clicked sample: compare with its cell of the grid picture (drawn 3x, ui/gallery.py)
    decoded = pixels(shown["src"])  # native size
    h, w = decoded.shape
    x0, y0 = round(cell["cx"] - w * 1.5), round(cell["cy"] - h * 1.5)
    cut = pixels(cell["source"])[y0:y0 + 3 * h:3, x0:x0 + 3 * w:3]
    assert cut.shape == decoded.shape
    assert np.abs(cut - decoded).mean() < 3, "the explorer shows a different image from the clicked sample"
    page.close()
