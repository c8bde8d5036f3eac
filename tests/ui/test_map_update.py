"""Map changes drawn in place (ui/map_update.py): the chart keeps its figure (and so its element id)
while the view changes, the chosen view's figure goes to the page's script, and a session whose
script failed goes back to one figure per view. (In the browser: tests/e2e/test_map_in_place.py.)"""
from __future__ import annotations

import json

import pytest

from tiny import ROOT, precomputed_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui import map_update  # noqa: E402

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return precomputed_tiny(tmp_path_factory.mktemp("inplace") / "digits4", epochs=2)


def _app(bundle, monkeypatch) -> AppTest:
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"bundle": bundle.name, "proj": "pca2"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _map_spec(at) -> dict:
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-map")] or at.get("plotly_chart")
    return json.loads(charts[0].proto.spec)


def test_a_colour_change_keeps_the_charts_figure_and_sends_the_new_one(bundle, monkeypatch):
    at = _app(bundle, monkeypatch)
    before = _map_spec(at)
    assert "coloraxis" not in before["layout"]
    at.selectbox(key="colour_pick").set_value("brightness").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _map_spec(at) == before  # the same figure: the page keeps the chart and its WebGL context
    assert at.session_state["_map_moved"], "the new view's figure was not sent to the page's script"
    view = json.loads(map_update.figure_json(at.session_state["_loaded"], "pca2", "brightness"))
    assert "coloraxis" in view["layout"] and len(view["data"]) == 2 * len(before["data"])


def test_a_failed_script_brings_back_one_figure_per_view(bundle, monkeypatch):
    at = _app(bundle, monkeypatch)
    at.session_state["_map_in_place_off"] = True
    at.selectbox(key="colour_pick").set_value("brightness").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "coloraxis" in _map_spec(at)["layout"]  # the chart itself shows the view


def test_a_kept_chart_out_of_sight_is_hidden_at_full_width():
    assert "visibility: hidden" in map_update.box_css(3, shown=False) and "height: 0" in map_update.box_css(3, False)
    assert "hidden" not in map_update.box_css(2, shown=True) and "width" not in map_update.box_css(2, False)


def test_in_place_map_changes_only_on_a_checked_streamlit_version():
    from ui import map_update

    assert map_update._version_ok("1.67.0") and map_update._version_ok("1.67.3")
    assert not map_update._version_ok("1.68.0") and not map_update._version_ok("2.0.0")
    assert not map_update._version_ok("1.67.dev0".replace("67", "x"))
