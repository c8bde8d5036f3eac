"""vae/export.py: generated samples read back through the project's own npz: and folder: loaders."""
import io
import json
import zipfile

import numpy as np
import pytest

from vae.data import load_dataset
from vae.errors import VAEError
from vae.export import folder_names, npz_bytes, record_path, write_dataset, zip_bytes

NAMES = ["T-shirt/top", "Trouser", "Ankle boot"]


def samples(n_per=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((3 * n_per, 8, 8, 1)).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per).astype(np.int32)


def by_content(x, y):
    """Rows as (label, bytes) sorted: the loaders shuffle rows into train and test."""
    return sorted((int(label), img.tobytes()) for img, label in zip(x, y))


def as_read(ds):
    x, y = ds.split("all")
    return by_content(x, y)


def test_npz_round_trips_through_the_npz_loader(tmp_path):
    x, y = samples()
    out = write_dataset(tmp_path / "gen.npz", x, y, NAMES, {"seed": 3})
    ds = load_dataset(f"npz:{out}")
    assert ds.class_names == NAMES
    assert as_read(ds) == by_content(np.round(x * 255).astype(np.uint8), y)
    assert json.loads(record_path(out).read_text()) == {"seed": 3} and record_path(out) == tmp_path / "gen.json"


def test_folder_round_trips_through_the_folder_loader(tmp_path):
    x, y = samples()
    out = write_dataset(tmp_path / "gen", x, y, NAMES, {"seed": 3})
    ds = load_dataset(f"folder:{out}", image_size=8, channels=1)
    assert ds.class_names == folder_names(NAMES) == ["0_T-shirt_top", "1_Trouser", "2_Ankle_boot"]
    assert as_read(ds) == by_content(np.round(x * 255).astype(np.uint8), y)
    assert json.loads((out / "generation.json").read_text()) == {"seed": 3}


def test_zip_unpacks_to_a_loadable_folder(tmp_path):
    x, y = samples()
    data = zip_bytes(x, y, NAMES, {"seed": 5}, root="gen")
    (tmp_path / "g.zip").write_bytes(data)  # through a file, as a browser saves it
    with zipfile.ZipFile(tmp_path / "g.zip") as z:
        z.extractall(tmp_path / "unzipped")
    ds = load_dataset(f"folder:{tmp_path / 'unzipped' / 'gen'}", image_size=8, channels=1)
    assert as_read(ds) == by_content(np.round(x * 255).astype(np.uint8), y)
    assert json.loads((tmp_path / "unzipped" / "gen" / "generation.json").read_text())["seed"] == 5


def test_class_folders_sort_in_class_order():
    names = [f"c{i}" for i in range(12)][::-1] + ["ünï/co de"]
    folders = folder_names(names)
    assert sorted(folders) == folders and folders[0] == "00_c11" and folders[-1] == "12_n_co_de"


def test_unlabelled_samples_go_to_one_folder_and_an_npz_without_y(tmp_path):
    x, _ = samples(n_per=2)
    y = np.full(len(x), -1)
    write_dataset(tmp_path / "prior", x, y, NAMES)
    assert sorted(p.name for p in (tmp_path / "prior").iterdir()) == ["samples"]
    with np.load(io.BytesIO(npz_bytes(x, y, NAMES)), allow_pickle=False) as f:
        assert sorted(f.files) == ["x"]


def test_nothing_existing_is_overwritten(tmp_path):
    x, y = samples()
    (tmp_path / "taken").mkdir()
    (tmp_path / "gen.json").write_text("{}")
    for out in (tmp_path / "taken", tmp_path / "gen.npz"):
        with pytest.raises(VAEError, match="already exists"):
            write_dataset(out, x, y, NAMES, {})
    assert (tmp_path / "gen.json").read_text() == "{}" and not (tmp_path / "gen.npz").exists()
    with pytest.raises(VAEError, match="class indices"):
        write_dataset(tmp_path / "bad.npz", x, y + 5, NAMES)
