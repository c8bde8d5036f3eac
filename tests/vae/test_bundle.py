"""Bundles: save/load round trip, the encode/decode API, atomic writes, checksums, safe loading."""
import json
import os

import numpy as np
import pytest

from vae import BundleError, VAEError, load_bundle
from vae import bundle as bundle_mod
from vae.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_round_trip_gives_equal_outputs(tiny_bundle_dir, digits):
    b = load_bundle(tiny_bundle_dir)
    x = digits.x_test[:16]
    mean, logvar = b.encode(x)
    direct_mean, direct_logvar = b.model.encode(x.astype(np.float32) / 255.0)
    np.testing.assert_allclose(mean, direct_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logvar, direct_logvar, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.decode(mean), b.model.decode(mean, apply_sigmoid=True), rtol=1e-5, atol=1e-6)
    again = load_bundle(tiny_bundle_dir)
    np.testing.assert_allclose(again.decode(mean), b.decode(mean), rtol=1e-6, atol=1e-7)


def test_encode_decode_shapes_dtypes_and_ranges(tiny_bundle_dir, digits):
    b = load_bundle(tiny_bundle_dir)
    assert b.latent_dim == 4 and b.image_shape == (8, 8, 1) and b.class_names == [str(i) for i in range(10)]
    mean_u8, _ = b.encode(digits.x_test[:5])
    mean_f, logvar = b.encode(digits.x_test[:5].astype(np.float32) / 255.0)
    assert mean_u8.dtype == np.float32 and mean_u8.shape == (5, 4) and logvar.shape == (5, 4)
    np.testing.assert_allclose(mean_u8, mean_f, atol=1e-6)
    single, _ = b.encode(digits.x_test[0])  # one (H, W, C) image
    assert single.shape == (1, 4)
    x = b.decode(np.random.default_rng(0).normal(size=(7, 4)))
    assert x.dtype == np.float32 and x.shape == (7, 8, 8, 1) and x.min() >= 0 and x.max() <= 1
    assert b.decode(np.zeros(4)).shape == (1, 8, 8, 1)
    assert b.decode(np.zeros((2000, 4)), batch_size=512).shape == (2000, 8, 8, 1)
    assert b.meta["dataset"] == "digits" and b.meta["latent_dim"] == 4 and "versions" in b.meta


@pytest.mark.parametrize("z,fragment", [(np.zeros(3), "length 4"), (np.zeros((2, 5)), "length 4"),
                                        (np.array([0, np.nan, 0, 0]), "NaN"), (np.array([0, np.inf, 0, 0]), "NaN")])
def test_decode_refuses_bad_vectors(tiny_bundle_dir, z, fragment):
    with pytest.raises(VAEError, match=fragment):
        load_bundle(tiny_bundle_dir).decode(z)


@pytest.mark.parametrize("images,fragment", [(np.zeros((2, 28, 28, 1), np.uint8), "shape"),
                                             (np.full((1, 8, 8, 1), 2.0, np.float32), r"\[0, 1\]"),
                                             (np.zeros((1, 8, 8, 1), np.int64), "dtype")])
def test_encode_refuses_bad_images(tiny_bundle_dir, images, fragment):
    with pytest.raises(VAEError, match=fragment):
        load_bundle(tiny_bundle_dir).encode(images)


def test_meta_lists_checksums_of_every_file(tiny_bundle_dir):
    meta = json.loads((tiny_bundle_dir / "meta.json").read_text())
    assert {"model.keras", "history.json"} <= set(meta["files"])
    for name, digest in meta["files"].items():
        assert bundle_mod.sha256(tiny_bundle_dir / name) == digest


def test_damaged_file_is_named(bundle_copy):
    original = (bundle_copy / "history.json").read_bytes()
    (bundle_copy / "history.json").write_bytes(original + b" ")
    with pytest.raises(BundleError, match="history.json .*damaged"):
        load_bundle(bundle_copy)
    (bundle_copy / "history.json").write_bytes(original)
    (bundle_copy / "model.keras").unlink()
    with pytest.raises(BundleError, match="model.keras is missing"):
        load_bundle(bundle_copy)


def test_missing_folder_and_meta_give_one_sentence(tmp_path):
    with pytest.raises(BundleError, match="No bundle folder"):
        load_bundle(tmp_path / "nope")
    with pytest.raises(BundleError, match="no meta.json"):
        load_bundle(tmp_path)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(BundleError, match="damaged"):
        load_bundle(tmp_path)


def test_interrupted_save_leaves_the_old_bundle_intact(bundle_copy, monkeypatch):
    before = {f.name: f.read_bytes() for f in bundle_copy.iterdir()}
    real_write = bundle_mod.atomic_write_json

    def fail_on_meta(path, obj):
        if path.name == "meta.json":
            raise OSError(28, "No space left on device")
        real_write(path, obj)

    from vae import store

    monkeypatch.setattr(store, "atomic_write_json", fail_on_meta)  # the bundle writer's meta.json write
    with pytest.raises(BundleError, match="previous bundle, if any, is unchanged"):
        bundle_mod.update_bundle(bundle_copy, arrays={"extra": {"a": np.arange(3)}})
    monkeypatch.undo()
    assert {f.name: f.read_bytes() for f in bundle_copy.iterdir()} == before
    assert not [p for p in bundle_copy.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind
    load_bundle(bundle_copy)


def test_crash_between_renames_is_recovered(bundle_copy):
    old = bundle_copy.parent / f".{bundle_copy.name}.old-deadbeef"
    os.rename(bundle_copy, old)  # as if killed after moving the old bundle aside
    b = load_bundle(bundle_copy)
    assert b.latent_dim == 4 and not old.exists()


def test_update_adds_arrays_and_keeps_the_rest(bundle_copy):
    bundle_mod.update_bundle(bundle_copy, arrays={"extra": {"a": np.arange(5, dtype=np.int32)}},
                             meta_updates={"note": "x"})
    b = load_bundle(bundle_copy)
    np.testing.assert_array_equal(b.arrays("extra")["a"], np.arange(5))
    assert not b.arrays("extra")["a"].flags.writeable
    assert b.meta["note"] == "x" and "extra.npz" in b.meta["files"] and "model.keras" in b.meta["files"]
    with pytest.raises(BundleError, match="precompute.py"):
        b.arrays("encodings")


def test_unwritable_destination_is_one_sentence(tiny_bundle_dir, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # even root cannot create a folder inside a file
    with pytest.raises(BundleError, match="writable folder"):
        bundle_mod.save_bundle(blocker / "b", load_bundle(tiny_bundle_dir).model, {})


def test_lambda_layer_is_refused_and_not_run(tmp_path):
    """A .keras file carrying a Lambda (arbitrary code) is refused by safe_mode; its code never runs."""
    import keras

    marker = tmp_path / "ran"
    inp = keras.Input((2,))
    out = keras.layers.Lambda(lambda t: t * 2)(inp)
    keras.Model(inp, out).save(tmp_path / "evil.keras")
    # meta.json with valid checksums, so only safe_mode stands between the file and its code
    (tmp_path / "b").mkdir()
    os.rename(tmp_path / "evil.keras", tmp_path / "b" / "model.keras")
    meta = {"files": {"model.keras": bundle_mod.sha256(tmp_path / "b" / "model.keras")}}
    (tmp_path / "b" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="could not be loaded safely"):
        load_bundle(tmp_path / "b")
    assert not marker.exists()


# ---------------------------------------------------------------------- lazy model (the app's start-up)

def test_a_lazy_bundle_reads_everything_but_the_model_without_tensorflow(tiny_bundle_dir):
    import subprocess
    import sys

    from tiny import ROOT

    code = ("import sys; from vae import load_bundle; b = load_bundle(sys.argv[1], lazy=True)\n"
            "assert not b.model_ready and b.latent_dim == 4 and b.image_shape == (8, 8, 1) and len(b.class_names) == 10\n"
            "assert 'tensorflow' not in sys.modules, 'a lazy bundle imported TensorFlow'\n"
            "x = b.decode([[0.0, 0.5, -0.5, 1.0]])\n"
            "assert b.model_ready and x.shape == (1, 8, 8, 1) and 'tensorflow' in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code, str(tiny_bundle_dir)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_lazy_and_eager_bundles_give_the_same_decodings_and_encodings(tiny_bundle_dir, digits):
    z = np.random.default_rng(3).normal(size=(6, 4)).astype(np.float32)
    eager, lazy = load_bundle(tiny_bundle_dir), load_bundle(tiny_bundle_dir, lazy=True)
    np.testing.assert_allclose(lazy.decode(z), eager.decode(z), rtol=1e-6, atol=1e-7)
    lazy2 = load_bundle(tiny_bundle_dir, lazy=True)  # encode first, this time
    np.testing.assert_allclose(lazy2.encode(digits.x_test[:4])[0], eager.encode(digits.x_test[:4])[0], atol=1e-6)


def test_threads_asking_for_a_lazy_model_share_one_load(tiny_bundle_dir):
    import concurrent.futures

    b = load_bundle(tiny_bundle_dir, lazy=True)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: b.load_model(), range(8)))
    assert all(m is models[0] for m in models) and b.model is models[0]


def test_a_meta_json_that_describes_another_model_is_refused_at_load(bundle_copy):
    """Checked against model.keras's own config (read from the archive, before TensorFlow): lazy loads too."""
    meta = json.loads((bundle_copy / "meta.json").read_text())
    meta["model"]["latent_dim"] = meta["latent_dim"] = 5
    (bundle_copy / "meta.json").write_text(json.dumps(meta))
    for lazy in (True, False):
        with pytest.raises(BundleError, match="meta.json: model.latent_dim is 5 but model.keras holds 4"):
            load_bundle(bundle_copy, lazy=lazy)


def one_sentence(text: str) -> bool:
    text = text.strip()
    return bool(text) and "\n" not in text and "Traceback" not in text


# -------------------------------------------------------------------------------- encode/decode

@pytest.mark.parametrize("images", [np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8), np.uint8),
                                    np.zeros((1, 2, 8, 8, 1), np.uint8), [[1, 2], [3]], "an image",
                                    np.zeros((2, 8, 8, 1), object)])
def test_encode_refuses_images_of_another_shape(tiny_bundle_dir, images):
    with pytest.raises(VAEError) as err:
        load_bundle(tiny_bundle_dir).encode(images)
    assert one_sentence(str(err.value))


@pytest.mark.parametrize("z", [np.full((1, 4), 1e39), ["a", "b", "c", "d"], [[0, 0], [0]], np.zeros(4, complex),
                               np.zeros((2, 2, 4))])
def test_decode_refuses_what_is_not_a_latent_vector(tiny_bundle_dir, z):
    with pytest.raises(VAEError) as err:
        load_bundle(tiny_bundle_dir).decode(z)
    assert one_sentence(str(err.value))


def test_decode_of_an_empty_batch_is_empty(tiny_bundle_dir):
    assert load_bundle(tiny_bundle_dir).decode(np.zeros((0, 4))).shape == (0, 8, 8, 1)  # was (0, 8, 8, 32)


# ------------------------------------------------------------------------- damaged bundles

def test_truncated_model_is_named(bundle_copy):
    data = (bundle_copy / "model.keras").read_bytes()
    (bundle_copy / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="model.keras in .* is damaged") as err:
        load_bundle(bundle_copy)
    assert one_sentence(str(err.value))


def test_files_swapped_between_two_bundles_are_named(bundle_copy, tmp_path):
    from tiny import train_tiny

    other = train_tiny(tmp_path / "other", epochs=1, latent_dim=4, seed=1)
    (bundle_copy / "model.keras").write_bytes((other / "model.keras").read_bytes())
    with pytest.raises(BundleError, match="model.keras in .* is damaged"):
        load_bundle(bundle_copy)
    (bundle_copy / "model.keras").write_bytes((other / "model.keras").read_bytes())
    (bundle_copy / "meta.json").write_bytes((other / "meta.json").read_bytes())  # the whole pair: consistent
    (bundle_copy / "history.json").write_bytes((other / "history.json").read_bytes())
    assert load_bundle(bundle_copy).meta["training"]["seed"] == 1  # checksums vouch for integrity, not origin


@pytest.mark.parametrize("edit,fragment", [
    (lambda m: m["files"].update({"model.keras": "0" * 64}), "model.keras in .* is damaged"),
    (lambda m: m["files"].pop("history.json"), None),  # an unlisted file is not checked, nor read by the loader
    (lambda m: m.pop("files"), "lists no file checksums"),
    (lambda m: m.update(files=["model.keras"]), "meta.json: files must map file names to SHA-256 checksums"),
    (lambda m: m["files"].update({"ghost.npz": "0" * 64}), "ghost.npz is missing"),
])
def test_edited_meta_checksums(bundle_copy, edit, fragment):
    meta = json.loads((bundle_copy / "meta.json").read_text())
    edit(meta)
    (bundle_copy / "meta.json").write_text(json.dumps(meta))
    if fragment is None:
        load_bundle(bundle_copy)
        return
    with pytest.raises(BundleError, match=fragment) as err:
        load_bundle(bundle_copy)
    assert one_sentence(str(err.value))


def test_save_bundle_keeps_to_bundles_and_empty_folders(tiny_bundle_dir, tmp_path):
    from vae.bundle import save_bundle

    model = load_bundle(tiny_bundle_dir).model
    (tmp_path / "file").write_bytes(b"data")
    with pytest.raises(BundleError, match="is an existing file, not a bundle folder"):
        save_bundle(tmp_path / "file", model, {"dataset": "digits"})
    assert (tmp_path / "file").read_bytes() == b"data"
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "empty"):  # an empty folder, then the bundle now in it
        save_bundle(target, model, {"dataset": "digits"})
        assert load_bundle(target).latent_dim == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file"]
