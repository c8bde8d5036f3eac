"""The density-estimation protocol: dynamically binarised training images, a test split binarised once,
and scripts/evaluate.py --binarized storing its figures apart."""
import json

import numpy as np
import pytest

from vae.modalities.image.datasets import binarize, binarized, load


def test_binarize_draws_white_with_the_grey_level_as_probability():
    rng = np.random.default_rng(0)
    x = np.repeat(np.array([0, 64, 128, 255], np.uint8)[None, :], 20_000, axis=0)
    b = binarize(x, rng)
    assert b.dtype == np.uint8 and set(np.unique(b)) <= {0, 255}
    np.testing.assert_allclose((b == 255).mean(axis=0), x[0] / 255.0, atol=0.015)
    assert (b[:, 0] == 0).all() and (b[:, 3] == 255).all()


def test_binarized_dataset_fixes_the_test_draw_and_keeps_training_images_grey():
    a, b = load("binarized_digits"), load("binarized_digits")
    grey = load("digits")
    assert a.name == "binarized_digits" and a.class_names == grey.class_names
    np.testing.assert_array_equal(a.x_test, b.x_test)                       # one fixed draw, every time
    assert set(np.unique(a.x_test)) == {0, 255}
    np.testing.assert_array_equal(a.x_train, grey.x_train)                  # drawn per batch, not stored
    np.testing.assert_array_equal(a.y_test, grey.y_test)
    assert a.resample is not None and grey.resample is None


def test_colour_images_are_not_binarised():
    from vae.data import Dataset
    from vae.errors import DataError

    rgb = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(DataError, match="Only grey images"):
        binarized(Dataset("rgb", rgb, np.zeros(4, np.int32), rgb, np.zeros(4, np.int32), ["a"]))


def test_the_trainer_draws_each_training_batch_anew():
    """training.pipeline(resample=...) gives black-and-white batches, a different draw each epoch."""
    from vae import modalities
    from vae.training import pipeline

    x = np.full((32, 8, 8, 1), 128, np.uint8)
    y = np.zeros(32, np.int32)
    ds = pipeline(x, y, 16, shuffle=False, modality=modalities.get("image"), resample=binarize)
    first = np.concatenate([b["x"].numpy() for b in ds])
    second = np.concatenate([b["x"].numpy() for b in ds])
    assert set(np.unique(first)) == {0.0, 1.0}                              # the encoder's input, in [0, 1]
    assert 0.4 < first.mean() < 0.6
    assert (first != second).mean() > 0.3                                    # resampled, not cached


def test_training_and_evaluate_on_the_protocol(tmp_path):
    from scripts import evaluate
    from vae.training import TrainConfig, run

    out = tmp_path / "bundle"
    cfg = TrainConfig(dataset="binarized_digits", latent_dim=2, epochs=2, batch_size=64, options={"hidden_units": 16})
    run(cfg, out, tmp_path / "run", verbose=0, evaluate=False, log=lambda *a: None)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["dataset"] == "binarized_digits"
    assert evaluate.main([str(out), "--binarized", "--iwae-k", "20", "--iwae-points", "30"]) == 0
    figures = json.loads((out / "meta.json").read_text())["metrics"]["binarized"]
    assert figures["iwae_k"] == 20 and figures["iwae_points"] == 30
    assert "binarised once" in figures["protocol"] and figures["iwae_nll"] > 0
    assert np.isfinite(figures["neg_elbo"]) and figures["iwae_nll"] <= figures["neg_elbo"] + 1.0
