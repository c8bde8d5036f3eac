"""The hierarchical VAE (vae/hierarchy.py): training through scripts/train.py's path, safe save and load,
the top level seen by generic code, per-level decoding and KL, and the IWAE bound over both levels."""
import json
import zipfile

import numpy as np
import pytest

from vae.errors import BundleError


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    from vae.training import TrainConfig, run

    out = tmp_path_factory.mktemp("ladder") / "bundle"
    cfg = TrainConfig(dataset="digits", latent_dim=3, lower_dim=6, epochs=4, batch_size=64, free_bits=0.05,
                      options={"hidden_units": 32})
    run(cfg, out, out.parent / "run", verbose=0, evaluate=False, log=lambda *a: None)
    return out


def test_saved_and_loaded_safely_with_its_levels(ladder):
    from vae import load_bundle
    from vae.hierarchy import LadderVAE

    meta = json.loads((ladder / "meta.json").read_text())
    assert meta["latent_dim"] == 3 and meta["model"]["lower_dim"] == 6
    b = load_bundle(ladder)
    assert isinstance(b.model, LadderVAE) and b.latent_dim == 3 and b.model.level_dims == (3, 6)
    x = b.modality.load_dataset("digits").x_test[:20]
    mean, logvar = b.encode(x)
    assert mean.shape == (20, 3) and logvar.shape == (20, 3)           # generic code sees the top level
    assert b.decode(mean).shape == (20, 8, 8, 1)
    history = json.loads((ladder / "history.json").read_text())
    assert "kl_lower" in history and history["val_loss"][-1] < history["val_loss"][0]


def test_the_lower_level_carries_details_the_top_does_not(ladder):
    from vae import load_bundle

    b = load_bundle(ladder)
    model = b.model
    x = model.modality.model_input(b.modality.load_dataset("digits").x_test[:64])
    mean2, _ = model.encode(x)
    own = model.lower_noise(x)                                           # each point's own details
    assert own.shape == (64, 6)
    plain = np.asarray(model.generate(mean2))                           # details at the prior's mean
    with_own = np.asarray(model.generate(mean2, lower=own))
    redrawn = np.asarray(model.generate(mean2, lower=np.random.default_rng(0).normal(size=(64, 6)).astype("float32")))
    target = np.asarray(x)
    err = lambda d: float(np.mean((d - target) ** 2))  # noqa: E731
    assert err(with_own) < err(plain)                                   # a point's own details reconstruct it better
    assert np.abs(redrawn - plain).mean() > 1e-3                         # and redrawn ones change the decoding
    np.testing.assert_allclose(np.asarray(model(x)), with_own, atol=1e-5)  # the model's reconstruction = both means
    top, lower = (np.asarray(k) for k in model.kl_per_level(x))
    assert top.shape == (3,) and lower.shape == (6,) and (top >= 0).all() and (lower >= 0).all()
    assert lower.sum() > 0.1                                             # the lower level is used


def test_iwae_over_both_levels_is_a_tighter_bound_than_the_elbo(ladder):
    import tensorflow as tf

    from vae import load_bundle
    from vae.metrics import iwae_bound, negative_elbo

    b = load_bundle(ladder)
    x = b.modality.load_dataset("digits").x_test[:40]
    figures = negative_elbo(b.model, x, samples=4)
    terms = [b.model._sample_levels(b.model.modality.model_input(x), None, False) for _ in range(8)]
    lower_kl = np.mean([np.asarray(k).sum(axis=1).mean() for _, _, k in terms])
    assert figures["kl"] > lower_kl > 0.1                                # the ELBO pays for both levels
    log_w = b.model.importance_log_weights(b.model.modality.model_input(x), None, 200, tf.random.Generator.from_seed(0))
    assert log_w.shape == (200, 40)
    iwae = iwae_bound(b.model, x, k=200)
    assert iwae < figures["neg_elbo"] and iwae > 0.5 * figures["neg_elbo"]


def _edited_archive(bundle, folder, edit):
    """A copy of the bundle's model.keras with its config.json changed by edit(config)."""
    with zipfile.ZipFile(bundle / "model.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    folder.mkdir()
    with zipfile.ZipFile(folder / "model.keras", "w") as z:
        for n, data in {**members, "config.json": json.dumps(config).encode()}.items():
            z.writestr(n, data)
    return folder / "model.keras"


def test_the_archive_check_takes_the_ladder_and_still_refuses_other_classes(ladder, tmp_path):
    from vae.archive import check_model_archive

    assert check_model_archive(ladder / "model.keras")["lower_dim"] == 6
    for key, value in (("module", "vae.training"), ("class_name", "Sequential")):   # a class of the file's choosing
        with pytest.raises(BundleError, match="not this project's VAE"):
            check_model_archive(_edited_archive(ladder, tmp_path / key, lambda c: c.__setitem__(key, value)))


def test_settings_are_checked():
    from vae.errors import VAEError
    from vae.training import TrainConfig

    with pytest.raises(VAEError, match="--lower-dim"):
        TrainConfig(dataset="digits", lower_dim=-1)
    with pytest.raises(VAEError, match="--no-latent"):
        TrainConfig(dataset="digits", lower_dim=4, no_latent=True)


def test_precompute_stores_each_points_details_and_the_bundle_decodes_with_them(ladder, tmp_path):
    import shutil

    from vae import load_bundle
    from vae.errors import VAEError
    from vae.precompute import precompute
    from vae.precomputed import load_precomputed

    path = tmp_path / "ladder"
    shutil.copytree(ladder, path)
    precompute(path, split="test", progress=False, no_tsne=True, no_umap=True)
    b = load_bundle(path)
    pre = load_precomputed(b)
    assert pre.lower.shape == (len(pre.mean), 6) and pre.kl_lower_per_dim.shape == (6,)
    assert (pre.kl_lower_per_dim >= 0).all() and pre.kl_lower_per_dim.sum() > 0.1
    x = b.model.modality.model_input(b.modality.load_dataset("digits").split("test")[0][pre.index[:5]])
    np.testing.assert_allclose(pre.lower[:5], np.asarray(b.model.lower_noise(x)), atol=0.01)  # stored half precision
    own = b.decode(pre.mean[:5], lower=pre.lower[:5])
    np.testing.assert_allclose(own, np.asarray(b.model.generate(pre.mean[:5], lower=pre.lower[:5])), atol=1e-5)
    assert np.abs(own - b.decode(pre.mean[:5])).mean() > 1e-4                # details change the decoding
    one = b.decode(pre.mean[:2], lower=pre.lower[0])                           # one set of details for all
    np.testing.assert_allclose(one[0], own[0], atol=1e-5)
    with pytest.raises(VAEError, match="6 finite numbers"):
        b.decode(pre.mean[:2], lower=np.full(6, np.nan))
    with pytest.raises(VAEError, match="one latent level"):
        flat = tmp_path / "flat"
        from tiny import train_tiny
        load_bundle(train_tiny(flat, epochs=1)).decode(np.zeros((1, 4)), lower=np.zeros(6))


def test_gallery_draws_details_at_the_temperature(ladder):
    from vae import load_bundle
    from vae.generate import draw

    b = load_bundle(ladder)
    cold, _, z = draw(b, "prior", n=12, temperature=0.0, seed=1)
    np.testing.assert_allclose(cold, b.decode(z), atol=1e-5)                  # T = 0: the most likely details
    warm, _, z2 = draw(b, "prior", n=12, temperature=1.0, seed=1)
    again, _, _ = draw(b, "prior", n=12, temperature=1.0, seed=1)
    np.testing.assert_array_equal(warm, again)                                # seeded
    assert np.abs(warm - b.decode(z2)).mean() > 1e-4                          # details drawn, not the prior's mean


def test_level_sizes_out_of_range_are_refused_before_keras_builds_them(ladder, tmp_path):
    from vae.archive import check_model_archive
    from vae.errors import VAEError
    from vae.hierarchy import LadderVAE

    with pytest.raises(VAEError, match="hidden_units_top"):
        LadderVAE(latent_dim=10 ** 6, lower_dim=6, image_shape=(8, 8, 1), hidden_units=16)
    for key, value in (("latent_dim", 10 ** 6), ("hidden_units_top", 10 ** 5), ("lower_dim", "6")):
        with pytest.raises(BundleError, match="could not be loaded safely"):
            check_model_archive(_edited_archive(ladder, tmp_path / key, lambda c: c["config"].__setitem__(key, value)))


def test_meta_json_and_model_must_agree_on_the_levels(ladder, tmp_path):
    import shutil

    from vae import load_bundle
    from vae.files import atomic_write_json

    for value in (None, 7):
        bad = tmp_path / f"bundle_{value}"
        shutil.copytree(ladder, bad)
        meta = json.loads((bad / "meta.json").read_text())
        if value is None:
            del meta["model"]["lower_dim"]
        else:
            meta["model"]["lower_dim"] = value
        atomic_write_json(bad / "meta.json", meta)
        with pytest.raises(BundleError, match="model.lower_dim"):
            load_bundle(bad, verify=False)


def test_samples_of_a_hierarchical_bundle_go_through_the_levels(ladder):
    from vae import load_bundle

    b = load_bundle(ladder)
    z = np.zeros((3, 3), np.float32)
    drawn = b.sample(z, temperature=1.0, seed=0)
    assert drawn.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(drawn, b.decode(z), atol=1e-5)     # images: a draw is the mean at the details' mean
    assert b.decode(z[:0], lower=np.zeros(6)).shape == (0, 8, 8, 1)
