"""The big map's figure (ui/map_view.py): legend and colour bar outside the data, legend markers in
class colours, Plotly's tips off. (The browser side, measured on screen: tests/e2e/test_layout.py.)"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("plotly")
from ui import map_view  # noqa: E402


def fake_loaded(dims: int, n: int = 60, classes: int = 3):
    rng = np.random.default_rng(0)
    proj = SimpleNamespace(embedding=rng.normal(size=(n, dims)), dims=dims)
    pre = SimpleNamespace(projections={"pca3" if dims == 3 else "pca2": proj}, labels=np.arange(n) % classes,
                          attributes={"brightness": rng.random(n)}, attribute_info={"brightness": {"unit": "0-1"}},
                          recon_error=rng.random(n))
    return SimpleNamespace(pre=pre, bundle=SimpleNamespace(class_names=["a", "b", "c"]),
                           view=SimpleNamespace(bounds={"pca2": (-3, 3, -3, 3)}), choice=SimpleNamespace(path=f"/fake/{dims}/{n}"))


@pytest.mark.parametrize("dims", [2, 3])
def test_value_colouring_keeps_class_colours_in_a_legend_off_the_data(dims):
    name = "pca3" if dims == 3 else "pca2"
    fig = map_view._build(fake_loaded(dims), name, "brightness")
    legend = [t for t in fig.data if t.showlegend]
    assert [t.name for t in legend] == ["a", "b", "c"]
    assert [t.marker.color for t in legend] == [map_view.class_colour(k) for k in range(3)]  # not black
    points = [t for t in fig.data if t.customdata is not None]
    assert sum(len(t.x) for t in points) == 60 and not any(t.showlegend for t in points)
    assert {t.legendgroup for t in points} == {"a", "b", "c"}  # a legend click still hides a class's points
    lay = fig.layout
    assert lay.legend.orientation == "h" and lay.legend.y <= 0 and lay.legend.yanchor == "top"  # below the plot
    assert lay.coloraxis.colorbar.x >= 1.0 and lay.coloraxis.colorbar.xanchor == "left"  # right of the plot
    if dims == 2:
        assert all(t.type == "scatter" for t in legend)  # the legend entries need no WebGL


def test_class_colouring_legend_sits_right_of_the_plot():
    fig = map_view._build(fake_loaded(2), "pca2", "class")
    assert all(t.showlegend for t in fig.data) and len(fig.data) == 3
    assert fig.layout.legend.orientation == "v" and fig.layout.legend.x is None  # Plotly's default: outside, right
    assert map_view.CHART_CONFIG["showTips"] is False


def test_long_class_names_put_the_legend_under_the_map():
    """Beside the map, names like "Essen folk songs (China)" took most of a 1280-px column's width."""
    loaded = fake_loaded(2, n=61)
    loaded.bundle.class_names = ["O'Neill's 1850 (Irish)", "Essen folk songs (China)", "Bach chorales (soprano)"]
    fig = map_view._build(loaded, "pca2", "class")
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y <= 0 and fig.layout.legend.yanchor == "top"
    assert fig.layout.coloraxis.colorbar.x is None  # no colour bar: coloured by class


def test_the_3d_camera_leaves_room_for_the_axis_titles():
    fig = map_view._build(fake_loaded(3), "pca3", "class")
    eye = fig.layout.scene.camera.eye
    assert min(eye.x, eye.y, eye.z) > 1.25  # further back than Plotly's default (1.25, 1.25, 1.25)
    assert fig.layout.scene.zaxis.title.text == "PC3"
