"""vae.precompute (and scripts/precompute.py, its command line) on tiny digits bundles, and loading the result
with load_precomputed."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vae.bundle import load_bundle, save_bundle, update_bundle  # noqa: E402
from vae.errors import BundleError  # noqa: E402
from vae.model import VAE  # noqa: E402
from vae.precomputed import load_precomputed  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
N_TEST = 270  # digits: 15% of 1,797 images
from scripts import precompute as script  # noqa: E402  (main: the command line)
from vae.directions import fit_directions  # noqa: E402
from vae.precompute import precompute  # noqa: E402


def make_bundle(path, latent_dim=4, conditional=False):
    """An untrained digits VAE: precompute does not care how good the model is."""
    model = VAE(image_shape=(8, 8, 1), latent_dim=latent_dim, conditional=conditional, num_classes=10,
                base_filters=4, hidden_units=16, seed=0)
    return save_bundle(path, model, {"dataset": "digits", "class_names": [str(i) for i in range(10)],
                                     "data_options": {"seed": 0, "image_size": None}})


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    path = make_bundle(tmp_path_factory.mktemp("bundles") / "digits")
    timings, notes = precompute(path, no_umap=True, progress=False)
    return path, timings, notes


def test_every_array_is_written_with_the_right_shape(digits):
    path, timings, _ = digits
    d = 4
    with np.load(path / "encodings.npz", allow_pickle=False) as f:
        assert f["mean"].shape == f["logvar"].shape == (N_TEST, d) and f["mean"].dtype == np.float32
        assert f["labels"].shape == (N_TEST,) and f["labels"].dtype == np.int32
        assert f["recon_error"].shape == f["recon_mse"].shape == (N_TEST,)
        assert np.all(f["recon_error"] > 0) and np.all((f["recon_mse"] >= 0) & (f["recon_mse"] <= 1))
        assert f["latent_std"].shape == f["kl_per_dim"].shape == (d,) and np.all(f["kl_per_dim"] >= 0)
        np.testing.assert_array_equal(f["index"], np.arange(N_TEST))
    with np.load(path / "images.npz", allow_pickle=False) as f:
        assert f["images"].shape == (N_TEST, 8, 8, 1) and f["images"].dtype == np.uint8
    with np.load(path / "attributes.npz", allow_pickle=False) as f:
        assert set(f.files) == {"brightness", "ink_area", "width", "height", "aspect", "symmetry", "thickness", "slant"}
        assert all(f[k].shape == (N_TEST,) for k in f.files)
    with np.load(path / "projections.npz", allow_pickle=False) as f:
        assert f["pca2.embedding"].shape == (N_TEST, 2) and f["pca3.embedding"].shape == (N_TEST, 3)
        assert f["tsne.embedding"].shape == (N_TEST, 2) and f["pca2.components"].shape == (d, d)
    with np.load(path / "directions.npz", allow_pickle=False) as f:
        k = 10 + 90 + 8  # one-vs-rest, both ways of each class pair, attributes
        assert f["names"].shape == f["kinds"].shape == (k,) and f["vectors"].shape == (k, d)
        np.testing.assert_allclose(np.linalg.norm(f["vectors"], axis=1), 1.0, atol=1e-5)
        assert f["probe_coef"].shape == (10, d)
    meta = json.loads((path / "meta.json").read_text())["precompute"]
    assert meta["split"] == "test" and meta["n_points"] == N_TEST
    assert {"encode", "t-SNE", "directions", "edit fidelity"} <= set(meta["timings"]) and "total" in timings
    assert meta["projections"]["tsne"]["inverse_error"]["median_rel"] > 0
    assert meta["attributes"]["width"]["unit"] == "pixels"


def test_load_precomputed_gives_the_contract(digits):
    path, _, _ = digits
    bundle = load_bundle(path)
    pre = load_precomputed(bundle)
    assert load_precomputed(bundle) is pre  # cached per Bundle object
    assert pre.missing == [] and pre.split == "test"
    mean, _ = bundle.encode(pre.images)
    np.testing.assert_allclose(pre.mean, mean, atol=1e-5)  # the stored images give back the stored encodings
    assert set(pre.projections) == {"pca2", "pca3", "tsne"}
    for name, p in pre.projections.items():
        assert p.name == name and p.embedding.shape == (N_TEST, p.dims)
        z = p.inverse_transform(p.embedding[:2])
        assert z.shape == (2, 4)
        assert p.transform(pre.mean[:3]).shape == (3, p.dims)
    np.testing.assert_allclose(pre.projections["pca2"].inverse_transform(pre.projections["pca2"].embedding[:5],
                                                                         z_ref=pre.mean[:5]), pre.mean[:5], atol=1e-5)
    assert not pre.projections["tsne"].exact_inverse and pre.projections["tsne"].inverse_error["p90_rel"] > 0
    width = pre.direction("width")
    assert width.kind == "attribute" and "r2" in width.fit and -1 <= width.fidelity["spearman"] <= 1
    assert len(width.fidelity["steps"]) == 9 and "class_change_rate" in width.fidelity
    assert pre.direction("3 -> 5").kind == "class_pair"
    assert (pre.direction("3 -> 5").fit["source"], pre.direction("3 -> 5").fit["target"]) == (3, 5)
    for name in ("class: 3", "3 -> 5"):  # judged by the pixel classifier: measured, not copied from the fit
        fid = pre.direction(name).fidelity
        assert -1 <= fid["spearman"] <= 1 and 0 <= fid["reached"] <= 1 and len(fid["target_share_by_step"]) == 9
        assert fid["reached"] == fid["target_share_by_step"][-1] and fid["judge_accuracy"] > 0.8
    assert pre.info["class_judge"]["accuracy"] > 0.8 and pre.info["class_judge"]["held_out"] > 0
    assert "class edit fidelity" in pre.info["timings"]
    np.testing.assert_allclose(pre.direction("5 -> 3").vector, -pre.direction("3 -> 5").vector)
    assert pre.attribute_info["slant"]["unit"].startswith("degrees")
    assert pre.predict_class(pre.mean[:4]).shape == (4,)
    assert pre.off_manifold(pre.mean[0])["verdict"] in ("typical", "unusual", "far off")


def test_no_precompute_names_the_command(tmp_path):
    path = make_bundle(tmp_path / "bare")
    with pytest.raises(BundleError, match=r"python scripts/precompute.py .*bare"):
        load_precomputed(load_bundle(path))


def test_an_older_bundle_lists_what_it_lacks(digits, tmp_path):
    path, _, _ = digits
    old = tmp_path / "old"
    make_bundle(old)
    with np.load(path / "encodings.npz") as f:
        enc = {k: f[k] for k in ("mean", "logvar", "labels")}
    update_bundle(old, arrays={"encodings": enc}, meta_updates={"precompute": {"split": "test"}})
    pre = load_precomputed(load_bundle(old))
    assert pre.mean.shape == (N_TEST, 4) and "pca2" in pre.projections  # PCA made on the spot
    assert any(m.startswith("images") for m in pre.missing)
    assert any("t-SNE" in m for m in pre.missing) and all("scripts/precompute.py" in m for m in pre.missing)
    assert np.isnan(pre.recon_error).all() and pre.directions == []


def test_a_2d_conditional_bundle_uses_its_own_plane(tmp_path):
    path = make_bundle(tmp_path / "flat", latent_dim=2, conditional=True)
    timings, notes = precompute(path, split="train", max_points=300, no_umap=True, progress=False)
    pre = load_precomputed(load_bundle(path))
    assert set(pre.projections) == {"pca2", "latent"} and any("2-D" in n for n in notes)
    np.testing.assert_array_equal(pre.projections["latent"].embedding, pre.mean)
    assert pre.mean.shape == (300, 2) and pre.split == "train" and len(np.unique(pre.index)) == 300
    assert pre.direction("width").fidelity["points"] == 128


def test_cli_reports_a_missing_bundle(tmp_path, capsys):
    assert script.main([str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "No bundle folder" in capsys.readouterr().err


def test_a_collapsed_model_gets_precomputes_own_sentence(tmp_path, capsys):
    """An encoder whose z_mean layer outputs a constant (dead or collapsed): every image is one point. This
    used to end in the app's lasso message, "choose two different sets of points or another attribute"."""
    model = VAE(image_shape=(8, 8, 1), latent_dim=4, num_classes=10, base_filters=4, hidden_units=16, seed=0)
    head = model.encoder.get_layer("z_mean")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    path = save_bundle(tmp_path / "collapsed", model, {"dataset": "digits", "class_names": [str(i) for i in range(10)],
                                                       "data_options": {"seed": 0, "image_size": None}})
    before = (path / "meta.json").read_bytes()
    assert script.main([str(path), "--max-points", "10", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: The model encodes all 10 images to the same point") and "retrain" in err, err
    assert "two different sets" not in err and "\n" not in err
    assert (path / "meta.json").read_bytes() == before  # nothing stored


def test_an_attribute_that_does_not_vary_is_skipped_with_a_note():
    rng = np.random.default_rng(0)
    mean, labels = rng.normal(size=(10, 3)).astype(np.float32), np.arange(10) % 2
    notes = []
    directions, _ = fit_directions(mean, labels, {"height": np.full(10, 8.0), "width": rng.random(10)},
                                          ["a", "b"], 0, False, notes)
    assert [d.name for d in directions if d.kind == "attribute"] == ["width"]
    assert notes == ["The height direction skipped: height is the same for all 10 examples."]
