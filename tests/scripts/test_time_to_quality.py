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
