"""Draw a point, in a real browser: each press draws the next seed, which the Seed box shows.

(AppTest cannot see this: it reads a widget's value from session state, while the browser keeps the
box it already shows unless the server sends a new one.)
"""
from __future__ import annotations

import pytest

from scripts.browser import decoded, wait_decoded, wait_decoded_change, wait_idle

pytestmark = pytest.mark.e2e

SEED_BOX = "[class*=st-key-sample_seed] input"


def test_each_draw_is_a_new_point_and_a_typed_seed_draws_it_again(browser, app_url, artifacts):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(app_url + "/")
    wait_decoded(page)
    wait_idle(page)
    page.locator(".st-key-pop_sample button").first.click()
    wait_idle(page)
    images = []
    for seed in range(3):
        before = decoded(page)
        page.get_by_role("button", name="Draw a point").click()
        images.append(wait_decoded_change(page, before["src"])["src"])
        wait_idle(page)
        assert page.get_by_text(f"Last draw: seed {seed},").count() == 1
        assert page.locator(SEED_BOX).input_value() == str(seed + 1)  # the box shows the next seed
    assert len(set(images)) == 3
    box = page.locator(SEED_BOX)
    box.fill("1")
    box.press("Enter")
    wait_idle(page)
    before = decoded(page)
    page.get_by_role("button", name="Draw a point").click()
    again = wait_decoded_change(page, before["src"])["src"]
    wait_idle(page)
    assert again == images[1] and page.get_by_text("Last draw: seed 1,").count() == 1  # reproduced
    page.screenshot(path=artifacts / "sample_draws.png")
    page.close()
