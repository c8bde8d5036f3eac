"""The latent pad shows what a display module previews besides an image: a text block (literal) and a
sound (a player that plays when a drag is released), driven by a fake display module in Chromium (the
page is the pad alone, tests/e2e/pad_outputs_app.py, served beside the app)."""
from __future__ import annotations

import pytest

from scripts.browser import ROOT, pad_box, streamlit_server, wait_idle

pytestmark = pytest.mark.e2e

PORT = 8634

VIEW = """() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
    const r = h && h.shadowRoot; if (!r) return null;
    const img = r.querySelector('img.decoded'), text = r.querySelector('.decoded-text'),
          audio = r.querySelector('audio.decoded-audio'), box = r.querySelector('.lp-audio');
    return {imgShown: !!img && !img.hidden && img.getBoundingClientRect().width > 0,
            text: text && !text.hidden ? text.textContent : null, bold: text ? text.querySelectorAll('b').length : -1,
            audio: audio && !box.hidden ? audio.getAttribute('src') : null,
            played: audio ? Number(audio.dataset.played || 0) : -1}; }"""


def test_a_text_and_sound_preview_follow_the_pad_and_the_sound_plays_on_release(chromium, tmp_path):
    script = ROOT / "tests" / "e2e" / "pad_outputs_app.py"
    with streamlit_server(script, port=PORT, log=tmp_path / "streamlit.log") as url:
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        box = pad_box(page)
        page.wait_for_function(f"() => {{ const v = ({VIEW})(); return v && v.text; }}", timeout=30_000)
        first = page.evaluate(VIEW)
        assert not first["imgShown"]  # no picture: no empty image frame
        assert first["text"].startswith("<b>not bold</b> x = +0.00") and first["bold"] == 0  # literal text
        assert first["audio"].startswith("data:audio/wav;base64,") and first["played"] == 0

        x, y = box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        for k in range(1, 6):
            page.mouse.move(box["x"] + box["width"] * (0.5 + 0.08 * k), y)
            page.wait_for_timeout(60)
        assert page.evaluate(VIEW)["played"] == 0  # nothing plays during a drag
        page.mouse.move(x, y)
        page.mouse.up()
        page.wait_for_function(f"() => ({VIEW})().played >= 1", timeout=15_000)  # the release's answer plays
        wait_idle(page)
        last = page.evaluate(VIEW)
        assert last["text"].startswith("<b>not bold</b> x = +0.8") and last["bold"] == 0
        assert last["audio"] != first["audio"]  # the sound of the new point
        page.screenshot(path=str(ROOT / "artifacts" / "pad_outputs.png"))
        page.close()
