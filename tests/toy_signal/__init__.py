"""A toy modality for the tests: 1-D signals (32 samples of a noisy sine), to prove that a kind of data is one
package. Nothing outside this package and its display module knows what a signal is.

    from vae import modalities
    modalities.register("signal", "toy_signal")
"""
from __future__ import annotations

import dataclasses

import numpy as np

from vae.data import split_dataset
from vae.errors import DataError, VAEError
from vae.modalities.base import Modality

LENGTH = 32
SIGMA = 0.1  # the decoder's fixed standard deviation: a Gaussian likelihood


@dataclasses.dataclass
class SignalSpec:
    length: int = LENGTH
    hidden_units: int = dataclasses.field(default=32, metadata={"help": "width of the hidden layer"})

    @property
    def input_shape(self) -> tuple:
        return (self.length,)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def sines(n: int, seed: int = 0):
    """(n, 32) float32 noisy sines: class 0 slow (1-2 cycles), class 1 fast (4-6 cycles), random phase and size."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int32)
    cycles = np.where(y == 0, rng.uniform(1, 2, n), rng.uniform(4, 6, n))
    t = np.arange(LENGTH) / LENGTH
    x = rng.uniform(0.3, 1.0, (n, 1)) * np.sin(2 * np.pi * cycles[:, None] * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    return (x + rng.normal(0, 0.05, x.shape)).astype(np.float32), y


class _Judge:
    """Logistic regression on the magnitude spectrum: independent of the VAE."""

    description = "logistic regression on the magnitude spectrum"

    def fit(self, x, y):
        from sklearn.linear_model import LogisticRegression

        self._clf = LogisticRegression(max_iter=500).fit(self._features(x), y)
        self.classes_, self.accuracy, self.held_out = self._clf.classes_, float(self._clf.score(self._features(x), y)), 0
        return self

    @staticmethod
    def _features(x):
        return np.abs(np.fft.rfft(np.asarray(x, np.float32), axis=1))

    def predict(self, x):
        return self._clf.predict(self._features(x))

    def proba(self, x, cls):
        where = np.nonzero(self.classes_ == cls)[0]
        return self._clf.predict_proba(self._features(x))[:, where[0]] if where.size else np.zeros(len(x))


class SignalModality(Modality):
    name = "signal"
    noun = "signal"
    spec_class = SignalSpec
    datasets = ("sines",)
    distance_name = "mean squared error per sample"

    def load_dataset(self, name: str, seed: int = 0, **_):
        if name != "sines":
            raise DataError(f"Unknown signal dataset {name!r}: use sines.")
        x, y = sines(400, seed)
        return split_dataset("sines", x, y, ["slow", "fast"], 0.25, seed, "generated")

    def spec_for(self, dataset, options):
        return SignalSpec(dataset.example_shape[0], **options)

    def build_encoder(self, spec, latent_dim, num_classes=0):
        import keras

        x = keras.Input((spec.length,), name="signal")
        h = keras.layers.Dense(spec.hidden_units, activation="tanh")(x)
        return keras.Model(x, [keras.layers.Dense(latent_dim, name="z_mean")(h),
                               keras.layers.Dense(latent_dim, name="z_log_var")(h)], name="encoder")

    def build_decoder(self, spec, latent_dim, num_classes=0):
        import keras

        z = keras.Input((latent_dim,), name="z")
        h = keras.layers.Dense(spec.hidden_units, activation="tanh")(z)
        return keras.Model(z, keras.layers.Dense(spec.length, name="mean")(h), name="decoder")

    def model_input(self, x):
        from keras import ops

        return ops.cast(ops.convert_to_tensor(x), "float32")

    def nll(self, decoder, z, x, onehot=None, training=False):
        from keras import ops

        mean = decoder(z, training=training)
        return ops.sum(0.5 * ops.square((x - mean) / SIGMA) + np.log(SIGMA * np.sqrt(2 * np.pi)), axis=1)

    def generate(self, decoder, z, onehot=None):
        return decoder(z)

    def check_examples(self, x, spec):
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != spec.length or not np.issubdtype(x.dtype, np.number):
            raise VAEError(f"signals must have shape (N, {spec.length}), got {x.shape}.")
        return x.astype(np.float32)

    def attributes(self, x, **_):
        x = np.asarray(x, np.float32)
        crossings = (np.diff(np.sign(x), axis=1) != 0).sum(1)
        return {"amplitude": np.abs(x).max(1), "crossings": crossings.astype(np.float32)}

    def attribute_info(self, names):
        info = {"amplitude": {"unit": "units", "description": "largest absolute sample"},
                "crossings": {"unit": "count", "description": "sign changes along the signal"}}
        return {k: info[k] for k in names}

    def judge(self, seed=0):
        return _Judge()

    def distance(self, x, decoded):
        return ((np.asarray(x, np.float32) - np.asarray(decoded, np.float32)) ** 2).mean(1)

    def read_example(self, source, spec, name=None):
        text = source.decode("utf-8", "replace") if isinstance(source, bytes) else str(source)
        try:
            values = np.array([float(v) for v in text.replace(",", " ").split()], np.float32)
        except ValueError:
            raise DataError("A signal is numbers separated by commas or spaces: check the text.") from None
        if values.size != spec.length or not np.all(np.isfinite(values)):
            raise DataError(f"A signal has {spec.length} finite numbers; this text has {values.size}.")
        return values[None]


MODALITY = SignalModality()
