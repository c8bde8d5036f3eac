"""Browser tests: Playwright driving Debian's Chromium against `streamlit run app.py`.

The app runs on the shipped pretrained/fashion_mnist bundle when it is there with its precomputed
maps (or E2E_BUNDLE); otherwise on a tiny digits bundle trained and precomputed here (~half a minute).
Screenshots of each step go to artifacts/e2e/. Skipped when Chromium or Playwright is missing.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from scripts.browser import CHROMIUM, ROOT, TIMING, launch, streamlit_server

ARTIFACTS = ROOT / "artifacts" / "e2e"


def _shipped() -> Path | None:
    b = ROOT / "pretrained" / "fashion_mnist"
    try:
        meta = json.loads((b / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return b if "precompute" in meta and (b / "encodings.npz").is_file() else None


@pytest.fixture(scope="session")
def e2e_bundle(tmp_path_factory) -> Path:
    if os.environ.get("E2E_BUNDLE"):  # a precomputed bundle of your own
        return Path(os.environ["E2E_BUNDLE"]).resolve()
    shipped = _shipped()
    if shipped is not None:
        return shipped
    from tiny import train_tiny
    from vae.precompute import precompute

    out = train_tiny(tmp_path_factory.mktemp("e2e") / "digits_e2e", epochs=8)
    precompute(out, split="all", no_tsne=True, no_umap=True, progress=False)
    return out


@pytest.fixture(scope="session")
def app_url(e2e_bundle, tmp_path_factory):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    log = tmp_path_factory.mktemp("e2e_log") / "streamlit.log"
    with streamlit_server(bundles=[e2e_bundle], log=log, env=TIMING) as url:  # tests read the pad's timing log
        yield url


@pytest.fixture(scope="session")
def chromium():
    """Chromium under Playwright, one for the whole session (one sync Playwright at a time per thread)."""
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="session")
def browser(app_url, chromium):
    return chromium


@pytest.fixture(scope="session")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: drives Chromium against a running app (tests/e2e)")
