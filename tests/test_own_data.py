"""Your own data end to end: a folder of PNGs or an .npz file -> scripts/train.py -> precompute.py ->
evaluate.py -> the app, with the scripts run from other working directories; moved and missing data."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tiny import ROOT
from vae.data import bundle_dataset, dataset_spec, load_dataset
from vae.errors import DataError

TRAIN = ["--epochs", "2", "--latent-dim", "3", "--batch-size", "16", "--base-filters", "4", "--hidden-units", "16",
         "--quiet"]


def script(name: str, *args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def two_class_folder(root, n: int = 20, side: int = 12, seed: int = 0):
    """n random greyscale PNGs in each of root/bright and root/dark (the classes differ in brightness)."""
    rng = np.random.default_rng(seed)
    for cls, lo in (("bright", 128), ("dark", 0)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(lo, lo + 128, (side, side), dtype=np.uint8)).save(root / cls / f"{i}.png")
    return root


def app_opens(bundle) -> None:
    """The app opens the bundle with its map, the inspector and the decoder."""
    from streamlit.testing.v1 import AppTest

    os.environ["VAE_BUNDLE"] = str(bundle)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.query_params["bundle"] = bundle.name
        at.session_state["show_inactive"] = True
        at.run()
    finally:
        del os.environ["VAE_BUNDLE"]
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["bundle_pick"] == bundle.name
    assert at.get("plotly_chart")  # the map
    assert any("Selected point" in str(h.proto) for h in at.get("html"))  # the inspector
    loaded = at.session_state["_loaded"]
    assert len([s for s in at.slider if (s.key or "").startswith("dim_")]) == 3  # the decoder's sliders
    assert loaded.bundle.decode(at.session_state["z"][None]).shape[1:] == loaded.bundle.image_shape


def test_a_folder_of_pngs_end_to_end_and_after_it_moved(tmp_path, capsys):
    from scripts import evaluate, precompute

    two_class_folder(tmp_path / "work" / "my_images")
    out = ok(script("train", "--dataset", "folder:my_images", "--image-size", "12", *TRAIN, "--out", "bundles/mine",
                    cwd=tmp_path / "work"))  # a relative path, as README's example gives it
    assert "(chance 0.500)" in out
    bundle = tmp_path / "work" / "bundles" / "mine"
    meta = json.loads((bundle / "meta.json").read_text())
    assert meta["dataset"] == "folder:my_images"  # the name, for display
    assert meta["dataset_spec"] == f"folder:{(tmp_path / 'work' / 'my_images').resolve()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ok(script("precompute", bundle, "--no-tsne", "--no-umap", "--no-progress", cwd=elsewhere))  # was: "No folder at my_images"
    ok(script("evaluate", bundle, "--iwae-k", "5", "--iwae-points", "10", cwd=elsewhere))
    metrics = json.loads((bundle / "meta.json").read_text())["metrics"]
    assert metrics["knn_chance"] == 0.5 and metrics["test_points"] == 6  # 3 of each class: a stratified split
    assert 0 <= metrics["knn_accuracy"] <= 1
    app_opens(bundle)

    moved = tmp_path / "moved" / "imgs"
    shutil.move(tmp_path / "work" / "my_images", moved)
    assert precompute.main([str(bundle), "--no-tsne", "--no-umap", "--no-progress"]) != 0
    assert capsys.readouterr().err.splitlines()[-1] == (f"error: The data this bundle was trained on is no longer at "
                                       f"{(tmp_path / 'work' / 'my_images').resolve()}; pass --dataset SPEC to say "
                                       "where it is now.")
    assert evaluate.main([str(bundle), "--iwae-k", "0", "--dataset", f"folder:{moved}"]) == 0
    assert precompute.main([str(bundle), "--no-tsne", "--no-umap", "--no-progress", "--dataset", f"folder:{moved}"]) == 0


def test_an_npz_file_end_to_end_from_other_working_directories(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (40, 10, 10), dtype=np.uint8)
    y = np.repeat([0, 1], 20)
    x[y == 1] //= 4  # the second class is darker
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "set.npz", x=x, y=y, class_names=np.array(["light", "dark"]))
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    ok(script("train", "--dataset", "npz:../data/set.npz", *TRAIN, "--no-evaluate", "--out", tmp_path / "bundle",
              cwd=tmp_path / "a"))
    meta = json.loads((tmp_path / "bundle" / "meta.json").read_text())
    assert meta["dataset"] == "npz:set" and meta["dataset_spec"] == f"npz:{(tmp_path / 'data' / 'set.npz').resolve()}"
    ok(script("precompute", tmp_path / "bundle", "--no-tsne", "--no-umap", "--no-progress", cwd=tmp_path / "b"))
    table = ok(script("evaluate", tmp_path / "bundle", "--iwae-k", "5", "--iwae-points", "10", cwd=tmp_path / "b"))
    assert re.search(r"10-NN accuracy +[01]\.\d{4}\n  chance \(random guess\) +0\.5000\n", table)
    app_opens(tmp_path / "bundle")


def test_bundles_from_before_dataset_spec_find_their_data_through_source(tmp_path):
    root = two_class_folder(tmp_path / "imgs", n=5, side=8)
    old = {"dataset": "folder:imgs", "source": str(root), "data_options": {"image_size": 8, "channels": None, "seed": 0}}
    ds = bundle_dataset(old)
    plain = load_dataset(f"folder:{root}", image_size=8, stratify=False)  # their split: the plain shuffle
    np.testing.assert_array_equal(ds.y_test, plain.y_test)
    np.testing.assert_array_equal(ds.x_train, plain.x_train)
    with pytest.raises(DataError, match="meta.json names no dataset: pass --dataset SPEC"):
        bundle_dataset({})
    assert bundle_dataset({}, f"folder:{root}").class_names == ["bright", "dark"]
    assert dataset_spec("digits") == "digits" and dataset_spec("npz:~/x.npz") == f"npz:{os.path.expanduser('~')}/x.npz"


def _knn_score(z_train, y_train, z_test, y_test, k: int = 10) -> float:
    """10-NN accuracy as sklearn's KNeighborsClassifier gives it (ties to the lower label), in numpy: faster here."""
    d = ((z_test[:, None] - z_train[None]) ** 2).sum(-1)  # (test, train)
    votes = np.stack([np.bincount(y_train[row], minlength=2) for row in np.argsort(d, axis=1)[:, :k]])
    return float(np.mean(votes.argmax(1) == y_test))


def test_small_splits_are_stratified_so_knn_on_noise_is_not_below_chance():
    """Cause of the 0.250 10-NN accuracy on a two-class folder of random images: the plain shuffle put fewer of
    the train split's majority class into the test split, so on class-free encodings k-NN scored below chance."""
    from vae.data import split_dataset as _split
    from vae.metrics import knn_chance

    y = np.repeat([0, 1], 10)
    plain, strat = [], []
    for seed in range(300):
        z = np.random.default_rng(seed).normal(size=(20, 3))  # encodings that know nothing of the class
        for stratify, scores in ((False, plain), (True, strat)):
            ds = _split("noise", z, y, ["a", "b"], 0.15, seed, "", stratify=stratify)
            scores.append(_knn_score(ds.x_train, ds.y_train, ds.x_test, ds.y_test))
        assert sorted(np.bincount(ds.y_test)) == [1, 2] and len(ds.y_train) == 17  # each class its share
        assert knn_chance(ds.y_train, ds.y_test) == pytest.approx((8 * 2 + 9 * 1) / (17 * 3))
    assert np.mean(plain) < 0.45 < 0.47 < np.mean(strat)
