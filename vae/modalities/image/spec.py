"""The image networks' settings and the images' shape (no TensorFlow: bundles are checked before it loads)."""
from __future__ import annotations

import dataclasses

from ... import limits
from ...errors import VAEError

_HELP = {"base_filters": "filters of the first conv stage (they double per stage)",
         "hidden_units": "width of the dense layer between the convolutions and the latent (0: none)",
         "convs_per_stage": "3x3 convolutions per stage"}


@dataclasses.dataclass
class ImageSpec:
    """The image networks' settings and the images' shape; meta.json "model" stores them."""

    image_shape: tuple = (28, 28, 1)
    base_filters: int = dataclasses.field(default=32, metadata={"help": _HELP["base_filters"]})
    hidden_units: int = dataclasses.field(default=256, metadata={"help": _HELP["hidden_units"]})
    convs_per_stage: int = dataclasses.field(default=1, metadata={"help": _HELP["convs_per_stage"]})

    def __post_init__(self):
        shape = tuple(int(s) for s in self.image_shape)
        if len(shape) != 3 or min(shape) < 1 or shape[2] not in (1, 3):
            raise VAEError(f"image_shape must be (height, width, 1 or 3 channels), got {self.image_shape}.")
        self.image_shape = shape
        if int(self.base_filters) < 1 or int(self.convs_per_stage) < 1 or int(self.hidden_units) < 0:
            raise VAEError("base_filters and convs_per_stage must be >= 1 and hidden_units >= 0.")
        self.base_filters, self.hidden_units, self.convs_per_stage = (
            int(self.base_filters), int(self.hidden_units), int(self.convs_per_stage))

    @property
    def input_shape(self) -> tuple:
        return self.image_shape

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "image_shape": list(self.image_shape)}

    @property
    def stages(self) -> int:
        """Number of stride-2 stages: halve while both sides are even and stay >= 4."""
        return limits.stages(self.image_shape)

    def filters(self, stage: int) -> int:
        return self.base_filters * 2 ** stage

    def check_size(self, latent_dim: int, num_classes: int) -> None:
        """Before any layer is built: a model of 10^9 weights is refused here, not by an allocator."""
        limits.check_model_size(image_shape=self.image_shape, latent_dim=latent_dim, conditional=num_classes > 0,
                                num_classes=num_classes, base_filters=self.base_filters,
                                hidden_units=self.hidden_units, convs_per_stage=self.convs_per_stage)
