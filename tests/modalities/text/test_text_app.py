"""The app on the shipped text bundle (pretrained/fortunes) under AppTest. It needs the display registry
(ui/display/__init__.py) to list "text": until the app's side of the modality seam routes every view
through ui/display, this module is skipped."""
from __future__ import annotations

import html
import json

import pytest

from tiny import ROOT
from vae.modalities.text import tokenizer

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

BUNDLE = ROOT / "pretrained" / "fortunes"


def _ready() -> str | None:
    try:
        from ui import display
    except ImportError:
        return "no ui.display registry"
    if "text" not in getattr(display, "REGISTRY", {}):
        return "ui.display does not list text"
    try:
        meta = json.loads((BUNDLE / "meta.json").read_text())
    except (OSError, ValueError):
        return "no pretrained/fortunes bundle"
    return None if "precompute" in meta else "pretrained/fortunes is not precomputed"


pytestmark = pytest.mark.skipif(_ready() is not None, reason=str(_ready()))


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


@pytest.mark.parametrize("page", ["app_pages/model_card.py", "app_pages/gallery.py"])
def test_text_bundle_other_pages(page, monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["bundle"] = "fortunes"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
