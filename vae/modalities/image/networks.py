"""The image networks: a convolutional encoder q(z|x) and a decoder p(x|z) of Bernoulli pixels.

    spec = ImageSpec(image_shape=(28, 28, 1))
    encoder, decoder = build_encoder(spec, latent_dim=16), build_decoder(spec, latent_dim=16)

As many stride-2 stages as the size allows (28 -> 14 -> 7, 8 -> 4, 64 -> 32 -> 16 -> 8 -> 4), mirrored in
the decoder. Plain Keras layers only: the model loads with `safe_mode=True`.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from .spec import ImageSpec

def build_encoder(spec: ImageSpec, latent_dim: int, num_classes: int = 0) -> keras.Model:
    """Image (and one-hot label) -> posterior mean and log-variance, each (B, d)."""
    image = keras.Input(shape=spec.image_shape, name="image")
    inputs = [image]
    h = image
    for stage in range(max(spec.stages, 1)):
        for k in range(spec.convs_per_stage):
            stride = 2 if (spec.stages and k == 0) else 1
            h = layers.Conv2D(spec.filters(stage), 3, strides=stride, padding="same", activation="relu")(h)
    h = layers.Flatten()(h)
    if num_classes:
        label = keras.Input(shape=(num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    if spec.hidden_units:
        h = layers.Dense(spec.hidden_units, activation="relu")(h)
    # heads and logits stay float32 under a mixed-precision policy
    mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    logvar = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
    return keras.Model(inputs, [mean, logvar], name="encoder")


def build_decoder(spec: ImageSpec, latent_dim: int, num_classes: int = 0) -> keras.Model:
    """Latent (and one-hot label) -> pixel logits (B, H, W, C)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    h = z
    if num_classes:
        label = keras.Input(shape=(num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    if spec.hidden_units:
        h = layers.Dense(spec.hidden_units, activation="relu")(h)
    height, width, channels = spec.image_shape
    s = spec.stages
    top = spec.filters(max(s - 1, 0))
    h = layers.Dense((height >> s) * (width >> s) * top, activation="relu")(h)
    h = layers.Reshape((height >> s, width >> s, top))(h)
    for stage in reversed(range(s)):
        h = layers.Conv2DTranspose(spec.filters(stage), 3, strides=2, padding="same", activation="relu")(h)
        for _ in range(spec.convs_per_stage - 1):
            h = layers.Conv2D(spec.filters(stage), 3, padding="same", activation="relu")(h)
    logits = layers.Conv2D(channels, 3, padding="same", name="logits", dtype="float32")(h)
    return keras.Model(inputs, logits, name="decoder")


def bernoulli_nll(x, logits):
    """-log p(x|z) per image in nats, (B,): sigmoid cross-entropy summed over pixels."""
    per_pixel = ops.relu(logits) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1)
