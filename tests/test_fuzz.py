"""Property-based fuzzing: encode, decode, the maps' forward and inverse, and the latent operations
take arrays of any shape, dtype and value. Each call either works (right shape, finite numbers
for finite input) or raises the project's own VAEError: never a numpy/TensorFlow error or a crash."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vae import VAEError, explore, latent, load_bundle, manifold
from vae.projection import IdentityProjection, NeighbourhoodMap, PCAProjection

D = 4  # the tiny bundle's latent size
FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

DTYPES = st.sampled_from([np.uint8, np.int64, np.float16, np.float32, np.float64, np.bool_, np.complex64])
VALUES = {"finite": st.floats(-1e3, 1e3, width=32), "any": st.floats(width=32, allow_nan=True, allow_infinity=True)}


def arrays(max_dims=4, max_side=6, dtype=None, values="any"):
    """Arrays of any shape (0 to max_dims axes, sides 0..max_side) and dtype, with any float values."""
    def build(dt):
        elements = None
        if np.dtype(dt).kind == "f":
            elements = VALUES[values] if np.dtype(dt).itemsize >= 4 else st.floats(-100, 100, width=16)
        return hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side),
                          elements=elements)
    return (st.just(dtype) if dtype else DTYPES).flatmap(build)


def latents(n_max=5, values="any"):
    """Mostly well-shaped latents, (d,) or (n, d), sometimes of another length."""
    shape = st.one_of(st.just((D,)), st.tuples(st.integers(0, n_max), st.just(D)),
                      st.tuples(st.integers(0, n_max), st.integers(1, 6)), st.tuples(st.integers(1, 6)))
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=VALUES[values]))


def works_or_vae_error(fn, *args, **kwargs):
    """fn's result, or None when it raised VAEError; any other exception fails the test."""
    try:
        return fn(*args, **kwargs)
    except VAEError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        return None


def finite_in(*xs) -> bool:
    """Inputs of moderate size (|x| <= 1e6): their results must be finite. (1e19 squared leaves float32.)"""
    return all(np.all(np.abs(np.asarray(x, np.float64)) <= 1e6) for x in xs if np.asarray(x).dtype.kind in "biuf")


@pytest.fixture(scope="module")
def bundle(tiny_bundle_dir):
    return load_bundle(tiny_bundle_dir)


@pytest.fixture(scope="module")
def maps():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(60, D)).astype(np.float32)
    pca = PCAProjection(2).fit(means)
    pca3 = PCAProjection(3).fit(means)
    nmap = NeighbourhoodMap("tsne").fit(means, rng.normal(size=(60, 2)))
    ident = IdentityProjection().fit(means[:, :2])
    return means, {"pca": pca, "pca3": pca3, "tsne": nmap}, ident


@FUZZ
@given(images=st.one_of(arrays(max_dims=5, max_side=9), hnp.arrays(np.uint8, st.tuples(st.integers(0, 3), st.just(8),
                                                                                           st.just(8), st.just(1)))),
       labels=st.one_of(st.none(), arrays(max_dims=1, max_side=4)))
def test_encode(bundle, images, labels):
    out = works_or_vae_error(bundle.encode, images, labels)
    if out is not None:
        mean, logvar = out
        assert mean.shape == logvar.shape == (len(np.atleast_1d(images)) if images.ndim == 4 else 1, D)
        assert np.isfinite(mean).all() and np.isfinite(logvar).all()


@FUZZ
@given(z=st.one_of(arrays(max_dims=3), latents()), labels=st.one_of(st.none(), arrays(max_dims=1, max_side=4)))
def test_decode(bundle, z, labels):
    x = works_or_vae_error(bundle.decode, z, labels)
    if x is not None:
        assert x.shape[1:] == (8, 8, 1) and x.dtype == np.float32
        assert np.all((x >= 0) & (x <= 1))


@FUZZ
@given(points=st.one_of(arrays(max_dims=3), latents()), z=st.one_of(arrays(max_dims=2), latents()),
       name=st.sampled_from(["pca", "pca3", "tsne"]))
def test_maps_forward_and_inverse(maps, points, z, name):
    means, projections, _ = maps
    proj = projections[name]
    p = works_or_vae_error(proj.transform, z)
    if p is not None and finite_in(z):
        assert p.shape[1] == proj.dims and np.isfinite(p).all()
    back = works_or_vae_error(proj.inverse_transform, points, z_ref=None)
    if back is not None and finite_in(points):
        assert back.shape[1] == D and np.isfinite(back).all()
    zz = works_or_vae_error(explore.from_map, proj, points, z)
    if zz is not None:
        assert zz.shape == (D,) and np.isfinite(zz).all()


@FUZZ
@given(bounds=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=5),
       n=st.integers(-3, 12), z=latents(), name=st.sampled_from(["pca", "tsne"]))
def test_plane_grid(maps, bounds, n, z, name):
    _, projections, _ = maps
    out = works_or_vae_error(explore.plane_grid, projections[name], bounds, n, z)
    if out is not None:
        zs, shape = out
        assert zs.shape == (n * n, D) and shape == (n, n) and np.isfinite(zs).all()


@FUZZ
@given(a=latents(values="finite"), b=latents(values="finite"), n=st.integers(-3, 50))
def test_interpolation(a, b, n):
    for fn in (latent.lerp, latent.slerp):
        path = works_or_vae_error(fn, a, b, n)
        if path is not None:
            assert path.shape == (n, np.asarray(a).reshape(-1).shape[0]) and np.isfinite(path).all()


@FUZZ
@given(a=latents(), b=latents(), n=st.integers(-3, 20))
def test_interpolation_any_values(a, b, n):
    for fn in (latent.lerp, latent.slerp):
        works_or_vae_error(fn, a, b, n)


@FUZZ
@given(z=latents(), direction=st.one_of(st.integers(-6, 6), latents()), values=arrays(max_dims=2, max_side=5))
def test_traverse(z, direction, values):
    out = works_or_vae_error(latent.traverse, z, direction, values)
    if out is not None and finite_in(z, values) and not isinstance(direction, int) and finite_in(direction):
        assert np.isfinite(out).all()


@FUZZ
@given(n=st.integers(-5, 50), d=st.integers(-3, 40), temperature=st.floats(allow_nan=True, allow_infinity=True),
       seed=st.integers(-5, 2**64))
def test_sample_prior(n, d, temperature, seed):
    z = works_or_vae_error(latent.sample_prior, n, d, temperature, seed)
    if z is not None:
        assert z.shape == (n, d) and np.isfinite(z).all()


@FUZZ
@given(z=latents(), means=st.one_of(latents(n_max=8), arrays(max_dims=3)), k=st.integers(-3, 12))
def test_nearest_and_off_manifold(z, means, k):
    out = works_or_vae_error(latent.nearest, z, means, k)
    if out is not None:
        idx, dist = out
        assert idx.shape == dist.shape and (dist >= 0).all() | ~np.isfinite(dist).all()
    report = works_or_vae_error(manifold.off_manifold, z, means, k)
    if report is not None and finite_in(z, means):
        assert np.isfinite(np.asarray(report["ratio"], np.float64)).all()


@FUZZ
@given(v=st.one_of(latents(), arrays(max_dims=2)), others=st.one_of(latents(n_max=4), arrays(max_dims=3)))
def test_unit_and_orthogonalize(v, others):
    u = works_or_vae_error(latent.unit, v)
    if u is not None:
        assert abs(np.linalg.norm(u) - 1) < 1e-4
    o = works_or_vae_error(latent.orthogonalize, v, others)
    if o is not None:
        assert abs(np.linalg.norm(o) - 1) < 1e-4


@FUZZ
@given(a=st.one_of(latents(n_max=6), arrays(max_dims=3)), b=st.one_of(latents(n_max=6), arrays(max_dims=3)))
def test_direction_from_sets(a, b):
    v = works_or_vae_error(latent.direction_from_sets, a, b)
    if v is not None:
        assert abs(np.linalg.norm(v) - 1) < 1e-4


@FUZZ
@given(z=latents(), v=latents(), target=st.floats(allow_nan=True, allow_infinity=True),
       keep=st.lists(latents(), max_size=3), means=latents(n_max=8))
def test_slider_moves(z, v, target, keep, means):
    scale = works_or_vae_error(explore.direction_scale, means, v)
    if scale is None:
        return
    assert np.isfinite(scale["spread"]) or not finite_in(means, v)
    where = works_or_vae_error(explore.along, z, v, scale)
    moved = works_or_vae_error(explore.move_to, z, v, target, scale, keep)
    if moved is not None and finite_in(z, v, target, means, *keep):
        assert moved.shape == (np.asarray(z).size,) and np.isfinite(moved).all()
    assert where is None or isinstance(where, float)


@FUZZ
@given(z=latents(), dim=st.integers(-6, 6), target=st.floats(allow_nan=True, allow_infinity=True),
       mean=latents(), std=latents())
def test_dimension_slider(z, dim, target, mean, std):
    out = works_or_vae_error(explore.set_dimension, z, dim, target, mean, std)
    if out is not None and finite_in(z, target, mean, std):
        assert np.isfinite(out).all()
    works_or_vae_error(explore.in_spreads, z, mean, std)


@FUZZ
@given(means=latents(n_max=8), a=arrays(max_dims=2, dtype=np.int64), b=arrays(max_dims=2, dtype=np.int64))
def test_group_direction(means, a, b):
    out = works_or_vae_error(explore.group_direction, means, a, b)
    if out is not None:
        v, fit = out
        assert abs(np.linalg.norm(v) - 1) < 1e-4 and 0 <= fit["accuracy"] <= 1


@FUZZ
@given(text=st.one_of(st.text(max_size=60), st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6)
                      .map(lambda xs: ",".join(map(repr, xs))), st.none(), st.integers()),
       d=st.integers(-2, 6))
def test_parse_latent(text, d):
    z = works_or_vae_error(explore.parse_latent, text, d)
    if z is not None:
        assert z.shape == (d,) and np.isfinite(z).all()
        np.testing.assert_allclose(explore.parse_latent(explore.format_latent(z, 6), d), z, atol=1e-5)


def test_identity_map_is_exact(maps):
    _, _, ident = maps
    p = np.array([[0.5, -1.0]], np.float32)
    np.testing.assert_allclose(ident.transform(ident.inverse_transform(p)), p)
