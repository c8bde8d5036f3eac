"""The largest model, image and label set this project builds or loads, checked before anything is allocated.

    from vae.limits import check_model_size
    check_model_size(image_shape=(28, 28, 1), latent_dim=16, hidden_units=256)   # raises VAEError if absurd

One place for the numbers: train.py, VAEConfig, meta.json's schema, vae/data.py and vae/checks.py all
refuse beyond them.
"""
from __future__ import annotations

from .errors import VAEError

MAX_LATENT = 4096            # latent dimensions
MAX_SIDE = 512               # image height and width in pixels
MAX_CLASSES = 10_000         # labels are class indices 0..K-1
MAX_HIDDEN_UNITS = 65_536    # the dense layer between convolutions and latent
MAX_BASE_FILTERS = 1024      # filters of the first conv stage (they double per stage)
MAX_CONVS_PER_STAGE = 16
MAX_PARAMETERS = 100_000_000  # 400 MB of float32 weights, 1.6 GB with Adam's moments while training
MAX_STAGES = 4               # as vae/model.py: stride-2 stages while both sides are even and stay >= 4


def stages(image_shape) -> int:
    """Stride-2 stages of the encoder (the decoder mirrors them), as VAEConfig.stages."""
    h, w, _ = image_shape
    n = 0
    while n < MAX_STAGES and h % 2 == 0 and w % 2 == 0 and min(h, w) // 2 >= 4:
        h, w, n = h // 2, w // 2, n + 1
    return n


def parameter_count(image_shape, latent_dim: int, conditional: bool = False, num_classes: int = 0,
                    base_filters: int = 32, hidden_units: int = 256, convs_per_stage: int = 1) -> int:
    """Weights of the VAE that vae/model.py would build, counted from its layers without building it."""
    h, w, c = image_shape
    s = stages(image_shape)
    labels = num_classes if conditional else 0

    def conv(cin, cout):  # 3x3 kernel and bias
        return 9 * cin * cout + cout

    def dense(cin, cout):
        return cin * cout + cout

    n, cin = 0, c
    for stage in range(max(s, 1)):  # encoder convolutions
        for _ in range(convs_per_stage):
            n, cin = n + conv(cin, base_filters << stage), base_filters << stage
    width = (h >> s) * (w >> s) * cin + labels
    if hidden_units:
        n, width = n + dense(width, hidden_units), hidden_units
    n += 2 * dense(width, latent_dim)  # z_mean, z_log_var
    width = latent_dim + labels  # decoder
    if hidden_units:
        n, width = n + dense(width, hidden_units), hidden_units
    cin = base_filters << max(s - 1, 0)
    n += dense(width, (h >> s) * (w >> s) * cin)
    for stage in reversed(range(s)):
        n, cin = n + conv(cin, base_filters << stage), base_filters << stage  # transposed, same count
        n += (convs_per_stage - 1) * conv(cin, cin)
    return n + conv(cin, c)  # logits


def model_size_problem(image_shape, latent_dim, conditional=False, num_classes=0, base_filters=32,
                       hidden_units=256, convs_per_stage=1) -> str | None:
    """What is out of range, as "--option must be ..., got X" (the command-line names), or None."""
    ranges = [("latent_dim", latent_dim, 1, MAX_LATENT), ("num_classes", num_classes, 0, MAX_CLASSES),
              ("base_filters", base_filters, 1, MAX_BASE_FILTERS), ("hidden_units", hidden_units, 0, MAX_HIDDEN_UNITS),
              ("convs_per_stage", convs_per_stage, 1, MAX_CONVS_PER_STAGE)]
    for name, value, low, high in ranges:
        if not low <= value <= high:
            return f"--{name.replace('_', '-')} must be between {low} and {high:,}, got {value:,}"
    if not (len(image_shape) == 3 and all(1 <= side <= MAX_SIDE for side in image_shape[:2])):
        return f"images must be at most {MAX_SIDE} pixels on each side, got {tuple(image_shape)}"
    count = parameter_count(image_shape, latent_dim, conditional, num_classes, base_filters, hidden_units,
                            convs_per_stage)
    if count > MAX_PARAMETERS:
        return (f"this model would have {count:,} weights, over the limit of {MAX_PARAMETERS:,}: lower --hidden-units, "
                "--base-filters, --convs-per-stage or --latent-dim")
    return None


def levels_problem(top_dim, lower_dim, hidden, label_width: int = 0) -> str | None:
    """A hierarchical VAE's level sizes (vae/hierarchy.py) out of range, in words, or None; checked before any
    layer is built, from a model.keras's config too."""
    sizes = (top_dim, lower_dim, hidden, label_width)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        return "the levels' sizes must be whole numbers"
    if not (1 <= top_dim <= MAX_LATENT and 1 <= lower_dim <= MAX_LATENT and 1 <= hidden <= MAX_HIDDEN_UNITS):
        return (f"a hierarchical VAE needs latent_dim and lower_dim between 1 and {MAX_LATENT} and hidden_units_top "
                f"between 1 and {MAX_HIDDEN_UNITS}, got {top_dim}, {lower_dim}, {hidden}")
    weights = ((2 * lower_dim + label_width + 1) * hidden + (hidden + 1) * 2 * top_dim
               + (top_dim + label_width + 1) * hidden + (hidden + 1) * 2 * lower_dim)
    if weights > MAX_PARAMETERS:
        return f"the levels' networks would have {weights:,} weights, over the {MAX_PARAMETERS:,} allowed"
    return None


def check_model_size(**config) -> None:
    """Raise VAEError (one sentence) if the model these VAEConfig values describe is out of range or too big."""
    problem = model_size_problem(**config)
    if problem:
        raise VAEError(problem + ".")
