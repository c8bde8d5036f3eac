"""The VAE: architecture from the image shape, loss terms, conditional decoding, config checks."""
import numpy as np
import pytest

from vae.errors import VAEError
from vae.modalities.image.networks import bernoulli_nll
from vae.model import VAE, VAEConfig, gaussian_kl


@pytest.mark.parametrize("shape,stages", [((8, 8, 1), 1), ((28, 28, 1), 2), ((64, 64, 3), 4), ((30, 30, 1), 1)])
def test_architecture_follows_image_shape(shape, stages):
    model = VAE(image_shape=shape, latent_dim=3, hidden_units=32, base_filters=8)
    assert model.config.stages == stages
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    mean, logvar = model.encode(x)
    assert mean.shape == logvar.shape == (2, 3)
    out = np.asarray(model(x))
    assert out.shape == (2, *shape) and out.min() >= 0 and out.max() <= 1


def test_bernoulli_nll_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.random((3, 4, 4, 1)).astype(np.float32)
    logits = rng.normal(size=(3, 4, 4, 1)).astype(np.float32) * 3
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    np.testing.assert_allclose(np.asarray(bernoulli_nll(x, logits)), expected, rtol=1e-5)


def test_gaussian_kl_closed_form():
    zero = np.zeros((2, 5), np.float32)
    np.testing.assert_allclose(np.asarray(gaussian_kl(zero, zero)), [0, 0], atol=1e-7)
    mean = np.full((1, 2), 2.0, np.float32)
    logvar = np.full((1, 2), np.log(0.5), np.float32)
    # per dim: 0.5 * (var + mean^2 - 1 - log var)
    expected = 2 * 0.5 * (0.5 + 4 - 1 - np.log(0.5))
    np.testing.assert_allclose(np.asarray(gaussian_kl(mean, logvar)), [expected], rtol=1e-6)


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(latent_dim=0), "latent_dim"), (dict(beta=-1.0), "beta"), (dict(beta=float("nan")), "beta"),
    (dict(image_shape=(28, 28)), "image_shape"), (dict(image_shape=(28, 28, 2)), "image_shape"),
    (dict(conditional=True, num_classes=1), "at least 2 classes")])
def test_config_refuses_bad_values(kwargs, fragment):
    with pytest.raises(VAEError, match=fragment):
        VAEConfig.from_flat(kwargs)


def test_conditional_decoder_draws_the_asked_class():
    """After a short training, decoding z=0 with label c looks most like class c's mean image."""
    import keras

    from vae.data import load_dataset
    from vae.training import pipeline

    keras.utils.set_random_seed(0)
    ds = load_dataset("digits")
    model = VAE(image_shape=(8, 8, 1), latent_dim=2, conditional=True, num_classes=10, hidden_units=64, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    model.fit(pipeline(ds.x_train, ds.y_train, 64, shuffle=True), epochs=25, verbose=0, shuffle=False)
    z = np.zeros((10, 2), np.float32)
    drawn = np.asarray(model.decode(z, np.arange(10), apply_sigmoid=True)).reshape(10, -1)
    x = ds.x_train.reshape(len(ds.x_train), -1) / 255.0
    class_means = np.stack([x[ds.y_train == c].mean(0) for c in range(10)])
    nearest = np.argmin(((drawn[:, None] - class_means[None]) ** 2).sum(-1), axis=1)
    assert np.sum(nearest == np.arange(10)) >= 8, nearest
