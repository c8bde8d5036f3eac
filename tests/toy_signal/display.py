"""The toy signal modality's display module: a signal as an inline SVG line, its numbers as text, and
its sound (the samples repeated into a short tone). Registered by the tests:

    from ui import display
    display.register("signal", "toy_signal.display")
"""
from __future__ import annotations

import base64
import html
import io
import wave

import numpy as np
import streamlit as st

NOUN = "signal"
CSS = "<style>svg.signal { display: block; border: 1px solid rgba(128,128,128,.3); border-radius: 4px; }</style>"
RATE = 8000


def tag(x, width: int, alt: str = "", cls: str = "", **data) -> str:
    x = np.asarray(x, np.float64).reshape(-1)
    h = max(width // 2, 10)
    pts = " ".join(f"{i * width / max(len(x) - 1, 1):.1f},{h / 2 - v * h / 2.4:.1f}" for i, v in enumerate(x))
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items())
    return (f'<svg class="signal {cls}" width="{width}" height="{h}" role="img" aria-label="{html.escape(alt)}" {attrs}>'
            f'<polyline points="{pts}" fill="none" stroke="currentColor"/></svg>')


def row(xs, captions, width: int, cls: str = "") -> str:
    return "".join(f"<div>{tag(x, width, alt=c, cls=cls)}<span>{html.escape(c)}</span></div>" for x, c in zip(xs, captions))


def strip(frames, width: int, alt: str = "", cls: str = "") -> str:
    return "".join(tag(f, max(width // max(len(frames), 1), 20), alt=alt, cls=cls) for f in frames)


def animation(frames, width: int) -> str:
    return ""


def numbers(x) -> str:
    return ", ".join(f"{v:+.2f}" for v in np.asarray(x).reshape(-1))


def wav_uri(x) -> str:
    pcm = (np.clip(np.tile(np.asarray(x, np.float64).reshape(-1), 50), -1, 1) * 0.3 * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pad_preview(x) -> dict:
    return {"image": "", "text": numbers(x), "audio": wav_uri(x)}


def downloads(x, stem: str) -> list[tuple]:
    return [("Signal (CSV)", lambda: numbers(x).encode(), f"{stem}.csv", "text/csv")]


def strip_downloads(frames, stem: str) -> list[tuple]:
    return [("Signals (CSV)", lambda: "\n".join(numbers(f) for f in frames).encode(), f"{stem}.csv", "text/csv")]


def describe(bundle) -> str:
    return f"signal of {bundle.input_shape[0]} samples"


def own_example_help(bundle) -> str:
    return f"Type {bundle.input_shape[0]} numbers, separated by commas or spaces."


def own_example_input(key: str, noun: str = NOUN, **widget):
    return example_value(st.text_area(f"Your {noun}", key=key, **widget))


def example_value(value):
    return (value, "typed") if isinstance(value, str) and value.strip() else None


def own_example_options(columns, data_options: dict, on_change) -> None:
    return None


def own_example_read_options() -> dict:
    return {}


def own_example_adjust(x, data_options: dict, new: bool):
    return x


def own_example_preview(source, name: str, bundle) -> str:
    return f"<code>{html.escape(str(source)[:200])}</code>"
