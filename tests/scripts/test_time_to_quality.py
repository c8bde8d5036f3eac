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


def _tiny_dataset():
    from vae.data import Dataset

    rng = np.random.default_rng(0)
    return Dataset("fashion_mnist", rng.integers(0, 256, (320, 28, 28, 1), dtype=np.uint8),
                   rng.integers(0, 10, 320).astype(np.int32), rng.integers(0, 256, (32, 28, 28, 1), dtype=np.uint8),
                   np.zeros(32, np.int32), [str(i) for i in range(10)])


def test_the_race_interleaves_the_two_recipes_within_an_epoch():
    """The reference's three epochs are trained within our one, a few batches after each few of ours (each kept
    at the other's share of its run), so both see the same machine load; not one epoch of each in turn. Ours is
    scored at checkpoints within its epoch, so its time to the target is not rounded up to an epoch's end."""
    import dataclasses

    from scripts.time_to_quality import Reference, race
    from vae.training import TrainConfig

    ds = _tiny_dataset()
    order = []
    cfg = dataclasses.replace(TrainConfig(latent_dim=2, epochs=1), batch_size=32)  # 288 images: 9 batches
    points = race(ds, Reference(ds, 2), cfg, {"reference": 3, "ours": 1}, None,
                  lambda who, p: order.append((who, p["epoch"])), every=1, checkpoints=3)
    assert order == [("reference", 1), ("ours", 0.33), ("reference", 2), ("ours", 0.67), ("reference", 3), ("ours", 1.0)]
    assert 0 < points["reference"][0]["train_seconds"] < points["reference"][2]["train_seconds"]
    seconds = [p["train_seconds"] for p in points["ours"]]
    assert 0 < seconds[0] < seconds[1] < seconds[2]


def test_the_race_stops_ours_at_the_first_checkpoint_past_the_target():
    import dataclasses

    from scripts.time_to_quality import race
    from vae.training import TrainConfig

    ds = _tiny_dataset()
    cfg = dataclasses.replace(TrainConfig(latent_dim=2, epochs=2), batch_size=32)
    points = race(ds, None, cfg, {"ours": 2}, 1e6, lambda who, p: None, checkpoints=3)
    assert [p["epoch"] for p in points["ours"]] == [0.33]                 # every model beats 1e6 nats
