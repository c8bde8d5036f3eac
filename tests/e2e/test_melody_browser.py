"""The shipped melody bundle in Chromium: the clicked window is drawn as a piano roll and has a player
whose WAV the browser can decode, and "Play while dragging" loops the decoding while the pad moves."""
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


PAD = """() => { const h = document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]');
    const r = h && h.shadowRoot; if (!r) return null;
    const box = r.querySelector('.lp-live');
    return box ? {shown: !box.hidden, steps: Number(box.dataset.steps || 0), notes: box.dataset.notes || ''} : null; }"""
TOGGLE = """() => document.querySelector('.st-key-pad [data-testid=stBidiComponentIsolated]').shadowRoot
    .querySelector('.lp-live-toggle').click()"""


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
        _play_while_dragging(page)
        page.close()


def _play_while_dragging(page):
    """The toggle starts a Web Audio loop of the two bars; dragging swaps its notes for the new decoding's
    while it keeps playing (its step count goes on rising), and unticking it stops the loop."""
    from scripts.browser import pad_box, wait_idle

    page.wait_for_function(f"() => {{ const v = ({PAD})(); return v && v.shown && v.notes.length > 2; }}",
                           timeout=120_000)
    before = page.evaluate(PAD)
    page.evaluate(TOGGLE)
    page.wait_for_function(f"() => ({PAD})().steps > 8", timeout=20_000)      # 8 sixteenths: a second of loop
    box = pad_box(page)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    for k in range(1, 8):
        page.mouse.move(box["x"] + box["width"] * (0.5 + 0.06 * k), box["y"] + box["height"] * (0.5 - 0.05 * k))
        page.wait_for_timeout(120)
    page.mouse.up()
    page.wait_for_function(f"(old) => ({PAD})().notes !== old", arg=before["notes"], timeout=30_000)
    wait_idle(page)
    running = page.evaluate(PAD)["steps"]
    page.wait_for_timeout(600)
    assert page.evaluate(PAD)["steps"] > running                                # still playing, new notes
    page.evaluate(TOGGLE)
    stopped = page.evaluate(PAD)["steps"]
    page.wait_for_timeout(600)
    assert page.evaluate(PAD)["steps"] == stopped
