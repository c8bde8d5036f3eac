"""vae.explore: slider units, conditional edits, map round trips, plane grids, URL vectors."""
import numpy as np
import pytest

from vae import explore
from vae.errors import VAEError
from vae.projection import IdentityProjection, PCAProjection


@pytest.fixture
def means():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(400, 5)) * [3, 2, 1, 0.5, 0.1] + [1, 0, 0, 0, 0]).astype(np.float32)


def test_direction_scale_and_along_count_in_spreads(means):
    v = np.array([1, 0, 0, 0, 0], np.float32)
    s = explore.direction_scale(means, v)
    assert s["center"] == pytest.approx(means[:, 0].mean(), rel=1e-5)
    assert s["spread"] == pytest.approx(means[:, 0].std(), rel=1e-5)
    z = np.zeros(5, np.float32)
    z[0] = s["center"] + 2 * s["spread"]
    assert explore.along(z, v, s) == pytest.approx(2.0)


def test_move_to_lands_on_target_and_keeps_the_fixed_directions(means):
    rng = np.random.default_rng(1)
    v, w = rng.normal(size=5), rng.normal(size=5)
    v, w = v / np.linalg.norm(v), w / np.linalg.norm(w)
    sv, sw = explore.direction_scale(means, v), explore.direction_scale(means, w)
    z = means[3]
    free = explore.move_to(z, v, 1.5, sv)
    assert explore.along(free, v, sv) == pytest.approx(1.5, abs=1e-4)
    kept = explore.move_to(z, v, 1.5, sv, keep=[w])
    assert explore.along(kept, v, sv) == pytest.approx(1.5, abs=1e-4)
    assert explore.along(kept, w, sw) == pytest.approx(explore.along(z, w, sw), abs=1e-4)
    inside = explore.move_to(z, v, 1.0, sv, keep=[v * 2])  # nothing left to move along: it moves all the same
    assert explore.along(inside, v, sv) == pytest.approx(1.0, abs=1e-4)


def test_keeping_more_directions_than_dimensions_fixed_moves_them_least():
    """16 directions kept fixed in 5 dimensions: the step reaches the target and changes the kept ones
    less (least squares) than the plain step along the direction, and no other step does better."""
    rng = np.random.default_rng(2)
    means = rng.normal(size=(200, 5)).astype(np.float32)
    v, *keep = [w / np.linalg.norm(w) for w in rng.normal(size=(17, 5))]
    sv = explore.direction_scale(means, v)
    z = means[0]
    moved = explore.move_to(z, v, -1.0, sv, keep=keep)
    assert explore.along(moved, v, sv) == pytest.approx(-1.0, abs=1e-4)
    k = np.array(keep)
    step = moved - z
    plain = v * float(step @ v)  # the step without keeping anything
    assert np.linalg.norm(k @ step) < np.linalg.norm(k @ plain)
    for _ in range(50):  # any other step reaching the same target changes them at least as much
        other = step + rng.normal(size=5) * 0.1
        other -= v * float(other @ v - step @ v)
        assert np.linalg.norm(k @ other) >= np.linalg.norm(k @ step) - 1e-3 * abs(float(step @ v))


def test_set_dimension_and_in_spreads_agree(means):
    mean, std = means.mean(0), means.std(0)
    z = explore.set_dimension(means[0], 2, -1.25, mean, std)
    assert explore.in_spreads(z, mean, std)[2] == pytest.approx(-1.25, abs=1e-5)
    np.testing.assert_array_equal(np.delete(z, 2), np.delete(means[0], 2))


def test_from_map_inverts_pca_on_the_plane_and_keeps_the_rest(means):
    pca = PCAProjection(2).fit(means)
    z = means[10]
    p = explore.map_point(pca, z)
    np.testing.assert_allclose(explore.from_map(pca, p, z), z, atol=1e-4)  # round trip
    moved = explore.from_map(pca, p + [0.5, -0.25], z)
    np.testing.assert_allclose(explore.map_point(pca, moved), p + [0.5, -0.25], atol=1e-4)
    off_plane = lambda q: q - pca.mean_ - (q - pca.mean_) @ pca.axes.T @ pca.axes  # noqa: E731
    np.testing.assert_allclose(off_plane(moved), off_plane(z), atol=1e-4)


def test_from_map_on_a_3d_map_keeps_the_third_axis(means):
    pca3 = PCAProjection(3).fit(means)
    z = means[4]
    moved = explore.from_map(pca3, [0.1, 0.2], z)
    p_old, p_new = explore.map_point(pca3, z), explore.map_point(pca3, moved)
    np.testing.assert_allclose(p_new, [0.1, 0.2, p_old[2]], atol=1e-4)


def test_plane_grid_covers_the_bounds_top_row_first():
    ident = IdentityProjection().fit(np.array([[0, 0], [1, 2], [0.5, 1]], np.float32))
    zs, shape = explore.plane_grid(ident, (0, 1, 0, 2), 3, z_ref=[0, 0])
    assert shape == (3, 3) and zs.shape == (9, 2)
    np.testing.assert_allclose(zs[0], [0, 2])     # top left: low x, high y
    np.testing.assert_allclose(zs[2], [1, 2])     # top right
    np.testing.assert_allclose(zs[-1], [1, 0])    # bottom right
    with pytest.raises(VAEError):
        explore.plane_grid(ident, (0, 1, 0, 1), 1, [0, 0])


def test_group_direction_points_from_a_to_b_and_scores_the_split(means):
    a = np.nonzero(means[:, 0] < -1)[0]
    b = np.nonzero(means[:, 0] > 3)[0]
    v, fit = explore.group_direction(means, a, b)
    assert v[0] > 0.9 and fit["accuracy"] == 1.0 and fit["n_a"] == len(a) and fit["gap"] > 0
    with pytest.raises(VAEError):
        explore.group_direction(means, a, a)


@pytest.mark.parametrize("text, problem", [("1,2", "has 2 numbers"), ("1,2,nan", "NaN"), ("1,inf,2", "NaN"),
                                           ("1,x,2", "not a number"), ("", "empty"), ("1,2,1e9", "huge")])
def test_parse_latent_refuses_bad_vectors(text, problem):
    with pytest.raises(VAEError, match=problem):
        explore.parse_latent(text, 3)


def test_format_and_parse_latent_round_trip():
    z = np.array([0.123456, -2.0, 0.0, 1e-6], np.float32)
    text = explore.format_latent(z)
    assert text == "0.1235,-2,0,0"
    np.testing.assert_allclose(explore.parse_latent(text, 4), [0.1235, -2, 0, 0])


def test_direction_scales_at_once_match_one_by_one(means):
    vectors = np.random.default_rng(2).normal(size=(6, 5))
    for many, v in zip(explore.direction_scales(means, vectors), vectors):
        one = explore.direction_scale(means, v)
        assert many["center"] == pytest.approx(one["center"], rel=1e-4, abs=1e-5)
        assert many["spread"] == pytest.approx(one["spread"], rel=1e-4)


def test_attribute_effects_name_what_a_direction_changes_strongest_first():
    means = np.random.default_rng(4).normal(size=(100, 2)).astype(np.float32)
    measure = lambda x: {"flat": np.zeros(len(x)), "a": x[:, 0], "b": -x[:, 1]}  # noqa: E731  the "images" are latents
    along_a = explore.attribute_effects(lambda z: z, measure, means, [1, 0], span=2.0)
    assert along_a == {"a": 1.0, "flat": 0.0, "b": 0.0}
    assert list(along_a)[0] == "a"
    diagonal = explore.attribute_effects(lambda z: z, measure, means, [1, -1], span=2.0, points=10)
    assert diagonal["a"] == 1.0 and diagonal["b"] == 1.0 and diagonal["flat"] == 0.0
    with pytest.raises(VAEError):
        explore.attribute_effects(lambda z: z, measure, means, [1, 0, 0], span=2.0)  # wrong length
