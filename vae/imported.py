"""A VAE trained elsewhere: a separately built Keras encoder and decoder behind this project's interface.

    python scripts/import_model.py --encoder enc.keras --decoder dec.keras --dataset digits --out pretrained/mine

`ImportedVAE` holds the user's functional encoder (image -> posterior mean and log-variance, the sampled
z already cut off) and decoder (z -> image logits or probabilities), and answers the same `encode` /
`decode(apply_sigmoid=...)` / `compute_terms` calls as `vae.model.VAE`, so bundles, precompute, evaluate
and the app treat it like a model of this project. Saved as a `.keras` file that loads with
`safe_mode=True`; custom layer classes load only from the files named by $VAE_CUSTOM_LAYERS (see `custom_objects`).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import threading
from pathlib import Path

import keras
from keras import ops

from .errors import VAEError
from .model import gaussian_kl
from .modalities.image.networks import bernoulli_nll

# Python files (os.pathsep-separated) whose layer classes are registered with
# @keras.saving.register_keras_serializable; read by the app, precompute and evaluate.
CUSTOM_LAYERS_ENV = "VAE_CUSTOM_LAYERS"
DECODER_OUTPUTS = ("logits", "probabilities")
PROB_EPS = 1e-6  # probabilities are clipped to [eps, 1 - eps] before their logit is taken


@dataclasses.dataclass
class ImportedConfig:
    """What the bundle needs to know of an imported pair; the rest lives in the user's networks."""

    image_shape: tuple = (28, 28, 1)
    latent_dim: int = 2
    decoder_output: str = "logits"   # what the decoder's last layer gives: "logits" or "probabilities"
    input_range: tuple = (0.0, 1.0)  # the pixel range the encoder was trained on
    conditional: bool = False
    num_classes: int = 0

    def __post_init__(self):
        self.image_shape = tuple(int(s) for s in self.image_shape)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1 or self.image_shape[2] not in (1, 3):
            raise VAEError(f"image_shape must be (height, width, 1 or 3 channels), got {self.image_shape}.")
        self.latent_dim = int(self.latent_dim)
        if self.latent_dim < 1:
            raise VAEError(f"latent_dim must be at least 1, got {self.latent_dim}.")
        if self.decoder_output not in DECODER_OUTPUTS:
            raise VAEError(f"decoder_output must be one of {', '.join(DECODER_OUTPUTS)}, got {self.decoder_output!r}.")
        low, high = (float(v) for v in self.input_range)
        if not low < high:
            raise VAEError(f"input_range must be (low, high) with low < high, got {self.input_range}.")
        self.input_range = (low, high)
        if self.conditional:
            raise VAEError("Imported models are unconditional: the decoder takes z only.")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["image_shape"], d["input_range"] = list(self.image_shape), list(self.input_range)
        return d

    modality = "image"  # imported pairs are image VAEs
    spec = property(lambda self: self)  # its own spec: image_shape, input_shape

    @property
    def input_shape(self) -> tuple:
        return self.image_shape


@keras.saving.register_keras_serializable(package="vae")
class ImportedVAE(keras.Model):
    """A user's functional encoder and decoder, seen as this project's VAE (unconditional, Bernoulli pixels)."""

    def __init__(self, encoder, decoder, image_shape=(28, 28, 1), latent_dim=2, decoder_output="logits",
                 input_range=(0.0, 1.0), conditional=False, num_classes=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = ImportedConfig(image_shape, latent_dim, decoder_output, input_range, conditional, num_classes)
        self.encoder = encoder if isinstance(encoder, keras.Model) else keras.saving.deserialize_keras_object(encoder)
        self.decoder = decoder if isinstance(decoder, keras.Model) else keras.saving.deserialize_keras_object(decoder)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def modality(self):
        from . import modalities

        return modalities.get("image")

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict(),
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def encode(self, x, labels=None, training=False):
        """Images in [0, 1], (B, H, W, C) -> posterior mean and log-variance, each (B, d)."""
        x = ops.convert_to_tensor(x)
        low, high = self.config.input_range
        x = x * (high - low) + low
        x = ops.reshape(x, (-1, *self.encoder.inputs[0].shape[1:]))  # e.g. (B, H, W) or (B, H*W*C) networks
        mean, logvar = self.encoder(x, training=training)
        return ops.cast(mean, "float32"), ops.cast(logvar, "float32")

    def reparameterize(self, mean, logvar):
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * logvar) * eps

    def decode(self, z, labels=None, apply_sigmoid=False, training=False):
        """Latent (B, d) -> pixel logits, or with apply_sigmoid probabilities in [0, 1], (B, H, W, C)."""
        out = ops.cast(self.decoder(ops.convert_to_tensor(z), training=training), "float32")
        out = ops.reshape(out, (-1, *self.config.image_shape))
        if self.config.decoder_output == "logits":
            return ops.sigmoid(out) if apply_sigmoid else out
        p = ops.clip(out, 0.0, 1.0)
        if apply_sigmoid:
            return p
        p = ops.clip(p, PROB_EPS, 1.0 - PROB_EPS)
        return ops.log(p) - ops.log1p(-p)  # the logits whose sigmoid is p, for the Bernoulli likelihood

    def generate(self, z, labels=None):
        """The decoder's mean image in [0, 1] (the modality seam's decoded form)."""
        return self.decode(z, apply_sigmoid=True)

    def nll(self, z, x, labels=None, training=False):
        """-log p(x|z) per image in nats, (B,)."""
        return bernoulli_nll(ops.convert_to_tensor(x, "float32"), self.decode(z, training=training))

    def call(self, inputs, training=False):
        """Reconstruction probabilities of an image batch (posterior mean decoded)."""
        mean, _ = self.encode(inputs, training=training)
        return self.decode(mean, apply_sigmoid=True, training=training)

    def compute_terms(self, x, labels=None, training=False):
        """Per-image reconstruction NLL and KL, each (B,), from one posterior sample."""
        mean, logvar = self.encode(x, training=training)
        logits = self.decode(self.reparameterize(mean, logvar), training=training)
        return bernoulli_nll(ops.convert_to_tensor(x, "float32"), logits), gaussian_kl(mean, logvar)


def custom_layer_files() -> list[Path]:
    """The Python files named by $VAE_CUSTOM_LAYERS (separated by os.pathsep), in order."""
    return [Path(p).expanduser() for p in os.environ.get(CUSTOM_LAYERS_ENV, "").split(os.pathsep) if p.strip()]


_MODULES: dict[str, object] = {}  # resolved path -> the module run from it (each file runs once per process)
_MODULES_LOCK = threading.Lock()   # bundles load their models on their own threads


def custom_objects(files=None) -> dict:
    """{name: class or function} defined in the given Python files (default: $VAE_CUSTOM_LAYERS), under
    both their Python name and their Keras registered name, for keras.saving.load_model(custom_objects=...).

    These files are code the person running the command chose (a flag or an environment variable),
    never anything a bundle, a model file or a URL names. Registration with
    @keras.saving.register_keras_serializable is welcome but not needed: a model saved while its
    class was unregistered names the class by its Python name."""
    with _MODULES_LOCK:
        return _custom_objects_locked(custom_layer_files() if files is None else [Path(p).expanduser() for p in files])


def _custom_objects_locked(files: list[Path]) -> dict:
    found = {}
    for f in files:
        key = str(f.resolve())
        if key not in _MODULES:
            if not f.is_file():
                raise VAEError(f"The custom layer file {f} does not exist: give the path of the .py file that "
                               "defines your layer classes.")
            spec = importlib.util.spec_from_file_location(f"vae_custom_layers_{len(_MODULES)}", f)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[spec.name]
                first = str(exc).splitlines()[0][:120] if str(exc) else ""
                raise VAEError(f"The custom layer file {f} failed to run ({exc.__class__.__name__}: {first}): fix it "
                               "and try again.") from exc
            _MODULES[key] = module
        module = _MODULES[key]
        for name, obj in vars(module).items():
            defined_here = getattr(obj, "__module__", None) == module.__name__
            if defined_here and (isinstance(obj, type) and issubclass(obj, keras.layers.Layer) or callable(obj)):
                found[name] = obj
                found[keras.saving.get_registered_name(obj)] = obj
    return found


def custom_objects_for(model_file: Path) -> dict:
    """The custom objects an imported bundle's model.keras needs, from $VAE_CUSTOM_LAYERS ({} for this
    project's own VAE); refuses, naming the class, when one is not provided."""
    import json
    import zipfile

    from .errors import BundleError
    from .keras_config import check_imported, missing_names

    try:
        with zipfile.ZipFile(model_file) as z:
            config = json.loads(z.read("config.json"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}  # the loader says what is wrong with the file
    if not isinstance(config, dict) or config.get("registered_name") != "vae>ImportedVAE":
        return {}
    _, names = check_imported(config)
    try:
        objects = custom_objects() if names else {}
    except VAEError as exc:
        raise BundleError(str(exc)) from exc
    missing = missing_names(names, objects)
    if missing:
        raise BundleError(f"model.keras in {model_file.parent} uses the custom layer class {missing[0]!r}: set "
                          f"{CUSTOM_LAYERS_ENV}=FILE.py, the file that defines it, before starting the app or script.")
    return objects
