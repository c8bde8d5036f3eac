"""The app on the shipped melody bundle (pretrained/folk_melodies) under AppTest: the clicked window is shown
as a piano roll with a player, and the other pages open."""
from __future__ import annotations

import json

import pytest

from tiny import ROOT

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

BUNDLE = ROOT / "pretrained" / "folk_melodies"


def _ready() -> str | None:
    try:
        meta = json.loads((BUNDLE / "meta.json").read_text())
    except (OSError, ValueError):
        return "no pretrained/folk_melodies bundle"
    return None if "precompute" in meta else "pretrained/folk_melodies is not precomputed"


pytestmark = pytest.mark.skipif(_ready() is not None, reason=str(_ready()))


def test_melody_bundle_renders_piano_rolls_and_players(monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update({"bundle": "folk_melodies", "sel": "0"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    loaded = at.session_state["_loaded"]
    assert loaded.bundle.modality.name == "melody" and at.session_state["sel"] == 0
    shown = " ".join(e.proto.body for e in at.get("html"))
    assert 'class="roll' in shown and "<audio" in shown and "data:audio/wav;base64," in shown


@pytest.mark.parametrize("page", ["app_pages/model_card.py", "app_pages/gallery.py"])
def test_melody_bundle_other_pages(page, monkeypatch):
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["bundle"] = "folk_melodies"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
