"""Melodies as HTML: a crisp piano roll (PNG) with the sound under it (<audio>, a synthesised WAV).

The display side of the melody modality (contract in the module docstring of ui/display/__init__.py):
every place that shows an image shows a piano roll and a play button; sequences (interpolations,
traversals) become one roll and one medley, downloadable as MIDI and WAV.
"""
from __future__ import annotations

import base64
import html

import numpy as np

from vae.modalities.melody import audio, midi, pianoroll

CSS = """
<style>
.mel { display: inline-flex; flex-direction: column; gap: 3px; align-items: stretch; }
.mel img.roll { image-rendering: pixelated; image-rendering: crisp-edges; display: block; border-radius: 4px;
                border: 1px solid rgba(128,128,128,.35); background: #fff; }
.mel audio { width: 100%; min-width: 150px; height: 32px; }  /* narrower, Chromium hides the play button */
.mel-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.mel-cell { display: flex; flex-direction: column; align-items: center; font-size: .72rem; line-height: 1.15;
            text-align: center; opacity: .9; }
.mel-cell span { max-width: 140px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
</style>
"""
NOUN = "melody"
UPLOAD_TYPES = ["mid", "midi", "abc", "txt"]
SMALL_RATE = 8000      # the sound of a cell in a row: a quarter of the bytes, still clear for a melody


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _tokens(x) -> np.ndarray:
    return np.asarray(x).reshape(-1).astype(np.int32)


def roll_uri(x, width: int = 256) -> str:
    return _uri(pianoroll.piano_roll_png(_tokens(x), width), "image/png")


def wav_uri(x, rate: int = audio.RATE) -> str:
    return _uri(audio.wav_bytes(_tokens(x), rate=rate), "audio/wav")


def tag(x, width: int, alt: str = "", cls: str = "", rate: int = audio.RATE, **data) -> str:
    """One melody: its piano roll `width` CSS pixels wide and an <audio> player under it; data-* from **data."""
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items())
    img = pianoroll.piano_roll(_tokens(x), max(int(width), 64))
    height = round(width * img.height / img.width)
    alt = html.escape(alt or "piano roll")
    return (f'<div class="mel {html.escape(cls)}" {attrs}><img class="roll {html.escape(cls)}" '
            f'src="{roll_uri(x, max(int(width), 64))}" alt="{alt}" width="{width}" height="{height}">'
            f'<audio controls preload="none" src="{wav_uri(x, rate)}"></audio></div>')


def row(xs, captions, width: int, cls: str = "") -> str:
    """Several melodies side by side, a caption under each (" · " starts a new caption line)."""
    def lines(c: str) -> str:
        return "".join(f'<span title="{html.escape(c)}">{html.escape(p)}</span>' for p in str(c).split(" · "))
    width = max(int(width), 96)
    cells = [f'<div class="mel-cell">{tag(x, width, alt=str(c), cls=cls, rate=SMALL_RATE)}{lines(c)}</div>'
             for x, c in zip(xs, captions)]
    return f'<div class="mel-row">{"".join(cells)}</div>'


def medley(frames) -> np.ndarray:
    """A sequence of melodies (n, T) -> one token sequence, each played after the other."""
    return np.asarray(frames).reshape(-1).astype(np.int32)


def strip(frames, width: int, alt: str = "", cls: str = "") -> str:
    """A sequence (interpolation, traversal) as one piano roll of all frames and one medley player."""
    frames = np.asarray(frames)
    tokens = medley(frames)
    cell = max(2, int(width) * max(len(frames), 1) // len(tokens))
    png = pianoroll.piano_roll_png(tokens, cell * len(tokens))
    return (f'<div class="mel strip {html.escape(cls)}"><img class="roll" src="{_uri(png, "image/png")}" '
            f'alt="{html.escape(alt or "medley")}" '
            f'style="width: 100%; max-width: {cell * len(tokens)}px; height: auto">'
            f'<audio controls preload="none" src="{wav_uri(tokens, SMALL_RATE * 2)}"></audio></div>')


def animation(frames, width: int) -> str:
    """A sequence is already played by the strip's medley: nothing more to animate."""
    return ""


def pad_preview(x) -> dict:
    """What the latent pad shows live: the piano roll, the sound to play on release, and the notes the
    browser's "Play while dragging" loop plays (a step sequencer: each new decoding from the next step on)."""
    from vae.modalities.melody.tokens import notes

    return {"image": roll_uri(x, 256), "text": "", "audio": wav_uri(x, SMALL_RATE * 2),
            "notes": [list(n) for n in notes(_tokens(x))], "step_s": audio.step_seconds()}


def downloads(x, stem: str) -> list:
    tokens = _tokens(x)
    return [("MIDI", midi.midi_bytes(tokens), f"{stem}.mid", "audio/midi"),
            ("WAV", lambda: audio.wav_bytes(tokens), f"{stem}.wav", "audio/wav"),
            ("Piano roll", lambda: pianoroll.piano_roll_png(tokens, 512), f"{stem}.png", "image/png")]


def strip_downloads(frames, stem: str) -> list:
    frames = np.asarray(frames)
    tokens = medley(frames)
    return [("Medley MIDI", midi.midi_bytes(tokens), f"{stem}.mid", "audio/midi"),
            ("Medley WAV", lambda: audio.wav_bytes(tokens), f"{stem}.wav", "audio/wav"),
            ("Piano rolls GIF", lambda: pianoroll.rolls_gif(frames), f"{stem}.gif", "image/gif")]


def describe(bundle) -> str:
    """What the bundle's examples are, in words, for the model card."""
    steps = tuple(getattr(bundle, "input_shape", (32,)))[0]
    return f"melody of {steps} sixteenth notes ({steps // 16} bars of 4/4)"


def own_example_help(bundle) -> str:
    return ("Upload a MIDI file (1 MB at most) or an ABC tune, or paste ABC below: every two-bar stretch of it "
            "(2/4, 4/4 or 2/2) is encoded, reconstructed and placed on the map; where notes overlap the highest "
            "is the melody.")


def own_example_input(key: str, noun: str = NOUN, **widget):
    """A MIDI/ABC uploader and an ABC text box; (bytes or text, name) or None."""
    import streamlit as st

    chosen = example_value(st.file_uploader(f"Your {noun}: a MIDI or ABC file", type=UPLOAD_TYPES, key=key, **widget))
    typed = {k: v for k, v in widget.items() if k != "on_change"}
    text = st.text_area("…or paste a tune in ABC notation (then press Ctrl+Enter)", key=f"{key}_abc", height=110,
                        placeholder="X:1\nM:4/4\nL:1/8\nK:G\nGABc d2 e2 | d2 B2 G4 |]",
                        on_change=widget.get("on_change"), args=("abc",), **typed)
    if chosen is None and text and text.strip():
        return text, "pasted ABC"
    return chosen


def example_given(read, key: str, kind: str | None = None):
    """What the person gave, read from a callback: the pasted ABC when that box changed (or no file is there),
    else the uploaded file; None when both are empty."""
    text = read(f"{key}_abc")
    pasted = (text, "pasted ABC") if isinstance(text, str) and text.strip() else None
    chosen = example_value(read(key))
    return (pasted or chosen) if kind == "abc" else (chosen or pasted)


def example_value(value):
    """The uploader's value as (raw bytes, file name cut to 80 characters), or None."""
    if value is None:
        return None
    return value.getvalue(), str(value.name)[:80]


def own_example_options(columns, data_options: dict, on_change) -> None:
    """A melody has no reading options."""


def own_example_read_options() -> dict:
    return {}


def own_example_adjust(x, data_options: dict, new: bool):
    return x


def own_example_preview(source, name: str, bundle) -> str:
    """The first two bars as read, as a piano roll with its sound; raises the reader's one-sentence error."""
    windows = bundle.modality.read_example(source, bundle.spec, name=name)
    return (tag(windows[0], 200, alt="your melody") +
            f'<div class="px-caption">your melody: {len(windows)} two-bar stretch{"es" if len(windows) > 1 else ""}'
            '</div>')
