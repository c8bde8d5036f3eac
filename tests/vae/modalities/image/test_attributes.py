"""vae/modalities/image/attributes.py: measurements on hand-made images whose answers are known."""
import numpy as np
import pytest

from vae.modalities.image import attributes


def canvas(n=1, h=28, w=28):
    return np.zeros((n, h, w, 1), np.uint8)


def test_filled_square_has_known_area_width_height():
    x = canvas()
    x[0, 4:14, 6:16] = 255  # 10 x 10 square
    m = attributes.measure(x)
    assert m["ink_area"][0] == pytest.approx(100 / 784)
    assert m["brightness"][0] == pytest.approx(100 / 784, rel=1e-6)
    assert m["width"][0] == pytest.approx(10.0)
    assert m["height"][0] == pytest.approx(10.0)
    assert m["aspect"][0] == pytest.approx(1.0)


def test_rectangle_on_the_border_and_aspect():
    x = canvas()
    x[0, 0:5, 0:20] = 255  # touches the top and left edges
    m = attributes.measure(x)
    assert m["width"][0] == pytest.approx(20.0)
    assert m["height"][0] == pytest.approx(5.0)
    assert m["aspect"][0] == pytest.approx(4.0)


def test_soft_edges_move_the_box_smoothly():
    x = np.zeros((3, 28, 28, 1), np.float32)
    x[:, 10:18, 10:18] = 1.0
    x[1, 10:18, 18] = 0.75  # a column three quarters lit: crossing at 0.5 sits half-way out
    x[2, 10:18, 18] = 0.25  # below threshold: a quarter of the way
    w = attributes.measure(x)["width"]
    assert w[0] == pytest.approx(8.0)
    assert w[0] < w[2] < w[1] < 9.5
    assert w[1] == pytest.approx(8.0 + (1 - (0.5 - 0.0) / 0.75) + 0.5, abs=1e-5)


def test_empty_image_is_all_zero_but_symmetric():
    m = attributes.measure(canvas(2))
    for k in ("brightness", "ink_area", "width", "height", "aspect"):
        np.testing.assert_array_equal(m[k], 0.0)
    np.testing.assert_array_equal(m["symmetry"], 1.0)


def test_symmetry():
    x = canvas(2)
    x[0, 5:20, 9:19] = 255        # centred: columns 9..18 mirror onto 9..18
    x[1, 5:20, 0:10] = 255        # all on the left: no overlap with its mirror image
    s = attributes.measure(x)["symmetry"]
    assert s[0] == pytest.approx(1.0)
    assert s[1] == pytest.approx(0.0)


def test_thickness_of_a_full_width_bar_and_slant_of_a_sheared_bar():
    x = canvas(2)
    x[0, 10:14, :] = 255          # a bar across the whole image, 4 pixels thick
    for row in range(4, 24):      # a bar leaning right: x shifts by +0.5 for each row upwards
        left = int(round(10 + 0.5 * (24 - row)))
        x[1, row, left:left + 3] = 255
    m = attributes.measure(x, digits=True)
    assert m["thickness"][0] == pytest.approx(4.0 * 28 / 27)  # 27 cells between 28 pixel centres
    assert m["slant"][0] == pytest.approx(0.0, abs=1e-4)
    assert m["slant"][1] == pytest.approx(np.degrees(np.arctan(0.5)), abs=1.5)
    # across the stroke 3 cos(atan 0.5) = 2.68 pixels; the end caps add perimeter and lower it a little
    assert m["thickness"][1] == pytest.approx(3.0 * np.cos(np.arctan(0.5)), rel=0.2)


def test_invert_and_light_background_detection():
    x = np.full((4, 16, 16, 3), 255, np.uint8)
    x[:, 4:8, 4:12] = 0           # dark ink on white paper, RGB
    assert attributes.background_is_light(x)
    m = attributes.measure(x, invert=True)
    assert m["ink_area"][0] == pytest.approx(32 / 256)
    assert m["width"][0] == pytest.approx(8.0)
    assert not attributes.background_is_light(255 - x)


def test_names_and_info_cover_every_measure():
    assert set(attributes.names(digits=True)) <= set(attributes.INFO)
    m = attributes.measure(canvas(3), digits=False)
    assert list(m) == attributes.names(False)
    assert all(v.dtype == np.float32 and v.shape == (3,) for v in m.values())
    assert attributes.is_digit_dataset("digits", [])
    assert attributes.is_digit_dataset("npz:x", [str(i) for i in range(10)])
    assert not attributes.is_digit_dataset("fashion_mnist", ["T-shirt/top"])


def test_chunks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(0)
    x = (rng.random((50, 12, 12, 1)) * 255).astype(np.uint8)
    whole = attributes.measure(x, digits=True)
    monkeypatch.setattr(attributes, "CHUNK", 7)
    chunked = attributes.measure(x, digits=True)
    for k in whole:
        np.testing.assert_allclose(whole[k], chunked[k], rtol=1e-6)
