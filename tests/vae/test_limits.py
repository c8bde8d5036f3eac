"""vae/limits.py: the weight count matches what Keras builds, and absurd sizes are refused before building."""
import itertools

import pytest

from vae import checks, limits
from vae.modalities.image import datasets
from vae.errors import VAEError


def test_the_weight_count_is_what_keras_builds():
    from vae.model import VAE

    for shape, conditional, hidden, convs in itertools.product([(28, 28, 1), (8, 8, 1), (7, 9, 3), (64, 64, 3)],
                                                               [False, True], [0, 24], [1, 2]):
        kw = dict(image_shape=shape, latent_dim=3, conditional=conditional, num_classes=5, base_filters=4,
                  hidden_units=hidden, convs_per_stage=convs)
        assert limits.parameter_count(**kw) == VAE(**kw).count_params(), kw


def test_the_copies_of_the_limits_agree():
    assert (datasets.MAX_SIDE, datasets.MAX_CLASSES, checks.MAX_DIM) == (limits.MAX_SIDE, limits.MAX_CLASSES, limits.MAX_LATENT)


@pytest.mark.parametrize("kw,fragment", [
    (dict(hidden_units=2_000_000_000), "--hidden-units must be between 0 and 65,536, got 2,000,000,000"),
    (dict(convs_per_stage=100_000), "--convs-per-stage must be between 1 and 16, got 100,000"),
    (dict(latent_dim=10**6), "--latent-dim must be between 1 and 4,096"),
    (dict(num_classes=10**9, conditional=True), "--num-classes must be between 0 and 10,000"),
    (dict(image_shape=(100_000, 100_000, 1)), "images must be at most 512 pixels on each side"),
    (dict(image_shape=(512, 512, 3), hidden_units=4096), "weights, over the limit of 100,000,000"),
])
def test_absurd_sizes_are_refused_before_any_layer_is_built(kw, fragment):
    """VAEConfig checks first: these used to allocate gigabytes (ResourceExhaustedError) or build for minutes."""
    from vae.model import VAEConfig

    with pytest.raises(VAEError, match=fragment.replace("(", r"\(")) as err:
        VAEConfig.from_flat({"image_shape": (28, 28, 1), **kw})
    assert str(err.value).endswith(".") and "\n" not in str(err.value)
