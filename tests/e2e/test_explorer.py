"""The explorer in a real browser: click, drag, slide, lasso, share a link.

Images are compared by their pixels (the decoded image's PNG data URI), and readiness is the
app's own `data-test-script-state`, never a fixed sleep.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from scripts.browser import (decoded, drag_slider, inspected_row, isolated_point, map_data_to_screen, pad_box, ring_xy,
                     scene_isolated_point, scene_point_xy, wait_decoded, wait_decoded_change, wait_idle)
from PIL import Image

pytestmark = pytest.mark.e2e


def pixels(src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"), np.int16)


@pytest.fixture(scope="module")
def page(browser, app_url):
    """One explorer page shared by the steps below (each leaves the app idle)."""
    pg = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(app_url + "/")
    wait_decoded(pg)
    wait_idle(pg)
    pg.errors = errors
    yield pg
    pg.close()


def test_click_a_point_shows_it_in_the_inspector(page, artifacts):
    before = decoded(page)
    found = isolated_point(page, skip=3)
    assert found is not None, "no encoding stands alone on the map"
    target, x, y = found
    page.mouse.click(x, y)
    page.wait_for_function("(row) => { const e = document.querySelector('.inspected'); return e && e.dataset.row == row; }",
                           arg=str(target), timeout=20_000)
    after = wait_decoded_change(page, before["src"])
    wait_idle(page)
    assert inspected_row(page) == target
    assert not np.array_equal(pixels(before["src"]), pixels(after["src"]))
    page.screenshot(path=artifacts / "01_click_point.png")


def test_click_empty_map_space_decodes_there(page, artifacts):
    before = decoded(page)
    x0, x1, y0, y1 = page.evaluate("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
        return [...gd._fullLayout.xaxis.range, ...gd._fullLayout.yaxis.range]; }""")
    page.mouse.click(*map_data_to_screen(page, x0 + 0.93 * (x1 - x0), y0 + 0.07 * (y1 - y0)))  # a corner: no points
    after = wait_decoded_change(page, before["src"])
    wait_idle(page)
    assert after["seq"] > before["seq"]  # answered a point the pad's script sent
    page.screenshot(path=artifacts / "02_click_empty_space.png")


def test_drag_on_the_pad_updates_the_image_while_moving(page, artifacts):
    wait_idle(page)
    start = page.evaluate("() => (window.__latentPad && window.__latentPad.shown || []).length")
    box = pad_box(page)
    x, y = box["x"] + 0.25 * box["width"], box["y"] + 0.3 * box["height"]
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(30):
        page.mouse.move(x + k * 0.017 * box["width"], y + k * 0.012 * box["height"])
        page.wait_for_timeout(30)
    # still pressed: count the images shown so far, during this one drag
    page.wait_for_function("(n) => window.__latentPad.shown.length >= n + 3", arg=start, timeout=20_000)
    during = page.evaluate("(n) => window.__latentPad.shown.slice(n).map(s => s.seq)", start)
    page.screenshot(path=artifacts / "03_drag_pad_mid_drag.png")
    page.mouse.up()
    wait_idle(page)
    assert len(set(during)) >= 3, f"only {len(set(during))} images while dragging"
    assert page.evaluate("() => document.querySelector('.latent-pad-overlay') !== null"), "no current point on the map"
    page.screenshot(path=artifacts / "04_drag_pad_released.png")


def test_releasing_a_slider_changes_the_image(page, artifacts):
    before = decoded(page)
    first = page.locator("[data-testid=stSlider]").filter(has_text="KL").first
    label = first.locator("[data-testid=stWidgetLabel]").inner_text().split("·")[0].strip()
    drag_slider(page, label, 45)
    after = wait_decoded_change(page, before["src"])
    wait_idle(page)
    assert not np.array_equal(pixels(before["src"]), pixels(after["src"]))
    page.screenshot(path=artifacts / "05_slider_released.png")


def _lasso(page, points) -> None:
    page.locator(".st-key-map").hover()
    page.locator('.st-key-map .modebar-btn[data-title="Lasso Select"]').click()
    xs = [map_data_to_screen(page, *p) for p in points]
    page.mouse.move(*xs[0])
    page.mouse.down()
    for p in xs[1:] + xs[:1]:
        page.mouse.move(*p, steps=4)
    page.mouse.up()
    page.wait_for_function("() => /Current map selection: [1-9]/.test(document.body.innerText)", timeout=20_000)
    wait_idle(page)


def test_lasso_two_groups_make_a_new_slider(page, artifacts):
    page.get_by_role("tab", name="Make a slider").click()
    x0, x1, y0, y1 = page.evaluate("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
        return [...gd._fullLayout.xaxis.range, ...gd._fullLayout.yaxis.range]; }""")
    w, h = x1 - x0, y1 - y0
    left = [(x0 + 0.05 * w, y0 + 0.05 * h), (x0 + 0.45 * w, y0 + 0.05 * h), (x0 + 0.45 * w, y0 + 0.95 * h), (x0 + 0.05 * w, y0 + 0.95 * h)]
    right = [(x0 + 0.55 * w, y0 + 0.05 * h), (x0 + 0.95 * w, y0 + 0.05 * h), (x0 + 0.95 * w, y0 + 0.95 * h), (x0 + 0.55 * w, y0 + 0.95 * h)]
    _lasso(page, left)
    page.get_by_role("button", name="Selection → group A").click()
    wait_idle(page)
    _lasso(page, right)
    page.get_by_role("button", name="Selection → group B").click()
    wait_idle(page)
    page.get_by_label("Slider name").fill("left to right")
    page.get_by_label("Slider name").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Make the slider").click()
    wait_idle(page)
    made = page.locator("[data-testid=stCaptionContainer]").filter(has_text="left to right").inner_text()
    assert "mostly changes" in made, made  # measured on decodings: which attributes the new slider moves
    # the lasso is used up: its outline and the faded points go
    page.wait_for_function("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
        return !(gd.layout.selections || []).length && gd._fullData.every(t => !t.selectedpoints); }""", timeout=20_000)
    page.get_by_role("tab", name="Attribute sliders").click()
    slider = page.locator("[data-testid=stSlider]").filter(has_text="left to right")
    slider.wait_for(timeout=20_000)
    page.screenshot(path=artifacts / "06_lasso_slider.png")
    before = decoded(page)
    drag_slider(page, "left to right", 50)
    wait_decoded_change(page, before["src"])
    wait_idle(page)
    page.screenshot(path=artifacts / "07_lasso_slider_moved.png")


def test_an_uploaded_picture_is_encoded_and_placed_on_the_map(page, artifacts, tmp_path):
    picture = Image.new("RGB", (320, 240), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(picture).ellipse((110, 40, 210, 200), outline="black", width=22)
    path = tmp_path / "my picture.png"
    picture.save(path)
    page.get_by_role("tab", name="Your image").click()
    wait_idle(page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
    page.locator("img.upload-recon").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.evaluate("() => [...document.querySelectorAll('.latent-pad-overlay text')].some(t => t.textContent === 'your image')")
    converted = page.locator("img.upload-converted").get_attribute("src")
    assert pixels(converted).shape[:2] == pixels(decoded(page)["src"]).shape[:2]  # the model's own size
    page.screenshot(path=artifacts / "08_upload.png")
    before = decoded(page)
    page.get_by_role("button", name="Explore from here").click()
    wait_decoded_change(page, before["src"])
    wait_idle(page)


def test_a_copied_link_restores_the_latent_point(page, browser, artifacts):
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('z=')", timeout=20_000)
    url, shown = page.url, decoded(page)
    other = browser.new_page(viewport={"width": 1500, "height": 1100})
    try:
        other.goto(url)
        restored = wait_decoded(other)
        wait_idle(other)
        # the link carries z to 4 decimals: the same picture up to rounding in the last grey level
        assert np.abs(pixels(restored["src"]) - pixels(shown["src"])).max() <= 2
        assert other.url.split("?")[1] == url.split("?")[1]
        other.screenshot(path=artifacts / "09_link_restored.png")
        # two people, one server: moving in the second browser leaves the first one where it was
        box = pad_box(other)
        other.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])
        wait_decoded_change(other, restored["src"])
        wait_idle(other)
        wait_idle(page)
        assert decoded(page)["src"] == shown["src"] and page.url == url
    finally:
        other.close()
    assert not page.errors, page.errors


def test_the_3d_map_marks_the_current_point_and_its_points_can_be_clicked(browser, app_url, artifacts):
    pg = browser.new_page(viewport={"width": 1500, "height": 1100})
    try:
        pg.goto(app_url + "/?proj=pca3&sel=0")
        wait_decoded(pg)
        wait_idle(pg, settle_ms=500)
        pg.wait_for_function("() => { const s = document.querySelector('.st-key-map3d .latent-pad-overlay'); "
                             "return s && s.dataset.ring; }", timeout=20_000)
        ring, at = ring_xy(pg), scene_point_xy(pg, 0)
        assert at is not None and abs(ring[0] - at[0]) < 2 and abs(ring[1] - at[1]) < 2, (ring, at)
        pg.get_by_role("tab", name="Interpolate").click()
        wait_idle(pg)
        pg.get_by_role("button", name="A ← current point").click()  # end A: encoding 0
        wait_idle(pg)
        pg.locator(".st-key-map3d").scroll_into_view_if_needed()
        pg.screenshot(path=artifacts / "10_map3d.png")
        found = scene_isolated_point(pg, skip=2)
        assert found is not None, "no point stands alone on the 3-D map"
        target, x, y = found
        before = decoded(pg)
        pg.mouse.move(x, y)
        pg.wait_for_timeout(300)  # Plotly's 3-D picking runs on its next frames
        pg.mouse.down()
        pg.wait_for_timeout(150)
        pg.mouse.up()
        pg.wait_for_function("(row) => { const e = document.querySelector('.inspected'); return e && e.dataset.row == row; }",
                             arg=str(target), timeout=20_000)
        wait_decoded_change(pg, before["src"])
        wait_idle(pg)
        ring, at = ring_xy(pg), scene_point_xy(pg, target)
        assert abs(ring[0] - at[0]) < 2 and abs(ring[1] - at[1]) < 2, "the ring did not move to the clicked point"
        pg.get_by_role("button", name="B ← current point").click()  # end B: the clicked encoding
        wait_idle(pg)
        pg.locator(".st-key-map3d").scroll_into_view_if_needed()
        pg.wait_for_function("() => [...document.querySelectorAll('.st-key-map3d .latent-pad-overlay text')].length >= 2",
                             timeout=20_000)
        marks = pg.evaluate("""() => { const gd = document.querySelector('.st-key-map3d .js-plotly-plot');
            const box = gd.getBoundingClientRect(), out = {};
            for (const t of gd.querySelectorAll('.latent-pad-overlay text')) {
                const c = t.previousElementSibling;
                out[t.textContent] = [box.left + Number(c.getAttribute('cx')), box.top + Number(c.getAttribute('cy'))];
            }
            const path = gd.querySelector('.latent-pad-overlay polyline').getAttribute('points').split(' ').filter(Boolean);
            return {marks: out, path: path.map(p => p.split(',').map(Number))}; }""")
        for label, row in (("A", 0), ("B", target)):
            want = scene_point_xy(pg, row)
            assert abs(marks["marks"][label][0] - want[0]) < 2 and abs(marks["marks"][label][1] - want[1]) < 2, label
        assert len(marks["path"]) >= 3 and abs(marks["path"][-1][0] + pg.evaluate(
            "() => document.querySelector('.st-key-map3d .js-plotly-plot').getBoundingClientRect().left")
            - scene_point_xy(pg, target)[0]) < 2  # the path ends at B
        pg.screenshot(path=artifacts / "11_map3d_click.png")
        # dragging the pad moves the ring over the turned 3-D map while the pointer moves
        box = pad_box(pg)
        pg.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
        pg.mouse.down()
        pg.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], steps=8)
        moved = ring_xy(pg)
        pg.mouse.up()
        wait_idle(pg)
        assert moved is not None and abs(moved[0] - ring[0]) + abs(moved[1] - ring[1]) > 20
    finally:
        pg.close()
