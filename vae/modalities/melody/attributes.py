"""MusicVAE's melody attributes, measured on tokens (N, T): what a listener hears change.

    values = measure(tokens)        # {"note_density": (N,), "mean_pitch": (N,), ...} float32

A melody without notes measures 0 for everything but mean pitch, which is then middle C (60), and
share of rests, which is 1.
"""
from __future__ import annotations

import numpy as np

from .tokens import to_steps

STEPS_PER_BEAT = 4
INFO = {
    "note_density": {"unit": "notes per 16th step (0-1)", "description": "how many notes start, per 16th step"},
    "mean_pitch": {"unit": "MIDI pitch (60 = middle C)", "description": "mean pitch of the notes, each note once"},
    "pitch_range": {"unit": "semitones", "description": "highest minus lowest note"},
    "mean_interval": {"unit": "semitones", "description": "mean size of the leap from one note to the next"},
    "syncopation": {"unit": "share of notes (0-1)",
                    "description": "notes that start off the beat and are still sounding on the next beat"},
    "rest_share": {"unit": "share of 16th steps (0-1)", "description": "how much of the time is silent"},
}
NAMES = list(INFO)


def measure(tokens) -> dict:
    """Tokens (N, T) (natural or decoded) -> {name: (N,) float32}."""
    pitch, onset = to_steps(np.atleast_2d(np.asarray(tokens)))
    n, steps = pitch.shape
    count = onset.sum(axis=1)
    has = count > 0
    safe = np.maximum(count, 1)
    note_pitch = np.where(onset, pitch, 0).astype(np.float64)
    mean_pitch = np.where(has, note_pitch.sum(axis=1) / safe, 60.0)
    hi = np.where(onset, pitch, -1).max(axis=1)
    lo = np.where(onset, pitch, 999).min(axis=1)
    pitch_range = np.where(has, hi - lo, 0)
    intervals = np.zeros(n)
    for i in np.nonzero(count > 1)[0]:
        seq = pitch[i][onset[i]].astype(np.float64)
        intervals[i] = np.abs(np.diff(seq)).mean()
    # a note is syncopated when it starts off the beat and the next beat falls before it ends
    off_beat = onset & (np.arange(steps) % STEPS_PER_BEAT != 0)
    next_beat = (np.arange(steps) // STEPS_PER_BEAT + 1) * STEPS_PER_BEAT
    sync = np.zeros(n)
    for i, t in zip(*np.nonzero(off_beat)):
        b = next_beat[t]
        if b < steps and not onset[i, t + 1:b + 1].any() and pitch[i, b] == pitch[i, t]:
            sync[i] += 1
    return {
        "note_density": (count / steps).astype(np.float32),
        "mean_pitch": mean_pitch.astype(np.float32),
        "pitch_range": pitch_range.astype(np.float32),
        "mean_interval": intervals.astype(np.float32),
        "syncopation": (sync / safe).astype(np.float32),
        "rest_share": (pitch < 0).mean(axis=1).astype(np.float32),
    }
