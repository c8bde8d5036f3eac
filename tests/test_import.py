"""Importing a VAE trained elsewhere: the keras-io example's architecture (encoder -> [z_mean, z_log_var,
z] through a custom Sampling layer, a separate decoder), small, trained a few steps on 8x8 digits, saved,
imported with scripts/import_model.py, precomputed and opened in the app; and the sentences that
refuse what cannot be imported."""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from tiny import ROOT

keras = pytest.importorskip("keras")
from keras import layers, ops  # noqa: E402

from scripts.import_model import main as import_main  # noqa: E402
from vae import BundleError, VAEError, load_bundle  # noqa: E402
from vae.data import load_dataset  # noqa: E402
from vae.imported import custom_objects  # noqa: E402
from vae.importer import import_pair  # noqa: E402

LATENT = 3
CUSTOM_LAYER_FILE = '''
import keras

class Scale(keras.layers.Layer):
    """Multiplies by a fixed factor (a stand-in for any custom layer)."""
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
    def call(self, x):
        return x * self.factor
    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
'''


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z (the keras-io example's layer, deliberately unregistered)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def keras_io_encoder(latent_dim=LATENT):
    """The keras-io encoder, scaled to 8x8 images: two stride-2 convolutions, z_mean, z_log_var, Sampling."""
    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def keras_io_decoder(latent_dim=LATENT, activation="sigmoid", extra=None):
    """The keras-io decoder for 8x8: Dense -> (2, 2, 16) -> two stride-2 transposed convolutions -> image."""
    z = keras.Input(shape=(latent_dim,))
    x = layers.Dense(2 * 2 * 16, activation="relu")(z)
    x = layers.Reshape((2, 2, 16))(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
    if extra is not None:
        x = extra(x)
    out = layers.Conv2DTranspose(1, 3, activation=activation, padding="same")(x)
    return keras.Model(z, out, name="decoder")


def train_few_steps(encoder, decoder, steps=30):
    """The keras-io loss (binary cross-entropy summed over pixels + KL), a few Adam steps on digits."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype("float32")[..., None]  # (1797, 8, 8, 1) in [0, 1]
    opt = keras.optimizers.Adam(3e-3)
    weights = encoder.trainable_weights + decoder.trainable_weights
    rng = np.random.default_rng(0)
    for _ in range(steps):
        batch = x[rng.choice(len(x), 64, replace=False)]
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = encoder(batch)
            out = decoder(z)
            if decoder.layers[-1].get_config().get("activation") != "sigmoid":
                out = ops.sigmoid(out)
            recon = ops.mean(ops.sum(keras.losses.binary_crossentropy(batch, out), axis=(1, 2)))
            kl = ops.mean(ops.sum(-0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)), axis=1))
            loss = recon + kl
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
    return float(loss)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """enc.keras and dec.keras of a trained keras-io VAE (sigmoid decoder), plus a logits decoder."""
    root = tmp_path_factory.mktemp("keras_io")
    keras.utils.set_random_seed(0)
    enc, dec = keras_io_encoder(), keras_io_decoder()
    train_few_steps(enc, dec)
    enc.save(root / "enc.keras")
    dec.save(root / "dec.keras")
    keras_io_decoder(activation=None).save(root / "dec_logits.keras")
    return root


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------------- import, precompute, app

def test_keras_io_vae_imports_precomputes_and_opens_in_the_app(pair, tmp_path, monkeypatch, capsys):
    from streamlit.testing.v1 import AppTest

    from vae.precompute import precompute

    out = tmp_path / "mine"
    code = import_main(["--encoder", str(pair / "enc.keras"), "--decoder", str(pair / "dec.keras"),
                        "--dataset", "digits", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "cut off: sampling" in printed and "probabilities" in printed
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["dataset"], meta["dataset_spec"], meta["latent_dim"]) == ("digits", "digits", LATENT)
    assert meta["imported"]["mean_output"] == "z_mean" and meta["imported"]["logvar_output"] == "z_log_var"
    assert meta["imported"]["dropped_outputs"] == ["sampling"] and meta["imported"]["custom_layers"] == []
    with zipfile.ZipFile(out / "model.keras") as z:
        assert "Sampling" not in z.read("config.json").decode()  # cut off: its class is never needed again

    # the bundle gives what the user's own networks give, through this project's interface
    b = load_bundle(out)
    enc = keras.saving.load_model(pair / "enc.keras", custom_objects={"Sampling": Sampling}, safe_mode=True)
    dec = keras.saving.load_model(pair / "dec.keras", safe_mode=True)
    x = load_dataset("digits").x_test[:16]
    mean, logvar = b.encode(x)
    want_mean, want_logvar, _ = (np.asarray(t) for t in enc(x.astype("float32") / 255.0))
    np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logvar, want_logvar, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.decode(mean), np.asarray(dec(mean)), rtol=1e-5, atol=1e-5)

    precompute(out, split="test", no_tsne=True, no_umap=True, progress=False)
    monkeypatch.setenv("VAE_BUNDLE", str(out))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["show_inactive"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.get("plotly_chart"), "the map"
    html = " ".join(getattr(h, "proto", h).body for h in at.get("html") if hasattr(getattr(h, "proto", h), "body"))
    found = re.search(r'class="px reconstruction" src="data:image/png;base64,([^"]+)"', html)
    assert found and "Nearest neighbours" in html, "the inspector"
    sel = int(at.session_state.sel) if "sel" in at.session_state else 0
    pre_mean = at.session_state["_loaded"].pre.mean
    shown_recon = np.asarray(Image.open(io.BytesIO(base64.b64decode(found.group(1)))), np.float32) / 255.0
    np.testing.assert_allclose(shown_recon.reshape(8, 8, 1), b.decode(pre_mean[sel])[0], atol=1 / 255 + 1e-6)
    z = at.session_state["z"]
    shown = at.session_state["_now"]["x"]  # the decoder view's image at the current point
    assert shown.shape == (8, 8, 1) and 0.0 <= shown.min() and shown.max() <= 1.0
    np.testing.assert_allclose(shown, b.decode(z)[0], atol=1e-6)
    assert len([s for s in at.slider if (s.key or "").startswith("dim_")]) == LATENT
    at.switch_page("app_pages/model_card.py").run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_logits_decoder_is_detected_and_decodes_into_0_1(pair, tmp_path):
    meta = import_pair(pair / "enc.keras", pair / "dec_logits.keras", "digits", tmp_path / "b")
    assert meta["imported"]["decoder_output"] == "logits"
    b = load_bundle(tmp_path / "b")
    z = np.random.default_rng(0).normal(size=(32, LATENT)) * 3
    logits = np.asarray(keras.saving.load_model(pair / "dec_logits.keras", safe_mode=True)(z.astype("float32")))
    np.testing.assert_allclose(b.decode(z), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)


def test_outputs_can_be_chosen_by_name_or_position(pair, tmp_path):
    by_position = import_pair(pair / "enc.keras", pair / "dec.keras", "digits", tmp_path / "a", mean_output="0",
                              logvar_output="1")
    assert (by_position["imported"]["mean_output"], by_position["imported"]["logvar_output"]) == ("z_mean", "z_log_var")
    swapped = import_pair(pair / "enc.keras", pair / "dec.keras", "digits", tmp_path / "b", mean_output="z_log_var",
                          logvar_output="z_mean")
    assert swapped["imported"]["mean_output"] == "z_log_var"
    x = np.zeros((1, 8, 8, 1), np.uint8)
    m_a, lv_a = load_bundle(tmp_path / "a").encode(x)
    m_b, lv_b = load_bundle(tmp_path / "b").encode(x)
    np.testing.assert_allclose(m_b, lv_a, atol=1e-6)
    np.testing.assert_allclose(lv_b, m_a, atol=1e-6)


def test_a_flat_mlp_vae_with_lambda_sampling_and_a_sequential_decoder(tmp_path):
    """The older Keras-blog shape: flattened 64-pixel input, z sampled by a Lambda (cut off, never
    loaded), a Sequential decoder ending in Dense + sigmoid; --image-shape says what the 64 pixels are."""
    x = keras.Input(shape=(64,))
    h = layers.Dense(16, activation="relu")(x)
    mu, log_var = layers.Dense(LATENT, name="mu")(h), layers.Dense(LATENT, name="log_var")(h)
    z = layers.Lambda(lambda a: a[0] + ops.exp(0.5 * a[1]) * keras.random.normal(ops.shape(a[0])),
                      output_shape=(LATENT,))([mu, log_var])
    encoder = keras.Model(x, [mu, log_var, z])
    encoder.save(tmp_path / "enc.keras")
    keras.Sequential([keras.Input(shape=(LATENT,)), layers.Dense(16, activation="relu"),
                      layers.Dense(64, activation="sigmoid")]).save(tmp_path / "dec.keras")
    with pytest.raises(VAEError, match=r"takes inputs of shape \(64,\), not images.*--image-shape"):
        import_pair(tmp_path / "enc.keras", tmp_path / "dec.keras", "digits", tmp_path / "b")
    meta = import_pair(tmp_path / "enc.keras", tmp_path / "dec.keras", "digits", tmp_path / "b", image_shape=(8, 8, 1))
    assert (meta["imported"]["mean_output"], meta["imported"]["decoder_output"]) == ("mu", "probabilities")
    b = load_bundle(tmp_path / "b")
    images = load_dataset("digits").x_test[:4]
    want = np.asarray(encoder(images.reshape(4, 64).astype("float32") / 255.0)[0])
    np.testing.assert_allclose(b.encode(images)[0], want, atol=1e-5)
    assert b.decode(np.zeros(LATENT)).shape == (1, 8, 8, 1)


# ---------------------------------------------------------------------- custom layers

@pytest.fixture(scope="module")
def custom_pair(pair, tmp_path_factory):
    """A decoder with an unregistered custom layer class (Scale) defined in its own .py file."""
    root = tmp_path_factory.mktemp("custom")
    file = root / "my_layers.py"
    file.write_text(CUSTOM_LAYER_FILE)
    spec = importlib.util.spec_from_file_location("my_layers_for_test", file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    keras_io_decoder(extra=mod.Scale(0.5)).save(root / "dec.keras")
    return root


def test_a_custom_layer_not_registered_is_refused_naming_the_class(pair, custom_pair, tmp_path, capsys):
    code = import_main(["--encoder", str(pair / "enc.keras"), "--decoder", str(custom_pair / "dec.keras"),
                        "--dataset", "digits", "--out", str(tmp_path / "b")])
    err = _error(capsys)
    assert code == 1 and "'Scale'" in err and "--custom-layers" in err
    assert not (tmp_path / "b").exists()


def test_a_registered_custom_layer_loads_in_the_bundle_with_the_same_file(pair, custom_pair, tmp_path, monkeypatch):
    file = custom_pair / "my_layers.py"
    meta = import_pair(pair / "enc.keras", custom_pair / "dec.keras", "digits", tmp_path / "b", custom_layers=[file])
    assert meta["imported"]["custom_layers"] == ["Scale"]
    monkeypatch.delenv("VAE_CUSTOM_LAYERS", raising=False)
    with pytest.raises(BundleError, match=r"custom layer class 'Scale'.*VAE_CUSTOM_LAYERS"):
        load_bundle(tmp_path / "b").load_model()
    monkeypatch.setenv("VAE_CUSTOM_LAYERS", str(file))
    b = load_bundle(tmp_path / "b")
    dec = keras.saving.load_model(custom_pair / "dec.keras", safe_mode=True, custom_objects=custom_objects([file]))
    z = np.ones((2, LATENT), np.float32)
    np.testing.assert_allclose(b.decode(z), np.asarray(dec(z)), atol=1e-6)


def test_a_lambda_layer_on_a_kept_output_is_refused(pair, tmp_path):
    keras_io_decoder(extra=layers.Lambda(lambda t: t * 2.0)).save(tmp_path / "dec.keras")
    with pytest.raises(VAEError, match=r"Lambda layer .* never loaded"):
        import_pair(pair / "enc.keras", tmp_path / "dec.keras", "digits", tmp_path / "b")


# ---------------------------------------------------------------------- refusals

@pytest.mark.parametrize("flags, words", [
    (["--mean-output", "5"], "--mean-output 5 is not an output of the encoder, which has 3: 0 'z_mean', 1 'z_log_var', "
                             "2 'sampling'"),
    (["--logvar-output", "z_sigma"], "names no output of the encoder"),
    (["--mean-output", "z_mean", "--logvar-output", "0"], "both name output 0"),
    (["--decoder-output", "logits", "--dataset", "npz:/nonexistent/x.npz"], "/nonexistent/x.npz"),
    (["--custom-layers", "/nonexistent/my_layers.py"], "The custom layer file /nonexistent/my_layers.py does not exist"),
])
def test_wrong_outputs_are_refused_in_one_sentence(pair, tmp_path, capsys, flags, words):
    args = ["--encoder", str(pair / "enc.keras"), "--decoder", str(pair / "dec.keras"), "--dataset", "digits",
            "--out", str(tmp_path / "b")]
    code = import_main(args + flags)
    assert code == 1 and words in _error(capsys)
    assert not (tmp_path / "b").exists()


def test_encoder_and_decoder_latent_sizes_that_disagree_are_refused(pair, tmp_path):
    keras_io_decoder(latent_dim=LATENT + 2).save(tmp_path / "dec5.keras")
    with pytest.raises(VAEError, match=f"takes latent vectors of length {LATENT + 2} but the encoder gives {LATENT}"):
        import_pair(pair / "enc.keras", tmp_path / "dec5.keras", "digits", tmp_path / "b")


def test_a_decoder_whose_output_is_not_an_image_is_refused(pair, tmp_path):
    z = keras.Input(shape=(LATENT,))
    keras.Model(z, layers.Dense(10, activation="sigmoid")(z)).save(tmp_path / "dec10.keras")
    with pytest.raises(VAEError, match=r"outputs of shape \(10,\), not images of the encoder's input shape \(8, 8, 1\)"):
        import_pair(pair / "enc.keras", tmp_path / "dec10.keras", "digits", tmp_path / "b")


def test_a_decoder_ending_in_neither_sigmoid_nor_a_linear_layer_must_be_told(pair, tmp_path):
    z = keras.Input(shape=(LATENT,))
    x = layers.Reshape((8, 8, 1))(layers.Dense(64)(z))
    keras.Model(z, layers.ReLU()(x)).save(tmp_path / "dec_relu.keras")
    with pytest.raises(VAEError, match=r"Cannot tell whether the decoder gives logits or probabilities.*--decoder-output"):
        import_pair(pair / "enc.keras", tmp_path / "dec_relu.keras", "digits", tmp_path / "b")
    meta = import_pair(pair / "enc.keras", tmp_path / "dec_relu.keras", "digits", tmp_path / "b", decoder_output="logits")
    assert meta["imported"]["decoder_output_decided_by"] == "given with --decoder-output"


def test_probabilities_claimed_for_a_logits_decoder_are_refused(pair, tmp_path):
    with pytest.raises(VAEError, match="taken to give probabilities but gives values from"):
        import_pair(pair / "enc.keras", pair / "dec_logits.keras", "digits", tmp_path / "b",
                    decoder_output="probabilities")


def test_files_that_are_not_keras_models_are_refused(pair, tmp_path, capsys):
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    code = import_main(["--encoder", str(tmp_path / "junk.keras"), "--decoder", str(pair / "dec.keras"),
                        "--dataset", "digits", "--out", str(tmp_path / "b")])
    assert code == 1 and "is not a Keras 3 .keras file" in _error(capsys)
    (tmp_path / "file").write_text("mine")
    code = import_main(["--encoder", str(pair / "enc.keras"), "--decoder", str(pair / "dec.keras"),
                        "--dataset", "digits", "--out", str(tmp_path / "file")])
    assert code == 1 and "not a bundle folder" in _error(capsys)
    assert (tmp_path / "file").read_text() == "mine"


@pytest.fixture(scope="module")
def imported_bundle(pair, tmp_path_factory):
    """An imported bundle folder (copy it before changing it)."""
    out = tmp_path_factory.mktemp("imported") / "b"
    import_pair(pair / "enc.keras", pair / "dec.keras", "digits", out)
    return out


def _edit_last_decoder_layer(bundle, edit) -> None:
    model = bundle / "model.keras"
    with zipfile.ZipFile(model) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    edit(config["config"]["decoder"]["config"]["layers"][-1])
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)


@pytest.mark.parametrize("edit, words", [
    (lambda layer: layer.update(class_name="Lambda"), "could not be loaded safely: it holds a Lambda layer"),
    (lambda layer: layer["config"].update(function={"class_name": "__lambda__", "config": {"code": "x"}}),
     "could not be loaded safely: it holds a serialized '__lambda__'"),
    (lambda layer: layer.update(module="os", class_name="system", registered_name=None),
     "uses the custom layer class 'system'"),
    (lambda layer: layer["config"].update(activation={"module": "builtins", "class_name": "function",
                                                       "config": "eval", "registered_name": "function"}),
     "uses the custom layer class 'eval'"),
    (lambda layer: layer.update(module="keras.src.saving.saving_lib", class_name="load_model"),
     "could not be loaded safely: it holds the Keras object keras.src.saving.saving_lib.load_model"),
])
def test_an_edited_imported_bundle_is_refused_before_keras_runs_anything(imported_bundle, tmp_path, monkeypatch,
                                                                         edit, words):
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(imported_bundle, bundle)
    _edit_last_decoder_layer(bundle, edit)
    monkeypatch.delenv("VAE_CUSTOM_LAYERS", raising=False)
    with pytest.raises(BundleError, match=re.escape(words)):
        load_bundle(bundle, verify=False).load_model()


def _keras_file(path, config: bytes) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", config)
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"")


@pytest.mark.parametrize("config, words", [
    (b"[" * 100_000 + b"]" * 100_000, "is damaged (RecursionError)"),
    (json.dumps({"class_name": "Functional", "config": {"layers": [{"a": [[[[[[0]]]]]]}] * 1}}).encode()
     .replace(b"0", b"[" * 300 + b"0" + b"]" * 300), "too large or too deeply nested"),
    (b'{"class_name": "MyVAE", "config": {}}', "holds a 'MyVAE', not a functional or sequential Keras model"),
])
def test_hostile_or_subclassed_model_files_are_refused_in_one_sentence(tmp_path, config, words):
    _keras_file(tmp_path / "enc.keras", config)
    with pytest.raises(VAEError, match=re.escape(words)):
        import_pair(tmp_path / "enc.keras", tmp_path / "enc.keras", "digits", tmp_path / "b")


def test_a_deeply_nested_bundle_config_is_refused_by_the_loader(imported_bundle, tmp_path):
    import shutil

    shutil.copytree(imported_bundle, tmp_path / "b")
    model = tmp_path / "b" / "model.keras"
    with zipfile.ZipFile(model) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["config.json"] = b"[" * 100_000 + b"]" * 100_000
    with zipfile.ZipFile(model, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(BundleError, match=re.escape("its archive is unreadable (RecursionError)")):
        load_bundle(tmp_path / "b", verify=False)


def test_the_script_refuses_bad_flags_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        import_main(["--encoder", "e", "--decoder", "d", "--dataset", "digits", "--out", "o", "--input-range", "1,0"])
    assert exit_info.value.code == 2 and "--input-range" in _error(capsys)
