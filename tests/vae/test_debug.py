"""vae/debug.py: the one debug switch, VAE_DEBUG, read as comma-separated `name` or `name:value` entries."""
import pytest

from vae import debug


@pytest.mark.parametrize("env,name,value", [
    ("timing", "timing", ""),
    (" Timing ", "timing", ""),
    ("timing:/tmp/decode.log", "timing", "/tmp/decode.log"),
    ("other, timing:C:/logs/d.log", "timing", "C:/logs/d.log"),  # only the first colon separates
    ("other", "timing", None),
    ("", "timing", None),
    ("timings", "timing", None),
])
def test_entries(monkeypatch, env, name, value):
    monkeypatch.setenv("VAE_DEBUG", env)
    assert debug.setting(name) == value and debug.on(name) == (value is not None)


def test_off_without_the_variable(monkeypatch):
    monkeypatch.delenv("VAE_DEBUG", raising=False)
    assert not debug.on("timing") and debug.setting("timing") is None
