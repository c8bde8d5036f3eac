"""The modality seam: everything that depends on what the data is (pixels, notes, words).

    from vae import modalities
    m = modalities.get("image")                 # or "melody", "text"; a bundle's meta.json names it
    ds = m.load_dataset("fashion_mnist")        # Dataset: natural arrays (uint8 images; int token ids)
    spec = m.spec_for(ds, options)              # the networks' settings and the data's shape

A modality is one package, `vae/modalities/NAME/`, whose `MODALITY` is an instance of a subclass of
`Modality`, plus its display module `ui/display/NAME.py`, both registered by name in
`vae/modalities/__init__.py` and `ui/display/__init__.py`. The VAE class, training loop, bundle,
metrics (-ELBO, IWAE, active units, k-NN), precompute, projections and latent tools are generic and
talk to the data only through these methods.

Arrays in "natural" form are what a person's example is after reading, in the modality's own terms:
images uint8 (N, H, W, C); token sequences int32 (N, T). `generate` returns the decoded form: image
probabilities float32 in [0, 1] (N, H, W, C), token ids int32 (N, T). Attributes, the judge and the
display accept both.
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Judge:
    """What a class judge says about itself (stored in meta.json with the slider fidelities)."""

    description: str
    accuracy: float = float("nan")
    held_out: int = 0


class Modality:
    """One kind of data. Subclasses override every method that raises NotImplementedError."""

    name = ""                # registry key and meta.json "modality"
    noun = "example"         # one example in words: "image", "melody", "sentence"
    spec_class = None        # dataclass of the networks' settings and the data's shape (meta.json "model" keys);
                             # instances have to_dict(), input_shape (one natural example's shape) and may have
                             # check_size(latent_dim, num_classes), which refuses absurd sizes before building.
                             # Fields with metadata {"help": ...} are training options (--name on the command line).
    datasets: tuple = ()     # dataset names the CLI lists (plus spec forms such as folder:PATH)
    data_options_class = None  # dataclass of the options `load_dataset` takes from the user (fields with "help")

    # --- data ------------------------------------------------------------------------------------

    def load_dataset(self, name: str, **options):
        """A vae.data.Dataset of natural arrays with labels and class names; raises DataError."""
        raise NotImplementedError

    def data_options(self, options: dict) -> dict:
        """The subset of training options that `load_dataset` takes (stored in meta.json data_options)."""
        return {}

    def check_options(self, options: dict, latent_dim: int) -> str | None:
        """What is out of range in the user's settings, as "--option must be ..., got X", before data is read."""
        return None

    def spec_for(self, dataset, options: dict):
        """The networks' settings for this data: an instance of spec_class (options: training settings)."""
        raise NotImplementedError

    # --- networks and likelihood -----------------------------------------------------------------

    def build_encoder(self, spec, latent_dim: int, num_classes: int):
        """keras.Model: inputs [x] (or [x, one-hot label] when num_classes) -> [mean, logvar], each (B, d) float32."""
        raise NotImplementedError

    def build_decoder(self, spec, latent_dim: int, num_classes: int):
        """keras.Model used by `nll` and `generate`; its inputs are the modality's business."""
        raise NotImplementedError

    def model_input(self, x):
        """Natural batch (tensor) -> what the encoder takes (uint8 pixels -> float in [0, 1]; ids unchanged)."""
        raise NotImplementedError

    augmentation: str | None = None   # what `augment` does, in words (None: the modality has no augmentation)

    def augment(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A training batch in natural form, randomly varied the way the data allows (melodies: transposed);
        applied by the trainer to every training batch when `augmentation` is set. Same shape and dtype."""
        return x

    def nll(self, decoder, z, x, onehot=None, training: bool = False):
        """-log p(x | z) per example in nats, (B,); x is `model_input(natural)`; sequences use teacher forcing."""
        raise NotImplementedError

    def generate(self, decoder, z, onehot=None):
        """The decoded form of z (B, d): the decoder's mean image, or its greedy token sequence."""
        raise NotImplementedError

    def sample(self, decoder, z, onehot=None, temperature: float = 1.0, seed=None):
        """A draw from p(x | z) (sequences: ancestral sampling at a temperature); default: `generate`."""
        return self.generate(decoder, z, onehot)

    def check_examples(self, x, spec) -> np.ndarray:
        """A user's batch in natural form, checked against the spec (shape, dtype, range): raises VAEError."""
        raise NotImplementedError

    # --- what is measured ------------------------------------------------------------------------

    def attribute_options(self, x, meta: dict) -> dict:
        """Options for `attributes`, decided once per dataset (e.g. images on a light background)."""
        return {}

    def attributes(self, x, **options) -> dict:
        """Measured attributes of a batch (natural or decoded form): {name: (N,) float32}."""
        raise NotImplementedError

    def attribute_info(self, names) -> dict:
        """{name: {"unit": ..., "description": ...}} for the model card and the slider help."""
        raise NotImplementedError

    def judge(self, seed: int = 0):
        """An unfitted class judge independent of the VAE: fit(x, y) -> self, predict(x) -> (N,),
        proba(x, cls) -> (N,), and .description, .accuracy, .held_out after fitting."""
        raise NotImplementedError

    def distance(self, x, decoded) -> np.ndarray:
        """A second reconstruction error a person reads, (N,): mean squared pixel error; share of wrong tokens."""
        raise NotImplementedError

    distance_name = "distance"

    # --- a user's own example --------------------------------------------------------------------

    def read_example(self, source, spec, name: str | None = None) -> np.ndarray:
        """A user's file or text -> natural array (n, ...) at the size the model needs (memory bounded).
        Raises a VAEError subclass whose message is one sentence saying what is wrong and what to do."""
        raise NotImplementedError
