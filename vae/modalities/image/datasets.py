"""Image datasets -> uint8 images (N, H, W, C), int labels, class names, train and test splits.

    from vae.modalities.image.datasets import load
    ds = load("fashion_mnist")          # or "mnist", "digits", "folder:PATH", "npz:PATH"
    ds.x_train.shape                    # (60000, 28, 28, 1) uint8
    load("binarized_fashion_mnist")     # the density-estimation protocol (also binarized_mnist, binarized_digits)
"""
from __future__ import annotations

import gzip
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from ...data import Dataset, split_dataset
from ...errors import DataError, ImageError
from ...limits import MAX_CLASSES, MAX_SIDE
from . import reader

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(i) for i in range(10)]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".dds"}
IDX_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
             "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
MAX_NPZ_BYTES = 8 << 30   # what an .npz may unpack to: its headers are read before anything is loaded


def load(name: str = "fashion_mnist", image_size: int | None = None, channels: int | None = None,
         test_fraction: float = 0.15, seed: int = 0, stratify: bool = True) -> Dataset:
    """Load an image dataset by name: fashion_mnist, mnist, digits, folder:PATH or npz:PATH, and
    binarized_fashion_mnist / binarized_mnist (see binarized()).

    Datasets without a fixed split are split seeded; stratify=True gives each class its share of the
    test split (False: the plain shuffle of bundles trained before, kept so their splits stay theirs)."""
    if name.startswith("binarized_") and name[len("binarized_"):] in BINARIZABLE:
        return binarized(load(name[len("binarized_"):], test_fraction=test_fraction, seed=seed, stratify=stratify))
    if name == "fashion_mnist":
        return _fashion_mnist()
    if name == "mnist":
        return _keras_dataset("mnist", DIGIT_CLASSES)
    if name == "digits":
        return _digits(test_fraction, seed, stratify)
    if name.startswith("folder:"):
        return _folder(Path(name[7:]).expanduser(), 64 if image_size is None else image_size, channels, test_fraction,
                       seed, stratify)
    if name.startswith("npz:"):
        return _npz(Path(name[4:]).expanduser(), test_fraction, seed, stratify)
    raise DataError(f"Unknown dataset {name!r}: use fashion_mnist, mnist, digits, folder:PATH or npz:PATH.")



BINARIZABLE = ("fashion_mnist", "mnist", "digits")   # binarized_NAME: the grey dataset NAME under binarized()
BINARIZE_TEST_SEED = 0


def binarize(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Black-and-white draws of grey uint8 images: each pixel white (255) with probability its grey level / 255."""
    return np.where(rng.random(x.shape, dtype=np.float32) * 255.0 < x, np.uint8(255), np.uint8(0))


def binarized(ds: Dataset) -> Dataset:
    """The standard density-estimation protocol on a grey dataset (Salakhutdinov & Murray 2008; the VAE
    literature's MNIST and Fashion-MNIST tables): training images are resampled as Bernoulli pixels for every
    batch (dynamic binarisation, `Dataset.resample`), the test set is binarised once with a fixed seed, so a
    Bernoulli likelihood is a normalised likelihood of the data and -log p(x) compares with published figures."""
    if ds.x_train.shape[-1] != 1:
        raise DataError(f"Only grey images can be binarised; {ds.name} has {ds.x_train.shape[-1]} channels.")
    x_test = binarize(ds.x_test, np.random.default_rng(BINARIZE_TEST_SEED))
    return Dataset(f"binarized_{ds.name}", ds.x_train, ds.y_train, x_test, ds.y_test, list(ds.class_names),
                   source=ds.source, skipped=ds.skipped, resample=binarize)


def fashion_mnist_dirs() -> list[Path]:
    """Where the four IDX files are looked for, in order."""
    dirs = [Path(os.environ["VAE_DATA_DIR"])] if os.environ.get("VAE_DATA_DIR") else []
    return dirs + [Path(DEBIAN_FASHION_DIR), Path.home() / ".keras" / "datasets" / "fashion-mnist"]


def _fashion_mnist() -> Dataset:
    for folder in fashion_mnist_dirs():
        if all((folder / f).is_file() for f in IDX_FILES.values()):
            arrays = {k: read_idx(folder / f) for k, f in IDX_FILES.items()}
            return Dataset("fashion_mnist", arrays["x_train"][..., None], arrays["y_train"].astype(np.int32),
                           arrays["x_test"][..., None], arrays["y_test"].astype(np.int32),
                           list(FASHION_CLASSES), source=str(folder))
    return _keras_dataset("fashion_mnist", FASHION_CLASSES)


def _keras_dataset(name: str, class_names: list) -> Dataset:
    import keras

    try:
        (xtr, ytr), (xte, yte) = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # no network, broken cache
        hint = (" or install Debian's dataset-fashion-mnist / set VAE_DATA_DIR to a folder with the four IDX files"
                if name == "fashion_mnist" else "")
        raise DataError(f"Could not load {name} ({exc.__class__.__name__}): connect to the internet{hint}.") from exc
    return Dataset(name, xtr[..., None], ytr.astype(np.int32), xte[..., None], yte.astype(np.int32),
                   list(class_names), source="keras.datasets")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) of unsigned bytes as a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
        zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
        dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
        if zero != 0 or dtype != 0x08 or len(raw) != 4 + 4 * ndim + int(np.prod(dims)):
            raise ValueError("bad header or size")
    except (OSError, EOFError, ValueError, struct.error) as exc:
        raise DataError(f"{path} is not a valid IDX file ({exc}): download it again.") from exc
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _digits(test_fraction: float, seed: int, stratify: bool) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # 0..16 -> 0..255, (1797, 8, 8, 1)
    return split_dataset("digits", x, d.target.astype(np.int32), DIGIT_CLASSES, test_fraction, seed, "sklearn", stratify=stratify)


def convert_image(img: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """Any opened PIL image -> uint8 (H, W, C): centre-cropped to the aspect, resized, grey or RGB (vae.modalities.image.reader)."""
    return reader.model_image(img, size, channels, fit="crop")


def _folder(root: Path, image_size: int, channels: int | None, test_fraction: float, seed: int,
            stratify: bool = True) -> Dataset:
    if not root.is_dir():
        raise DataError(f"No folder at {root}: give folder:PATH with a folder of images (subfolders as classes).")
    if channels not in (None, 1, 3):
        raise DataError(f"--channels must be 1 or 3, got {channels}.")
    if not 4 <= image_size <= MAX_SIDE:
        raise DataError(f"--image-size must be between 4 and {MAX_SIDE}, got {image_size}.")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"No images (png, jpg, bmp, gif, webp, tiff) found under {root}.")
    if channels is None:  # grey only if every file says so in its header
        channels = 1 if all(_header_mode(p) in ("1", "L", "LA", "I", "I;16", "F", None) for p in files) else 3
    images, labels_txt, skipped = [], [], 0
    for path in files:
        try:
            images.append(reader.read_image(path, (image_size, image_size), channels, fit="crop"))
        except ImageError:
            skipped += 1  # unreadable, truncated or too large: counted, left out
            continue
        rel = path.relative_to(root)
        labels_txt.append(rel.parts[0] if len(rel.parts) > 1 else root.name)
    if not images:
        raise DataError(f"None of the {len(files)} image files under {root} could be read: check that they are valid images.")
    x = np.stack(images)
    class_names = sorted(set(labels_txt))
    y = np.array([class_names.index(t) for t in labels_txt], dtype=np.int32)
    return split_dataset(f"folder:{root.name}", x, y, class_names, test_fraction, seed, str(root), skipped, stratify)


def _header_mode(path: Path) -> str | None:
    try:
        with Image.open(path) as img:
            return img.mode
    except Exception:
        return None


def _npz(path: Path, test_fraction: float, seed: int, stratify: bool = True) -> Dataset:
    if not path.is_file():
        raise DataError(f"No file at {path}: give npz:PATH to a .npz file with an array 'x' and optionally 'y'.")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a readable .npz file: save it with numpy.savez.")
    _check_npz_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as exc:
        raise DataError(f"{path} holds object arrays, which are refused (no pickle): save plain numeric arrays.") from exc
    except (OSError, EOFError, Exception) as exc:  # zipfile.BadZipFile and friends
        raise DataError(f"{path} is not a readable .npz file ({exc.__class__.__name__}): save it with numpy.savez.") from exc
    if "x" not in arrays:
        raise DataError(f"{path} has arrays {sorted(arrays)} but no 'x': save the images as x=(N, H, W[, C]).")
    if not all(isinstance(a, np.ndarray) for a in arrays.values()):  # a member that is not an .npy array
        raise DataError(f"{path} is not a readable .npz file (a member is not a numpy array): save it with numpy.savez.")
    x = arrays["x"]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or len(x) < 2 or not (4 <= min(x.shape[1:3]) and max(x.shape[1:3]) <= MAX_SIDE):
        raise DataError(f"'x' in {path} has shape {arrays['x'].shape}: expected (N, H, W) or (N, H, W, 1 or 3) with N >= 2 "
                        f"and sides between 4 and {MAX_SIDE}.")
    x = as_uint8_images(x, f"'x' in {path}")
    y = arrays.get("y")
    if y is None:
        y = np.zeros(len(x), dtype=np.int32)
    elif y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise DataError(f"'y' in {path} must be non-negative integers of shape ({len(x)},), got {y.dtype} {y.shape}.")
    n_classes = int(y.max()) + 1
    if n_classes > MAX_CLASSES:
        raise DataError(f"'y' in {path} holds labels up to {n_classes - 1}: labels must be class indices 0..K-1 with "
                        f"K <= {MAX_CLASSES}.")
    names = arrays.get("class_names")
    names = names.reshape(-1) if names is not None and names.ndim == 1 else None
    class_names = ([str(s) for s in names] if names is not None and len(names) >= n_classes
                   else [str(i) for i in range(n_classes)])
    return split_dataset(f"npz:{path.stem}", x, y.astype(np.int32), class_names, test_fraction, seed, str(path),
                  stratify=stratify)


def _check_npz_sizes(path: Path) -> None:
    """Refuse an .npz whose arrays would unpack to more than MAX_NPZ_BYTES, from their headers alone."""
    total = 0
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(f)
                total += int(np.prod(shape, dtype=object)) * max(dtype.itemsize, 1)
    except Exception as exc:  # BadZipFile, a broken header: np.load below says it in its own words
        if isinstance(exc, DataError):
            raise
        return
    if total > MAX_NPZ_BYTES:
        raise DataError(f"{path} would unpack to {total / 2**30:.0f} GiB, over the {MAX_NPZ_BYTES >> 30} GiB this "
                        "loader accepts: use fewer or smaller images.")


def as_uint8_images(x: np.ndarray, what: str = "images") -> np.ndarray:
    """uint8 images as they are; floats in [0, 1] scaled to 0..255; anything else refused."""
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
            raise DataError(f"{what} are floats outside [0, 1] or not finite: scale them to [0, 1] or use uint8.")
        return np.round(x * 255).astype(np.uint8)
    raise DataError(f"{what} have dtype {x.dtype}: use uint8 in [0, 255] or floats in [0, 1].")
