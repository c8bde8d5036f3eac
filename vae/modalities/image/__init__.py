"""Images: uint8 pixels (N, H, W, C), a convolutional VAE with Bernoulli pixels, measured shape attributes,
a pixel classifier as the class judge, and pictures read from files at the size the model needs.

    from vae import modalities
    image = modalities.get("image")
    ds = image.load_dataset("fashion_mnist")

TensorFlow is imported only by the methods that build or run networks.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import VAEError
from ..base import Judge, Modality
from . import attributes as _attributes

DATA_OPTIONS = ("image_size", "channels", "seed", "stratify")


@dataclasses.dataclass
class ImageDataOptions:
    """How a folder of pictures is read for training."""

    image_size: int | None = dataclasses.field(
        default=None, metadata={"help": "folder datasets: resize images to this square size (default 64)"})
    channels: int | None = dataclasses.field(
        default=None, metadata={"help": "folder datasets: 1 grey, 3 RGB (default: detect)", "choices": (1, 3)})


def _spec_class():
    from .spec import ImageSpec

    return ImageSpec


class ImageModality(Modality):
    name = "image"
    noun = "image"
    datasets = ("fashion_mnist", "mnist", "digits", "folder:PATH", "npz:PATH", "binarized_fashion_mnist", "binarized_mnist",
                "binarized_digits")
    distance_name = "mean squared error per pixel"
    data_options_class = ImageDataOptions

    @property
    def spec_class(self):
        return _spec_class()

    # --- data
    def load_dataset(self, name: str, **options):
        from .datasets import load

        return load(name, **{k: v for k, v in options.items() if k in DATA_OPTIONS})

    def data_options(self, options: dict) -> dict:
        return {k: options.get(k) for k in DATA_OPTIONS if k in options}

    def check_options(self, options: dict, latent_dim: int) -> str | None:
        from ... import limits

        size, channels = options.get("image_size"), options.get("channels")
        if size is not None and not (isinstance(size, int) and 4 <= size <= limits.MAX_SIDE):
            return f"--image-size must be between 4 and {limits.MAX_SIDE}, got {size}"
        if channels not in (None, 1, 3):
            return f"--channels must be 1 or 3, got {channels}"
        net = {k: options[k] for k in ("base_filters", "hidden_units", "convs_per_stage") if k in options}
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in net.values()):
            return "--base-filters, --hidden-units and --convs-per-stage must be whole numbers"
        side = size or 4  # the weight count's lower bound until the images are read
        return limits.model_size_problem((side, side, channels or 1), latent_dim, **net)

    def spec_for(self, dataset, options: dict):
        cls = self.spec_class
        fields = {f.name for f in dataclasses.fields(cls)} - {"image_shape"}
        return cls(image_shape=dataset.example_shape, **{k: v for k, v in options.items() if k in fields})

    # --- networks and likelihood
    def build_encoder(self, spec, latent_dim: int, num_classes: int = 0):
        from .networks import build_encoder

        return build_encoder(spec, latent_dim, num_classes)

    def build_decoder(self, spec, latent_dim: int, num_classes: int = 0):
        from .networks import build_decoder

        return build_decoder(spec, latent_dim, num_classes)

    def model_input(self, x):
        from keras import ops

        x = ops.convert_to_tensor(x)
        return ops.cast(x, "float32") / 255.0 if x.dtype == "uint8" else ops.cast(x, "float32")

    def decoder_logits(self, decoder, z, onehot=None, training: bool = False):
        return decoder([z, onehot] if onehot is not None else z, training=training)

    def nll(self, decoder, z, x, onehot=None, training: bool = False):
        from .networks import bernoulli_nll

        return bernoulli_nll(x, self.decoder_logits(decoder, z, onehot, training))

    def generate(self, decoder, z, onehot=None):
        from keras import ops

        return ops.sigmoid(self.decoder_logits(decoder, z, onehot))

    def check_examples(self, x, spec) -> np.ndarray:
        x = np.asarray(x)
        shape = tuple(spec.image_shape)
        if x.shape == shape:
            x = x[None]
        if x.ndim != 4 or x.shape[1:] != shape:
            raise VAEError(f"images must have shape (N, {', '.join(map(str, shape))}) for this bundle, "
                           f"got {x.shape}: resize them first (vae.modalities.image.datasets.convert_image).")
        if x.dtype == np.uint8:
            return x
        if np.issubdtype(x.dtype, np.floating):
            if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
                raise VAEError("float images must be finite and in [0, 1]; uint8 images in [0, 255].")
            return x.astype(np.float32)
        raise VAEError(f"images have dtype {x.dtype}: use uint8 in [0, 255] or floats in [0, 1].")

    # --- what is measured
    def attribute_options(self, x, meta: dict) -> dict:
        digits = _attributes.is_digit_dataset(meta.get("dataset", ""), meta.get("class_names") or [])
        return {"digits": digits, "invert": _attributes.background_is_light(x), "threshold": _attributes.THRESHOLD}

    def attributes(self, x, digits: bool = False, invert: bool = False, threshold: float = _attributes.THRESHOLD,
                   **_) -> dict:
        parts: dict = {}
        for start in range(0, len(x), _attributes.CHUNK):
            for k, v in _attributes.measure(x[start:start + _attributes.CHUNK], digits, invert, threshold).items():
                parts.setdefault(k, []).append(v)
        return {k: np.concatenate(v) for k, v in parts.items()}

    def attribute_info(self, names) -> dict:
        return {k: _attributes.INFO[k] for k in names if k in _attributes.INFO}

    def judge(self, seed: int = 0):
        from .judge import PixelJudge

        judge = PixelJudge(seed=seed)
        judge.description = "PCA (50 components) + logistic regression on pixels"
        return judge

    def distance(self, x, decoded) -> np.ndarray:
        t = np.asarray(x, np.float32) / 255.0 if np.asarray(x).dtype == np.uint8 else np.asarray(x, np.float32)
        return ((np.asarray(decoded, np.float32) - t) ** 2).reshape(len(t), -1).mean(1).astype(np.float32)

    # --- a user's own example
    def read_example(self, source, spec, name: str | None = None, fit: str = "pad") -> np.ndarray:
        from .reader import read_image

        h, w, c = spec.image_shape
        return read_image(source, (h, w), c, fit=fit, name=name)[None]


MODALITY = ImageModality()
__all__ = ["MODALITY", "ImageModality", "Judge"]
