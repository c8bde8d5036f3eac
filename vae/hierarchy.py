"""A hierarchical VAE: two stochastic levels with top-down inference (Ladder VAE, Sønderby et al. 2016).

    from vae.hierarchy import LadderVAE
    model = LadderVAE(latent_dim=16, lower_dim=32)      # top level z2 (16-d), lower level z1 (32-d)

Generative model: z2 ~ N(0, I), z1 | z2 ~ N(mu_p(z2), sigma_p(z2)^2), x | z1 from the modality's decoder.
Inference: one deterministic bottom-up pass (the modality's encoder gives its Gaussian statistics for z1,
a small network lifts them to q(z2 | x)), then top-down: q(z1 | x, z2) is the precision-weighted product
of the bottom-up Gaussian and the prior p(z1 | z2), as in the Ladder VAE. The KL is the sum of
KL(q(z2|x) || N(0, I)) and KL(q(z1|x,z2) || p(z1|z2)), both closed form, the second at a sampled z2.

Everything generic sees the *top* level: `encode` returns q(z2 | x), `latent_dim` is z2's size, so the
maps, the pad and the sliders move z2. The lower level is given as standardised noise eps1 (z1 = mu_p(z2)
+ sigma_p(z2) * eps1): `generate(z2)` decodes with eps1 = 0 (the most likely details for that top point),
`generate(z2, lower=eps1)` with a point's own details (`lower_noise`: its posterior's) or redrawn ones
(eps1 ~ N(0, T^2)). Standardised, a point's details travel with it when z2 moves.
Works for any modality: the networks and likelihood are the modality's, at the lower level's size.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from . import limits
from .errors import VAEError
from .model import VAE, _unpack, free_bits_kl, gaussian_kl_per_dim, kl_weight, log_normal


def gaussian_kl_between(mean_q, logvar_q, mean_p, logvar_p):
    """KL(N(mean_q, exp(logvar_q)) || N(mean_p, exp(logvar_p))) per dimension, closed form."""
    return 0.5 * (logvar_p - logvar_q + (ops.exp(logvar_q) + ops.square(mean_q - mean_p)) * ops.exp(-logvar_p) - 1.0)


@keras.saving.register_keras_serializable(package="vae")
class LadderVAE(VAE):
    """Two stochastic levels, top-down inference; the modality's networks work at the lower level."""

    def __init__(self, modality="image", latent_dim=16, lower_dim=32, hidden_units_top=256, beta=1.0,
                 conditional=False, num_classes=0, seed=None, **kwargs):
        lower_dim, top_dim, hidden = int(lower_dim), int(latent_dim), int(hidden_units_top)
        problem = limits.levels_problem(top_dim, lower_dim, hidden, int(num_classes) if conditional else 0)
        if problem:
            raise VAEError(problem + ".")
        super().__init__(modality, lower_dim, beta, conditional, num_classes, seed, **kwargs)
        self.lower_dim, self.hidden_units_top = lower_dim, hidden
        self.config.latent_dim = top_dim     # what generic code sees: encode gives q(z2 | x)
        width = self.config.label_width
        # bottom-up: the encoder's statistics for z1 (2 * lower_dim) [+ the label] -> q(z2 | x)
        self.up = keras.Sequential([keras.layers.Dense(hidden, activation="swish", name="up_hidden"),
                                    keras.layers.Dense(2 * top_dim, name="top_posterior")], name="up")
        self.up.build((None, 2 * lower_dim + width))
        # top-down: z2 [+ the label] -> p(z1 | z2)
        self.down = keras.Sequential([keras.layers.Dense(hidden, activation="swish", name="down_hidden"),
                                      keras.layers.Dense(2 * lower_dim, name="lower_prior")], name="down")
        self.down.build((None, top_dim + width))
        self.kl_lower_tracker = keras.metrics.Mean(name="kl_lower")

    @property
    def level_settings(self) -> dict:
        """What a hierarchical model adds to the flat config (meta.json "model" stores it too)."""
        return {"lower_dim": self.lower_dim, "hidden_units_top": self.hidden_units_top}

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.config.latent_dim, **self.level_settings}

    @property
    def metrics(self):
        return [*super().metrics, self.kl_lower_tracker]

    @property
    def level_dims(self) -> tuple[int, int]:
        """(top, lower) sizes."""
        return self.config.latent_dim, self.lower_dim

    # --- the two levels --------------------------------------------------------------------------
    def _with_label(self, h, labels):
        onehot = self._onehot(labels)
        return h if onehot is None else ops.concatenate([h, ops.cast(onehot, h.dtype)], axis=-1)

    def bottom_up(self, x, labels=None, training=False):
        """(mean_hat1, logvar_hat1, mean2, logvar2): the encoder's Gaussian for z1 and q(z2 | x)."""
        mean1, logvar1 = super().encode(x, labels, training=training)
        logvar1 = ops.clip(logvar1, -12.0, 8.0)  # the merge takes exp(-logvar): keep it finite
        stats = self.up(self._with_label(ops.concatenate([mean1, logvar1], axis=-1), labels), training=training)
        mean2, logvar2 = ops.split(stats, 2, axis=-1)
        return mean1, logvar1, mean2, ops.clip(logvar2, -12.0, 8.0)

    def lower_prior(self, z2, labels=None, training=False):
        """p(z1 | z2): mean and log-variance (B, lower_dim)."""
        stats = self.down(self._with_label(ops.convert_to_tensor(z2), labels), training=training)
        mean, logvar = ops.split(stats, 2, axis=-1)
        return mean, ops.clip(logvar, -12.0, 8.0)

    @staticmethod
    def merge(mean_hat, logvar_hat, mean_p, logvar_p):
        """q(z1 | x, z2): the precision-weighted product of the bottom-up Gaussian and the prior (Ladder VAE)."""
        prec_hat, prec_p = ops.exp(-logvar_hat), ops.exp(-logvar_p)
        var = 1.0 / (prec_hat + prec_p)
        return (mean_hat * prec_hat + mean_p * prec_p) * var, ops.log(var)

    def encode(self, x, labels=None, training=False):
        """q(z2 | x): the top level's posterior mean and log-variance (B, latent_dim)."""
        _, _, mean2, logvar2 = self.bottom_up(ops.convert_to_tensor(x), labels, training)
        return mean2, logvar2

    def lower_latent(self, z2, lower=None, labels=None):
        """z1 from z2 and standardised noise `lower` (B, lower_dim); None: the prior's mean."""
        mean_p, logvar_p = self.lower_prior(z2, labels)
        return mean_p if lower is None else mean_p + ops.exp(0.5 * logvar_p) * ops.convert_to_tensor(lower)

    def lower_noise(self, x, z2=None, labels=None):
        """A point's own details as standardised noise: its posterior mean of z1 (at z2, default its q(z2|x)
        mean) measured in units of the prior p(z1 | z2), (B, lower_dim)."""
        mean1, logvar1, mean2, _ = self.bottom_up(ops.convert_to_tensor(x), labels)
        z2 = mean2 if z2 is None else ops.convert_to_tensor(z2)
        mean_p, logvar_p = self.lower_prior(z2, labels)
        mean_q, _ = self.merge(mean1, logvar1, mean_p, logvar_p)
        return (mean_q - mean_p) * ops.exp(-0.5 * logvar_p)

    def generate(self, z, labels=None, lower=None):
        """The decoded form of top points z (B, latent_dim), details from `lower` (standardised; None: the
        prior's mean)."""
        z1 = self.lower_latent(ops.convert_to_tensor(z), lower, labels)
        return self.modality.generate(self.decoder, z1, self._onehot(labels))

    def decode(self, z, labels=None, apply_sigmoid=False, training=False, lower=None):
        z1 = self.lower_latent(ops.convert_to_tensor(z), lower, labels)
        return super().decode(z1, labels, apply_sigmoid, training)

    def nll(self, z, x, labels=None, training=False):
        """-log p(x | z1 = the prior's mean at top points z), (B,): the decoder with the most likely details.
        The ELBO and the IWAE bound use both levels (compute_terms, importance_log_weights)."""
        return super().nll(self.lower_latent(ops.convert_to_tensor(z), None, labels), x, labels, training)

    def call(self, inputs, training=False):
        """The decoded form of a batch's posterior means at both levels."""
        x, labels = _unpack(inputs)
        mean1, logvar1, mean2, _ = self.bottom_up(ops.convert_to_tensor(x), labels, training)
        mean_p, logvar_p = self.lower_prior(mean2, labels)
        mean_q, _ = self.merge(mean1, logvar1, mean_p, logvar_p)
        return self.modality.generate(self.decoder, mean_q, self._onehot(labels))

    # --- the objective ---------------------------------------------------------------------------
    def _sample_levels(self, x, labels, training):
        """One draw through both levels: (recon (B,), top KL per dim (B, d2), lower KL per dim (B, d1))."""
        mean1, logvar1, mean2, logvar2 = self.bottom_up(x, labels, training)
        z2 = self.reparameterize(mean2, logvar2)
        if self.zero_latent:
            z2 = 0.0 * z2
        mean_p, logvar_p = self.lower_prior(z2, labels, training)
        mean_q, logvar_q = self.merge(mean1, logvar1, mean_p, logvar_p)
        z1 = self.reparameterize(mean_q, logvar_q)
        if self.zero_latent:
            z1 = mean_p
        recon = super().nll(z1, x, labels, training=training)
        kl_top = gaussian_kl_per_dim(mean2, logvar2)
        kl_lower = gaussian_kl_between(mean_q, logvar_q, mean_p, logvar_p)
        return recon, kl_top, kl_lower

    def kl_per_level(self, x, labels=None):
        """Mean KL per dimension of each level over a batch: (top (d2,), lower (d1,)) in nats."""
        _, kl_top, kl_lower = self._sample_levels(ops.convert_to_tensor(x), labels, False)
        return ops.mean(kl_top, axis=0), ops.mean(kl_lower, axis=0)

    def compute_terms(self, x, labels=None, training=False):
        """Per-example reconstruction NLL and KL (both levels), each (B,), from one draw."""
        recon, kl_top, kl_lower = self._sample_levels(ops.convert_to_tensor(x), labels, training)
        return recon, ops.sum(kl_top, axis=1) + ops.sum(kl_lower, axis=1)

    def train_step(self, data):
        x, labels = _unpack(data)
        with tf.GradientTape() as tape:
            recon, kl_top, kl_lower = self._sample_levels(x, labels, True)
            beta = self.config.beta * kl_weight(self.optimizer.iterations, self.kl_warmup_steps, self.kl_cycle_steps)
            if self.zero_latent:
                beta = 0.0
            loss = ops.mean(recon + beta * (free_bits_kl(kl_top, self.free_bits) + free_bits_kl(kl_lower, self.free_bits)))
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self._track(recon, kl_top, kl_lower)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, labels = _unpack(data)
        self._track(*self._sample_levels(x, labels, False))
        return {m.name: m.result() for m in self.metrics}

    def _track(self, recon, kl_top, kl_lower):
        kl = ops.sum(kl_top, axis=1) + ops.sum(kl_lower, axis=1)
        if self.zero_latent:
            kl = ops.zeros_like(kl)
        self._update(recon, kl)
        self.kl_lower_tracker.update_state(ops.mean(ops.sum(kl_lower, axis=1)))

    def importance_log_weights(self, x, labels, k: int, generator):
        """log p(x, z1, z2) - log q(z1, z2 | x) for k joint draws per example, (k, B) (the IWAE bound's weights)."""
        mean1, logvar1, mean2, logvar2 = self.bottom_up(x, labels)
        batch = ops.shape(mean2)[0]
        z2 = mean2 + ops.exp(0.5 * logvar2) * generator.normal((k, *mean2.shape))          # (k, B, d2)
        flat2 = ops.reshape(z2, (-1, mean2.shape[1]))
        tiled_labels = None if labels is None else ops.tile(labels, [k])
        mean_p, logvar_p = self.lower_prior(flat2, tiled_labels)                              # (k*B, d1)
        tile = lambda t: ops.tile(t, [k, 1])  # noqa: E731  k-major, like flat2
        mean_q, logvar_q = self.merge(tile(mean1), tile(logvar1), mean_p, logvar_p)
        z1 = mean_q + ops.exp(0.5 * logvar_q) * generator.normal(ops.shape(mean_q))
        tiled_x = ops.tile(x, [k] + [1] * (len(x.shape) - 1))
        log_px = -super().nll(z1, tiled_x, tiled_labels)
        log_w = (log_px + log_normal(flat2, 0.0, 0.0) + log_normal(z1, mean_p, logvar_p)
                 - log_normal(flat2, tile(mean2), tile(logvar2)) - log_normal(z1, mean_q, logvar_q))
        return ops.reshape(log_w, (k, batch))


def is_hierarchical(model) -> bool:
    return isinstance(model, LadderVAE)


def decode_with_details(model, z, labels, lower):
    """Bundle.decode's path for given details: top points z (N, d2) float32, labels (N,) int32, details `lower`
    (lower_dim,) for every point or (N, lower_dim); one compiled function per model."""
    import numpy as np

    dim = int(getattr(model, "lower_dim", 0))
    if not dim:
        raise VAEError("This bundle has one latent level: it takes no lower-level details.")
    e = np.asarray(lower, np.float32)
    if e.size == dim:  # one set of details for every point
        e = np.broadcast_to(e.reshape(1, -1), (len(z), dim))
    if e.shape != (len(z), dim) or not np.all(np.isfinite(e)):
        raise VAEError(f"lower-level details must be {dim} finite numbers (or one row of them per point).")
    fn = getattr(model, "_details_fn", None)
    if fn is None:
        cond = model.config.conditional
        fn = model._details_fn = tf.function(
            lambda z, y, e: model.generate(z, y if cond else None, lower=e),
            input_signature=[tf.TensorSpec((None, model.config.latent_dim), tf.float32),
                             tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, dim), tf.float32)])
    return fn(z, labels, np.ascontiguousarray(e)).numpy()
