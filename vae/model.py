"""The Keras 3 VAE, generic over the kind of data: a modality's encoder q(z|x) and decoder p(x|z),
the reparameterisation, and the beta-weighted closed-form KL.

    from vae.model import VAE
    model = VAE(image_shape=(28, 28, 1), latent_dim=16)        # images (the default modality)
    model = VAE(modality="melody", latent_dim=32, ...)         # the modality's settings as keywords

The networks and the likelihood come from the modality (vae/modalities/); this class only composes them.
Saved as a native `.keras` file that loads with `safe_mode=True`: no Lambda layers, no pickle. Its config is
flat: modality, latent_dim, beta, conditional, num_classes and the modality's settings (older files: image).
"""
from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf
from keras import ops

from . import modalities
from .errors import VAEError


@dataclasses.dataclass
class VAEConfig:
    """What every VAE has, whatever its data; `spec` holds the modality's own settings. The bundle stores both."""

    modality: str = modalities.DEFAULT
    latent_dim: int = 16
    beta: float = 1.0
    conditional: bool = False
    num_classes: int = 0
    spec: object = None

    def __post_init__(self):
        m = modalities.get(self.modality)
        if int(self.latent_dim) < 1:
            raise VAEError(f"latent_dim must be at least 1, got {self.latent_dim}.")
        self.latent_dim = int(self.latent_dim)
        if not math.isfinite(float(self.beta)) or float(self.beta) < 0:
            raise VAEError(f"beta must be a finite number >= 0, got {self.beta}.")
        self.beta = float(self.beta)
        self.conditional, self.num_classes = bool(self.conditional), int(self.num_classes)
        if self.conditional and self.num_classes < 2:
            raise VAEError("A conditional VAE needs labelled data with at least 2 classes.")
        if self.spec is None or isinstance(self.spec, dict):
            self.spec = m.spec_class(**(self.spec or {}))
        if hasattr(self.spec, "check_size"):
            self.spec.check_size(self.latent_dim, self.label_width)

    @classmethod
    def from_flat(cls, config: dict) -> VAEConfig:
        """From a flat dict (a model's get_config, meta.json "model"): the modality's keys go to its spec."""
        name = config.get("modality") or modalities.DEFAULT
        fields = {f.name for f in dataclasses.fields(modalities.get(name).spec_class)}
        return cls(name, config.get("latent_dim", 16), config.get("beta", 1.0), config.get("conditional", False),
                   config.get("num_classes", 0) or 0, {k: v for k, v in config.items() if k in fields})

    @property
    def label_width(self) -> int:
        """Width of the one-hot label the networks take: the class count when conditional, else 0."""
        return self.num_classes if self.conditional else 0

    @property
    def input_shape(self) -> tuple:
        return tuple(self.spec.input_shape)

    def to_dict(self) -> dict:
        return {"modality": self.modality, "latent_dim": self.latent_dim, "beta": self.beta,
                "conditional": self.conditional, "num_classes": self.num_classes, **self.spec.to_dict()}

    def __getattr__(self, name):  # the modality's settings read as the config's own (cfg.image_shape)
        if name != "spec" and "spec" in self.__dict__:
            return getattr(self.__dict__["spec"], name)
        raise AttributeError(name)


LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl_per_dim(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) per example and dimension in nats, (B, d), closed form."""
    return -0.5 * (1.0 + logvar - ops.square(mean) - ops.exp(logvar))


def gaussian_kl(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) per example in nats, (B,), closed form."""
    return ops.sum(gaussian_kl_per_dim(mean, logvar), axis=1)


def log_normal(z, mean, logvar):
    """log N(z; mean, exp(logvar)) summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + logvar + ops.square(z - mean) * ops.exp(-logvar), axis=-1)


def free_bits_kl(per_dim, free_bits: float):
    """The KL the optimiser sees, (B,) from (B, d): with free bits, each dimension's batch-mean KL below the floor
    costs nothing (Kingma et al. 2016)."""
    if not free_bits:
        return ops.sum(per_dim, axis=1)
    return ops.sum(ops.maximum(ops.mean(per_dim, axis=0), free_bits)) * ops.ones_like(per_dim[:, 0])


_KERAS_KEYS = ("name", "trainable", "dtype")


@keras.saving.register_keras_serializable(package="vae")
class VAE(keras.Model):
    """Variational autoencoder: the modality's networks and likelihood, a beta-weighted closed-form KL."""

    def __init__(self, modality=modalities.DEFAULT, latent_dim=16, beta=1.0, conditional=False, num_classes=0,
                 seed=None, **kwargs):
        base = {k: kwargs.pop(k) for k in _KERAS_KEYS if k in kwargs}
        super().__init__(**base)
        self.config = VAEConfig.from_flat({"modality": modality, "latent_dim": latent_dim, "beta": beta,
                                           "conditional": conditional, "num_classes": num_classes, **kwargs})
        unknown = set(kwargs) - set(self.config.spec.to_dict())
        if unknown:
            raise VAEError(f"Unknown setting(s) {', '.join(sorted(unknown))} for a {self.config.modality} VAE.")
        self.modality = modalities.get(self.config.modality)
        cfg = self.config
        self.encoder = self.modality.build_encoder(cfg.spec, cfg.latent_dim, cfg.label_width)
        self.decoder = self.modality.build_decoder(cfg.spec, cfg.latent_dim, cfg.label_width)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.kl_warmup_steps = 0  # training setting, not saved: beta ramps up from 0 over this many steps
        self.kl_cycle_steps = 0   # training setting, not saved: cyclical annealing, one ramp per this many steps
        self.free_bits = 0.0      # training setting, not saved: nats per dimension the KL term does not push below
        self.zero_latent = False  # training setting, not saved: the decoder alone (z = 0, no KL), an anchor
        self.built = True

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def metrics(self):
        return [self.loss_tracker, self.recon_tracker, self.kl_tracker]

    def _onehot(self, labels):
        return ops.one_hot(ops.cast(labels, "int32"), self.config.num_classes) if self.config.conditional else None

    def encode(self, x, labels=None, training=False):
        """Posterior mean and log-variance (B, d) of a batch in the encoder's input form (model_input)."""
        x = ops.convert_to_tensor(x)
        onehot = self._onehot(labels)
        return self.encoder([x, onehot] if onehot is not None else x, training=training)

    def reparameterize(self, mean, logvar):
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * logvar) * eps

    def generate(self, z, labels=None):
        """The decoded form of z: the mean image, or the greedy token sequence."""
        return self.modality.generate(self.decoder, ops.convert_to_tensor(z), self._onehot(labels))

    def decode(self, z, labels=None, apply_sigmoid=False, training=False):
        """Images only: the decoder's pixel logits (or probabilities with apply_sigmoid)."""
        logits = self.modality.decoder_logits(self.decoder, ops.convert_to_tensor(z), self._onehot(labels), training)
        return ops.sigmoid(logits) if apply_sigmoid else logits

    def nll(self, z, x, labels=None, training=False):
        """-log p(x|z) per example in nats, (B,); x in the encoder's input form."""
        return self.modality.nll(self.decoder, ops.convert_to_tensor(z), ops.convert_to_tensor(x), self._onehot(labels),
                                 training=training)

    def call(self, inputs, training=False):
        """The decoded form of a batch's posterior means: inputs is a batch or {"x", "label"}."""
        x, labels = _unpack(inputs)
        mean, _ = self.encode(x, labels, training=training)
        return self.generate(mean, labels)

    def compute_terms(self, x, labels=None, training=False):
        """Per-example reconstruction NLL and KL, each (B,), from one posterior sample."""
        mean, logvar = self.encode(x, labels, training=training)
        z = self.reparameterize(mean, logvar)
        return self.nll(z, x, labels, training=training), gaussian_kl(mean, logvar)

    def _update(self, recon, kl):
        loss = ops.mean(recon + self.config.beta * kl)
        self.loss_tracker.update_state(loss)
        self.recon_tracker.update_state(ops.mean(recon))
        self.kl_tracker.update_state(ops.mean(kl))
        return loss

    def _kl_term(self, mean, logvar):
        """The KL the optimiser sees (free bits: vae.model.free_bits_kl)."""
        return free_bits_kl(gaussian_kl_per_dim(mean, logvar), self.free_bits)

    def train_step(self, data):
        x, labels = _unpack(data)
        with tf.GradientTape() as tape:
            mean, logvar = self.encode(x, labels, training=True)
            z = self.reparameterize(mean, logvar)
            if self.zero_latent:
                z = 0.0 * z
            recon = self.nll(z, x, labels, training=True)
            kl = gaussian_kl(mean, logvar)
            beta = self.config.beta * kl_weight(self.optimizer.iterations, self.kl_warmup_steps, self.kl_cycle_steps)
            if self.zero_latent:
                beta = 0.0
            loss = ops.mean(recon + beta * self._kl_term(mean, logvar))
            # the optimizer sums gradients over replicas (tf.distribute): average them instead
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self._update(recon, ops.zeros_like(kl) if self.zero_latent else kl)  # the anchor pays no KL
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, labels = _unpack(data)
        if self.zero_latent:  # the anchor's exact -log p(x): its decoder fed z = 0, no latent to pay for
            z = ops.zeros((ops.shape(x)[0], self.config.latent_dim))
            recon = self.nll(z, x, labels)
            self._update(recon, ops.zeros_like(recon))
        else:
            self._update(*self.compute_terms(x, labels))
        return {m.name: m.result() for m in self.metrics}


def kl_weight(iterations, warmup_steps: int = 0, cycle_steps: int = 0):
    """The KL term's weight (times beta) after `iterations` optimizer steps: 1; a linear ramp from 0 over
    warmup_steps (KL annealing, Bowman et al. 2016); or, with cycle_steps, a ramp over the first half of
    every cycle of that length and 1 for its second half (cyclical annealing, Fu et al. 2019)."""
    step = ops.cast(iterations, "float32")
    if cycle_steps:
        return ops.minimum(1.0, (ops.mod(step, float(cycle_steps)) + 1.0) / max(1.0, cycle_steps / 2))
    if warmup_steps:
        return ops.minimum(1.0, (step + 1.0) / float(warmup_steps))
    return ops.ones_like(step)


def _unpack(data):
    """A batch as (x, labels or None) from a tensor, a tuple or a {"x" (or "image"), "label"} dict."""
    if isinstance(data, dict):
        return (data["x"] if "x" in data else data["image"]), data.get("label")
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


def layer_table(model) -> list[dict]:
    """The model's layer structure for a model card: one row per layer of its encoder and decoder (or of
    the model itself when it has neither), with network, layer name, type, output shape and parameters."""
    nets = [(name, getattr(model, name)) for name in ("encoder", "decoder") if hasattr(getattr(model, name, None), "layers")]
    rows = []
    for net, sub in nets or [(getattr(model, "name", "model"), model)]:
        for layer in sub.layers:
            try:
                shape = layer.output.shape
                shape = ", ".join(str(s) for s in (shape[0] if isinstance(shape, list) else shape))
            except (AttributeError, ValueError):  # a layer used twice, or not built: no single output
                shape = ""
            try:
                params = int(layer.count_params())
            except ValueError:  # not built
                params = 0
            rows.append({"network": net, "layer": layer.name, "type": type(layer).__name__,
                         "output shape": f"({shape})" if shape else "", "parameters": params})
    return rows
