"""meta.json edited, damaged or swapped for a device: each refused before use in one sentence naming
the file and the field (vae/meta_schema.py), never a RecursionError, an OverflowError, a hang or gigabytes."""
import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiny import ROOT
from vae import BundleError, load_bundle
from vae import meta_schema
from vae.meta_schema import MetaError


def one_sentence(text: str) -> bool:
    text = text.strip()
    return bool(text) and "\n" not in text and "Traceback" not in text and text.endswith(".")


def edit_meta(bundle, change) -> dict:
    meta = json.loads((bundle / "meta.json").read_text())
    change(meta)
    (bundle / "meta.json").write_text(json.dumps(meta))
    return meta


@pytest.mark.parametrize("change,field,fragment", [
    (lambda m: m.update(class_names=5), "class_names", "must be a list"),
    (lambda m: m["class_names"].append(7), "class_names", "must be a list of at most"),
    (lambda m: m["class_names"].pop(), "class_names", "has 9 names but model.num_classes is 10"),
    (lambda m: m.update(precompute={"directions": 5}), "precompute.directions", "must be a list of objects"),
    (lambda m: m.update(precompute={"directions": [{"name": "x", "fit": 5}]}), "precompute.directions[0].fit",
     "must be a JSON object"),
    (lambda m: m.update(precompute={"projections": []}), "precompute.projections", "must be a JSON object"),
    (lambda m: m.update(metrics=[1, 2]), "metrics", "must be a JSON object"),
    (lambda m: m["model"].update(num_classes=1e9), "model.num_classes", "whole number from 0 to 10,000, got 1e+09"),
    (lambda m: m["model"].update(num_classes=10**9), "model.num_classes", "whole number from 0 to 10,000"),
    (lambda m: m["model"].update(latent_dim=True), "model.latent_dim", "got true"),
    (lambda m: m["model"].update(latent_dim="4"), "model.latent_dim", "got a string"),
    (lambda m: m["model"].update(image_shape=[8, 8, 2]), "model.image_shape", "1 or 3 channels"),
    (lambda m: m["model"].update(hidden_units=2_000_000_000), "model.hidden_units", "from 0 to 65,536"),
    (lambda m: m["model"].update(hidden_units=65_536, base_filters=1024), "model", "weights, over the limit"),
    (lambda m: m.update(latent_dim=5), "latent_dim", "disagrees with model.latent_dim"),
    (lambda m: m.update(files={"model.keras": "x"}), "files", "SHA-256"),
    (lambda m: m.update(data_options={"channels": 2}), "data_options.channels", "null, 1 or 3"),
    (lambda m: m.update(splits={"train": -1}), "splits", ">= 0"),
])
def test_each_edited_field_is_named_in_one_sentence(bundle_copy, change, field, fragment):
    edit_meta(bundle_copy, change)
    with pytest.raises(MetaError) as err:
        load_bundle(bundle_copy, lazy=True)
    message = str(err.value)
    assert fragment in message and one_sentence(message), message
    assert message.startswith(f"{bundle_copy / 'meta.json'}" + (f": {field} " if field else " "))
    assert "retrain" in message


def test_deep_nesting_is_refused_before_parsing(bundle_copy):
    """100,000 nested lists under metrics: json.loads alone raises RecursionError."""
    meta = json.loads((bundle_copy / "meta.json").read_text())
    meta["metrics"] = {"x": "@@"}
    (bundle_copy / "meta.json").write_text(json.dumps(meta).replace('"@@"', "[" * 100_000 + "]" * 100_000))
    with pytest.raises(MetaError, match=r"meta.json is damaged: it nests deeper than 32 levels; restore") as err:
        load_bundle(bundle_copy, lazy=True)
    assert one_sentence(str(err.value))
    assert meta_schema.nesting_depth(b'{"a": "[[[[", "b": [[{"c": "]"}]]}') == 4  # brackets in strings ignored


@pytest.mark.parametrize("where", ["latent_dim", "model.latent_dim", "model.beta"])
@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_infinity_and_nan_are_refused_where_a_number_is_needed(bundle_copy, where, constant):
    """The file is valid for Python's json (which reads these), not for the bundle: was an OverflowError."""
    meta = json.loads((bundle_copy / "meta.json").read_text())
    key = where.split(".")[-1]
    (meta["model"] if where.startswith("model.") else meta)[key] = "@@"
    (bundle_copy / "meta.json").write_text(json.dumps(meta).replace('"@@"', constant))
    with pytest.raises(MetaError, match=f"meta.json: {where} must be") as err:
        load_bundle(bundle_copy, lazy=True)
    assert one_sentence(str(err.value))


def test_free_form_figures_may_hold_nan_and_unknown_keys_are_allowed(bundle_copy):
    """Forward compatibility: keys this version does not know are kept, not refused."""
    meta = json.loads((bundle_copy / "meta.json").read_text())
    meta.update(dataset_spec={"kind": "folder", "path": "/data/x"}, imported={"encoder": "enc.keras"})
    meta["metrics"] = {"knn_chance": 0.5, "spearman": "@@"}
    (bundle_copy / "meta.json").write_text(json.dumps(meta).replace('"@@"', "NaN"))
    b = load_bundle(bundle_copy, lazy=True)
    assert b.meta["dataset_spec"]["kind"] == "folder" and b.meta["metrics"]["knn_chance"] == 0.5


def test_a_meta_json_that_disagrees_with_model_keras_is_refused_before_tensorflow(bundle_copy):
    """Consistent with itself (latent 5 in both places) but not with the archive's config (latent 4)."""
    edit_meta(bundle_copy, lambda m: (m.update(latent_dim=5), m["model"].update(latent_dim=5)))
    with pytest.raises(MetaError) as err:
        load_bundle(bundle_copy, lazy=True, verify=False)
    assert "meta.json: model.latent_dim is 5 but model.keras holds 4" in str(err.value)


def _load_in_child(bundle, timeout=60):
    """load_bundle in a fresh process (a hang fails the test instead of stalling the suite)."""
    code = ("import sys\nfrom vae import VAEError, load_bundle\n"
            "try:\n    load_bundle(sys.argv[1], lazy=True)\nexcept VAEError as e:\n    print(e); sys.exit(1)\n")
    return subprocess.run([sys.executable, "-c", code, str(bundle)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "folder", "symlink_to_copy"])
def test_meta_json_that_is_not_a_regular_file_is_refused_without_reading_it(bundle_copy, kind):
    """/dev/zero used to be read forever, a FIFO hung every visitor's "Loading...": now one sentence."""
    meta = bundle_copy / "meta.json"
    good = meta.read_bytes()
    meta.unlink()
    if kind == "dev_zero":
        meta.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(meta)
    elif kind == "folder":
        meta.mkdir()
    else:
        (bundle_copy.parent / "elsewhere.json").write_bytes(good)
        meta.symlink_to(bundle_copy.parent / "elsewhere.json")
    r = _load_in_child(bundle_copy)
    assert r.returncode == 1 and one_sentence(r.stdout) and "restore the bundle" in r.stdout, r.stdout + r.stderr
    assert r.stdout.startswith(f"{meta} is " + ("a symbolic link" if kind in ("dev_zero", "symlink_to_copy")
                                                 else "not a regular file"))


def test_an_oversized_meta_json_is_refused_before_it_is_read(bundle_copy):
    meta = bundle_copy / "meta.json"
    with open(meta, "r+b") as f:
        f.truncate(meta_schema.MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(MetaError, match=r"meta.json is 33,554,433 bytes, over the 33,554,432 it may have"):
        load_bundle(bundle_copy, lazy=True)


def test_not_json_and_not_an_object(bundle_copy):
    meta = bundle_copy / "meta.json"
    for text, fragment in ((b"{'a': 1}", "is damaged: it is not valid JSON"), (b"\xff\xfe", "is not valid JSON"),
                           (b"[]", "is damaged: it holds a JSON list, where an object is needed"), (b"1" * 5000, "is not valid JSON")):
        meta.write_bytes(text)
        with pytest.raises(MetaError, match=fragment) as err:
            load_bundle(bundle_copy, lazy=True)
        assert one_sentence(str(err.value))


@pytest.mark.parametrize("script", ["precompute", "evaluate"])
def test_scripts_name_the_field_in_one_error_line(bundle_copy, capsys, script):
    import importlib

    edit_meta(bundle_copy, lambda m: m["model"].update(num_classes=1e9))
    assert importlib.import_module(f"scripts.{script}").main([str(bundle_copy)]) in (1, 2)
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bundle_copy / 'meta.json'}: model.num_classes must be") and one_sentence(err)


def test_a_writer_never_leaves_a_meta_json_its_readers_refuse(bundle_copy):
    from vae.bundle import update_bundle

    before = (bundle_copy / "meta.json").read_bytes()
    with pytest.raises(MetaError, match="metrics must be a JSON object"):
        update_bundle(bundle_copy, meta_updates={"metrics": [0.5]})
    assert (bundle_copy / "meta.json").read_bytes() == before


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(meta_schema.FIELDS)), value=JSON)
def test_any_value_in_any_field_loads_or_gets_the_sentence(tiny_bundle_dir, bundle_copy, field, value):
    """Whatever a field holds, loading either works or raises BundleError: never another exception."""
    meta = json.loads((tiny_bundle_dir / "meta.json").read_text())
    target, keys = meta, field.split(".")
    for key in keys[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[keys[-1]] = value
    (bundle_copy / "meta.json").write_text(json.dumps(meta))
    try:
        b = load_bundle(bundle_copy, lazy=True, verify=False)
    except BundleError as exc:
        assert one_sentence(str(exc))
        return
    assert len(b.class_names) <= 10_000 and b.latent_dim == 4


def test_the_app_names_a_fifo_meta_json_instead_of_loading_forever(bundle_copy, monkeypatch):
    """A FIFO in place of meta.json used to hang "Loading..." for every visitor; AppTest fails on a hang."""
    from streamlit.testing.v1 import AppTest

    (bundle_copy / "meta.json").unlink()
    os.mkfifo(bundle_copy / "meta.json")
    monkeypatch.setenv("VAE_BUNDLE", str(bundle_copy))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["bundle"] = bundle_copy.name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(e.value for e in at.error)
    assert "meta.json is not a regular file" in shown, shown


def test_an_imported_pairs_meta_json_is_not_held_to_this_projects_architecture(tmp_path):
    """scripts/import_model.py writes "model": {"kind": "imported", ...} without the conv settings: a
    512x512 RGB pair passes (the weight cap is for the VAE train.py builds), its typed fields are still checked."""
    meta = {"format_version": 1, "dataset": "folder:imgs", "dataset_spec": "folder:/data/imgs", "class_names": ["a", "b"],
            "imported": {"encoder": "/x/enc.keras"}, "image_shape": [512, 512, 3], "latent_dim": 2, "conditional": False,
            "model": {"kind": "imported", "image_shape": [512, 512, 3], "latent_dim": 2, "decoder_output": "logits",
                      "input_range": [0.0, 1.0], "conditional": False, "num_classes": 0}}
    meta_schema.validate(meta, tmp_path / "meta.json")
    meta["model"]["latent_dim"] = 10**6
    with pytest.raises(MetaError, match="model.latent_dim must be a whole number from 1 to 4,096"):
        meta_schema.validate(meta, tmp_path / "meta.json")
