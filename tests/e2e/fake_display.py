"""A display module for a made-up modality whose decodings are a sentence and a sound (no picture):
what the latent pad shows for text and melody bundles, without training one. Used by pad_outputs_app.py."""
from __future__ import annotations

import base64
import io
import wave

import numpy as np

NOUN = "sentence"
CSS = ""
RATE = 8000


def wav_uri(frequency: float, seconds: float = 0.25) -> str:
    """A sine tone as a 16-bit mono WAV data URI."""
    t = np.arange(int(RATE * seconds)) / RATE
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pad_preview(x) -> dict:
    """x: the pad's (x, y). The text carries markup that must show as typed."""
    x = np.asarray(x, np.float64)
    return {"image": "", "text": f"<b>not bold</b> x = {x[0]:+.2f}, y = {x[1]:+.2f}",
            "audio": wav_uri(440.0 + 200.0 * float(x[0]))}
