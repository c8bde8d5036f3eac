"""vae/generate.py: seeded prior draws, class regions fitted on labelled encodings, batched decoding."""
import numpy as np
import pytest

from vae.errors import VAEError
from vae.generate import MAX_SAMPLES, ClassRegions, decode_in_batches, draw, draw_prior, latents


def clusters(n_per=40, d=3, seed=0):
    """Three well separated classes: centres 10 apart, unit spread, log-variances of 0.01^2."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * d, [10.0] + [0.0] * (d - 1), [0.0, 10.0] + [0.0] * (d - 2)])
    mean = np.concatenate([c + rng.standard_normal((n_per, d)) for c in centres])
    labels = np.repeat(np.arange(3), n_per)
    return mean, labels, np.full_like(mean, 2 * np.log(0.01)), centres


class FakeBundle:
    """What generate needs of a bundle: sizes, class names, encodings, and a decode that records its batches."""

    def __init__(self, conditional=False, d=3):
        self.latent_dim, self.image_shape, self.conditional = d, (2, 2, 1), conditional
        self.class_names = ["a", "b", "c"]
        mean, labels, logvar, _ = clusters(d=d)
        self._enc = {"mean": mean, "labels": labels, "logvar": logvar}
        self.batches = []

    def arrays(self, stem):
        return self._enc

    def decode(self, z, labels=None):
        self.batches.append((len(z), None if labels is None else np.asarray(labels).copy()))
        return np.broadcast_to(z[:, :1, None, None], (len(z), 2, 2, 1)).astype(np.float32)


def test_prior_is_seeded_and_scaled_by_temperature():
    a, b = draw_prior(4000, 3, 0.5, seed=7), draw_prior(4000, 3, 0.5, seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4000, 3) and a.dtype == np.float32
    assert not np.array_equal(a, draw_prior(4000, 3, 0.5, seed=8))
    assert abs(a.std() - 0.5) < 0.03 and abs(a.mean()) < 0.03
    assert not draw_prior(5, 3, 0.0, seed=1).any()


@pytest.mark.parametrize("bad", [dict(n=MAX_SAMPLES + 1), dict(n=-1), dict(n=2.5), dict(temperature=float("nan")),
                                 dict(temperature=-1)])
def test_prior_refuses_bad_counts_and_temperatures(bad):
    with pytest.raises(VAEError):
        draw_prior(**{"n": 3, "latent_dim": 2, "temperature": 1.0, **bad})


@pytest.mark.parametrize("kind", ["gaussian", "mixture", "exemplar"])
def test_region_samples_stay_in_their_class(kind):
    mean, labels, logvar, centres = clusters()
    regions = ClassRegions(kind).fit(mean, labels, logvar)
    z, y = regions.sample([50, 0, 30], temperature=1.0, seed=3)
    assert z.shape == (80, 3) and y.tolist() == [0] * 50 + [2] * 30
    nearest = np.argmin(((z[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, y)
    z2, _ = regions.sample([50, 0, 30], temperature=1.0, seed=3)
    np.testing.assert_array_equal(z, z2)
    z0, _ = regions.sample([5, 5, 5], temperature=0.0, seed=3)
    if kind == "mixture":  # temperature 0: the components' means, inside the class
        assert np.linalg.norm(z0[:5] - centres[0], axis=1).max() < 2
    elif kind == "gaussian":  # temperature 0: the class means
        np.testing.assert_allclose(z0[:5], np.repeat(mean[:40].mean(0, keepdims=True), 5, 0), atol=1e-5)
    else:  # temperature 0: labelled encodings themselves
        assert all(np.isclose(mean, row, atol=1e-5).all(1).any() for row in z0)


def test_gaussian_region_spread_follows_the_class():
    rng = np.random.default_rng(0)
    mean = np.concatenate([rng.standard_normal((400, 2)) * [3.0, 0.5], rng.standard_normal((400, 2))])
    labels = np.repeat([0, 1], 400)
    z, _ = ClassRegions("gaussian").fit(mean, labels).sample([4000, 0], seed=1)
    np.testing.assert_allclose(z.std(0), [3.0, 0.5], rtol=0.1)


def test_mixture_keeps_both_modes_of_a_class():
    rng = np.random.default_rng(0)
    mean = np.concatenate([rng.normal(-5, 0.3, (50, 1)), rng.normal(5, 0.3, (50, 1))])
    z, _ = ClassRegions("mixture").fit(mean, np.zeros(100, int)).sample(400, seed=2)
    assert 0.35 < (z[:, 0] > 0).mean() < 0.65 and np.abs(np.abs(z[:, 0]) - 5).max() < 2  # no samples in the gap


def test_exemplar_samples_lie_near_labelled_points():
    mean, labels, logvar, _ = clusters()
    z, y = ClassRegions("exemplar").fit(mean, labels, logvar).sample(20, seed=0)
    gaps = np.min(np.linalg.norm(z[:, None] - mean[None], axis=2), axis=1)
    assert len(z) == 60 and gaps.max() < 0.1  # posteriors of spread 0.01 around labelled encodings


def test_a_class_without_enough_encodings_has_no_region():
    mean, labels, _, _ = clusters()
    regions = ClassRegions("gaussian").fit(mean[:41], labels[:41], num_classes=3)  # class 1 has one point
    assert regions.classes == [0]
    assert len(regions.sample(4, seed=0)[0]) == 4  # an int: only the classes with a region
    with pytest.raises(VAEError, match="class 1"):
        regions.sample([1, 1, 0], seed=0)
    with pytest.raises(VAEError):
        ClassRegions("blob")


def test_decode_in_batches_reports_progress():
    b = FakeBundle()
    z = np.arange(10, dtype=np.float32)[:, None].repeat(3, 1)
    calls = []
    x = decode_in_batches(b, z, batch_size=4, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(4, 10), (8, 10), (10, 10)] and [n for n, _ in b.batches] == [4, 4, 2]
    np.testing.assert_array_equal(x[:, 0, 0, 0], np.arange(10))


def test_latents_per_source():
    b = FakeBundle()
    z, y = latents(b, "prior", n=7, seed=1)
    assert z.shape == (7, 3) and (y == -1).all()
    z, y = latents(b, "region", per_class=4, classes=[2, 0], seed=1)
    assert y.tolist() == [0] * 4 + [2] * 4
    with pytest.raises(VAEError, match="not class-conditional"):
        latents(b, "conditional", per_class=2)
    with pytest.raises(VAEError):
        latents(b, "region", per_class=2, classes=[3])
    c = FakeBundle(conditional=True)
    z, y = latents(c, "conditional", per_class=3, seed=2)
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    images, labels, z = draw(c, "conditional", per_class=3, seed=2)
    np.testing.assert_array_equal(c.batches[-1][1], labels)  # the class goes to the decoder
    images2, _, _ = draw(c, "conditional", per_class=3, seed=2)
    np.testing.assert_array_equal(images, images2)
