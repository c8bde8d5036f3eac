"""The sentence VAE's settings and the data's shape, stored in meta.json's "model" keys."""
from __future__ import annotations

import dataclasses

from ...errors import VAEError
from .tokenizer import ALPHABET


@dataclasses.dataclass
class TextSpec:
    """Token length (characters + END), network widths and the decoder's input dropout."""

    length: int = 121
    embed_dim: int = dataclasses.field(default=32, metadata={"help": "width of the character embeddings"})
    encoder_units: int = dataclasses.field(default=64, metadata={"help": "GRU units in each direction of the encoder"})
    decoder_units: int = dataclasses.field(default=128, metadata={"help": "GRU units of the decoder"})
    token_dropout: float = dataclasses.field(default=0.3, metadata={
        "help": "share of the decoder's input characters replaced by a blank in training (word dropout, "
                "Bowman et al. 2016: makes the decoder read z)"})
    alphabet: str = ALPHABET

    def __post_init__(self):
        for name in ("length", "embed_dim", "encoder_units", "decoder_units"):
            value = int(getattr(self, name))
            if not 2 <= value <= 4096:
                raise VAEError(f"{name} must be between 2 and 4096, got {value}.")
            setattr(self, name, value)
        self.token_dropout = float(self.token_dropout)
        if not 0.0 <= self.token_dropout < 1.0:
            raise VAEError(f"token_dropout must be in [0, 1), got {self.token_dropout}.")
        if self.alphabet != ALPHABET:
            raise VAEError("This bundle was trained on another character alphabet: update the explorer.")

    @property
    def input_shape(self) -> tuple:
        return (self.length,)

    @property
    def max_chars(self) -> int:
        return self.length - 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TextDataOptions:
    """How the quotations are read for training."""

    max_chars: int = dataclasses.field(default=120, metadata={
        "help": "keep quotations of at most this many characters (after whitespace is normalised)"})
    min_class: int = dataclasses.field(default=40, metadata={
        "help": "collections with fewer short quotations are merged into one class, other"})
