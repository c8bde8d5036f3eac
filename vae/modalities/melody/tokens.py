"""MusicVAE's melody tokens: one per 16th step, REST, HOLD (the sounding note goes on) or a note-on per pitch.

    tok = window_tokens(pitch, onset)                # (32,) int8 from a tune's step arrays
    pitch, onset = to_steps(tokens)                  # (N, T) sounding MIDI pitch (-1 silence), note starts
    notes(tokens[0])                                 # [(start step, end step, midi), ...]

Token ids: 0 REST, 1 HOLD, 2 + (midi - LOW) note-on for LOW <= midi <= HIGH (C2..C7: 61 pitches, 63 tokens).
A HOLD with nothing sounding (at the start, after a rest) is read as silence.
"""
from __future__ import annotations

import numpy as np

REST, HOLD, FIRST_NOTE = 0, 1, 2
LOW, HIGH = 36, 96
VOCAB = FIRST_NOTE + HIGH - LOW + 1
STEPS = 32                     # two bars of 4/4 in 16ths
TRANSPOSE = (-5, 6)            # augmentation: semitones down / up, within the range


def note_on(midi) -> np.ndarray:
    return np.asarray(midi) - LOW + FIRST_NOTE


def window_tokens(pitch: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Step arrays of one window -> tokens (T,) int8; a note sounding at the first step starts there."""
    on = onset.copy()
    on[0] = True
    tok = np.where(pitch < 0, REST, np.where(on, note_on(pitch), HOLD))
    return tok.astype(np.int8)


def windows_of(pitch: np.ndarray, onset: np.ndarray, bar: int, phase: int = 0, steps: int = STEPS
               ) -> tuple[np.ndarray, dict]:
    """A tune's step arrays -> its windows (n, steps) int8, starting on bar lines every max(bar, 16) steps.

    Windows without a note are dropped, and so are windows with a pitch outside LOW..HIGH (counted)."""
    stride = max(bar, 16)
    out, counts = [], {"silent": 0, "out of range": 0}
    for start in range(phase, len(pitch) - steps + 1, stride):
        p, o = pitch[start:start + steps], onset[start:start + steps]
        sounding = p[p >= 0]
        if sounding.size == 0:
            counts["silent"] += 1
        elif sounding.min() < LOW or sounding.max() > HIGH:
            counts["out of range"] += 1
        else:
            out.append(window_tokens(p, o))
    tokens = np.stack(out) if out else np.zeros((0, steps), np.int8)
    return tokens, counts


def to_steps(tokens) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (N, T) or (T,) -> (sounding pitch int16, -1 for silence; onset bool) of the same shape."""
    tok = np.asarray(tokens).astype(np.int16)
    one = tok.ndim == 1
    tok = np.atleast_2d(tok)
    pitch = np.full(tok.shape, -1, np.int16)
    prev = np.full(tok.shape[0], -1, np.int16)
    for t in range(tok.shape[1]):
        col = tok[:, t]
        prev = np.where(col >= FIRST_NOTE, col - FIRST_NOTE + LOW, np.where(col == HOLD, prev, -1))
        pitch[:, t] = prev
    onset = tok >= FIRST_NOTE
    return (pitch[0], onset[0]) if one else (pitch, onset)


def notes(tokens) -> list[tuple[int, int, int]]:
    """One sequence (T,) -> its notes [(start step, end step exclusive, midi)] in order."""
    pitch, onset = to_steps(np.asarray(tokens).reshape(-1))
    out = []
    for t in range(len(pitch)):
        if onset[t]:
            end = t + 1
            while end < len(pitch) and not onset[end] and pitch[end] == pitch[t]:
                end += 1
            out.append((t, end, int(pitch[t])))
    return out


def transpose(tokens: np.ndarray, shift) -> np.ndarray:
    """Shift every note-on by `shift` semitones ((N,) or scalar); the caller keeps it in range."""
    tok = np.asarray(tokens)
    shift = np.asarray(shift).reshape(-1, *([1] * (tok.ndim - 1))) if np.ndim(shift) else shift
    return np.where(tok >= FIRST_NOTE, tok + shift, tok).astype(tok.dtype)


def shift_bounds(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sequence (N, T): the lowest and highest transposition keeping every note in LOW..HIGH."""
    tok = np.asarray(tokens).astype(np.int16)
    is_note = tok >= FIRST_NOTE
    hi_tok = np.where(is_note, tok, FIRST_NOTE).max(axis=1)
    lo_tok = np.where(is_note, tok, VOCAB - 1).min(axis=1)
    return FIRST_NOTE - lo_tok, VOCAB - 1 - hi_tok


def random_transpose(tokens: np.ndarray, rng: np.random.Generator, span=TRANSPOSE) -> np.ndarray:
    """Each sequence transposed by a random shift in span (clipped to the pitch range): augmentation."""
    lo, hi = shift_bounds(tokens)
    lo, hi = np.maximum(lo, span[0]), np.minimum(hi, span[1])
    shift = lo + np.floor(rng.random(len(tokens)) * (hi - lo + 1)).astype(np.int16)
    return transpose(tokens, shift)


def check_tokens(tokens) -> np.ndarray:
    """(N, T) integer ids in 0..VOCAB-1 as int32, or a ValueError saying what is wrong."""
    tok = np.asarray(tokens)
    if tok.ndim != 2 or not np.issubdtype(tok.dtype, np.integer):
        raise ValueError(f"Melodies must be integer token arrays (N, T); got {tok.dtype} {tok.shape}.")
    if tok.size and (tok.min() < 0 or tok.max() >= VOCAB):
        raise ValueError(f"Melody tokens must lie in 0..{VOCAB - 1}; got {tok.min()}..{tok.max()}.")
    return tok.astype(np.int32)
