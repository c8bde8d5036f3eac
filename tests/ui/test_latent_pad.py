"""ui/latent_pad.py: what the pad's script is given; the timing log only with VAE_DEBUG=timing.
(The script itself in Chromium: tests/e2e/test_latent_pad_js.py.)"""
import pytest

from ui import latent_pad


@pytest.mark.parametrize("env,timing", [(None, False), ("timing", True), ("timing:/tmp/d.log", True), ("other", False)])
def test_the_timing_log_follows_the_debug_switch(monkeypatch, env, timing):
    seen = {}
    monkeypatch.setattr(latent_pad, "_component", lambda **kw: seen.update(kw))
    if env is None:
        monkeypatch.delenv("VAE_DEBUG", raising=False)
    else:
        monkeypatch.setenv("VAE_DEBUG", env)
    latent_pad.latent_pad("pad", preview={"image": ""}, bounds=(0, 1, 0, 1), point=(0.5, 0.5), rev=1, ack=0, on_change=None)
    assert seen["data"]["timing"] is timing and seen["key"] == "pad"
