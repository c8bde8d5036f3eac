"""Forward and inverse maps: PCA exact, neighbourhood inverses within their measured error."""
import numpy as np
import pytest

from vae import embeddings, projection
from vae.embeddings import TSNEProjection, UMAPProjection
from vae.projection import IdentityProjection, NeighbourhoodMap, PCAProjection


def manifold(n=1500, d=6, seed=0):
    """Points near a 2-D sheet curled in d dimensions, with a little noise: a map can unroll it."""
    rng = np.random.default_rng(seed)
    u, v = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    z = np.zeros((n, d))
    z[:, 0], z[:, 1], z[:, 2] = u, v, np.sin(u)
    z[:, 3:] = 0.05 * rng.standard_normal((n, d - 3))
    return z.astype(np.float32), np.stack([u, v], 1).astype(np.float32)


@pytest.mark.parametrize("dims", [2, 3])
def test_pca_round_trips_are_exact(dims):
    rng = np.random.default_rng(1)
    z = (rng.standard_normal((400, 5)) * [3, 2, 1, 0.5, 0.1]).astype(np.float32)
    pca = PCAProjection(dims).fit(z)
    assert pca.embedding.shape == (400, dims) and pca.embedding.dtype == np.float32
    p = pca.transform(z[:50])
    np.testing.assert_allclose(pca.inverse_transform(p, z_ref=z[:50]), z[:50], atol=1e-5)  # other PCs kept
    q = rng.standard_normal((20, dims)).astype(np.float32)
    np.testing.assert_allclose(pca.transform(pca.inverse_transform(q)), q, atol=1e-5)
    np.testing.assert_allclose(pca.transform(pca.inverse_transform(q, z_ref=z[0])), q, atol=1e-5)
    # with no z_ref the components off the map sit at the data mean
    off = pca.components_[dims:]
    np.testing.assert_allclose((pca.inverse_transform(q) - pca.mean_) @ off.T, 0.0, atol=1e-5)
    assert pca.exact_inverse and pca.inverse_error == {}
    assert pca.explained_variance_ratio_[0] > 0.6


def test_identity_map_of_a_2d_latent_space():
    z = np.random.default_rng(2).standard_normal((30, 2)).astype(np.float32)
    ident = IdentityProjection().fit(z)
    np.testing.assert_array_equal(ident.embedding, z)
    np.testing.assert_array_equal(ident.inverse_transform(ident.transform(z)), z)
    with pytest.raises(ValueError):
        IdentityProjection().fit(np.zeros((3, 4)))


def test_neighbourhood_inverse_error_is_what_it_claims():
    z, uv = manifold()
    fitted = NeighbourhoodMap("sheet").fit(z[:1300], embedding=uv[:1300])
    err = fitted.inverse_error
    assert err["held_out"] > 0 and 0 < err["median_rel"] <= err["p90_rel"] < 0.2
    # fresh points the map never saw: their errors match the stored numbers
    scale = err["scale"]
    fresh = np.linalg.norm(fitted.inverse_transform(uv[1300:]) - z[1300:], axis=1) / scale
    assert np.median(fresh) <= 1.5 * err["median_rel"]
    assert np.mean(fresh <= err["p90_rel"]) >= 0.8
    fwd = np.linalg.norm(fitted.transform(z[1300:]) - uv[1300:], axis=1)
    assert np.median(fwd) < 0.2  # map units; the sheet spans 4 x 4
    # a stored point maps back onto its own latent
    np.testing.assert_allclose(fitted.inverse_transform(uv[:3]), z[:3], atol=1e-3)


def test_tsne_with_opentsne_and_sklearn():
    z, _ = manifold(400)
    for backend, library in (("opentsne", "openTSNE"), ("sklearn", "scikit-learn")):
        t = TSNEProjection(perplexity=20, seed=0, backend=backend).fit(z)
        assert t.embedding.shape == (400, 2) and np.isfinite(t.embedding).all()
        assert t.params["perplexity"] == 20 and t.params["backend"].startswith(library)
        assert t.inverse_error["median_rel"] < 0.5
    tiny = TSNEProjection(perplexity=30, seed=0).fit(z[:31])
    assert tiny.params["perplexity"] == 10.0  # lowered to (N - 1) / 3


@pytest.mark.skipif(not UMAPProjection.available(), reason="umap-learn is not installed")
def test_umap_reuses_a_neighbour_graph():
    z, _ = manifold(400)
    knn = embeddings.knn_graph(z, 20)
    assert knn[0].shape == (400, 20) and not (knn[0] == np.arange(400)[:, None]).any()  # never itself
    assert np.all(np.diff(knn[1], axis=1) >= 0)  # nearest first
    u = UMAPProjection(seed=0).fit(z, knn=knn)
    assert u.embedding.shape == (400, 2) and u.inverse_error["median_rel"] < 0.5
    assert u.params["n_neighbors"] == 15 and u.info()["type"] == "umap"


def test_stored_maps_load_without_refitting():
    z, uv = manifold(500)
    pca = PCAProjection(3).fit(z)
    fitted = NeighbourhoodMap("tsne").fit(z, embedding=uv)
    fitted.kind = "tsne"
    for original in (pca, fitted):
        loaded = projection.from_arrays(original.name, original.to_arrays(), original.info(), z)
        assert loaded.dims == original.dims and loaded.exact_inverse == original.exact_inverse
        q = original.embedding[:5] + 0.01
        np.testing.assert_allclose(loaded.inverse_transform(q), original.inverse_transform(q), atol=1e-6)
        np.testing.assert_allclose(loaded.transform(z[:5]), original.transform(z[:5]), atol=1e-6)
        assert loaded.inverse_error == original.inverse_error
