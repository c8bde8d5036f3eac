"""The app under AppTest with what a URL or an old bundle can throw at it: absurd numbers, paths,
huge parameters, and a bundle precomputed by an older version (arrays missing). Each gives a
one-line notice or a 'missing' line with the command that adds it; never an exception.
(test_app.py holds the app's own URL cases; these are the reliability additions.)"""
from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

from tiny import ROOT

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, tiny_bundle_dir):
    """A small precomputed bundle ("fresh") and one with only an early precompute's arrays ("old")."""
    from vae.precompute import precompute
    from vae.bundle import update_bundle

    root = tmp_path_factory.mktemp("app_inputs")
    fresh = root / "fresh"
    shutil.copytree(tiny_bundle_dir, fresh)
    precompute(fresh, split="test", max_points=200, no_tsne=True, no_umap=True, progress=False)
    old = root / "old"
    shutil.copytree(tiny_bundle_dir, old)
    mean = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    update_bundle(old, arrays={"encodings": {"mean": mean, "labels": (np.arange(50) % 10).astype(np.int32)}},
                  meta_updates={"precompute": {"split": "test"}})
    return {"fresh": fresh, "old": old}


@pytest.fixture
def app(bundles, monkeypatch):
    monkeypatch.setenv("VAE_BUNDLE", os.pathsep.join(str(p) for p in bundles.values()))

    def run(params=None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for key, value in (params or {}).items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return run


@pytest.mark.parametrize("params,words", [
    ({"sel": "9" * 40}, "selected point"),
    ({"sel": "1e3"}, "selected point"),
    ({"z": "1e300,0,0,0"}, "huge"),
    ({"z": ",".join(["0"] * 5000)}, "this bundle needs 4"),  # 10,000 characters: cut at 2,000
    ({"z": "0x10,0,0,0"}, "not a number"),
    ({"proj": "../../etc/passwd"}, "not in this bundle"),
    ({"color": "x" * 100_000}, "colouring"),
])
def test_absurd_url_numbers_and_strings_get_one_notice(app, params, words):
    at = app({"bundle": "fresh", **params})
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and words in notes[0] and "\n" not in notes[0] and len(notes[0]) < 300, notes
    assert at.session_state["bundle_pick"] == "fresh" and np.all(np.isfinite(at.session_state["z"]))


@pytest.mark.parametrize("name", ["x" * 10_000, "/tmp", "..", "fresh/../old", "fresh\x00"])
def test_url_bundle_names_that_are_not_on_offer(app, name):
    at = app({"bundle": name})
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and "not one of this app's bundles" in notes[0] and len(notes[0]) < 300, notes
    assert at.session_state["bundle_pick"] in ("fresh", "old")


def test_a_bundle_from_an_older_version_works_and_says_what_is_missing(app, bundles):
    at = app({"bundle": "old"})
    assert at.session_state["bundle_pick"] == "old"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Missing:" in captions and "scripts/precompute.py" in captions, captions
    for what in ("images", "attributes"):
        assert what in captions
    assert np.all(np.isfinite(at.session_state["z"]))  # the explorer runs on the encodings it has


@pytest.mark.parametrize("params", [
    {"bundle": "[Your session expired - log in](http://evil/login)"},
    {"bundle": "![x](http://host/pixel.png)"},
    {"bundle": "fresh", "color": "![x](http://host/pixel.png)"},
    {"bundle": "fresh", "color": "[Your session expired - log in](http://evil/login)"},
    {"bundle": "fresh", "proj": ":red[<img src=x onerror=alert(1)>]"},
])
def test_url_values_echoed_in_a_notice_are_literal_text(app, params):
    from ui import words

    at = app(params)
    notes = [w.value for w in at.warning]
    assert len(notes) == 1, notes
    typed = next(v for k, v in params.items() if v != "fresh")
    assert words.literal(typed[:20]) in notes[0]  # shown escaped, as typed (long values cut)
    bare = re.sub(r"\\.", "", notes[0])  # what is left once the escaped characters are taken out
    for markup in ("](", "![", "[", ":red", "<img", "http:"):
        assert markup not in bare, notes[0]  # no link, image, colour or HTML left to render
