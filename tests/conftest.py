"""Shared fixtures: tiny bundles trained in seconds on scikit-learn's 8x8 digits."""
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


def train_tiny(out: Path, epochs: int = 4, latent_dim: int = 4, **kw) -> Path:
    """Train a small VAE on digits and save it as a bundle at `out`."""
    from vae.bundle import save_bundle
    from vae.training import TrainConfig, train

    cfg = TrainConfig(dataset="digits", latent_dim=latent_dim, epochs=epochs, batch_size=64, lr=3e-3,
                      hidden_units=64, jit_compile=False, **kw)
    model, history, info = train(cfg, out.parent / f"run_{out.name}", verbose=0)
    save_bundle(out, model, info, history)
    return out


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory) -> Path:
    """A trained, unprecomputed digits bundle (latent 4); copy it before changing it."""
    return train_tiny(tmp_path_factory.mktemp("bundles") / "digits")


@pytest.fixture
def bundle_copy(tiny_bundle_dir, tmp_path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_bundle_dir, dst)
    return dst
