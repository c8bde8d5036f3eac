"""The app on a bundle of another kind of data (the toy 1-D signals of tests/toy_signal, with their display
module): explorer, tools, model card and gallery run through the display seam alone."""
from __future__ import annotations

import numpy as np
import pytest

from tiny import ROOT

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui import display  # noqa: E402
from vae import modalities  # noqa: E402

modalities.register("signal", "toy_signal")
display.register("signal", "toy_signal.display")
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def signal_bundle(tmp_path_factory):
    from vae.bundle import save_bundle
    from vae.precompute import precompute
    from vae.training import TrainConfig, train

    out = tmp_path_factory.mktemp("app_signal") / "sines"
    cfg = TrainConfig(dataset="sines", modality="signal", latent_dim=2, epochs=10, batch_size=32, lr=1e-2,
                      options={"hidden_units": 32})
    model, history, info = train(cfg, out.parent / "run", verbose=0)
    save_bundle(out, model, info, history)
    precompute(out, progress=False, no_tsne=True, no_umap=True)
    return out


def _app(bundle, monkeypatch, **state) -> AppTest:
    monkeypatch.setenv("VAE_BUNDLE", str(bundle))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["bundle"] = bundle.name
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_explorer_shows_a_signal_bundle_through_its_display_module(signal_bundle, monkeypatch):
    at = _app(signal_bundle, monkeypatch, tools_tab="Your signal")
    assert display.for_bundle(at.session_state["_loaded"]).NOUN == "signal"
    assert any('<svg class="signal' in h.proto.body for h in at.get("html"))  # the inspector draws signals
    at.text_area(key="upload_file").input("0.1 " * 31 + "<b>0.2</b>").run()  # not 32 numbers: one sentence
    assert not at.exception
    assert at.error and "A signal is numbers" in at.error[0].value
    at.text_area(key="upload_file").input(", ".join(f"{v:.3f}" for v in np.sin(np.arange(32) / 3))).run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    up = at.session_state["upload"]
    assert up["x"].shape == (32,) and up["recon"].shape == (32,) and np.isfinite(up["z"]).all()
    assert any(c.value.startswith("Off-manifold:") for c in at.caption)

    at.switch_page("app_pages/model_card.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("signal of 32 samples" in c.value for c in at.caption)
    at.switch_page("app_pages/gallery.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # signals do not tile into one picture: the first samples are listed through the display's row
    assert any(c.value.startswith("Seed ") and "samples, the first" in c.value for c in at.caption)
    assert any(h.proto.body.count("<svg class=\"signal") >= 10 for h in at.get("html")), \
        [h.proto.body[:80] for h in at.get("html")]
