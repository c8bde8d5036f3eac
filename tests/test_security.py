"""Security: a model file never runs code, and no path from a bundle's meta.json or a URL reaches
outside the bundle folders. What is allowed: bundle files are plain files named in meta.json,
directly inside the bundle folder; a bundle folder itself may be a symbolic link placed in
pretrained/ (or named with --bundle) by the person running the app, never a path from a URL."""
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from vae import BundleError, load_bundle
from vae import bundle as bundle_mod


def _rehash(folder: Path) -> None:
    """Recompute meta.json's checksums, as an attacker who controls the whole bundle would."""
    meta = json.loads((folder / "meta.json").read_text())
    meta["files"] = {f.name: bundle_mod.sha256(f) for f in folder.iterdir() if f.is_file() and f.name != "meta.json"}
    (folder / "meta.json").write_text(json.dumps(meta))


def _payload_model(path: Path, marker: Path) -> None:
    """A .keras file whose Lambda writes `marker` whenever its function is called (e.g. while loading)."""
    import keras

    # a lambda, so that its bytecode (not just a name) travels inside the file; the path is a constant in it
    payload = eval(f"lambda t: (open({str(marker)!r}, 'w').write('code from the model file ran'), t)[1]")
    inp = keras.Input((4,))
    keras.Model(inp, keras.layers.Lambda(payload)(inp)).save(path)
    marker.unlink(missing_ok=True)  # building the model called it once


def test_a_lambda_payload_is_refused_and_never_runs(bundle_copy, tmp_path):
    import keras

    marker = tmp_path / "pwned"
    _payload_model(bundle_copy / "model.keras", marker)
    _rehash(bundle_copy)  # checksums match: only the loader's own checks stand in the way
    with pytest.raises(BundleError, match="could not be loaded safely"):
        load_bundle(bundle_copy)
    assert not marker.exists()
    with pytest.raises(ValueError, match="safe_mode"):  # the second wall: Keras's own safe mode
        keras.saving.load_model(bundle_copy / "model.keras", safe_mode=True)
    assert not marker.exists()
    # the control: Keras with safe_mode=False does run it, so the payload above was live
    keras.saving.load_model(bundle_copy / "model.keras", safe_mode=False)
    assert marker.read_text() == "code from the model file ran"


def _edit_config(model_file: Path, edit) -> None:
    with zipfile.ZipFile(model_file) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    config = json.loads(parts["config.json"])
    edit(config, parts)
    parts["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model_file, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


@pytest.mark.parametrize("edit,reason", [
    (lambda c, p: c["config"].update(dtype={"module": "os", "class_name": "system", "config": {"name": "touch x"},
                                            "registered_name": None}), "dtype policy"),
    (lambda c, p: c.update(module="os", class_name="system"), "not this project's VAE"),
    (lambda c, p: c["config"].update(extra={"class_name": "Lambda", "config": {}}), "unexpected entries"),
    (lambda c, p: c["config"].update(latent_dim={"module": "builtins", "class_name": "function", "config": "exec"}),
     "not a plain value"),
    (lambda c, p: c.update(compile_config={"loss": {"module": "os", "class_name": "function", "config": "system"}}),
     "compile configuration"),
    (lambda c, p: p.update({"assets/payload.py": b"import os"}), "not a VAE saved by this project"),
])
def test_an_edited_model_config_is_refused_before_keras_reads_it(bundle_copy, edit, reason):
    _edit_config(bundle_copy / "model.keras", edit)
    _rehash(bundle_copy)
    with pytest.raises(BundleError, match=reason):
        load_bundle(bundle_copy)


@pytest.mark.parametrize("name", ["../outside.npz", "/etc/passwd", "sub/x.npz", ".hidden", "..", "a\\..\\b"])
def test_meta_json_cannot_name_a_file_outside_the_bundle(bundle_copy, tmp_path, name):
    outside = tmp_path / "outside.npz"
    outside.write_bytes(b"secret")
    meta = json.loads((bundle_copy / "meta.json").read_text())
    meta["files"][name] = bundle_mod.sha256(outside)  # even with the right checksum
    (bundle_copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="names a file outside the bundle"):
        load_bundle(bundle_copy)


def test_a_symlinked_file_in_a_bundle_is_refused(bundle_copy, tiny_bundle_dir, tmp_path):
    import numpy as np

    secret = tmp_path / "secret.npz"
    np.savez(secret, a=np.arange(3))
    (bundle_copy / "encodings.npz").symlink_to(secret)
    _rehash(bundle_copy)  # the checksum of the target: a loader that follows links would accept it
    with pytest.raises(BundleError, match="encodings.npz .* is a symbolic link"):
        load_bundle(bundle_copy)
    with pytest.raises(BundleError, match="symbolic link"):  # and an update never copies the target in
        bundle_mod.update_bundle(bundle_copy, meta_updates={"x": 1})
    assert not [p for p in bundle_copy.parent.iterdir() if p.name.startswith(".bundle.tmp")]

    # unlisted and not verified: the loader still never reads through the link
    (bundle_copy / "encodings.npz").unlink()
    _rehash(bundle_copy)
    (bundle_copy / "images.npz").symlink_to(secret)
    b = load_bundle(bundle_copy)
    assert not b.has("images")
    with pytest.raises(BundleError, match="symbolic link"):
        b.arrays("images")


def test_a_symlinked_model_file_is_refused(bundle_copy, tiny_bundle_dir):
    (bundle_copy / "model.keras").unlink()
    (bundle_copy / "model.keras").symlink_to(tiny_bundle_dir / "model.keras")  # same bytes, same checksum
    with pytest.raises(BundleError, match="model.keras .* is a symbolic link"):
        load_bundle(bundle_copy)


def test_an_unlisted_or_swapped_array_file_is_refused_when_read(bundle_copy):
    import numpy as np

    bundle_mod.update_bundle(bundle_copy, arrays={"encodings": {"mean": np.zeros((3, 4), np.float32)}})
    b = load_bundle(bundle_copy)
    np.savez(bundle_copy / "encodings.npz", mean=np.ones((3, 4), np.float32))  # swapped after load_bundle
    with pytest.raises(BundleError, match="encodings.npz .* damaged"):
        b.arrays("encodings")
    np.savez(bundle_copy / "extra.npz", a=np.arange(2))  # never written by update_bundle
    with pytest.raises(BundleError, match="not listed in meta.json"):
        b.arrays("extra")


def test_npz_object_arrays_are_never_unpickled(bundle_copy, tmp_path):
    import numpy as np

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.savez(bundle_copy / "encodings.npz", mean=np.array([Payload()], dtype=object))
    _rehash(bundle_copy)
    b = load_bundle(bundle_copy)
    with pytest.raises(BundleError, match="unreadable"):
        b.arrays("encodings")
    assert not marker.exists()


def test_a_url_names_bundles_never_paths(tiny_bundle_dir, tmp_path):
    """A symlinked bundle folder in pretrained/ is the operator's choice and is offered by its name;
    a URL's bundle parameter is matched against those names only."""
    from ui import bundles

    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    outside = tmp_path / "elsewhere" / "real"
    shutil.copytree(tiny_bundle_dir, outside)
    (pretrained / "linked").symlink_to(outside, target_is_directory=True)
    (pretrained / ".hidden").mkdir()
    choices = bundles.discover(pretrained=pretrained, extra=[])
    assert [c.name for c in choices] == ["linked"] and choices[0].path == outside.resolve()
    for bad in ("../elsewhere/real", str(outside), "/etc", "linked/../linked", ".hidden", "real", "linked\x00"):
        assert bundles.find(choices, bad) is None, bad
    assert bundles.find(choices, "linked").path == outside.resolve()


def test_streamlit_config_binds_to_localhost_and_sends_nothing():
    import tomllib

    from tiny import ROOT

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("maxUploadSize", 200) <= 20


def test_bundle_files_are_readable_by_other_users(tiny_bundle_dir):
    """mkstemp/mkdtemp make 0600/0700; a bundle is for an app that may run as another user."""
    from vae.files import umask as read_umask

    umask = read_umask()
    assert tiny_bundle_dir.stat().st_mode & 0o777 == 0o777 & ~umask
    for f in tiny_bundle_dir.iterdir():
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask, f.name
    assert os.access(tiny_bundle_dir / "meta.json", os.R_OK)


def test_updating_a_linked_bundle_folder_writes_where_the_link_points(tiny_bundle_dir, tmp_path):
    real = tmp_path / "real"
    shutil.copytree(tiny_bundle_dir, real)
    link = tmp_path / "pretrained_link"
    link.symlink_to(real, target_is_directory=True)
    bundle_mod.update_bundle(link, meta_updates={"note": "via link"})
    assert link.is_symlink() and json.loads((real / "meta.json").read_text())["note"] == "via link"
    assert load_bundle(link).meta["note"] == "via link"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
