"""The app on the shipped melody bundle (pretrained/folk_melodies) under AppTest: the clicked window is shown
as a piano roll with a player, and the other pages open."""
from __future__ import annotations

import pytest

from tiny import ROOT, shipped_bundle_missing

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

pytestmark = pytest.mark.skipif(shipped_bundle_missing("folk_melodies") is not None,
                                reason=str(shipped_bundle_missing("folk_melodies")))


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


def test_a_pasted_abc_tune_is_placed_and_garbage_gets_one_sentence(monkeypatch):
    """The ABC box has its own callback: a pasted tune is read, encoded and placed on the map even though
    the file uploader is empty; text that is no tune is refused in one sentence."""
    monkeypatch.delenv("VAE_BUNDLE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update({"bundle": "folk_melodies", "sel": "0"})
    at.session_state["tools_tab"] = "Your melody"  # the tools run only their open tab
    at.run()
    box = at.text_area(key="upload_file_abc")
    box.input("X:1\nT:t\nM:4/4\nL:1/8\nK:C\nCDEF GABc|cBAG FEDC|").run()
    assert not at.exception, [e.value for e in at.exception]
    up = at.session_state["upload"]
    assert up and "error" not in up and up["x"].shape == (32,) and up["z"].shape == (32,), up
    at.text_area(key="upload_file_abc").input("hello there").run()
    up = at.session_state["upload"]
    assert "error" in up and "\n" not in up["error"] and "neither a MIDI file nor ABC" in up["error"]
    assert any("neither a MIDI file nor ABC" in e.value for e in at.error)
