"""The sentence VAE's networks (Bowman et al. 2016): a bidirectional GRU encoder and a GRU decoder fed z.

    enc = build_encoder(spec, latent_dim=16)               # ids (B, T) -> [mean, logvar] (B, d)
    dec = build_decoder(spec, latent_dim=16)               # [z (B, d), inputs (B, T)] -> logits (B, T, V)
    nll(dec, z, ids)                                        # -log p(x|z) per sentence, teacher forcing, (B,)
    greedy(dec, z)                                          # (B, T) ids, one compiled loop

z conditions the decoder twice: it sets the GRU's initial state and is concatenated to every input
embedding, so the decoder cannot forget it over 120 characters. In training the decoder's inputs are
partly replaced by a DROP token (word dropout, here character dropout): the decoder must then lean on
z to predict what it can no longer read, the main remedy against posterior collapse besides KL annealing.
"""
from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .tokenizer import DROP, END, PAD, START, VOCAB_SIZE


@keras.saving.register_keras_serializable(package="vae_text")
class TokenDropout(layers.Layer):
    """Replaces each decoder input but the first with DROP at `rate`, in training only."""

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, ids, training=False):
        if not training or self.rate <= 0:
            return ids
        drop = keras.random.uniform(ops.shape(ids), seed=self.seed_generator) < self.rate
        keep_first = ops.arange(ops.shape(ids)[1]) > 0
        drop = ops.logical_and(ops.logical_and(drop, keep_first[None, :]), ops.not_equal(ids, PAD))
        return ops.where(drop, ops.full_like(ids, DROP), ids)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def build_encoder(spec, latent_dim: int, num_classes: int = 0) -> keras.Model:
    """Token ids (and a one-hot label) -> posterior mean and log-variance, each (B, d) float32."""
    ids = keras.Input(shape=(spec.length,), dtype="int32", name="tokens")
    inputs = [ids]
    h = layers.Embedding(VOCAB_SIZE, spec.embed_dim, mask_zero=True, name="enc_embed")(ids)
    h = layers.Bidirectional(layers.GRU(spec.encoder_units), name="enc_gru")(h)   # (B, 2 * units)
    if num_classes:
        label = keras.Input(shape=(num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    logvar = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
    return keras.Model(inputs, [mean, logvar], name="encoder")


def build_decoder(spec, latent_dim: int, num_classes: int = 0) -> keras.Model:
    """[z, previous tokens (START then x[:-1])] (and a one-hot label) -> next-token logits (B, T, V)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    prev = keras.Input(shape=(spec.length,), dtype="int32", name="previous")
    inputs = [z, prev]
    cond = z
    if num_classes:
        label = keras.Input(shape=(num_classes,), name="label")
        inputs.append(label)
        cond = layers.Concatenate(name="condition")([z, label])
    h0 = layers.Dense(spec.decoder_units, activation="tanh", name="init_state")(cond)
    e = layers.Embedding(VOCAB_SIZE, spec.embed_dim, name="dec_embed")(
        TokenDropout(spec.token_dropout, name="token_dropout")(prev))
    x = layers.Concatenate(name="step_input")([e, layers.RepeatVector(spec.length, name="repeat_z")(cond)])
    h = layers.GRU(spec.decoder_units, return_sequences=True, name="dec_gru")(x, initial_state=h0)
    logits = layers.Dense(VOCAB_SIZE, name="logits", dtype="float32")(h)
    return keras.Model(inputs, logits, name="decoder")


def _condition(z, onehot):
    z = ops.cast(ops.convert_to_tensor(z), "float32")
    return z if onehot is None else ops.concatenate([z, ops.cast(onehot, "float32")], axis=-1)


def previous_tokens(x):
    """Teacher forcing inputs: START, then the sequence shifted right by one, (B, T)."""
    x = ops.cast(x, "int32")
    return ops.concatenate([ops.full_like(x[:, :1], START), x[:, :-1]], axis=1)


def token_nll(decoder, z, x, onehot=None, training=False):
    """-log p(x_t | x_<t, z) per scored token, (B, T): zero on padding after the END mark."""
    x = ops.cast(x, "int32")
    inputs = [ops.convert_to_tensor(z), previous_tokens(x)] + ([onehot] if onehot is not None else [])
    logits = decoder(inputs, training=training)
    ce = keras.losses.sparse_categorical_crossentropy(x, logits, from_logits=True)   # (B, T)
    return ce * ops.cast(ops.not_equal(x, PAD), ce.dtype)


def nll(decoder, z, x, onehot=None, training=False):
    """-log p(x|z) per sentence in nats, (B,): the END mark included, padding excluded."""
    return ops.sum(token_nll(decoder, z, x, onehot, training), axis=1)


_LOOPS = weakref.WeakKeyDictionary()   # decoder -> its compiled decoding loop (built once per decoder)


def _loop(decoder):
    """A tf.function that decodes (B, d) conditions step by step: greedy at temperature 0, else sampled."""
    if decoder in _LOOPS:
        return _LOOPS[decoder]
    init, embed, gru, out = (decoder.get_layer(n) for n in ("init_state", "dec_embed", "dec_gru", "logits"))
    length = int(decoder.get_layer("previous").output.shape[1])

    @tf.function(reduce_retracing=True)
    def run(cond, temperature, seed):
        batch = tf.shape(cond)[0]
        h = init(cond)
        token = tf.fill([batch], START)
        done = tf.zeros([batch], tf.bool)
        ids = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        t = tf.constant(0)
        while t < length and not tf.reduce_all(done):
            step = tf.concat([embed(token), cond], axis=-1)
            h, _ = gru.cell(step, [h])
            logits = out(h)
            if temperature > 0:
                drawn = tf.random.stateless_categorical(logits / temperature, 1, seed=[seed, t])[:, 0]
                token = tf.cast(drawn, tf.int32)
            else:
                token = tf.cast(tf.argmax(logits, axis=-1), tf.int32)
            token = tf.where(done, PAD, token)
            ids = ids.write(t, token)
            done = done | tf.equal(token, END)
            t += 1
        written = tf.transpose(ids.stack())                          # (B, t)
        return tf.pad(written, [[0, 0], [0, length - t]])            # (B, T), PAD after the end

    _LOOPS[decoder] = run
    return run


def decode_ids(decoder, z, onehot=None, temperature: float = 0.0, seed=None):
    """(B, T) int32 id tensor: greedy at temperature 0, else sampled; usable eagerly and inside a tf.function."""
    seed = 0 if seed is None else int(seed) % (2 ** 31 - 1)
    temperature = 0.0 if temperature <= 0 else max(float(temperature), 1e-4)
    return _loop(decoder)(_condition(z, onehot), tf.constant(temperature), tf.constant(seed, tf.int32))


def greedy(decoder, z, onehot=None):
    """The most likely next character at each step, (B, T) int32 ids ending in END (or cut at T)."""
    return decode_ids(decoder, z, onehot).numpy()


def sample(decoder, z, onehot=None, temperature: float = 1.0, seed=None):
    """Ancestral sampling from p(x|z) at a temperature, (B, T) int32 ids; the same seed gives the same draw."""
    return decode_ids(decoder, z, onehot, max(float(temperature), 1e-4), seed).numpy()
