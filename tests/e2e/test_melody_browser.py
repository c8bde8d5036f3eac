"""The shipped melody bundle in Chromium: the clicked window is drawn as a piano roll and has a player
whose WAV the browser can decode."""
from __future__ import annotations

import pytest

from scripts.browser import ROOT, streamlit_server, wait_ready

pytestmark = pytest.mark.e2e

PORT = 8610
BUNDLE = ROOT / "pretrained" / "folk_melodies"

FOUND = """() => {
    const rolls = [...document.querySelectorAll('img.roll')].filter(i => i.complete && i.naturalWidth > 0);
    const audio = [...document.querySelectorAll('audio')].filter(a => (a.src || '').startsWith('data:audio/wav'));
    return {rolls: rolls.length, audio: audio.length,
            width: rolls.length ? rolls[0].getBoundingClientRect().width : 0}; }"""
DURATION = """async () => {
    const a = [...document.querySelectorAll('audio')].find(a => (a.src || '').startsWith('data:audio/wav'));
    a.preload = 'auto'; a.load();
    await new Promise((ok, fail) => { a.onloadedmetadata = ok; a.onerror = () => fail(String(a.error && a.error.code));
                                      setTimeout(() => fail('timeout'), 20000); });
    return a.duration; }"""


def test_a_melody_shows_a_piano_roll_and_plays(chromium, tmp_path):
    if not (BUNDLE / "encodings.npz").is_file():
        pytest.skip("pretrained/folk_melodies is not precomputed")
    with streamlit_server(bundles=[BUNDLE], port=PORT, log=tmp_path / "streamlit.log") as url:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/?bundle=folk_melodies&sel=0")
        wait_ready(page, timeout=180_000)
        page.wait_for_function(f"() => {{ const v = ({FOUND})(); return v.rolls > 0 && v.audio > 0; }}",
                               timeout=120_000)
        found = page.evaluate(FOUND)
        assert found["rolls"] >= 2 and found["audio"] >= 2 and found["width"] > 50   # the window and its decoding
        assert page.evaluate(DURATION) == pytest.approx(4.0, abs=0.01)               # 2 bars at 120 bpm
        page.screenshot(path=str(ROOT / "artifacts" / "melody_explorer.png"))
        page.close()
