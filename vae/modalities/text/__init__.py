"""Text as a modality: short sentences (Debian fortunes), a character-level GRU sentence VAE.

    from vae import modalities
    text = modalities.get("text")                    # this package's MODALITY
    ds = text.load_dataset("fortunes")               # (N, 121) int32 character ids, collection labels
"""
from .modality import TextModality, TextInputError
from .spec import TextSpec

MODALITY = TextModality()

__all__ = ["MODALITY", "TextModality", "TextInputError", "TextSpec"]
