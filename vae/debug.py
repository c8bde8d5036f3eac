"""The one debug switch, VAE_DEBUG: what the app records for benchmarks, off unless asked for.

    VAE_DEBUG=timing streamlit run app.py                   # the pad keeps a timing log in the page
    VAE_DEBUG=timing:/tmp/decode.log streamlit run app.py   # ...and each Bundle.decode appends its time there

With `timing`, the latent pad's script records each point it sends, each image it shows and each
pointer move in `window.__latentPad` (read by scripts/benchmark.py --browser and scripts/loadtest.py).
Read here only; entries are comma-separated, each `name` or `name:value`.
"""
from __future__ import annotations

import os


def setting(name: str) -> str | None:
    """VAE_DEBUG's entry `name`: its value ("" when given bare), or None when it is not there."""
    for entry in os.environ.get("VAE_DEBUG", "").split(","):
        key, _, value = entry.strip().partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def on(name: str) -> bool:
    """Whether VAE_DEBUG asks for `name` (e.g. "timing")."""
    return setting(name) is not None
