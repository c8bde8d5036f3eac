"""Piano rolls: pitch (up) over time (right) as a crisp PNG, with beat and bar lines.

    img = piano_roll(tokens, width=256)           # PIL.Image RGB; pitch range C3..C6, widened to fit
    png = piano_roll_png(tokens, width=256)       # bytes
    strip = piano_roll(np.concatenate(frames))    # a sequence of windows side by side, one roll
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .tokens import to_steps

VIEW = (48, 84)                      # C3..C6: the range every roll shows, so rolls compare at a glance
STEPS_PER_BEAT, STEPS_PER_BAR = 4, 16
BG, BLACK_KEY, OCTAVE = (255, 255, 255), (240, 242, 246), (205, 210, 220)
BEAT, BAR = (225, 228, 235), (90, 96, 110)
NOTE, NOTE_START = (38, 96, 200), (14, 44, 110)
BLACK_KEYS = {1, 3, 6, 8, 10}


def pitch_view(pitch: np.ndarray) -> tuple[int, int]:
    """The pitch rows to draw: VIEW widened to every sounding pitch."""
    sounding = pitch[pitch >= 0]
    if sounding.size == 0:
        return VIEW
    return min(VIEW[0], int(sounding.min())), max(VIEW[1], int(sounding.max()))


def piano_roll(tokens, width: int = 256, row: int | None = None, view: tuple | None = None) -> Image.Image:
    """Tokens (T,) -> an RGB image about `width` pixels wide (whole pixels per step, so edges stay crisp)."""
    pitch, onset = to_steps(np.asarray(tokens).reshape(-1))
    steps = len(pitch)
    cell = max(2, int(width) // max(steps, 1))
    row = row or max(2, cell // 2)
    lo, hi = view or pitch_view(pitch)
    rows = hi - lo + 1
    img = np.empty((rows * row, steps * cell, 3), np.uint8)
    img[:] = BG
    for r, midi in enumerate(range(hi, lo - 1, -1)):          # top row = highest pitch
        y = slice(r * row, (r + 1) * row)
        if midi % 12 in BLACK_KEYS:
            img[y] = BLACK_KEY
        if midi % 12 == 0:
            img[(r + 1) * row - 1] = OCTAVE                    # a line under every C
    for t in range(0, steps, STEPS_PER_BEAT):
        img[:, t * cell] = BAR if t % STEPS_PER_BAR == 0 else BEAT
    for t in range(steps):
        if pitch[t] < 0:
            continue
        r = hi - int(pitch[t])
        y0, y1 = r * row, (r + 1) * row
        x0, x1 = t * cell, (t + 1) * cell
        img[y0:y1, x0:x1] = NOTE
        if onset[t]:
            img[y0:y1, x0:x0 + max(1, cell // 4)] = NOTE_START   # a dark head marks where a note starts
    img[:, -1] = BAR
    return Image.fromarray(img)


def piano_roll_png(tokens, width: int = 256, **kwargs) -> bytes:
    buf = io.BytesIO()
    piano_roll(tokens, width, **kwargs).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def rolls_gif(frames, width: int = 256, ms: int = 400) -> bytes:
    """Several sequences (N, T) as an animated GIF on one shared pitch view."""
    frames = np.asarray(frames)
    pitch, _ = to_steps(frames)
    view = pitch_view(pitch)
    images = [piano_roll(f, width, view=view).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=ms, loop=0)
    return buf.getvalue()
