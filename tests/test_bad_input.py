"""Bad input, each answered by one sentence (VAEError, or `error: ...` from a script), never a traceback.
Complements tests/vae/test_data.py, test_bundle.py and test_training.py, which hold the first cases."""
import io
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from tiny import ROOT
from vae import DataError, VAEError, load_bundle
from vae.bundle import update_bundle
from vae.data import load_dataset


def one_sentence(text: str) -> bool:
    text = text.strip()
    return bool(text) and "\n" not in text and "Traceback" not in text


# ------------------------------------------------------------------------------------ datasets

def _npz(tmp_path, **arrays):
    np.savez(tmp_path / "d.npz", **arrays)
    return f"npz:{tmp_path / 'd.npz'}"


@pytest.mark.parametrize("arrays,fragment", [
    (dict(x=np.zeros((3, 6, 6), bool)), "dtype bool"),
    (dict(x=np.zeros((3, 6, 6), complex)), "dtype complex"),
    (dict(x=np.zeros((3, 6, 6, 2), np.uint8)), "1 or 3"),
    (dict(x=np.zeros((1, 6, 6), np.uint8)), "N >= 2"),
    (dict(x=np.zeros((3, 1, 1), np.uint8)), "sides between 4 and 512"),
    (dict(x=np.zeros((2, 600, 600), np.uint8)), "sides between 4 and 512"),
    (dict(x=np.full((3, 6, 6), np.nan)), "not finite"),
    (dict(x=np.zeros((3, 6, 6), np.uint8), y=np.array([0.0, 1.0, 2.0])), "'y'"),
    (dict(x=np.zeros((3, 6, 6), np.uint8), y=np.array([0, -1, 2])), "'y'"),
    (dict(x=np.zeros((3, 6, 6), np.uint8), y=np.array([0, 10**9, 2])), "K <= 10000"),  # was: 21 GB, OOM-killed
    (dict(x=np.zeros((3, 6, 6), np.uint8), y=np.array([0, 1, 0]), class_names=np.array(["a", None], dtype=object)),
     "object arrays"),
])
def test_npz_wrong_dtypes_shapes_and_labels(tmp_path, arrays, fragment):
    with pytest.raises(DataError, match=fragment) as err:
        load_dataset(_npz(tmp_path, **arrays))
    assert one_sentence(str(err.value))


def test_npz_that_is_a_pickle_or_a_strange_zip_or_a_bomb(tmp_path):
    np.save(tmp_path / "p.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    os.replace(tmp_path / "p.npy", tmp_path / "p.npz")  # a pickle with an .npz name
    with pytest.raises(DataError, match="not a readable .npz"):
        load_dataset(f"npz:{tmp_path / 'p.npz'}")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("x.npy", b"not an array")  # was: AttributeError
    with pytest.raises(DataError, match="not a readable .npz"):
        load_dataset(f"npz:{tmp_path / 'z.npz'}")
    header = io.BytesIO()  # a header promising 9 TiB: refused from the header, nothing allocated
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**6, 10**4, 10**3)})
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as z:
        z.writestr("x.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(DataError, match="would unpack to 9313 GiB"):
        load_dataset(f"npz:{tmp_path / 'bomb.npz'}")


def test_folder_of_only_other_files_and_of_every_image_mode(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    (tmp_path / "docs" / "b.csv").write_text("x")
    with pytest.raises(DataError, match="No images"):
        load_dataset(f"folder:{tmp_path / 'docs'}")
    modes = tmp_path / "modes"
    modes.mkdir()
    for i, mode in enumerate(["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK"]):
        Image.new(mode, (5 + i, 7), 1).save(modes / f"{i}.{'tiff' if mode in ('I;16', 'I', 'F', 'CMYK') else 'png'}")
    (modes / "loop").symlink_to(modes, target_is_directory=True)  # a symlink loop is not followed forever
    ds = load_dataset(f"folder:{modes}", image_size=8)
    assert ds.image_shape == (8, 8, 3) and len(ds.x_train) + len(ds.x_test) >= 10 and ds.skipped == 0
    with pytest.raises(DataError, match="image-size"):
        load_dataset(f"folder:{modes}", image_size=0)  # was: silently 64


def test_a_single_class_is_fine_unconditional_and_refused_conditional(tmp_path):
    from vae.model import VAE

    for i in range(4):
        Image.fromarray(np.full((8, 8), 60 * i, np.uint8)).save(tmp_path / f"{i}.png")
    ds = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert len(ds.class_names) == 1
    with pytest.raises(VAEError, match="at least 2 classes"):
        VAE(image_shape=ds.image_shape, latent_dim=2, conditional=True, num_classes=len(ds.class_names))


# ------------------------------------------------------------------------- older bundles

def test_a_bundle_from_an_older_version_says_what_is_missing(bundle_copy):
    """Only encodings' means and labels (an early precompute): the rest is listed, with the command."""
    from vae.precomputed import load_precomputed

    mean = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    update_bundle(bundle_copy, arrays={"encodings": {"mean": mean, "labels": np.arange(30) % 10}},
                  meta_updates={"precompute": {"split": "test"}})
    pre = load_precomputed(load_bundle(bundle_copy))
    hint = f"python scripts/precompute.py {bundle_copy}"
    assert pre.missing and all(hint in m for m in pre.missing)
    text = " ".join(pre.missing)
    for what in ("images", "attributes", "t-SNE", "directions", "log-variances", "reconstruction errors"):
        assert what in text, what
    assert "pca2" in pre.projections and np.isnan(pre.recon_error).all() and len(pre.images) == 0


# ------------------------------------------------------------------------------- command lines

SCRIPTS = ROOT / "scripts"


@pytest.mark.parametrize("script,args,fragment", [
    ("train.py", ["--latent-dim", "5000"], "--latent-dim must be between 1 and 4096"),
    ("train.py", ["--beta", "nan"], "--beta must be a finite number"),
    ("train.py", ["--seed", "-1"], "--seed must be >= 0"),
    ("train.py", ["--batch-size", "0"], "--batch-size must be at least 1"),
    ("train.py", ["--val-fraction", "1"], "--val-fraction must be between 0 and 1"),
    ("train.py", ["--hidden-units", "2000000000"], "--hidden-units must be between 0 and 65,536, got 2,000,000,000"),
    ("train.py", ["--convs-per-stage", "100000"], "--convs-per-stage must be between 1 and 16, got 100,000"),
    ("train.py", ["--base-filters", "0"], "--base-filters must be between 1 and 1,024"),
    ("train.py", ["--image-size", "100000"], "--image-size must be between 4 and 512, got 100000"),
    ("train.py", ["--hidden-units", "65536", "--base-filters", "1024"], "weights, over the limit of 100,000,000"),
    ("evaluate.py", ["--iwae-k", "-5"], "--iwae-k and --iwae-points must be >= 0"),
    ("evaluate.py", ["--seed", "-2"], "--seed must be >= 0"),
    ("precompute.py", ["--max-points", "0"], "--max-points must be at least 10"),
    ("precompute.py", ["--perplexity", "-3"], "--perplexity must be a positive number"),
    ("precompute.py", ["--perplexity", "nan"], "--perplexity must be a positive number"),
    ("precompute.py", ["--split", "everything"], "invalid choice"),
])
def test_scripts_refuse_out_of_range_arguments_in_one_line(tiny_bundle_dir, tmp_path, capsys, script, args, fragment):
    """In-process: exit code 2 (argument) or 1 (checked by the library), one line on stderr, nothing written."""
    import importlib

    module = importlib.import_module(f"scripts.{script[:-3]}")
    argv = (["--dataset", "digits", "--out", str(tmp_path / "b")] if script == "train.py" else [str(tiny_bundle_dir)]) + args
    try:
        code = module.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (1, 2) and fragment in err and one_sentence(err), err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("script", ["evaluate", "precompute"])
def test_scripts_on_a_missing_or_damaged_bundle(bundle_copy, tmp_path, capsys, script):
    import importlib

    module = importlib.import_module(f"scripts.{script}")
    (bundle_copy / "history.json").write_text("{}")
    for target, fragment in ((tmp_path / "nope", "No bundle folder"), (bundle_copy, "history.json in")):
        assert module.main([str(target)]) in (1, 2)
        err = capsys.readouterr().err
        assert err.startswith("error: ") and fragment in err and one_sentence(err), err


# ------------------------------------------------------------------------------- --out

@pytest.mark.parametrize("kind", ["file", "folder_of_files", "link_to_file"])
def test_out_naming_a_file_or_a_folder_of_other_files_is_refused_before_training(tmp_path, capsys, kind):
    """It used to rename the user's file to a hidden .NAME.old-XXXX and put a bundle there."""
    from scripts.train import main

    out = tmp_path / "notes.txt"
    if kind == "file":
        out.write_text("my notes")
    elif kind == "link_to_file":
        (tmp_path / "target.txt").write_text("my notes")
        out.symlink_to(tmp_path / "target.txt")
    else:
        out.mkdir()
        (out / "thesis.tex").write_text("chapter 1")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["--dataset", "digits", "--out", str(out), "--run-dir", str(tmp_path / "run"), "--epochs", "1",
                 "--no-evaluate", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith(f"error: {out} is ") and one_sentence(err) and "choose a new" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .notes.txt.old-*, no run folder
    assert (out / "thesis.tex" if kind == "folder_of_files" else out).read_text() in ("my notes", "chapter 1")
