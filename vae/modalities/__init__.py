"""The registry of modalities: a bundle's meta.json "modality" names one (none means "image").

    from vae import modalities
    m = modalities.get(meta.get("modality"))    # a Modality (see vae/modalities/base.py)

Adding a modality: a package vae/modalities/NAME/ whose __init__ defines MODALITY, one line in
REGISTRY below, and its display module ui/display/NAME.py.
"""
from __future__ import annotations

import importlib

from ..errors import VAEError
from .base import Modality

REGISTRY = {  # name -> module that defines MODALITY; imported on first use (TensorFlow stays unimported)
    "image": "vae.modalities.image",
    "melody": "vae.modalities.melody",
    "text": "vae.modalities.text",
}
DEFAULT = "image"


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str | None = None) -> Modality:
    """The modality called `name` (None: image); one clear sentence for an unknown name."""
    name = DEFAULT if name is None else name
    if not isinstance(name, str) or name not in REGISTRY:
        raise VAEError(f"Unknown modality {str(name)[:40]!r}: this version knows {', '.join(REGISTRY)}; "
                       "update the explorer or retrain the bundle.")
    return importlib.import_module(REGISTRY[name]).MODALITY


def register(name: str, module: str) -> None:
    """Register a modality defined outside this package (e.g. a test's toy modality)."""
    REGISTRY[name] = module
