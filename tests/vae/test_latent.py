"""Interpolation, traversal, sampling, neighbours, directions, off-manifold and edit fidelity."""
import numpy as np
import pytest

from vae import directions, latent, manifold
from vae.errors import VAEError


def blobs(n=600, d=6, seed=0):
    """Three well separated Gaussian classes in d dimensions."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((3, d))
    centres[0, 0], centres[1, 1], centres[2, 0] = 3.0, 3.0, -3.0
    y = rng.integers(0, 3, n)
    return (centres[y] + rng.standard_normal((n, d))).astype(np.float32), y.astype(np.int32)


def test_lerp_and_slerp_endpoints_and_norms():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(8), 2 * rng.standard_normal(8)
    for path in (latent.lerp(a, b, 7), latent.slerp(a, b, 7)):
        assert path.shape == (7, 8) and path.dtype == np.float32
        np.testing.assert_allclose(path[0], a, atol=1e-5)
        np.testing.assert_allclose(path[-1], b, atol=1e-5)
    s = latent.slerp(a, b, 7)
    norms = np.linalg.norm(s, axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(a), np.linalg.norm(b), 7), rtol=1e-5)
    # angles to a grow in equal steps along the arc
    cos = (s @ a) / (norms * np.linalg.norm(a))
    angles = np.arccos(np.clip(cos, -1, 1))
    np.testing.assert_allclose(np.diff(angles), angles[-1] / 6, atol=1e-4)
    # the straight line dips inside; the arc does not
    assert np.linalg.norm(latent.lerp(a, -a, 3)[1]) == pytest.approx(0.0, abs=1e-6)
    assert np.linalg.norm(latent.slerp(a, -a, 3)[1]) == pytest.approx(np.linalg.norm(a), rel=1e-5)


def test_traverse_along_a_vector_and_a_dimension():
    z = np.arange(4, dtype=np.float32)
    out = latent.traverse(z, 2, [-1.0, 0.0, 2.5])
    np.testing.assert_allclose(out[:, 2], [1.0, 2.0, 4.5])
    np.testing.assert_allclose(out[:, [0, 1, 3]], np.tile(z[[0, 1, 3]], (3, 1)))
    v = np.array([0.6, 0.8, 0, 0], np.float32)
    np.testing.assert_allclose(latent.traverse(z, v, [2.0])[0], z + 2 * v)
    with pytest.raises(VAEError):
        latent.traverse(z, 7, [1.0])


def test_sample_prior_temperature_and_seed():
    s = latent.sample_prior(10000, 3, temperature=0.5, seed=3)
    assert s.shape == (10000, 3) and s.dtype == np.float32
    assert s.std() == pytest.approx(0.5, rel=0.03)
    np.testing.assert_array_equal(s, latent.sample_prior(10000, 3, temperature=0.5, seed=3))


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(2)
    means = rng.standard_normal((300, 5)).astype(np.float32)
    z = rng.standard_normal(5).astype(np.float32)
    idx, dist = latent.nearest(z, means, 4)
    brute = np.linalg.norm(means - z, axis=1)
    np.testing.assert_array_equal(idx, np.argsort(brute)[:4])
    np.testing.assert_allclose(dist, np.sort(brute)[:4], rtol=1e-4)
    idx2, _ = latent.nearest(means[:3], means, 1)
    np.testing.assert_array_equal(idx2[:, 0], [0, 1, 2])


def test_class_directions_are_unit_and_separate_held_out_points():
    z, y = blobs()
    z_new, y_new = blobs(seed=9)
    for cls in range(3):
        v, fit = latent.class_direction(z, y, cls)
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-6)
        assert fit["accuracy"] > 0.9 and fit["mean_gap"] > 2.0
        score = z_new @ v  # points of the class project further along v than the rest
        assert score[y_new == cls].mean() - score[y_new != cls].mean() > 2.0
    v01, fit = latent.class_direction(z, y, 1, other=0)
    assert fit["balanced_accuracy"] > 0.9
    assert v01[:2] @ (np.array([-1, 1]) / np.sqrt(2)) > 0.95  # from centre 0 towards centre 1


def test_directions_ignore_dimensions_the_data_barely_uses():
    """An almost constant (inactive) dimension that happens to predict the label must not dominate."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000)
    z = rng.standard_normal((2000, 3))
    z[:, 0] += 1.5 * y                             # the class shows in an active dimension...
    z[:, 2] = 1e-3 * (y + 0.5 * rng.standard_normal(2000))  # ...and in a tiny inactive one
    v, fit = latent.class_direction(z, y, 1)
    assert fit["accuracy"] > 0.75 and abs(v[0]) > 0.99 and abs(v[2]) < 0.01
    w, _ = latent.attribute_direction(z, 2 * z[:, 0] + 1e3 * z[:, 2])
    assert abs(w[0]) > 0.99


def test_attribute_direction_finds_the_generating_vector():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((800, 5))
    truth = np.array([1.0, -2.0, 0.0, 0.5, 0.0])
    v, fit = latent.attribute_direction(z, z @ truth + 0.1 * rng.standard_normal(800))
    np.testing.assert_allclose(v, truth / np.linalg.norm(truth), atol=0.01)
    assert fit["r2"] > 0.99 and fit["slope"] == pytest.approx(np.linalg.norm(truth), rel=0.02)


def test_orthogonalize():
    rng = np.random.default_rng(5)
    v, others = rng.standard_normal(6), rng.standard_normal((2, 6))
    w = latent.orthogonalize(v, np.vstack([others, others[0] + others[1]]))  # a dependent row is fine
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(others @ w, 0.0, atol=1e-6)
    assert w @ v > 0  # still points the same way
    with pytest.raises(VAEError):
        latent.orthogonalize(others[0], others)


def test_direction_from_sets():
    a = np.array([[0, 0, 0], [2, 0, 0]], np.float32)
    b = np.array([[1, 3, 0], [1, 5, 0]], np.float32)
    np.testing.assert_allclose(latent.direction_from_sets(a, b), [0, 1, 0], atol=1e-6)
    with pytest.raises(VAEError):
        latent.direction_from_sets(a[:0], b)
    with pytest.raises(VAEError):
        latent.direction_from_sets(a, a)


def test_off_manifold_says_typical_near_the_data_and_far_off_outside():
    z, _ = blobs(1000)
    ref = manifold.manifold_reference(z, k=5)
    near = manifold.off_manifold(z[0] + 0.01, z, reference=ref)
    far = manifold.off_manifold(np.full(6, 12.0, np.float32), z, reference=ref)
    assert near["verdict"] == "typical" and near["ratio"] < 1.0
    assert far["verdict"] == "far off" and far["percentile"] == 100.0 and far["ratio"] > 5
    assert far["log_prior"] == pytest.approx(-0.5 * (6 * np.log(2 * np.pi) + 6 * 144.0))
    assert far["log_prior_percentile"] == 0.0
    both = manifold.off_manifold(np.stack([z[0], np.full(6, 12.0)]), z, reference=ref)
    assert list(both["verdict"]) == ["typical", "far off"]
    direct = manifold.off_manifold(z[:20] + 0.3, z)  # no reference: brute force, same answers as the KD-tree
    np.testing.assert_allclose(direct["knn_distance"], manifold.off_manifold(z[:20] + 0.3, z, reference=ref)["knn_distance"],
                               rtol=1e-5)


def test_edit_fidelity_towards_a_target_class_counts_who_gets_there():
    means = np.random.default_rng(7).normal(size=(300, 2)).astype(np.float32) - [3.0, 0.0]  # all of class 0
    judge = lambda x: (x[:, 0] > 0).astype(int)  # noqa: E731  class 1 right of x = 0
    fid = directions.edit_fidelity(lambda z: z, lambda x: x[:, 0], means, [1, 0], span=8.0, steps=9,
                               encode=lambda x: x, probe=judge, target=1)
    assert fid["start_share"] == 0.0 and fid["reached"] == 1.0  # +8 along x takes every point past x = 0
    assert fid["target_share_by_step"] == sorted(fid["target_share_by_step"]) and fid["spearman"] == 1.0
    back = directions.edit_fidelity(lambda z: z, lambda x: x[:, 0], means, [-1, 0], span=8.0, steps=9,
                                encode=lambda x: x, probe=judge, target=1)
    assert back["reached"] == 0.0 and back["spearman"] == -1.0


def test_manifold_reference_from_its_tree_matches_brute_force_neighbours():
    z, _ = blobs(600)
    ref = manifold.manifold_reference(z, k=5, sample=200, seed=3)
    pick = np.random.default_rng(3).choice(len(z), size=200, replace=False)
    _, dist = latent.nearest(z[pick], z, 6)  # brute force; column 0 is each point itself
    np.testing.assert_allclose(ref["knn_sorted"], np.sort(dist[:, 1:].mean(1)), rtol=1e-5)
    np.testing.assert_allclose(ref["log_prior_sorted"], np.sort(manifold.log_prior(z)), rtol=1e-6)
    assert ref["tree"].n == len(z) and ref["tree"].m == z.shape[1]


def test_edit_fidelity_of_a_perfect_and_a_useless_direction():
    rng = np.random.default_rng(6)
    means = rng.standard_normal((200, 3)).astype(np.float32)
    decode = lambda z: z  # noqa: E731  "images" are the latents themselves
    good = directions.edit_fidelity(decode, lambda x: x[:, 0], means, [1, 0, 0], span=2.0, steps=7,
                                encode=lambda x: x, probe=lambda m: (m[:, 1] > 0).astype(int))
    assert good["spearman"] == 1.0 and good["spearman_of_mean"] == 1.0
    assert len(good["steps"]) == 7 and good["steps"][3] == 0.0
    assert good["class_change_rate"] == 0.0  # moving along x never changes the sign of y
    bad = directions.edit_fidelity(decode, lambda x: x[:, 0], means, [0, 1, 0], span=10.0,
                               encode=lambda x: x, probe=lambda m: (m[:, 1] > 0).astype(int))
    assert bad["spearman"] == 0.0
    assert bad["class_change_rate"] == 1.0  # moved by +-10 along y, every point crosses y = 0


def test_the_meter_measures_in_the_active_dimensions_where_prior_draws_read_typical():
    """Encodings near 0 in the dimensions the model ignores (KL ~ 0) and N(0, 1) in the ones it uses: a
    distance over every dimension calls each prior draw far off; over the active ones, typical as often
    as held-out encodings."""
    rng = np.random.default_rng(0)
    n, used, unused = 3000, 3, 5
    means = np.concatenate([rng.standard_normal((n, used)), 0.01 * rng.standard_normal((n, unused))], 1).astype(np.float32)
    kl = np.array([1.5] * used + [0.001] * unused)
    active = manifold.active_dimensions(kl)
    assert active.tolist() == [0, 1, 2] and manifold.active_dimensions([np.nan, 0.5]).tolist() == [1]
    rest, held = latent.split_holdout(n, 0.2, 0)
    prior = latent.sample_prior(500, used + unused, 1.0, 1)
    everywhere = manifold.manifold_reference(means[rest], k=5, sample=1000)
    assert np.mean(manifold.off_manifold(prior, None, reference=everywhere)["verdict"] == "far off") > 0.95
    ref = manifold.manifold_reference(means[rest], k=5, sample=1000, dims=active)
    prior_report = manifold.off_manifold(prior, None, reference=ref)
    typical_prior = np.mean(prior_report["verdict"] == "typical")
    typical_held = np.mean(manifold.off_manifold(means[held], None, reference=ref)["verdict"] == "typical")
    assert abs(typical_prior - typical_held) < 0.05 and typical_held > 0.8
    assert prior_report["dims_used"] == 3 and prior_report["latent_dim"] == 8
    brute = {key: val for key, val in ref.items() if key != "tree"}  # the brute-force path measures the same way
    np.testing.assert_allclose(manifold.off_manifold(prior[:20], means[rest], reference=brute)["knn_distance"],
                               prior_report["knn_distance"][:20], rtol=1e-5)
def test_class_sliders_share_a_budget_of_decodes():
    from vae.directions import (CLASS_FIDELITY_DECODES, CLASS_FIDELITY_MIN_POINTS, FIDELITY_POINTS, FIDELITY_STEPS,
                                class_fidelity_points)
    assert class_fidelity_points(2) == FIDELITY_POINTS                       # few sliders: every one in full
    n = 25                                                                    # five classes: 5 + 20 sliders
    assert class_fidelity_points(n) * FIDELITY_STEPS * n <= CLASS_FIDELITY_DECODES
    assert class_fidelity_points(n) < FIDELITY_POINTS
    assert class_fidelity_points(400) == CLASS_FIDELITY_MIN_POINTS            # twenty classes: the floor
