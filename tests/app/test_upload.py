"""The upload panel ("Your image"): a wide picture padded or cropped, a non-image in one literal sentence,
the distance from the data worded by the decoder's own meter."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tiny import ROOT, train_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from vae.errors import ImageError  # noqa: E402
from vae.modalities.image.reader import read_upload  # noqa: E402


@pytest.fixture(scope="module")
def digits_bundle(tmp_path_factory):
    from vae.precompute import precompute

    path = train_tiny(tmp_path_factory.mktemp("upload") / "digits", epochs=2, latent_dim=2)
    precompute(path, split="test", progress=False, no_tsne=True, no_umap=True)
    return path


def _app(bundle, monkeypatch, **state) -> AppTest:
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["bundle"] = bundle.name
    for k, v in {"tools_tab": "Your image", **state}.items():
        at.session_state[k] = v
    return at.run()


def _png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def test_an_upload_is_worded_like_the_meter_and_a_non_image_is_one_literal_sentence(digits_bundle, monkeypatch):
    from ui import own_example, words

    at = _app(digits_bundle, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    loaded = at.session_state["_loaded"]
    wide = np.zeros((20, 100), np.uint8)  # a wide picture: a stroke at each end
    wide[4:16, 0:16] = wide[4:16, 84:100] = 255
    x, preview = read_upload(_png(wide), loaded.bundle.image_shape[:2], 1, fit="pad")
    assert x[..., 0][:, :2].max() > 100 and x[..., 0][:, -2:].max() > 100  # padded: both ends kept
    up = {"name": "wide.png", "preview": "<b>wide</b>", **own_example.place_upload(loaded, x, None)}
    at.session_state["upload"] = up
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["bundle_pick"] == "digits"
    expected = "Off-manifold: %s (%s)" % words.meter_words(up["meter"])  # the meter's own words
    assert any(c.value == expected for c in at.caption), [c.value for c in at.caption]

    with pytest.raises(ImageError) as err:
        read_upload(b"%PDF-1.4 not an image", (8, 8), 1, name="[Log in](http://evil/login).png")
    at.session_state["upload"] = {"error": str(err.value)}
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "BytesIO" not in message and "\\[Log in\\]\\(http\\://evil/login\\)" in message  # literal, no link
    assert "not a picture" in message


def test_a_conditional_bundle_draws_an_upload_as_every_class(tmp_path_factory, monkeypatch):
    from vae.precompute import precompute
    from ui import own_example

    path = train_tiny(tmp_path_factory.mktemp("upload_cond") / "cond", epochs=2, latent_dim=3, conditional=True)
    precompute(path, split="test", progress=False, no_tsne=True, no_umap=True)
    at = _app(path, monkeypatch)
    loaded = at.session_state["_loaded"]
    x = loaded.pre.images[0]
    at.session_state["upload"] = {"name": "mine.png", "preview": "<b>mine</b>", **own_example.place_upload(loaded, x, 3)}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rows = [e.proto.body for e in at.get("html") if "Same style, every class" in e.proto.body]
    assert len(rows) == 2                                      # under the pad, and for the upload
    assert rows[1].count("<img") == len(loaded.bundle.class_names)
