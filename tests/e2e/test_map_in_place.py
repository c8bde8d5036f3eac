"""Map changes drawn in place (ui/map_update.py): a projection or colour change redraws the chart
already on the page rather than mounting a new one, keeps the classes hidden in the legend and the
chart's click mode, and a 2-D/3-D switch shows the kept chart of that kind again.
(Timings: scripts/bench_map.py, BENCHMARKS.md "Map changes".)"""
from __future__ import annotations

import pytest

from scripts.browser import wait_decoded, wait_idle

pytestmark = pytest.mark.e2e

# the shown chart of a kind (a kept one out of sight is hidden), its axes, colour bar and hidden classes
SHOWN = """(key) => {
    const gd = [...document.querySelectorAll(`.st-key-${key} .js-plotly-plot`)]
        .find((g) => getComputedStyle(g).visibility !== 'hidden');
    if (!gd || !gd._fullLayout) return null;
    const fl = gd._fullLayout, t = (a) => (a && a.title && a.title.text) || '';
    return {tag: gd.dataset.testTag || null, axes: fl.scene ? t(fl.scene.xaxis) : t(fl.xaxis),
            colour: fl.coloraxis ? t(fl.coloraxis.colorbar).split('<br>')[0] : '', clickmode: fl.clickmode,
            traces: gd._fullData.length,
            hidden: [...new Set(gd._fullData.filter((d) => d.visible === 'legendonly').map((d) => d.name))].sort()};
}"""


def _tag(pg, key: str, tag: str) -> None:
    """Mark the chart element now shown: the mark survives only as long as the element does."""
    pg.evaluate("""([key, tag]) => { const gd = [...document.querySelectorAll(`.st-key-${key} .js-plotly-plot`)]
        .find((g) => getComputedStyle(g).visibility !== 'hidden'); gd.dataset.testTag = tag; }""", [key, tag])


def _shown(pg, key: str, axes: str, colour: str) -> dict:
    pg.wait_for_function(f"([key, axes, colour]) => {{ const s = ({SHOWN})(key); "
                         "return !!s && s.axes === axes && s.colour === colour; }", arg=[key, axes, colour],
                         timeout=30_000)
    wait_idle(pg, settle_ms=400)
    return pg.evaluate(SHOWN, key)


def _pick(pg, title: str) -> None:
    pg.locator("[data-testid=stRadio] label").filter(has_text=title).first.click()


def _colour(pg, option: str) -> None:
    pg.locator("[data-testid=stSelectbox]").filter(has_text="Colour by").first.locator("input[role=combobox]").click()
    pg.get_by_role("option", name=option, exact=True).first.click()


def test_projection_and_colour_changes_redraw_the_same_chart(browser, app_url, artifacts):
    pg = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(f"{app_url}/?proj=pca2")
        wait_decoded(pg)
        wait_idle(pg, settle_ms=600)
        maps = pg.locator("[data-testid=stRadio] label").all_inner_texts()
        first = _shown(pg, "map_box2", "PC1", "")
        _tag(pg, "map_box2", "2d")
        pg.locator(".st-key-map_box2 .legend .traces").nth(1).click()  # hide the second class
        pg.wait_for_timeout(600)  # Plotly waits for a possible double-click
        hidden = pg.evaluate(SHOWN, "map_box2")["hidden"]
        assert len(hidden) == 1, hidden

        _colour(pg, "brightness")
        s = _shown(pg, "map_box2", "PC1", "brightness")
        assert s["tag"] == "2d", "a new colouring mounted a new chart"
        assert s["hidden"] == hidden  # by class name: the value colouring's traces are numbered differently
        assert s["traces"] == 2 * first["traces"] and s["clickmode"] == first["clickmode"]  # clicks still select
        pg.screenshot(path=artifacts / "map_update_brightness.png")

        other = next((m for m in maps if m.strip() in ("t-SNE", "UMAP", "Latent (2-D)")), None)
        if other:
            _pick(pg, other.strip())
            s = _shown(pg, "map_box2", f"{other.strip()} 1" if other.strip() != "Latent (2-D)" else "z0", "brightness")
            assert s["tag"] == "2d" and s["hidden"] == hidden, s

        _colour(pg, "class")
        _pick(pg, "PCA 2-D")
        s = _shown(pg, "map_box2", "PC1", "")
        assert s["tag"] == "2d" and s["hidden"] == hidden and s["traces"] == first["traces"], s

        if any(m.strip() == "PCA 3-D" for m in maps):
            _pick(pg, "PCA 3-D")
            assert _shown(pg, "map_box3", "PC1", "")["tag"] is None  # the first 3-D map: a new chart
            _tag(pg, "map_box3", "3d")
            _pick(pg, "PCA 2-D")
            assert _shown(pg, "map_box2", "PC1", "")["tag"] == "2d"  # the 2-D chart was kept, out of sight
            _pick(pg, "PCA 3-D")
            assert _shown(pg, "map_box3", "PC1", "")["tag"] == "3d"
            pg.screenshot(path=artifacts / "map_update_3d_again.png")
        assert not errors, errors
    finally:
        pg.close()
