"""vae/modalities/image/judge.py: the pixel classifier that scores class sliders, on scikit-learn's 8x8 digits."""
import numpy as np
import pytest

from vae.errors import VAEError
from vae.modalities.image.judge import PixelJudge


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[..., None] * (255 / 16)).astype(np.uint8), d.target


def test_the_judge_reads_digits_from_pixels_on_images_it_did_not_see(digits):
    x, y = digits
    judge = PixelJudge(components=30, seed=0).fit(x, y)
    assert judge.accuracy > 0.9 and judge.held_out == round(0.2 * len(x))
    assert np.mean(judge.predict(x) == y) > 0.9
    floats = x.astype(np.float32) / 255.0  # uint8 and [0, 1] floats are the same images
    np.testing.assert_array_equal(judge.predict(floats[:50]), judge.predict(x[:50]))
    p3 = judge.proba(x, 3)
    assert p3.shape == (len(x),) and p3[y == 3].mean() > 0.8 and p3[y != 3].mean() < 0.1


def test_a_class_the_judge_never_saw_has_probability_zero_and_bad_labels_are_refused(digits):
    x, y = digits
    keep = y < 5
    judge = PixelJudge(components=10).fit(x[keep], y[keep])
    assert not judge.proba(x[:7], 8).any()
    with pytest.raises(VAEError, match="two classes"):
        PixelJudge().fit(x[:20], np.zeros(20))
    with pytest.raises(VAEError, match="one label per image"):
        PixelJudge().fit(x[:20], y[:19])
