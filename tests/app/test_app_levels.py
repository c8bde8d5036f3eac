"""A hierarchical bundle in the app (AppTest): the map and pad move the top level, the details come from the
lower level (the selected point's own, the most likely, redrawn at their own temperature, or edited on their
own sliders), and the model card shows KL per level."""
from __future__ import annotations

import numpy as np
import pytest

from tiny import ROOT, precomputed_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    return precomputed_tiny(tmp_path_factory.mktemp("levels") / "ladder", epochs=4, latent_dim=3, lower_dim=6,
                            free_bits=0.05)


def _app(ladder, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("VAE_BUNDLE", str(ladder))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"bundle": "ladder", **params})
    at.session_state["show_inactive"] = True
    return at.run()


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_details_follow_the_point_and_can_be_redrawn(ladder, monkeypatch):
    at = _app(ladder, monkeypatch, sel="3")
    assert not at.exception, [e.value for e in at.exception]
    pre = at.session_state["_loaded"].pre
    np.testing.assert_allclose(at.session_state["lower"], pre.lower[3])       # the selected point's own details
    own = at.session_state["_now"]["x"].copy()
    b = at.session_state["_loaded"].bundle
    np.testing.assert_allclose(own, b.decode(pre.mean[3][None], lower=pre.lower[3])[0], atol=1e-5)
    assert any("selected point's own details" in c.value for c in at.caption)

    _button(at, "lower_redraw").click().run()
    first = at.session_state["lower"].copy()
    drawn = at.session_state["_now"]["x"].copy()
    _button(at, "lower_redraw").click().run()                                   # twice: a new draw each time
    assert not np.allclose(at.session_state["lower"], first)
    assert np.abs(drawn - own).mean() > 1e-4
    np.testing.assert_allclose(at.session_state["z"], pre.mean[3])               # the top level stayed put
    assert at.session_state["lower_source"] == "drawn"

    _button(at, "lower_likely").click().run()
    assert at.session_state["lower"] is None
    np.testing.assert_allclose(at.session_state["_now"]["x"], b.decode(pre.mean[3][None])[0], atol=1e-5)
    _button(at, "lower_own").click().run()
    np.testing.assert_allclose(at.session_state["lower"], pre.lower[3])


def _details(at):
    return [s for s in at.slider if (s.key or "").startswith("lower_") and s.key[6:].isdigit()]


def test_detail_sliders_are_their_own_group_and_edit_the_details(ladder, monkeypatch):
    at = _app(ladder, monkeypatch, sel="0")
    assert _details(at) == [] and any(e.label.startswith("Lower level (details)") for e in at.expander)  # closed: none drawn
    at.session_state["details_box"] = True                                       # opened
    at.run()
    details = _details(at)
    tops = [s for s in at.slider if (s.key or "").startswith("dim_")]
    assert len(details) == 6 and len(tops) == 3
    assert all(s.label.startswith("detail ") and "KL" in s.label for s in details)
    before = at.session_state["_now"]["x"].copy()
    details[0].set_value(2.5).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["lower"][0] == pytest.approx(2.5) and at.session_state["lower_source"] == "edited"
    assert np.abs(at.session_state["_now"]["x"] - before).mean() > 1e-5


def test_model_card_shows_kl_per_level(ladder, monkeypatch):
    at = _app(ladder, monkeypatch)
    at.switch_page("app_pages/model_card.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.startswith("The lower level (details)") and "of 6" in c.value for c in at.caption)
    assert any("hierarchical: top 3, lower 6" in c.value for c in at.caption)


def test_gallery_of_a_hierarchical_bundle_draws_details_too(ladder, monkeypatch):
    at = _app(ladder, monkeypatch)
    at.switch_page("app_pages/gallery.py").run()
    assert not at.exception, [e.value for e in at.exception]
    draw = at.session_state["gallery_draw"]
    b = at.session_state["_loaded"].bundle
    assert draw["images"].shape[1:] == (8, 8, 1)
    assert draw["settings"]["temperature"] == 1.0  # the default: details drawn, not the most likely ones
    assert np.abs(draw["images"] - b.decode(draw["z"], draw["labels"] if b.conditional else None)).mean() > 1e-4

