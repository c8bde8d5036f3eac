"""vae/view.py: what the explorer derives once from the precomputed arrays, and how far to trust a slider."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from vae import explore
from vae.precomputed import Direction
from vae.view import ExplorerView, class_change, map_bounds, trust


def _pre():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(200, 3)).astype(np.float32) * [2.0, 0.5, 0.0]  # the last dimension never varies
    proj = SimpleNamespace(embedding=np.array([[0.0, 10.0], [1.0, 20.0]], np.float32))
    v = np.array([1.0, 0.0, 0.0], np.float32)
    return SimpleNamespace(mean=mean, latent_std=mean.std(0), kl_per_dim=np.array([0.5, 2.0, np.nan]),
                           projections={"pca2": proj}, directions=[Direction("a", "attribute", v, {"r2": 0.9}, {})])


def test_the_view_holds_the_sliders_zero_and_unit_the_map_bounds_and_the_direction_scales():
    pre = _pre()
    view = ExplorerView.from_precomputed(pre)
    np.testing.assert_allclose(view.latent_mean, pre.mean.mean(0), atol=1e-6)
    assert view.latent_std[2] == 1.0  # a dimension that never varies counts in raw units
    assert list(view.dim_order) == [1, 0, 2]  # most KL first; unmeasured last
    assert view.bounds["pca2"] == pytest.approx((-0.06, 1.06, 9.4, 20.6), abs=1e-5)  # 6% margin either side
    assert view.scales["a"]["spread"] == pytest.approx(float(pre.mean[:, 0].std()), rel=1e-5)
    z = explore.set_dimension(view.latent_mean, 1, 1.5, view.latent_mean, view.latent_std)
    assert view.in_spreads(z)[1] == pytest.approx(1.5, abs=1e-5)  # set_dimension's inverse
    assert map_bounds(np.array([[0.0, 0.0], [1.0, 1.0]]), margin=0.0) == pytest.approx((0, 1, 0, 1), abs=1e-5)


def _direction(fit=None, fidelity=None):
    return Direction("d", "attribute", np.ones(2, np.float32), fit or {}, fidelity or {})


def test_trust_takes_the_first_measured_figure_and_judges_it_by_its_thresholds():
    assert trust(_direction({"r2": 0.9}, {"spearman": -0.79})) == ("spearman", -0.79, "fair")  # |ρ| decides
    assert trust(_direction({"accuracy": 0.9}, {"spearman": float("nan")})) == ("accuracy", 0.9, "good")
    assert trust(_direction({"accuracy": 0.74}))[2] == "poor" and trust(_direction({"r2": 0.4}))[2] == "fair"
    measure, value, level = trust(_direction())
    assert measure == "none" and np.isnan(value) and level == "poor"


def test_class_change_is_worded_only_for_attribute_sliders_that_measured_it():
    assert class_change(_direction(fidelity={"class_change_rate": 0.5}))[1] == "most"
    assert class_change(_direction(fidelity={"class_change_rate": 0.1}))[1] == "some"
    assert class_change(_direction(fidelity={"class_change_rate": 0.02}))[1] == "few"
    assert class_change(_direction(fidelity={"class_change_rate": 0.9, "reached": 0.5}))[1] == ""  # a class slider
