"""vae.render: pixels survive the trip through PNG and GIF; strips and grids land where they should."""
import io

import numpy as np
import pytest
from PIL import Image

from vae import render
from vae.errors import VAEError


def test_to_uint8_rounds_and_clips():
    x = np.array([[-0.2, 0.0, 0.5, 1.0, 1.7, np.nan]], np.float32)
    np.testing.assert_array_equal(render.to_uint8(x), [[0, 0, 128, 255, 255, 0]])
    u = np.arange(6, dtype=np.uint8)
    assert render.to_uint8(u) is u


def test_upscale_is_nearest_neighbour():
    x = np.array([[1, 2], [3, 4]], np.uint8)
    big = render.upscale(x, 3)
    assert big.shape == (6, 6)
    np.testing.assert_array_equal(big[:3, :3], 1)
    np.testing.assert_array_equal(big[3:, 3:], 4)


@pytest.mark.parametrize("shape", [(28, 28, 1), (8, 8, 3), (5, 7)])
def test_png_round_trip_keeps_every_pixel(shape):
    x = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    back = np.asarray(Image.open(io.BytesIO(render.png_bytes(x, scale=2))))
    np.testing.assert_array_equal(back, render.upscale(x.squeeze(-1) if x.ndim == 3 and x.shape[2] == 1 else x, 2))


def test_data_uri_is_base64_png():
    uri = render.data_uri(render.png_bytes(np.zeros((2, 2, 1), np.uint8)))
    assert uri.startswith("data:image/png;base64,iVBOR")


def test_grid_places_images_row_by_row_with_gaps():
    imgs = np.stack([np.full((2, 3, 1), v, np.uint8) for v in (10, 20, 30)])
    g = render.grid(imgs, cols=2, gap=1, background=255)
    assert g.shape == (2 * 2 + 1, 2 * 3 + 1, 1)
    assert g[0, 0, 0] == 10 and g[0, 4, 0] == 20 and g[3, 0, 0] == 30
    assert g[2, 0, 0] == 255 and g[3, 4, 0] == 255  # the gap row and the empty last cell
    assert render.strip(imgs, gap=0).shape == (2, 9, 1)
    with pytest.raises(VAEError):
        render.grid(np.zeros((0, 2, 2, 1)))


def test_gif_has_every_frame_and_bounces():
    frames = np.stack([np.full((4, 4, 1), v, np.uint8) for v in (0, 100, 200, 255)])
    gif = Image.open(io.BytesIO(render.gif_bytes(frames, scale=2, bounce=True)))
    assert gif.format == "GIF" and gif.size == (8, 8)
    values = []
    for k in range(gif.n_frames):
        gif.seek(k)
        values.append(int(np.asarray(gif.convert("L"))[0, 0]))
    assert values == [0, 100, 200, 255, 200, 100]
    rgb = Image.open(io.BytesIO(render.gif_bytes(np.random.default_rng(1).random((3, 5, 5, 3)), bounce=False)))
    assert rgb.n_frames == 3


def test_latent_csv_reads_back():
    text = render.latent_csv([0.5, -1.25, 3e-7])
    header, row = text.strip().split("\n")
    assert header == "z0,z1,z2"
    np.testing.assert_allclose([float(v) for v in row.split(",")], [0.5, -1.25, 3e-7])


def test_rasterize_points_draws_colours_where_the_points_are():
    pts = np.array([[0.0, 0.0], [1.0, 1.0]])
    cols = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    pic = render.rasterize_points(pts, cols, size=11, bounds=(0, 1, 0, 1), radius=0)
    assert pic.shape == (11, 11, 4)
    assert tuple(pic[10, 0, :3]) == (255, 0, 0) and pic[10, 0, 3] > 0   # (0, 0): bottom left
    assert tuple(pic[0, 10, :3]) == (0, 0, 255)                          # (1, 1): top right
    assert pic[5, 5, 3] == 0                                             # nothing in between
