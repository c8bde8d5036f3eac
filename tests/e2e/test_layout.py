"""The explorer's layout at 1280x720 and 1920x1080, and state that only a browser keeps.

Each view is screenshotted to artifacts/e2e/ (look at them) and checked by measurement: no
control's text is cut (an element narrower than its own text), the "Sliders shown" box shows all
its rows, the legend and colour bar sit outside the plotted data, the 3-D map shows its PC3 axis,
the meter's panel keeps its height during a drag, a clicked point leaves nothing faded, and the
view, the legend filter and bookmarks survive the model card and a reload.
"""
from __future__ import annotations

import pytest

from scripts.browser import isolated_point, pad_box, wait_decoded, wait_idle

pytestmark = pytest.mark.e2e

VIEWPORTS = [(1280, 720), (1920, 1080)]

# elements whose text is cut: a box narrower (or shorter) than its content, on any visible control
CLIPPED = """() => {
    const sel = ['button', '[role=tab]', '[data-testid=stWidgetLabel]', '[data-testid=stMarkdownContainer] p',
                 '[data-testid=stCaptionContainer]', 'label', '[data-testid=stPopover] button'];
    const out = [];
    for (const el of document.querySelectorAll(sel.join(','))) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
        for (const e of [el, ...el.querySelectorAll('p, span, div')]) {
            const cs = getComputedStyle(e);
            const hides = cs.overflow !== 'visible' || cs.textOverflow === 'ellipsis' || cs.overflowX !== 'visible';
            if (hides && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && e.innerText.trim()) {
                out.push(`${el.tagName.toLowerCase()} "${el.innerText.trim().slice(0, 40)}" (${e.scrollWidth} > ${e.clientWidth} px)`);
                break;
            }
        }
    }
    return [...new Set(out)];
}"""

# the map's plot area and the boxes of its legend and colour bar, in page pixels
MAP_BOXES = """(key) => {
    const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const fl = gd._fullLayout, g = gd.getBoundingClientRect();
    const plot = fl.scene ? null : [g.left + fl.xaxis._offset, g.top + fl.yaxis._offset,
                                    g.left + fl.xaxis._offset + fl.xaxis._length, g.top + fl.yaxis._offset + fl.yaxis._length];
    const fills = [...gd.querySelectorAll('.legend .traces .legendpoints path')].map(p => p.style.fill);
    return {plot, legend: box(gd.querySelector('.legend .bg')), colorbar: box(gd.querySelector('.colorbar .cbfills')),
            chart: box(gd), fills};
}"""


def overlap(a, b) -> bool:
    return a is not None and b is not None and a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def open_view(browser, app_url, size, query="proj=pca2"):
    pg = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{app_url}/?{query}")
    wait_decoded(pg)
    wait_idle(pg, settle_ms=600)
    pg.errors = errors
    return pg


def choose(pg, label: str, option: str) -> None:
    pg.locator("[data-testid=stSelectbox]").filter(has_text=label).first.locator("input[role=combobox]").click()
    pg.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(pg, settle_ms=600)


def pick_map(pg, title: str) -> None:
    pg.locator("[data-testid=stRadio] label").filter(has_text=title).first.click()
    wait_idle(pg, settle_ms=800)


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_control_is_cut_and_the_legend_stays_off_the_data(browser, app_url, artifacts, size):
    pg = open_view(browser, app_url, size)
    try:
        tag = f"{size[0]}x{size[1]}"
        pg.screenshot(path=artifacts / f"layout_{tag}_class.png")
        assert pg.evaluate(CLIPPED) == []
        boxes = pg.evaluate(MAP_BOXES, "map")
        assert not overlap(boxes["legend"], boxes["plot"]), boxes
        colour = pg.locator("[data-testid=stSelectbox]").filter(has_text="Colour by").first
        colour.locator("input[role=combobox]").click()
        attr = [o for o in pg.get_by_role("option").all_inner_texts() if o not in ("class", "reconstruction error")][0]
        pg.get_by_role("option", name=attr, exact=True).first.click()
        wait_idle(pg, settle_ms=800)
        boxes = pg.evaluate(MAP_BOXES, "map")
        pg.screenshot(path=artifacts / f"layout_{tag}_{attr}.png")
        assert boxes["colorbar"] is not None and not overlap(boxes["colorbar"], boxes["plot"]), boxes
        assert not overlap(boxes["legend"], boxes["plot"]) and not overlap(boxes["legend"], boxes["colorbar"]), boxes
        assert boxes["legend"][3] <= boxes["chart"][3] + 1  # the whole legend is inside the chart
        fills = [f for f in boxes["fills"] if f]
        assert len(set(fills)) >= 2 and not any(f in ("rgb(0, 0, 0)", "black") for f in fills), fills
        # the sliders' tab: the "Sliders shown" box shows every chosen slider
        pg.get_by_role("tab", name="Attribute sliders").click()
        wait_idle(pg, settle_ms=500)
        box = pg.locator(".st-key-shown_dirs")
        box.scroll_into_view_if_needed()
        pg.screenshot(path=artifacts / f"layout_{tag}_sliders.png")
        cut = box.evaluate("""(b) => [...b.querySelectorAll('*')].filter(e => {
            const cs = getComputedStyle(e); return cs.overflowY !== 'visible' && e.scrollHeight > e.clientHeight + 2; })
            .map(e => `${e.scrollHeight} > ${e.clientHeight}`)""")
        assert cut == [], cut
        assert pg.evaluate(CLIPPED) == []
        # the 3-D map: all three axis titles inside the chart
        pick_map(pg, "PCA 3-D")
        pg.locator(".st-key-map3d").scroll_into_view_if_needed()
        pg.wait_for_timeout(800)
        pg.screenshot(path=artifacts / f"layout_{tag}_pca3.png")
        titles = pg.evaluate("""() => { const gd = document.querySelector('.st-key-map3d .js-plotly-plot');
            const sc = gd._fullLayout.scene._scene, r = sc.container.getBoundingClientRect(), g = gd.getBoundingClientRect();
            const c = sc.glplot.cameraParams, ds = sc.dataScale, fa = gd._fullLayout.scene;
            const mul = (m, v) => { const o = [0, 0, 0, 0]; for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; };
            const out = [], ax = [fa.xaxis, fa.yaxis, fa.zaxis];
            for (let k = 0; k < 8; k++) {  // the 8 corners of the axes' box
                const p = ax.map((a, i) => a.range[(k >> i) & 1]);
                const q = mul(c.projection, mul(c.view, mul(c.model, [p[0] * ds[0], p[1] * ds[1], p[2] * ds[2], 1])));
                out.push([r.left + (0.5 + 0.5 * q[0] / q[3]) * r.width, r.top + (0.5 - 0.5 * q[1] / q[3]) * r.height]);
            }
            return {corners: out, box: [g.left, g.top, g.right, g.bottom], titles: ax.map(a => a.title.text)}; }""")
        assert titles["titles"] == ["PC1", "PC2", "PC3"]
        for x, y in titles["corners"]:  # the whole box (so its axis titles and ticks too) with room around it
            assert titles["box"][0] + 15 <= x <= titles["box"][2] - 15 and titles["box"][1] + 15 <= y <= titles["box"][3] - 15, titles
        assert not pg.errors, pg.errors
    finally:
        pg.close()


def test_the_meter_keeps_its_height_during_a_drag(browser, app_url, artifacts):
    pg = open_view(browser, app_url, VIEWPORTS[0])
    try:
        where = """() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
            const r = h.shadowRoot.querySelector('.lp-help').getBoundingClientRect();
            const m = h.shadowRoot.querySelector('.meter'), below = (a, b) => m.querySelector(a).getBoundingClientRect().bottom
                <= m.querySelector(b).getBoundingClientRect().top + 1;
            if (!below('.meter-verdict', '.meter-bar') || !below('.meter-pct', '.meter-bar')) return [-1, 'words over the bar'];
            return [r.top, m.dataset.verdict]; }"""
        top, _ = pg.evaluate(where)
        box = pad_box(pg)
        verdicts, tops = set(), set()
        pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pg.mouse.down()
        for k in range(1, 13):  # towards the empty corner: on the data, unusual, far off
            pg.mouse.move(box["x"] + box["width"] * (0.5 + k * 0.04), box["y"] + box["height"] * (0.5 - k * 0.04))
            pg.wait_for_timeout(120)
            t, v = pg.evaluate(where)
            tops.add(round(t))
            verdicts.add(v)
        pg.screenshot(path=artifacts / "layout_meter_far.png")
        pg.mouse.up()
        wait_idle(pg)
        assert len(verdicts) >= 2, verdicts  # the words changed...
        assert tops == {round(top)}, (top, tops)  # ...and nothing below them moved
    finally:
        pg.close()


def test_a_clicked_point_leaves_no_selection(browser, app_url, artifacts):
    pg = open_view(browser, app_url, VIEWPORTS[1])
    try:
        row, x, y = isolated_point(pg, skip=3)
        pg.mouse.click(x, y)
        pg.wait_for_function("(row) => { const e = document.querySelector('.inspected'); return e && e.dataset.row == row; }",
                             arg=str(row), timeout=20_000)
        pg.wait_for_function("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
            return gd._fullData.every(t => !t.selectedpoints); }""", timeout=20_000)
        wait_idle(pg, settle_ms=500)
        faded = pg.evaluate("""() => document.querySelector('.st-key-map .js-plotly-plot')._fullData
            .filter(t => t.selectedpoints).length""")
        pg.screenshot(path=artifacts / "layout_after_click.png")
        assert faded == 0
    finally:
        pg.close()


def test_the_view_legend_filter_and_bookmarks_survive_the_model_card_and_a_reload(browser, app_url, artifacts):
    pg = open_view(browser, app_url, VIEWPORTS[1], query="proj=tsne&sel=7")
    try:
        choose(pg, "Colour by", "brightness")
        pg.locator(".st-key-map .legend .traces").nth(1).click()  # hide the second class
        pg.wait_for_timeout(600)  # Plotly waits for a possible double-click
        hidden = pg.evaluate("() => document.querySelector('.st-key-map .js-plotly-plot')._fullData"
                             ".filter(t => t.visible === 'legendonly').map(t => t.name)")
        assert hidden, "the legend click hid nothing"
        pg.get_by_role("button", name="Save").click()
        pg.get_by_label("Name").fill("my [point](http://example.invalid/x)")  # a name is literal text
        pg.get_by_role("button", name="Save this point").click()
        wait_idle(pg, settle_ms=500)
        pg.keyboard.press("Escape")
        pg.wait_for_function("() => location.search.includes('bm=')", timeout=20_000)
        url = pg.url
        pg.get_by_role("link", name="Model card").click()
        pg.wait_for_function("() => location.pathname.endsWith('model-card')", timeout=20_000)
        wait_idle(pg, settle_ms=800)
        assert pg.url.split("?")[1] == url.split("?")[1]  # the card keeps the address
        pg.get_by_role("link", name="Explorer").click()
        wait_decoded(pg)
        wait_idle(pg, settle_ms=1500)
        state = pg.evaluate("""() => { const gd = document.querySelector('.st-key-map .js-plotly-plot');
            return {axes: gd._fullLayout.xaxis.title.text, colour: !!gd._fullLayout.coloraxis,
                    hidden: [...new Set(gd._fullData.filter(t => t.visible === 'legendonly').map(t => t.name))]}; }""")
        pg.screenshot(path=artifacts / "layout_back_from_card.png")
        assert state == {"axes": "t-SNE 1", "colour": True, "hidden": sorted(set(hidden))}, state
        assert pg.url.split("?")[1] == url.split("?")[1]
        pg.reload()
        wait_decoded(pg)
        wait_idle(pg, settle_ms=800)
        pg.get_by_role("tab", name="Bookmarks").click()
        wait_idle(pg)
        assert pg.locator(".bookmark-name").all_inner_texts() == ["my [point](http://example.invalid/x)"]
        assert pg.locator("a[href*='example.invalid']").count() == 0
        pg.screenshot(path=artifacts / "layout_bookmark_after_reload.png")
        assert not pg.errors, pg.errors
    finally:
        pg.close()
