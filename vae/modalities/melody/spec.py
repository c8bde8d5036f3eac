"""The melody networks' settings and the data's shape (meta.json "model" keys), without TensorFlow: the modality
package imports this at once and its networks (Keras) only when a model is built."""
from __future__ import annotations

import dataclasses

from ...errors import VAEError
from .tokens import STEPS, VOCAB

DECODERS = ("autoregressive", "parallel")
MAX_SIZE = 1 << 14          # any one width or length


def _opt(default, help: str, **extra):
    return dataclasses.field(default=default, metadata={"help": help, **extra})


@dataclasses.dataclass
class MelodySpec:
    """The networks' settings and the data's shape (stored as meta.json "model" keys)."""

    steps: int = STEPS
    vocab: int = VOCAB
    embed: int = _opt(64, "size of the token embedding")
    encoder_units: int = _opt(256, "LSTM units in each direction of the encoder")
    decoder_units: int = _opt(256, "LSTM units of the decoder")
    decoder: str = _opt("autoregressive", "autoregressive (previous token and z at every step) or parallel "
                        "(all 32 steps from z at once)", choices=DECODERS)

    def __post_init__(self):
        for f in ("steps", "vocab", "embed", "encoder_units", "decoder_units"):
            if not 1 <= int(getattr(self, f)) <= MAX_SIZE:
                raise VAEError(f"{f} must be between 1 and {MAX_SIZE}, got {getattr(self, f)}.")
            setattr(self, f, int(getattr(self, f)))
        if self.decoder not in DECODERS:
            raise VAEError(f"decoder must be one of {', '.join(DECODERS)}, got {str(self.decoder)[:40]!r}.")

    @property
    def input_shape(self) -> tuple:
        return (self.steps,)

    def check_size(self, latent_dim: int, num_classes: int) -> None:
        """Before any layer is built: refuse a model whose weights would not fit in memory."""
        from ... import limits
        lstm = 4 * self.decoder_units * (self.decoder_units + self.embed + latent_dim + num_classes + 1)
        enc = 8 * self.encoder_units * (self.encoder_units + self.embed + 1)
        if lstm + enc > limits.MAX_PARAMETERS:
            raise VAEError(f"This melody model would have about {lstm + enc:,} weights, over the limit of "
                           f"{limits.MAX_PARAMETERS:,}: lower --encoder-units or --decoder-units.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def decoder_config(self, latent_dim: int, num_classes: int) -> dict:
        return {"steps": self.steps, "vocab": self.vocab, "embed": self.embed, "units": self.decoder_units,
                "kind": self.decoder, "latent_dim": int(latent_dim), "num_classes": int(num_classes)}
