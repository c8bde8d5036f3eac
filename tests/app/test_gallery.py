"""The gallery page under AppTest: draws per press, reproducible from the seed, a clicked sample opens in the explorer."""
from __future__ import annotations

import os

import numpy as np
import pytest

from tiny import ROOT, train_tiny

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = "app_pages/gallery.py"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A tiny precomputed digits bundle and a class-conditional one, offered to the app."""
    from vae.precompute import precompute

    root = tmp_path_factory.mktemp("gallery")
    paths = []
    for name, kw in (("digits4", dict(latent_dim=4)), ("cond", dict(latent_dim=3, conditional=True))):
        path = train_tiny(root / name, epochs=2, **kw)
        precompute(path, split="test", progress=False, no_tsne=True, no_umap=True)
        paths.append(path)
    old = os.environ.get("VAE_BUNDLE")
    os.environ["VAE_BUNDLE"] = os.pathsep.join(map(str, paths))
    yield paths
    if old is None:
        os.environ.pop("VAE_BUNDLE")
    else:
        os.environ["VAE_BUNDLE"] = old


def gallery(bundle: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["bundle"] = bundle
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawn(at):
    return at.session_state["gallery_draw"]


def test_each_press_draws_new_samples_and_a_typed_seed_draws_them_again(env):
    at = gallery("digits4")
    first = drawn(at)
    assert first["settings"]["source"] == "region" and first["images"].shape == (100, 8, 8, 1)
    assert np.bincount(first["labels"]).tolist() == [10] * 10
    at.button(key="gallery_draw_button").click().run()
    second = drawn(at)
    assert at.number_input(key="gallery_seed").value == 1 and not np.allclose(first["z"], second["z"])
    at.button(key="gallery_draw_button").click().run()
    assert at.number_input(key="gallery_seed").value == 2 and not np.allclose(second["z"], drawn(at)["z"])
    at.number_input(key="gallery_seed").set_value(0).run()
    np.testing.assert_array_equal(drawn(at)["z"], first["z"])
    np.testing.assert_array_equal(drawn(at)["images"], first["images"])
    assert "Seed 0" in " ".join(c.value for c in at.caption)
    at.switch_page("app_pages/explorer.py").run()
    at.switch_page(PAGE).run()  # back again: the settings and the draw are as they were
    assert at.number_input(key="gallery_seed").value == 0
    np.testing.assert_array_equal(drawn(at)["z"], first["z"])


def test_prior_and_conditional_sources(env):
    at = gallery("digits4")
    at.radio(key="gallery_source").set_value("prior").run()
    at.number_input(key="gallery_n").set_value(30).run()
    assert drawn(at)["images"].shape[0] == 30 and (drawn(at)["labels"] == -1).all()
    at = gallery("cond")
    assert "Per class (conditional)" in at.radio(key="gallery_source").options
    assert drawn(at)["settings"]["source"] == "conditional"
    at.multiselect(key="gallery_classes").set_value([3, 7]).run()
    assert drawn(at)["labels"].tolist() == [3] * 10 + [7] * 10


def test_a_large_draw_decodes_in_batches_and_shows_a_part(env):
    at = gallery("digits4")
    at.number_input(key="gallery_per_class").set_value(150).run()  # 1,500 samples: a progress bar while decoding
    assert not at.exception, [e.value for e in at.exception]
    assert drawn(at)["images"].shape[0] == 1500
    assert "1,500 samples, 160 shown (the downloads hold all)" in " ".join(c.value for c in at.caption)


def test_temperature_zero_draws_the_class_means(env):
    at = gallery("digits4")
    at.slider(key="gallery_temperature").set_value(0.0).run()
    z, y = drawn(at)["z"], drawn(at)["labels"]
    pre = at.session_state["_loaded"].pre
    np.testing.assert_allclose(z[y == 2][0], pre.mean[pre.labels == 2].mean(0), atol=1e-4)


def test_a_clicked_sample_opens_in_the_explorer(env):
    at = gallery("cond")
    kept = drawn(at)
    i = 13  # class 1, second sample
    at.session_state["_gallery_open"] = i  # what a click on the grid leaves (its callback reads the chart)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    np.testing.assert_allclose(at.session_state["z"], kept["z"][i])
    assert at.session_state["z_label"] == kept["labels"][i] == 1
    assert at.session_state["bundle_pick"] == "cond"  # the bundle stays (a switch drops widget state)
    assert any(r.key == "proj_pick" for r in at.radio) and not any(r.key == "gallery_source" for r in at.radio)  # explorer


def test_grid_shows_a_row_per_class_with_clickable_cells():
    from ui.display import image
    from ui.gallery import SHOW_COLS, grid_figure, shown_rows

    labels = np.repeat([0, 2], 30).astype(np.int32)
    images = np.random.default_rng(0).random((60, 8, 8, 1)).astype(np.float32)
    rows = shown_rows(labels, "region")
    assert [len(r) for r in rows] == [SHOW_COLS, SHOW_COLS] and rows[1][0] == 30
    fig = grid_figure(image, images, labels, rows, ["<b>zero</b>", "one", "two"], scale=3)
    cells = fig.data[1]
    assert list(cells.customdata) == list(rows[0]) + list(rows[1])
    assert cells.text[0] == "&lt;b&gt;zero&lt;/b&gt;"  # class names are shown as text, never as markup
    i = SHOW_COLS + 1  # second row, second cell: centred on its image in the picture
    assert (cells.x[i], cells.y[i]) == ((10 + 4) * 3, (10 + 4) * 3)
    assert [len(r) for r in shown_rows(np.full(250, -1), "prior")] == [SHOW_COLS] * 10  # the first 160
