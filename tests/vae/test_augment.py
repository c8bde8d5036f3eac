"""scripts/augment.py on a tiny digits bundle, and the augmentation benchmark's pieces (vae/augment.py) on tiny settings."""
import importlib.util
import json
import math

import numpy as np
import pytest

from tiny import ROOT, train_tiny
from vae.augment import CONDITIONS, markdown_table, per_class_subset, steps_for, summary
from vae.data import load_dataset


def _script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


augment = _script("augment")
benchmark = _script("augment_benchmark")


@pytest.fixture(scope="module")
def digits_bundle(tmp_path_factory):
    """A tiny digits bundle with precomputed encodings (for class regions)."""
    from vae.precompute import precompute

    path = train_tiny(tmp_path_factory.mktemp("aug") / "digits", epochs=3)
    precompute(path, split="test", progress=False, no_tsne=True, no_umap=True)
    return path


@pytest.mark.parametrize("source, region", [("region", "gaussian"), ("region", "mixture"), ("region", "exemplar"),
                                            ("prior", "gaussian")])
def test_augment_writes_a_dataset_the_npz_loader_reads(digits_bundle, tmp_path, source, region, capsys):
    args = [str(digits_bundle), "--per-class", "6", "--source", source, "--region", region, "--seed", "4"]
    assert augment.main(args + ["--out", str(tmp_path / "a.npz")]) == 0
    assert f"npz:{tmp_path / 'a.npz'}" in capsys.readouterr().out
    ds = load_dataset(f"npz:{tmp_path / 'a.npz'}")
    x, y = ds.split("all")
    assert x.shape == (60, 8, 8, 1) and x.dtype == np.uint8 and x.std() > 0
    if source == "region":
        assert np.bincount(y).tolist() == [6] * 10 and ds.class_names == [str(i) for i in range(10)]
    info = json.loads((tmp_path / "a.json").read_text())
    assert info["seed"] == 4 and info["settings"]["source"] == source and info["bundle"] == "digits"
    assert info["model_sha256"] and info["samples"] == 60
    augment.main(args + ["--out", str(tmp_path / "b.npz")])  # the same seed: the same samples
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        np.testing.assert_array_equal(a["x"], b["x"])


def test_augment_writes_a_folder_the_folder_loader_reads(digits_bundle, tmp_path):
    out = tmp_path / "gen"
    augment.main([str(digits_bundle), "--per-class", "3", "--out", str(out)])
    ds = load_dataset(f"folder:{out}", image_size=8, channels=1)
    assert np.bincount(ds.split("all")[1]).tolist() == [3] * 10 and ds.class_names[0] == "0_0"
    assert json.loads((out / "generation.json").read_text())["settings"]["per_class"] == 3


def test_augment_refuses_what_it_cannot_do(digits_bundle, tmp_path, capsys):
    code = augment.main([str(digits_bundle), "--per-class", "2", "--source", "conditional", "--out", str(tmp_path / "c.npz")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "not class-conditional" in err and err.count("\n") == 1
    code = augment.main([str(digits_bundle), "--per-class", "5000", "--out", str(tmp_path / "d.npz")])
    err = capsys.readouterr().err
    assert code == 1 and "from 0 to" in err and err.count("\n") == 1
    assert not (tmp_path / "c.npz").exists() and not (tmp_path / "d.npz").exists()


def test_per_class_subset_is_seeded_and_balanced():
    y = np.repeat(np.arange(3), [5, 20, 20])
    rows = per_class_subset(y, 10, seed=1)
    assert np.bincount(y[rows]).tolist() == [5, 10, 10]  # a class with fewer keeps all its rows
    np.testing.assert_array_equal(rows, per_class_subset(y, 10, seed=1))
    assert not np.array_equal(rows, per_class_subset(y, 10, seed=2))


def test_step_budget_is_three_epochs_clamped():
    assert steps_for(100) == steps_for(5000) == 400 and steps_for(60000) == 1500
    assert steps_for(20000) == math.ceil(3 * 20000 / 64)


def test_experiment_on_a_tiny_setting_gives_sane_rows(digits_bundle):
    from vae import load_bundle
    from vae.augment import experiment

    data = load_dataset("digits")
    rows = list(experiment(load_bundle(digits_bundle), data, k=5, seed=0, steps=30))
    assert [r["condition"] for r in rows] == list(CONDITIONS)
    for r in rows:
        _, ratio, _ = CONDITIONS[r["condition"]]
        assert r["n_real"] == 50 and r["n_generated"] == ratio * 50 and r["steps"] == 30
        assert r["test_images"] == len(data.y_test) and 0.0 <= r["accuracy"] <= 1.0
    assert max(r["accuracy"] for r in rows) > 0.2  # ten classes: chance is 0.1
    again = next(experiment(load_bundle(digits_bundle), data, k=5, seed=0, conditions=["real only"], steps=30))
    assert again["accuracy"] == pytest.approx(rows[0]["accuracy"], abs=0.02)  # seeded: the same network and data


def test_summary_in_pooled_standard_deviations():
    rows = [{"k": 10, "condition": "real only", "accuracy": a} for a in (0.60, 0.62, 0.64)]
    rows += [{"k": 10, "condition": "classic", "accuracy": a} for a in (0.64, 0.66, 0.68)]
    (base, classic) = summary(rows)
    assert base["diff_pooled_sd"] is None and classic["diff_pooled_sd"] == pytest.approx(0.04 / 0.02)
    table = markdown_table(rows, expected_runs=5)
    assert "| 10 | classic | 3 of 5 (partial) | 66.00 ± 2.00 | +2.0 |" in table


def test_benchmark_resumes_from_its_results_file(digits_bundle, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["--out", str(out), "--bundle", str(digits_bundle), "--dataset", "digits", "--k", "3", "--seeds", "1",
            "--conditions", "real only", "classic", "--steps", "5"]
    benchmark.main(argv)
    first = json.loads(out.read_text())["rows"]
    assert [r["condition"] for r in first] == ["real only", "classic"]
    benchmark.main(argv + ["--conditions", "real only", "classic", "VAE exemplar 1:1"])
    rows = json.loads(out.read_text())["rows"]
    assert rows[:2] == first and [r["condition"] for r in rows[2:]] == ["VAE exemplar 1:1"]  # only the missing run
    assert "| 3 | VAE exemplar 1:1 |" in capsys.readouterr().out
