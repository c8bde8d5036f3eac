"""What the explorer derives once from a bundle's precomputed arrays, and how far to trust its sliders.

    from vae.view import ExplorerView, trust
    view = ExplorerView.from_precomputed(pre)
    t = view.in_spreads(z)                         # (d,) the point in slider units (spreads from the mean)
    x0, x1, y0, y1 = view.bounds["pca2"]           # the map's extent with a margin: the pad's square
    measure, value, level = trust(pre.directions[0])   # ("spearman", 0.91, "good")

The one home of these facts: the app's sliders, map, pad and model card read them from here. No Streamlit.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import explore
from .directions import FIDELITY_SPAN  # how far edits go when a slider's effect is measured (precompute's too)
from .errors import VAEError

METER_K = 5           # neighbours the off-manifold meter averages over (Precomputed.off_manifold's k)
MAP_MARGIN = 0.06     # share of a map's extent added on each side of its bounds


@dataclasses.dataclass(frozen=True, eq=False)  # arrays inside
class ExplorerView:
    """The sliders' zero and unit, the dimensions by use, the maps' bounds and the directions' scales."""

    latent_mean: np.ndarray   # (d,) mean of the encodings: the dimension sliders' zero
    latent_std: np.ndarray    # (d,) their spread: the dimension sliders' unit (1 where they do not vary)
    dim_order: np.ndarray     # (d,) latent dimensions, most used (highest KL) first
    bounds: dict              # projection name -> (x0, x1, y0, y1), its extent with a margin
    scales: dict              # direction name -> {"center", "spread"}: the zero and unit of its slider

    @classmethod
    def from_precomputed(cls, pre) -> "ExplorerView":
        mean = pre.mean.mean(0).astype(np.float32)
        std = np.where(pre.latent_std > 1e-6, pre.latent_std, 1.0).astype(np.float32)
        kl = np.nan_to_num(pre.kl_per_dim, nan=0.0)
        vectors = [d.vector for d in pre.directions]
        scales = dict(zip([d.name for d in pre.directions], explore.direction_scales(pre.mean, vectors))) if vectors else {}
        bounds = {name: map_bounds(proj.embedding) for name, proj in pre.projections.items()}
        return cls(mean, std, np.argsort(-kl, kind="stable"), bounds, scales)

    def in_spreads(self, z) -> np.ndarray:
        """z (d,) in spreads from the encodings' mean, per dimension: the dimension sliders' values."""
        return explore.in_spreads(z, self.latent_mean, self.latent_std)


def map_bounds(embedding, margin: float = MAP_MARGIN) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a map's first two axes, widened by `margin` of the extent on each side."""
    e = np.asarray(embedding)[:, :2]
    lo, hi = np.nanmin(e, 0), np.nanmax(e, 0)
    pad = margin * (hi - lo) + 1e-6
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


# ------------------------------------------------------------------------------ trusting a slider

# (good from, fair from) for each measure of a direction, the first one measured deciding
TRUST_THRESHOLDS = {"spearman": (0.8, 0.5),   # |rank correlation| of edit step and measured effect
                    "accuracy": (0.9, 0.75),  # held-out accuracy of the fit separating its groups
                    "r2": (0.7, 0.4)}         # held-out R² of the attribute's regression
CLASS_CHANGE = (0.5, 0.1)  # an attribute slider's class change rate: "most edits" from, "named on the slider" from


def trust(direction) -> tuple[str, float, str]:
    """(measure, value, level) of a direction: its edit fidelity ρ if measured, else the fit's accuracy
    or R²; level "good", "fair" or "poor" by TRUST_THRESHOLDS ("none", nan, "poor" when nothing is measured)."""
    fid, fit = direction.fidelity or {}, direction.fit or {}
    for measure, source in (("spearman", fid), ("accuracy", fit), ("r2", fit)):
        value = source.get(measure)
        if value is not None and np.isfinite(value):
            good, fair = TRUST_THRESHOLDS[measure]
            v = abs(float(value)) if measure == "spearman" else float(value)
            return measure, float(value), "good" if v >= good else "fair" if v >= fair else "poor"
    return "none", float("nan"), "poor"


def class_change(direction) -> tuple[float, str]:
    """An attribute slider's measured class change rate and how much it matters: "most" (most edits change
    the class), "some" (enough to name on the slider) or "few"; (nan, "") when not measured or a class slider."""
    fid = direction.fidelity or {}
    rate = fid.get("class_change_rate")
    if fid.get("reached") is not None or rate is None or not np.isfinite(rate):
        return float("nan"), ""
    most, some = CLASS_CHANGE
    return float(rate), "most" if rate >= most else "some" if rate >= some else "few"


def slider_effects(bundle, pre, vector, label: int = 0, keep: int = 3) -> dict:
    """{attribute: rank correlation with the step} for the `keep` attributes a new direction changes most
    steadily, measured by the bundle's modality on decodings FIDELITY_SPAN spreads either way (~0.2 s);
    {} if none are measured."""
    if not pre.attributes:
        return {}
    opts = pre.info.get("attribute_options", {})
    decode = (lambda z: bundle.decode(z, labels=[label] * len(z))) if bundle.conditional else bundle.decode
    names = set(pre.attributes)

    def measure(x):
        return {k: v for k, v in bundle.modality.attributes(x, **opts).items() if k in names}

    span = FIDELITY_SPAN * float(np.std(pre.mean @ np.asarray(vector, np.float32)))
    try:
        effects = explore.attribute_effects(decode, measure, pre.mean, vector, span)
    except VAEError:
        return {}
    return {k: round(r, 3) for k, r in list(effects.items())[:keep]}
