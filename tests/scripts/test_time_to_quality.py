"""scripts/time_to_quality.py: the tutorial's reference network is scored by the same metrics as ours."""
import numpy as np


def test_the_reference_model_is_scored_by_the_projects_metrics():
    from scripts.time_to_quality import TutorialCVAE, first_reaching
    from vae.metrics import negative_elbo

    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1), dtype=np.uint8)
    figures = negative_elbo(TutorialCVAE(2), x)
    assert np.isfinite(figures["neg_elbo"]) and figures["kl"] >= 0
    assert figures["neg_elbo"] > 28 * 28 * 0.3                     # an untrained decoder: hundreds of nats
    points = [{"neg_elbo": 260.0, "train_seconds": 10.0}, {"neg_elbo": 240.0, "train_seconds": 20.0}]
    assert first_reaching(points, 250.0) == 20.0 and first_reaching(points, 200.0) is None


def test_the_race_interleaves_the_two_recipes_within_an_epoch():
    """The reference's three epochs are trained within our one, a few batches after each few of ours (each kept
    at the other's share of its run), so both see the same machine load; not one epoch of each in turn."""
    import dataclasses

    from scripts.time_to_quality import Reference, race
    from vae.data import Dataset
    from vae.training import TrainConfig

    rng = np.random.default_rng(0)
    ds = Dataset("fashion_mnist", rng.integers(0, 256, (320, 28, 28, 1), dtype=np.uint8),
                 rng.integers(0, 10, 320).astype(np.int32), rng.integers(0, 256, (32, 28, 28, 1), dtype=np.uint8),
                 np.zeros(32, np.int32), [str(i) for i in range(10)])
    order = []
    cfg = dataclasses.replace(TrainConfig(latent_dim=2, epochs=1), batch_size=32)
    points = race(ds, Reference(ds, 2), cfg, {"reference": 3, "ours": 1}, None,
                  lambda who, p: order.append((who, p["epoch"])), every=1)
    assert order == [("reference", 1), ("reference", 2), ("reference", 3), ("ours", 1)]
    assert [p["epoch"] for p in points["reference"]] == [1, 2, 3] and len(points["ours"]) == 1
    assert 0 < points["reference"][0]["train_seconds"] < points["reference"][2]["train_seconds"]
    assert 0 < points["ours"][0]["train_seconds"]
