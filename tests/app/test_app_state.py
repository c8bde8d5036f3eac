"""The explorer's state across pages and reloads (AppTest): the model card keeps the view and the
address, and bookmarks travel in the URL. (The browser side, legend filter included: tests/e2e/.)"""
from __future__ import annotations

import numpy as np
import pytest

from tiny import ROOT, precomputed_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from vae import VAEError, explore  # noqa: E402

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return precomputed_tiny(tmp_path_factory.mktemp("state") / "digits4", epochs=3)


@pytest.fixture
def app(bundle, monkeypatch):
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))

    def run(params=None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params.update({"bundle": bundle.name, **(params or {})})
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return run


def test_the_model_card_keeps_the_explorers_view_and_address(app):
    at = app()
    other = next(p for p in at.session_state["_loaded"].pre.projections if p != at.session_state["proj_pick"])
    at.radio(key="proj_pick").set_value(other).run()
    at.run()  # a map change reruns the map's fragments only: AppTest's tree is then partial
    colour = at.selectbox(key="colour_pick").options[1]
    at.selectbox(key="colour_pick").set_value(colour).run()
    at.run()
    at.session_state["sel"] = 3
    at.run()
    z, url = at.session_state["z"].copy(), dict(at.query_params)
    assert url["proj"] == other and url["color"] == colour
    at.switch_page("app_pages/model_card.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert dict(at.query_params) == url  # the card does not rewrite the address
    at.switch_page("app_pages/explorer.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="proj_pick").value == other and at.selectbox(key="colour_pick").value == colour
    np.testing.assert_array_equal(at.session_state["z"], z)
    assert at.session_state["sel"] == 3 and dict(at.query_params) == url


def test_bookmarks_live_in_the_url_and_survive_a_reload(app):
    at = app()
    z = at.session_state["z"].copy()
    at.session_state["bookmarks"]["thin [one](http://evil/x)"] = {"z": z, "label": 0}  # as Save stores it
    at.run()
    marks = at.query_params["bm"] if isinstance(at.query_params["bm"], list) else [at.query_params["bm"]]
    assert len(marks) == 1 and marks[0].endswith(":thin [one](http://evil/x)")
    reloaded = app({"bm": marks})  # a reload: a new session from the same address
    saved = reloaded.session_state["bookmarks"]
    assert list(saved) == ["thin [one](http://evil/x)"]
    np.testing.assert_allclose(saved["thin [one](http://evil/x)"]["z"], z, atol=1e-4)


def test_a_damaged_bookmark_in_the_url_is_one_sentence(app):
    at = app({"bm": ["0:1,2:short", "nonsense", "0:" + ",".join(["0.5"] * 4) + ":fine"]})
    assert list(at.session_state["bookmarks"]) == ["fine"]
    notes = [w.value for w in at.warning]
    assert any("2 of the link's bookmarks could not be read" in n for n in notes), notes


def test_bookmark_format_round_trips_and_refuses_bad_text():
    z = np.array([0.12345, -1.5, 3.0, 0.0], np.float32)
    name, back, label = explore.parse_bookmark(explore.format_bookmark("a:b|c", z, 2), 4, num_classes=3)
    assert (name, label) == ("a:b|c", 2)
    np.testing.assert_allclose(back, z, atol=1e-4)
    for bad in ("", "1:2", "x:1,2,3,4:n", "5:1,2,3,4:n", "0:1,2,3:n", "0:1,2,3,nan:n", "0:1,2,3,4:  "):
        with pytest.raises(VAEError):
            explore.parse_bookmark(bad, 4, num_classes=3)


def test_a_map_change_reruns_the_map_and_the_pad_not_the_page(app):
    at = app()
    other = next(p for p in at.session_state["_loaded"].pre.projections if p != at.session_state["proj_pick"])
    at.radio(key="proj_pick").set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("plotly_chart"), "the map was not drawn again"
    assert at.query_params["proj"] == other
    assert not [b for b in at.button if b.key == "reset"]  # the decoder's buttons were not sent again
    assert not [s for s in at.selectbox if s.key == "colour_pick"]  # nor the sidebar
