"""The modality seam: a toy kind of data (1-D signals, tests/toy_signal) trains, saves, loads, evaluates and
precomputes through the generic code alone, and the registry refuses what it does not know."""
import json

import numpy as np
import pytest

from vae import load_bundle, modalities
from vae.errors import BundleError, VAEError

modalities.register("signal", "toy_signal")


@pytest.fixture(scope="module")
def signal_bundle(tmp_path_factory):
    from vae.bundle import save_bundle
    from vae.precompute import precompute
    from vae.training import TrainConfig, train

    out = tmp_path_factory.mktemp("signal") / "sines"
    cfg = TrainConfig(dataset="sines", modality="signal", latent_dim=2, epochs=25, batch_size=32, lr=1e-2,
                      options={"hidden_units": 32})
    model, history, info = train(cfg, out.parent / "run", verbose=0)
    save_bundle(out, model, info, history)
    precompute(out, progress=False, no_tsne=True, no_umap=True)
    return out


def test_a_toy_modality_trains_and_its_bundle_loads_as_that_modality(signal_bundle):
    meta = json.loads((signal_bundle / "meta.json").read_text())
    assert meta["modality"] == "signal" and meta["model"]["modality"] == "signal" and "image_shape" not in meta
    b = load_bundle(signal_bundle)
    assert b.modality.name == "signal" and b.input_shape == (32,)
    from toy_signal import sines

    x, _ = sines(64, seed=5)
    mean, _ = b.encode(x)
    out = b.decode(mean)
    assert out.shape == (64, 32) and out.dtype == np.float32
    # it learned something: reconstructions are much closer than the signals are to their mean
    assert np.mean((out - x) ** 2) < 0.75 * np.mean((x - x.mean(0)) ** 2)
    assert b.nll(x, mean).shape == (64,)


def test_precompute_measures_the_toy_attributes_and_judges_its_classes(signal_bundle):
    from vae.precomputed import load_precomputed

    pre = load_precomputed(load_bundle(signal_bundle))
    assert set(pre.attributes) == {"amplitude", "crossings"}
    names = {d.name for d in pre.directions}
    assert {"amplitude", "crossings", "class: slow", "class: fast"} <= names
    crossings = pre.direction("crossings")
    assert crossings.fidelity and np.isfinite(crossings.fidelity["spearman"])
    judge = json.loads((signal_bundle / "meta.json").read_text())["precompute"]["class_judge"]
    assert judge["judge"] == "logistic regression on the magnitude spectrum" and judge["accuracy"] > 0.9
    # slow and fast sines are told apart on the map of a 2-d latent
    assert pre.mean.shape == (100, 2) and "latent" in pre.projections


def test_evaluate_scores_the_toy_modality_with_its_own_distance(signal_bundle):
    from toy_signal import sines
    from vae.metrics import evaluate

    b = load_bundle(signal_bundle)
    x, y = sines(120, seed=9)
    figures = evaluate(b.model, x[:60], y[:60], x[60:], y[60:], iwae_k=50, iwae_points=60)  # the same 60 points
    assert figures["distance_name"] == "mean squared error per sample" and figures["reconstruction_distance"] < 0.2
    assert figures["iwae_nll"] <= figures["neg_elbo"] + 1.0 and figures["knn_accuracy"] > 0.8


def test_a_bundle_of_an_unknown_modality_is_one_sentence(signal_bundle, tmp_path):
    import shutil

    copy = tmp_path / "b"
    shutil.copytree(signal_bundle, copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["model"]["modality"] = meta["modality"] = "smell"
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="model.modality .* but model.keras holds") as err:
        load_bundle(copy, verify=False)  # an edited meta.json: refused before TensorFlow reads anything
    assert "smell" not in str(err.value) and "\n" not in str(err.value)


def test_the_registry_names_what_it_knows():
    assert "image" in modalities.names() and modalities.get(None).name == "image"
    with pytest.raises(VAEError, match="Unknown modality"):
        modalities.get("<script>")
