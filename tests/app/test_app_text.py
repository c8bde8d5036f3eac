"""The app on the shipped text bundle (pretrained/fortunes) under AppTest (skipped where the bundle is absent
or not precomputed)."""
from __future__ import annotations

import html

import pytest

from tiny import ROOT, shipped_bundle_missing
from vae.modalities.text import tokenizer

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

pytestmark = pytest.mark.skipif(shipped_bundle_missing("fortunes") is not None,
                                reason=str(shipped_bundle_missing("fortunes")))


def test_text_bundle_renders_its_sentences(monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update({"bundle": "fortunes", "sel": "0"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    loaded = at.session_state["_loaded"]
    assert loaded.bundle.modality.name == "text" and at.session_state["sel"] == 0
    shown = " ".join(e.proto.body for e in at.get("html"))
    original = tokenizer.decode(loaded.pre.images[0])[0]
    assert html.escape(original) in shown and "tx-main" in shown      # the clicked sentence, as literal text
    # what the model makes of it: the greedy decoding, then three draws from the decoder at the same point
    b = loaded.bundle
    greedy = tokenizer.decode(b.decode(loaded.pre.mean[:1]))[0]
    drawn = tokenizer.decode(b.sample(loaded.pre.mean[[0, 0, 0]], temperature=0.8, seed=0))
    recon = shown.split('class="tx reconstruction"', 1)[1].split("</div>", 1)[0]
    assert html.escape(greedy, quote=True) in recon
    assert recon.count("<li>") == 3 and all(html.escape(t, quote=True) in recon for t in drawn)


@pytest.mark.parametrize("page", ["app_pages/model_card.py", "app_pages/gallery.py"])
def test_text_bundle_other_pages(page, monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["bundle"] = "fortunes"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
