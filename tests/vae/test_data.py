"""Dataset sources and the one-sentence messages for bad input."""
import gzip
import os
import struct

import numpy as np
import pytest
from PIL import Image

from vae.data import load_dataset
from vae.modalities.image.datasets import DEBIAN_FASHION_DIR, FASHION_CLASSES, convert_image, read_idx
from vae.errors import DataError


def test_digits_splits_are_seeded_and_disjoint():
    a, b = load_dataset("digits", seed=0), load_dataset("digits", seed=0)
    assert a.x_train.dtype == np.uint8 and a.x_train.shape[1:] == (8, 8, 1)
    assert len(a.x_train) + len(a.x_test) == 1797 and a.x_train.max() == 255
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(load_dataset("digits", seed=1).y_test, a.y_test)
    assert a.split("all")[0].shape[0] == 1797


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_idx_from_vae_data_dir_first(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name, shape in [("train-images-idx3-ubyte.gz", (6, 28, 28)), ("t10k-images-idx3-ubyte.gz", (3, 28, 28)),
                        ("train-labels-idx1-ubyte.gz", (6,)), ("t10k-labels-idx1-ubyte.gz", (3,))]:
        _write_idx(tmp_path / name, rng.integers(0, 10 if len(shape) == 1 else 256, shape))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    ds = load_dataset("fashion_mnist")
    assert ds.x_train.shape == (6, 28, 28, 1) and ds.x_test.shape == (3, 28, 28, 1)
    assert ds.source == str(tmp_path) and ds.class_names == FASHION_CLASSES


def test_truncated_idx_file_is_one_sentence(tmp_path):
    _write_idx(tmp_path / "x.gz", np.zeros((4, 28, 28)))
    raw = gzip.open(tmp_path / "x.gz").read()
    with gzip.open(tmp_path / "y.gz", "wb") as f:
        f.write(raw[:-10])
    with pytest.raises(DataError, match="not a valid IDX file"):
        read_idx(tmp_path / "y.gz")


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_DIR) and not os.environ.get("CI"),
                    reason="Debian's dataset-fashion-mnist is not installed (CI installs it)")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    ds = load_dataset("fashion_mnist")
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8 and set(np.unique(ds.y_test)) == set(range(10))
    assert ds.source == DEBIAN_FASHION_DIR


def _image_folder(root):
    rng = np.random.default_rng(0)
    for cls, mode in [("cats", "RGB"), ("dogs", "L")]:
        (root / cls).mkdir(parents=True)
        for i in range(4):
            size = (20 + 7 * i, 30)
            arr = rng.integers(0, 256, (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0]), dtype=np.uint8)
            Image.fromarray(arr, mode).save(root / cls / f"{i}.png")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "dogs" / "notes.txt").write_text("ignored: not an image suffix")
    good = root / "cats" / "0.png"
    (root / "cats" / "truncated.png").write_bytes(good.read_bytes()[:60])


def test_folder_of_mixed_images(tmp_path):
    _image_folder(tmp_path)
    ds = load_dataset(f"folder:{tmp_path}", image_size=16, seed=0)
    assert ds.class_names == ["cats", "dogs"] and ds.skipped == 2
    assert ds.image_shape == (16, 16, 3)  # one RGB image makes the set RGB
    assert len(ds.x_train) + len(ds.x_test) == 8
    grey = load_dataset(f"folder:{tmp_path}", image_size=12, channels=1)
    assert grey.image_shape == (12, 12, 1)


@pytest.mark.parametrize("setup,fragment", [
    (lambda p: None, "No images"),
    (lambda p: (p / "a.png").write_bytes(b"junk"), "could be read"),
])
def test_folder_bad_input(tmp_path, setup, fragment):
    setup(tmp_path)
    with pytest.raises(DataError, match=fragment):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(DataError, match="No folder"):
        load_dataset(f"folder:{tmp_path / 'missing'}")


def test_single_class_folder(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((10, 10), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    ds = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert ds.class_names == [tmp_path.name] and ds.image_shape == (8, 8, 1)


def test_npz_source(tmp_path):
    x = np.random.default_rng(0).random((10, 6, 6)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(10) % 3)
    ds = load_dataset(f"npz:{tmp_path / 'd.npz'}")
    assert ds.image_shape == (6, 6, 1) and ds.x_train.dtype == np.uint8 and ds.class_names == ["0", "1", "2"]


@pytest.mark.parametrize("arrays,fragment", [
    (dict(images=np.zeros((3, 4, 4))), "no 'x'"),
    (dict(x=np.zeros((3, 4))), "expected"),
    (dict(x=np.full((3, 4, 4), 3.0)), "outside"),
    (dict(x=np.zeros((3, 4, 4), np.int64)), "dtype"),
    (dict(x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1])), "'y'"),
    (dict(x=np.array([None, 1, 2], dtype=object)), "object arrays"),
])
def test_npz_bad_input(tmp_path, arrays, fragment):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=fragment):
        load_dataset(f"npz:{tmp_path / 'd.npz'}")


def test_npz_missing_and_corrupt(tmp_path):
    with pytest.raises(DataError, match="No file"):
        load_dataset(f"npz:{tmp_path / 'none.npz'}")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable"):
        load_dataset(f"npz:{tmp_path / 'bad.npz'}")


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="Unknown dataset"):
        load_dataset("imagenet")


def test_convert_image_any_mode_to_bundle_shape():
    rgba = Image.fromarray(np.zeros((40, 20, 4), np.uint8), "RGBA")  # fully transparent -> white
    out = convert_image(rgba, (28, 28), 1)
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8 and out.min() == 255
    rgb = convert_image(Image.new("L", (5, 9), 128), (8, 8), 3)
    assert rgb.shape == (8, 8, 3) and np.all(rgb == 128)
