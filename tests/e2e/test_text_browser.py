"""The shipped text bundle in Chromium: the latent pad shows the decoded sentence as literal text, and
dragging the pad changes it."""
from __future__ import annotations

import pytest

from scripts.browser import ROOT, pad_box, streamlit_server, wait_idle

pytestmark = pytest.mark.e2e

PORT = 8620
BUNDLE = ROOT / "pretrained" / "fortunes"

TEXT = """() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
    const r = h && h.shadowRoot; if (!r) return null;
    const t = r.querySelector('.decoded-text'), img = r.querySelector('img.decoded');
    return {text: t && !t.hidden ? t.textContent : null, tags: t ? t.children.length : -1,
            img: !!img && !img.hidden && img.getBoundingClientRect().width > 0}; }"""


def test_the_pad_reads_out_the_decoded_sentence_and_follows_a_drag(chromium, tmp_path):
    if not (BUNDLE / "encodings.npz").is_file():
        pytest.skip("pretrained/fortunes is not precomputed")
    with streamlit_server(bundles=[BUNDLE], port=PORT, log=tmp_path / "streamlit.log") as url:
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/?bundle=fortunes")
        box = pad_box(page)
        page.wait_for_function(f"() => {{ const v = ({TEXT})(); return v && v.text; }}", timeout=120_000)
        first = page.evaluate(TEXT)
        assert first["text"].strip() and first["tags"] == 0 and not first["img"]   # literal text, no picture
        y = box["y"] + box["height"] * 0.5
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        for k in range(1, 6):
            page.mouse.move(box["x"] + box["width"] * (0.5 - 0.09 * k), box["y"] + box["height"] * (0.5 - 0.08 * k))
            page.wait_for_timeout(80)
        page.mouse.up()
        page.wait_for_function(f"() => ({TEXT})().text !== {first['text']!r}", timeout=30_000)
        wait_idle(page)
        assert page.evaluate(TEXT)["text"].strip()
        page.screenshot(path=str(ROOT / "artifacts" / "text_pad.png"))
        page.close()
