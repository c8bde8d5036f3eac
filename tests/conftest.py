"""Shared fixtures: tiny bundles trained in seconds on scikit-learn's 8x8 digits."""
import shutil
from pathlib import Path

import pytest

from tiny import ROOT, train_tiny  # noqa: F401  (ROOT: the repository)


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory) -> Path:
    """A trained, unprecomputed digits bundle (latent 4); copy it before changing it."""
    return train_tiny(tmp_path_factory.mktemp("bundles") / "digits")


@pytest.fixture
def bundle_copy(tiny_bundle_dir, tmp_path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_bundle_dir, dst)
    return dst
