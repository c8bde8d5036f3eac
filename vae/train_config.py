"""The settings of a training run, one dataclass; scripts/train.py builds its options from the fields.

    cfg = TrainConfig(dataset="digits", latent_dim=4, epochs=3, options={"hidden_units": 64})

No TensorFlow here: absurd settings are refused before it loads.
"""
from __future__ import annotations

import dataclasses
import math

from . import limits
from .errors import VAEError


def _opt(default, help: str, flag: str | None = None, **extra):
    """A dataclass field that is also a command-line option (scripts/train.py builds its parser from these)."""
    return dataclasses.field(default=default, metadata={"help": help, **({"flag": flag} if flag else {}), **extra})


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; stored in the run folder and in the bundle's meta.json. `options` holds the
    modality's own settings (its networks' and data options, e.g. hidden_units, image_size for images)."""

    dataset: str = _opt("fashion_mnist", "dataset name or spec (each modality lists its own; images: fashion_mnist, "
                        "mnist, digits, folder:PATH, npz:PATH; binarized_fashion_mnist: the density-estimation protocol)")
    modality: str = _opt("image", "kind of data: image, melody, text, ...")
    latent_dim: int = _opt(16, "latent dimensions (of the top level, with --lower-dim)")
    lower_dim: int = _opt(0, "a hierarchical VAE: a second, lower stochastic level of this many dimensions under the "
                             "latent one, with top-down inference (Ladder VAE, vae/hierarchy.py); 0: one level")
    epochs: int = _opt(30, "epochs in all (with --resume: the run's own unless given)")
    batch_size: int = _opt(128, "examples per step")
    lr: float = _opt(2e-3, "peak learning rate of Adam (with --resume: the run's own unless given)")
    beta: float = _opt(1.0, "weight of the KL term (beta-VAE)")
    conditional: bool = _opt(False, "condition encoder and decoder on the class label")
    seed: int = _opt(0, "seed of the split, the initial weights and the batches")
    val_fraction: float = _opt(0.1, "part of the training split held out for validation")
    max_train: int | None = _opt(None, "train on the first N examples only (quick runs)")
    lr_schedule: str = _opt("cosine", "cosine or constant (with --resume: the run's own unless given)",
                            choices=("cosine", "constant"))
    kl_warmup: float = _opt(0.0, "epochs over which beta ramps up from 0 (KL annealing: fewer collapsed latent units; "
                                 "the logged loss is the true -ELBO)")
    free_bits: float = _opt(0.0, "nats per latent dimension below which the KL is not pushed down (free bits, "
                                 "Kingma et al. 2016); the logged loss is the true -ELBO")
    kl_cycles: int = _opt(0, "cyclical KL annealing (Fu et al. 2019) instead of --kl-warmup's one ramp: beta rises from 0 "
                             "over the first half of each of N equal cycles of the run")
    clip_norm: float = _opt(0.0, "clip the gradient's global norm to this (0: no clipping; recurrent networks train "
                                 "more steadily with 1-5; with --strategy mirrored each replica's share is clipped)")
    augment: bool = _opt(True, "vary every training batch the way the modality allows (melodies: random "
                               "transposition); --no-augment turns it off", flag="--no-augment")
    no_latent: bool = _opt(False, "train the decoder alone, fed z = 0, without a KL term: the likelihood model of the "
                                  "same size a VAE's bound is measured against (Bowman et al. 2016's anchor)")
    jit_compile: bool = _opt(False, "compile training steps with XLA (measured slower than oneDNN on this CPU)", flag="--jit")
    strategy: str = _opt("default", "mirrored: tf.distribute.MirroredStrategy over all GPUs (works on one CPU too)",
                         choices=("default", "mirrored"))
    options: dict = dataclasses.field(default_factory=dict, metadata={"modality": True})

    def __post_init__(self):
        from . import modalities

        checks = [(isinstance(self.modality, str) and self.modality in modalities.names(),
                   f"--modality must be one of {', '.join(modalities.names())}, got {str(self.modality)[:40]}"),
                  (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
                  (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
                  (1 <= self.latent_dim <= limits.MAX_LATENT,
                   f"--latent-dim must be between 1 and {limits.MAX_LATENT}, got {self.latent_dim}"),
                  (0 <= self.lower_dim <= limits.MAX_LATENT,
                   f"--lower-dim must be between 0 and {limits.MAX_LATENT}, got {self.lower_dim}"),
                  (not (self.lower_dim and self.no_latent), "--no-latent trains a decoder alone: leave --lower-dim out"),
                  (math.isfinite(self.beta) and self.beta >= 0, f"--beta must be a finite number >= 0, got {self.beta}"),
                  (self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
                  (math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr}"),
                  (0 < self.val_fraction < 1, f"--val-fraction must be between 0 and 1, got {self.val_fraction}"),
                  (self.lr_schedule in ("cosine", "constant"), f"--lr-schedule must be cosine or constant, got {self.lr_schedule}"),
                  (self.strategy in ("default", "mirrored"), f"--strategy must be default or mirrored, got {self.strategy}"),
                  (0 <= self.kl_warmup < 1e6, f"--kl-warmup must be >= 0 epochs, got {self.kl_warmup}"),
                  (0 <= self.free_bits < 1e3, f"--free-bits must be >= 0 nats, got {self.free_bits}"),
                  (0 <= self.kl_cycles <= 1000, f"--kl-cycles must be between 0 and 1000, got {self.kl_cycles}"),
                  (not (self.kl_cycles and self.kl_warmup), "--kl-cycles and --kl-warmup are two KL schedules: give one"),
                  (0 <= self.clip_norm < 1e6, f"--clip-norm must be >= 0, got {self.clip_norm}"),
                  (self.max_train is None or self.max_train >= 2, f"--max-train must be at least 2, got {self.max_train}"),
                  (isinstance(self.options, dict), "options must be a mapping of the modality's settings")]
        for ok, message in checks:
            if not ok:
                raise VAEError(message + ".")
        modality = modalities.get(self.modality)
        known = option_fields(modality)
        unknown = sorted(set(self.options) - set(known))
        if unknown:
            raise VAEError(f"--{unknown[0].replace('_', '-')[:40]} is not a setting of the {self.modality} modality.")
        # sizes first, before any data is read; the weight count is checked again once the data's shape is known
        problem = modality.check_options(self.options, self.latent_dim)
        if problem:
            raise VAEError(problem + ".")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """From a stored config; older, flat ones kept the image settings beside the others."""
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in d.items() if k in fields}
        options = {**{k: v for k, v in d.items() if k not in fields}, **(known.pop("options", None) or {})}
        return cls(**known, options=options)

    def data_options(self) -> dict:
        from . import modalities

        return {**modalities.get(self.modality).data_options(self.options), "seed": self.seed, "stratify": True}

    def model_kwargs(self, ds) -> dict:
        """The VAE's keywords for this run on dataset `ds` (a vae.data.Dataset)."""
        from . import modalities

        spec = modalities.get(self.modality).spec_for(ds, self.options)
        levels = {"lower_dim": self.lower_dim} if self.lower_dim else {}
        return dict(modality=self.modality, latent_dim=self.latent_dim, beta=self.beta, conditional=self.conditional,
                    num_classes=len(ds.class_names), seed=self.seed, **levels, **spec.to_dict())

    def build_model(self, ds):
        """A new, untrained model for this run: a VAE, or with lower_dim a two-level LadderVAE."""
        if self.lower_dim:
            from .hierarchy import LadderVAE

            return LadderVAE(**self.model_kwargs(ds))
        from .model import VAE

        return VAE(**self.model_kwargs(ds))


def option_fields(modality) -> dict:
    """The modality's settings a user may give: {name: dataclasses.Field} of its spec and data options."""
    out = {}
    for cls in (modality.spec_class, getattr(modality, "data_options_class", None)):
        if cls is not None:
            out.update({f.name: f for f in dataclasses.fields(cls) if "help" in f.metadata})
    return out
