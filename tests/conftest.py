"""Shared fixtures: tiny bundles trained in seconds on scikit-learn's 8x8 digits."""
import os
import shutil
from pathlib import Path

import pytest

from tiny import ROOT, train_tiny  # noqa: F401  (ROOT: the repository)

# scripts and servers the tests start import this checkout's library, whatever is installed
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory) -> Path:
    """A trained, unprecomputed digits bundle (latent 4); copy it before changing it."""
    return train_tiny(tmp_path_factory.mktemp("bundles") / "digits")


@pytest.fixture
def bundle_copy(tiny_bundle_dir, tmp_path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_bundle_dir, dst)
    return dst
