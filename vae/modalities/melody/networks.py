"""The sequence VAE's networks: a bidirectional LSTM encoder and a 32-step decoder with a categorical output.

    enc = build_encoder(spec, latent_dim=32, num_classes=0)    # tokens (B, T) -> [mean, logvar] (B, d)
    dec = MelodyDecoder(**spec.decoder_config(32, 0))
    logits = dec([z, tokens])                                  # (B, T, V), teacher forced
    dec.greedy(z)                                              # (B, T) int32: one compiled 32-step loop

Two decoders: "autoregressive" (an LSTM fed the previous token and z at every step, its state started
from z; trained with teacher forcing) and "parallel" (z -> 32 step vectors -> bidirectional LSTM, all
steps at once). Both are registered Keras classes that load with safe_mode=True.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops


from .spec import DECODERS, MAX_SIZE, MelodySpec  # noqa: F401  (the networks' settings, re-exported)
from .tokens import STEPS, VOCAB


def build_encoder(spec: MelodySpec, latent_dim: int, num_classes: int = 0) -> keras.Model:
    """Tokens (B, T) int32 (and a one-hot label) -> posterior mean and log-variance, each (B, d)."""
    tokens = keras.Input(shape=(spec.steps,), dtype="int32", name="tokens")
    inputs = [tokens]
    h = layers.Embedding(spec.vocab, spec.embed, name="embed")(tokens)             # (B, T, E)
    h = layers.Bidirectional(layers.LSTM(spec.encoder_units), name="bilstm")(h)    # (B, 2U): both final states
    if num_classes:
        label = keras.Input(shape=(num_classes,), name="label")
        inputs.append(label)
        h = layers.Concatenate()([h, label])
    mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    logvar = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
    return keras.Model(inputs, [mean, logvar], name="encoder")


@keras.saving.register_keras_serializable(package="vae")
class MelodyDecoder(keras.Model):
    """p(tokens | z): logits (B, T, V) teacher forced; greedy and sampled sequences by a compiled loop."""

    def __init__(self, steps=STEPS, vocab=VOCAB, embed=64, units=256, kind="autoregressive", latent_dim=32,
                 num_classes=0, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.vocab, self.embed_dim, self.units = int(steps), int(vocab), int(embed), int(units)
        self.kind, self.latent_dim, self.num_classes = kind, int(latent_dim), int(num_classes)
        self.width = self.latent_dim + self.num_classes                          # z, then the one-hot label
        if kind == "autoregressive":
            self.start = self.vocab                                                # an extra id: "no token yet"
            self.embed = layers.Embedding(self.vocab + 1, self.embed_dim, name="embed")
            self.init_h = layers.Dense(self.units, activation="tanh", name="init_h")
            self.init_c = layers.Dense(self.units, name="init_c")
            self.lstm = layers.LSTM(self.units, return_sequences=True, name="lstm")
        else:
            self.expand = layers.Dense(self.steps * self.embed_dim, activation="relu", name="expand")
            self.lstm = layers.Bidirectional(layers.LSTM(self.units, return_sequences=True), name="bilstm")
        self.out = layers.Dense(self.vocab, name="logits", dtype="float32")
        self._build_all()
        self.built = True

    def _build_all(self):
        z = ops.zeros((1, self.width))
        self.call([z, ops.zeros((1, self.steps), "int32")], training=True)      # builds the layers
        self._greedy = tf.function(self._loop, input_signature=[
            tf.TensorSpec([None, self.width], tf.float32), tf.TensorSpec([], tf.float32),
            tf.TensorSpec([2], tf.int32)], reduce_retracing=True)
        self._beam = tf.function(self._beam_loop, reduce_retracing=True, autograph=False)  # traced once per width

    def get_config(self):
        return {**super().get_config(), "steps": self.steps, "vocab": self.vocab, "embed": self.embed_dim,
                "units": self.units, "kind": self.kind, "latent_dim": self.latent_dim,
                "num_classes": self.num_classes}

    def state0(self, z):
        return [self.init_h(z), self.init_c(z)]

    def call(self, inputs, training=False):
        """[z (B, d+k), tokens (B, T)] -> logits (B, T, V); step t sees the tokens before t."""
        z, tokens = inputs
        z = ops.cast(z, "float32")
        batch = ops.shape(z)[0]
        if self.kind != "autoregressive":
            h = ops.reshape(self.expand(z), (batch, self.steps, self.embed_dim))
            return self.out(self.lstm(h, training=training))
        prev = ops.concatenate([ops.full((batch, 1), self.start, "int32"),
                                ops.cast(tokens, "int32")[:, :-1]], axis=1)          # (B, T) shifted right
        if not training and self.built:   # scoring, not learning: the decoding's own step, a third cheaper
            inputs, state, hs = self._inputs(z), self.state0(z), []
            for t in range(self.steps):
                h, state = self._step(inputs, prev[:, t], state)
                hs.append(h)
            return self.out(ops.stack(hs, axis=1))
        zs = ops.repeat(ops.expand_dims(z, 1), self.steps, axis=1)                   # (B, T, d+k)
        h = ops.concatenate([self.embed(prev), zs], axis=-1)
        return self.out(self.lstm(h, initial_state=self.state0(z), training=training))

    def _inputs(self, z):
        """What a decoding computes once for `_step`: the LSTM's input projection split into every token's part
        (V+1, 4U), a lookup table, and z's part with the bias (B, 4U); and the recurrent kernel (U, 4U). Teacher
        forcing projects concat(embed(token), z); this sums the same two pieces. The candidate gate's columns
        are doubled so that one sigmoid serves all four gates (tanh(x) = 2 sigmoid(2x) - 1)."""
        cell = self.lstm.cell
        scale = tf.concat([tf.ones([2 * self.units]), tf.fill([self.units], 2.0), tf.ones([self.units])], 0)
        kernel = tf.convert_to_tensor(cell.kernel) * scale
        tokens_in = tf.matmul(tf.convert_to_tensor(self.embed.embeddings), kernel[:self.embed_dim])
        z_in = tf.matmul(z, kernel[self.embed_dim:])
        if cell.use_bias:
            z_in += tf.convert_to_tensor(cell.bias) * scale
        return tokens_in, z_in, tf.convert_to_tensor(cell.recurrent_kernel) * scale

    def _step(self, inputs, token, state):
        """One step of the decoder's LSTM cell (sigmoid gates, tanh cell: the layer's defaults) from `_inputs`:
        (h, [h, c]). Per row it costs the recurrent product and one sigmoid over the gates, a third less than
        the cell's own call on concat(embed, z)."""
        tokens_in, z_in, recurrent = inputs
        h, c = state
        gates = tf.sigmoid(tf.gather(tokens_in, token) + z_in + tf.matmul(h, recurrent))
        i, f, g, o = tf.split(gates, 4, axis=1)
        c = f * c + i * (2.0 * g - 1.0)
        h = o * tf.tanh(c)
        return h, [h, c]

    def _loop(self, z, temperature, seed):
        """32 steps of the autoregressive LSTM; temperature 0 is greedy, else a seeded categorical draw."""
        if self.kind != "autoregressive":
            logits = self.call([z, tf.zeros((tf.shape(z)[0], self.steps), tf.int32)])
            if temperature <= 0:
                return tf.argmax(logits, axis=-1, output_type=tf.int32)
            flat = tf.reshape(logits, (-1, self.vocab)) / temperature
            draw = tf.random.stateless_categorical(flat, 1, seed, dtype=tf.int32)
            return tf.reshape(draw, (-1, self.steps))
        state = self.state0(z)
        inputs = self._inputs(z)
        token = tf.fill([tf.shape(z)[0]], self.start)
        out = []
        for t in range(self.steps):                                   # unrolled once, at trace time
            h, state = self._step(inputs, token, state)
            logits = self.out(h)
            if temperature <= 0:
                token = tf.argmax(logits, axis=-1, output_type=tf.int32)
            else:
                token = tf.random.stateless_categorical(logits / temperature, 1, seed + t, dtype=tf.int32)[:, 0]
            out.append(token)
        return tf.stack(out, axis=1)                                  # (B, T)

    def _beam_loop(self, z, width):
        """Beam search over the 32 steps: the `width` most likely prefixes kept at every step, the most likely
        whole sequence returned (B, T). All sequences have 32 steps, so no length normalisation is needed."""
        batch = tf.shape(z)[0]
        tokens_in, z_in, recurrent = self._inputs(z)
        # the first step has one prefix to extend, so it runs on B rows: its `width` likeliest tokens start the beams
        h, state = self._step((tokens_in, z_in, recurrent), tf.fill([batch], self.start), self.state0(z))
        score, token = tf.math.top_k(tf.nn.log_softmax(self.out(h)), k=width)  # (B, W), best first
        hist = token[:, :, None]
        state = [tf.repeat(s, width, axis=0) for s in state]                 # (B*W, U): beam j of row b at b*W+j
        inputs = tokens_in, tf.repeat(z_in, width, axis=0), recurrent
        token = tf.reshape(token, [-1])
        for _ in range(self.steps - 1):
            h, state = self._step(inputs, token, state)
            logp = tf.nn.log_softmax(self.out(h))                             # (B*W, V)
            total = tf.reshape(score[:, :, None] + tf.reshape(logp, [batch, width, self.vocab]),
                               [batch, width * self.vocab])
            score, idx = tf.math.top_k(total, k=width)                        # (B, W), best first
            beam, token = idx // self.vocab, idx % self.vocab
            hist = tf.concat([tf.gather(hist, beam, batch_dims=1), token[:, :, None]], axis=-1)
            rows = tf.reshape(beam + tf.range(batch)[:, None] * width, [-1])  # the parent of each new beam
            state = [tf.gather(s, rows) for s in state]
            token = tf.reshape(token, [-1])
        return hist[:, 0]                                                     # (B, T): the best beam

    def beam(self, z, width: int = 4):
        """The most likely sequence a beam of `width` finds: (B, T) int32; width 1 is the greedy decoding."""
        if self.kind != "autoregressive" or int(width) <= 1:
            return self.greedy(z)
        return self._beam(tf.convert_to_tensor(z, tf.float32), min(int(width), self.vocab))

    def greedy(self, z):
        """The most likely token at every step given the ones chosen before: (B, T) int32."""
        return self._greedy(tf.convert_to_tensor(z, tf.float32), tf.constant(0.0), tf.constant([0, 0]))

    def draw(self, z, temperature=1.0, seed=0):
        """Ancestral sampling at a temperature: (B, T) int32, the same for the same seed."""
        return self._greedy(tf.convert_to_tensor(z, tf.float32), tf.constant(float(temperature)),
                            tf.constant([int(seed) % (2 ** 31), 0], tf.int32))


def token_nll(logits, tokens):
    """-log p(tokens | z) per sequence in nats, (B,): categorical cross-entropy summed over steps."""
    ce = keras.losses.sparse_categorical_crossentropy(ops.cast(tokens, "int32"), logits, from_logits=True)
    return ops.sum(ce, axis=-1)
