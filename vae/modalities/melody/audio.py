"""Sound by numpy synthesis: a plain instrument (three harmonics, attack-decay-release envelope), 16-bit WAV.

    wav = wav_bytes(tokens)                  # one melody, 120 bpm, 16 kHz mono
    wav = wav_bytes(np.concatenate(frames))  # a medley: windows one after another
"""
from __future__ import annotations

import io
import wave

import numpy as np

from .tokens import notes

RATE = 16000
BPM = 120
HARMONICS = (1.0, 0.45, 0.2)          # relative loudness of the 1st, 2nd, 3rd partial
ATTACK, DECAY, RELEASE = 0.008, 0.15, 0.05   # seconds
SUSTAIN = 0.6


def step_seconds(bpm: float = BPM) -> float:
    return 60.0 / bpm / 4


def tone(midi: int, seconds: float, rate: int = RATE) -> np.ndarray:
    """One note (float32 samples), its release inside its length so consecutive notes stay apart."""
    n = max(1, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float32) / rate
    freq = 440.0 * 2 ** ((midi - 69) / 12)
    wave_ = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(HARMONICS) if freq * (k + 1) < rate / 2)
    env = np.interp(t, [0, ATTACK, ATTACK + DECAY, 1e9], [0, 1, SUSTAIN, SUSTAIN]).astype(np.float32)
    env *= np.clip((seconds - t) / RELEASE, 0, 1)
    return (np.asarray(wave_, np.float32) * env) / sum(HARMONICS)


def synthesize(tokens, bpm: float = BPM, rate: int = RATE) -> np.ndarray:
    """Tokens (T,) -> float32 samples in [-1, 1], exactly T steps long."""
    tokens = np.asarray(tokens).reshape(-1)
    step = step_seconds(bpm)
    out = np.zeros(int(round(len(tokens) * step * rate)), np.float32)
    for start, end, midi in notes(tokens):
        a = int(round(start * step * rate))
        sound = tone(midi, (end - start) * step, rate)[: len(out) - a]
        out[a:a + len(sound)] += sound
    return np.clip(out * 0.8, -1, 1)


def wav_bytes(tokens, bpm: float = BPM, rate: int = RATE) -> bytes:
    """A 16-bit mono WAV file of the melody."""
    pcm = (synthesize(tokens, bpm, rate) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
