"""Make docs/screenshot.png: the explorer on the shipped fashion_mnist bundle, mid-exploration.

    python tests/e2e/make_screenshot.py [--bundle pretrained/fashion_mnist] [--out docs/screenshot.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts import browser as h


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", default=str(h.ROOT / "pretrained" / "fashion_mnist"))
    p.add_argument("--out", default=str(h.ROOT / "docs" / "screenshot.png"))
    p.add_argument("--query", default="proj=tsne&sel=42", help="URL parameters of the view")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, h.streamlit_server(bundles=(args.bundle,)) as url:
        browser = h.launch(pw)
        page = browser.new_page(viewport={"width": 1440, "height": 960}, device_scale_factor=1)
        page.goto(f"{url}/?bundle={Path(args.bundle).name}&{args.query}")
        h.wait_decoded(page)
        h.wait_idle(page, settle_ms=500)
        # an interpolation from the selected point to another one, drawn on the map
        page.get_by_role("tab", name="Interpolate").click()
        h.wait_idle(page)
        page.get_by_role("button", name="A ← current point").click()
        h.wait_idle(page)
        page.locator(".st-key-map").scroll_into_view_if_needed()
        page.mouse.click(*h.map_point_xy(page, 2024))
        h.wait_idle(page)
        page.get_by_role("button", name="B ← current point").click()
        h.wait_idle(page)
        page.locator(".st-key-map").scroll_into_view_if_needed()
        page.mouse.click(*h.map_point_xy(page, 42))
        h.wait_idle(page, settle_ms=800)
        page.evaluate("() => { for (const e of document.querySelectorAll('*')) if (e.scrollTop) e.scrollTop = 0; }")
        page.mouse.move(5, 900)  # off the map: no tooltip, no toolbar
        page.wait_for_timeout(500)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=args.out)
        browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
