"""The Keras 3 VAE: a convolutional encoder q(z|x), a decoder p(x|z) of Bernoulli pixels, and its loss.

    from vae.model import VAE, VAEConfig
    model = VAE(**VAEConfig(image_shape=(28, 28, 1), latent_dim=16).to_dict())

The network is built from the image shape: as many stride-2 stages as the size allows
(28 -> 14 -> 7, 8 -> 4, 64 -> 32 -> 16 -> 8 -> 4), mirrored in the decoder.
Saved as a native `.keras` file that loads with `safe_mode=True`: no Lambda layers, no pickle.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf
from keras import layers, ops

from . import limits
from .errors import VAEError

MAX_STAGES = limits.MAX_STAGES


@dataclasses.dataclass
class VAEConfig:
    """Hyper-parameters of one VAE; the bundle stores them and loading rebuilds from them."""

    image_shape: tuple = (28, 28, 1)
    latent_dim: int = 16
    beta: float = 1.0
    conditional: bool = False
    num_classes: int = 0
    base_filters: int = 32
    hidden_units: int = 256
    convs_per_stage: int = 1

    def __post_init__(self):
        shape = tuple(int(s) for s in self.image_shape)
        if len(shape) != 3 or min(shape) < 1 or shape[2] not in (1, 3):
            raise VAEError(f"image_shape must be (height, width, 1 or 3 channels), got {self.image_shape}.")
        self.image_shape = shape
        if int(self.latent_dim) < 1:
            raise VAEError(f"latent_dim must be at least 1, got {self.latent_dim}.")
        self.latent_dim = int(self.latent_dim)
        if not math.isfinite(float(self.beta)) or float(self.beta) < 0:
            raise VAEError(f"beta must be a finite number >= 0, got {self.beta}.")
        self.beta = float(self.beta)
        if self.conditional and int(self.num_classes) < 2:
            raise VAEError("A conditional VAE needs labelled data with at least 2 classes.")
        if int(self.base_filters) < 1 or int(self.convs_per_stage) < 1 or int(self.hidden_units) < 0:
            raise VAEError("base_filters and convs_per_stage must be >= 1 and hidden_units >= 0.")
        # before any layer is built: a model of 10^9 weights is refused here, not by an allocator
        limits.check_model_size(image_shape=shape, latent_dim=self.latent_dim, conditional=bool(self.conditional),
                                num_classes=int(self.num_classes), base_filters=int(self.base_filters),
                                hidden_units=int(self.hidden_units), convs_per_stage=int(self.convs_per_stage))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["image_shape"] = list(self.image_shape)
        return d

    @property
    def stages(self) -> int:
        """Number of stride-2 stages: halve while both sides are even and stay >= 4."""
        h, w, _ = self.image_shape
        n = 0
        while n < MAX_STAGES and h % 2 == 0 and w % 2 == 0 and min(h, w) // 2 >= 4:
            h, w, n = h // 2, w // 2, n + 1
        return n

    def filters(self, stage: int) -> int:
        return self.base_filters * 2 ** stage


def build_encoder(cfg: VAEConfig) -> keras.Model:
    """Image (and one-hot label) -> posterior mean and log-variance, each (B, d)."""
    image = keras.Input(shape=cfg.image_shape, name="image")
    inputs = [image]
    h = image
    for stage in range(max(cfg.stages, 1)):
        for k in range(cfg.convs_per_stage):
            stride = 2 if (cfg.stages and k == 0) else 1
            h = layers.Conv2D(cfg.filters(stage), 3, strides=stride, padding="same", activation="relu")(h)
    h = layers.Flatten()(h)
    if cfg.conditional:
        label = keras.Input(shape=(cfg.num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    if cfg.hidden_units:
        h = layers.Dense(cfg.hidden_units, activation="relu")(h)
    # heads and logits stay float32 under a mixed-precision policy
    mean = layers.Dense(cfg.latent_dim, name="z_mean", dtype="float32")(h)
    logvar = layers.Dense(cfg.latent_dim, name="z_log_var", dtype="float32")(h)
    return keras.Model(inputs, [mean, logvar], name="encoder")


def build_decoder(cfg: VAEConfig) -> keras.Model:
    """Latent (and one-hot label) -> pixel logits (B, H, W, C)."""
    z = keras.Input(shape=(cfg.latent_dim,), name="z")
    inputs = [z]
    h = z
    if cfg.conditional:
        label = keras.Input(shape=(cfg.num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    if cfg.hidden_units:
        h = layers.Dense(cfg.hidden_units, activation="relu")(h)
    height, width, channels = cfg.image_shape
    s = cfg.stages
    top = cfg.filters(max(s - 1, 0))
    h = layers.Dense((height >> s) * (width >> s) * top, activation="relu")(h)
    h = layers.Reshape((height >> s, width >> s, top))(h)
    for stage in reversed(range(s)):
        h = layers.Conv2DTranspose(cfg.filters(stage), 3, strides=2, padding="same", activation="relu")(h)
        for _ in range(cfg.convs_per_stage - 1):
            h = layers.Conv2D(cfg.filters(stage), 3, padding="same", activation="relu")(h)
    logits = layers.Conv2D(channels, 3, padding="same", name="logits", dtype="float32")(h)
    return keras.Model(inputs, logits, name="decoder")


def bernoulli_nll(x, logits):
    """-log p(x|z) per image in nats, (B,): sigmoid cross-entropy summed over pixels."""
    per_pixel = ops.relu(logits) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1)


def gaussian_kl(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) per image in nats, (B,), closed form."""
    return -0.5 * ops.sum(1.0 + logvar - ops.square(mean) - ops.exp(logvar), axis=1)


@keras.saving.register_keras_serializable(package="vae")
class VAE(keras.Model):
    """Variational autoencoder with a Bernoulli decoder and a beta-weighted closed-form KL."""

    def __init__(self, image_shape=(28, 28, 1), latent_dim=16, beta=1.0, conditional=False,
                 num_classes=0, base_filters=32, hidden_units=256, convs_per_stage=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = VAEConfig(image_shape, latent_dim, beta, conditional, num_classes,
                                base_filters, hidden_units, convs_per_stage)
        self.encoder = build_encoder(self.config)
        self.decoder = build_decoder(self.config)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.kl_warmup_steps = 0  # training setting, not saved: beta ramps up from 0 over this many steps
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
        return ops.one_hot(ops.cast(labels, "int32"), self.config.num_classes)

    def encode(self, x, labels=None, training=False):
        x = ops.convert_to_tensor(x)
        inputs = [x, self._onehot(labels)] if self.config.conditional else x
        return self.encoder(inputs, training=training)

    def reparameterize(self, mean, logvar):
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * logvar) * eps

    def decode(self, z, labels=None, apply_sigmoid=False, training=False):
        z = ops.convert_to_tensor(z)
        inputs = [z, self._onehot(labels)] if self.config.conditional else z
        logits = self.decoder(inputs, training=training)
        return ops.sigmoid(logits) if apply_sigmoid else logits

    def call(self, inputs, training=False):
        """Reconstruction probabilities of a batch: inputs is an image batch or {"image", "label"}."""
        x, labels = _unpack(inputs)
        mean, logvar = self.encode(x, labels, training=training)
        z = self.reparameterize(mean, logvar) if training else mean
        return self.decode(z, labels, apply_sigmoid=True, training=training)

    def compute_terms(self, x, labels=None, training=False):
        """Per-image reconstruction NLL and KL, each (B,), from one posterior sample."""
        mean, logvar = self.encode(x, labels, training=training)
        z = self.reparameterize(mean, logvar)
        logits = self.decode(z, labels, training=training)
        return bernoulli_nll(x, logits), gaussian_kl(mean, logvar)

    def _update(self, recon, kl):
        loss = ops.mean(recon + self.config.beta * kl)
        self.loss_tracker.update_state(loss)
        self.recon_tracker.update_state(ops.mean(recon))
        self.kl_tracker.update_state(ops.mean(kl))
        return loss

    def train_step(self, data):
        x, labels = _unpack(data)
        with tf.GradientTape() as tape:
            recon, kl = self.compute_terms(x, labels, training=True)
            beta = self.config.beta
            if self.kl_warmup_steps:  # KL annealing (Bowman et al. 2016): fewer collapsed latent units
                step = ops.cast(self.optimizer.iterations + 1, "float32")
                beta = beta * ops.minimum(1.0, step / float(self.kl_warmup_steps))
            loss = ops.mean(recon + beta * kl)
            # the optimizer sums gradients over replicas (tf.distribute): average them instead
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self._update(recon, kl)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, labels = _unpack(data)
        self._update(*self.compute_terms(x, labels))
        return {m.name: m.result() for m in self.metrics}


def _unpack(data):
    """A batch as (images, labels or None) from a tensor, a tuple or a {"image", "label"} dict."""
    if isinstance(data, dict):
        return data["image"], data.get("label")
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
