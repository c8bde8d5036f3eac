"""How sentences are shown: escaped literal text (never Markdown or HTML), the greedy decoding first and,
when given, a few samples from the decoder at the same point in grey below it.

An example is an int32 id array: (T,) one sentence, or (k, T) readings of one point: row 0 the greedy
decoding, rows 1.. samples (vae.generate.readings makes them; SAMPLES below). The display contract is in
ui/display/__init__.py.
"""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from vae.modalities.text import tokenizer

NOUN = "sentence"
SAMPLES = 3               # the pad and the inspector show the greedy decoding and three draws at the same point
SAMPLE_TEMPERATURE = 0.8
MIN_WIDTH = 220   # CSS pixels: an image's 60-150 px is too narrow for a line of text

CSS = """
<style>
.tx { font-family: var(--st-font, sans-serif); line-height: 1.35; max-width: 100%; box-sizing: border-box; }
.tx-main { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1rem;
           padding: 6px 9px; border-radius: 6px; border: 1px solid rgba(128,128,128,.25); }
.tx-samples { margin: 3px 0 0 0; padding-left: 1.3rem; font-size: .82rem; opacity: .65; }
.tx-samples li { white-space: pre-wrap; overflow-wrap: anywhere; }
.tx-row { display: flex; flex-direction: column; gap: 4px; }
.tx-cell { display: grid; grid-template-columns: minmax(60px, max-content) 1fr; gap: 8px; align-items: baseline; }
.tx-caption { font-size: .75rem; opacity: .7; white-space: nowrap; }
.tx-strip { margin: 0; padding-left: 2.2rem; }
.tx-strip li { white-space: pre-wrap; overflow-wrap: anywhere; padding: 1px 0; }
.tx-strip li.same { opacity: .45; }
.tx-empty { opacity: .5; font-style: italic; }
</style>
"""


def readings(x) -> list[str]:
    """The texts of one example: [greedy] or [greedy, sample, ...] from (T,) or (k, T) ids."""
    ids = np.asarray(x)
    return tokenizer.decode(ids[None] if ids.ndim == 1 else ids)


def _literal(text: str) -> str:
    return html.escape(text, quote=True) if text else '<span class="tx-empty">(empty)</span>'


def tag(x, width: int, alt: str = "", cls: str = "", **data) -> str:
    """One sentence as a block of literal text at least `width` CSS pixels wide; samples listed under it."""
    texts = readings(x)
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(str(v))}"' for k, v in data.items())
    samples = "".join(f"<li>{_literal(t)}</li>" for t in texts[1:])
    samples = f'<ol class="tx-samples" title="samples from the decoder at the same point">{samples}</ol>' if samples else ""
    return (f'<div class="tx {html.escape(cls)}" style="min-width:min({max(int(width), MIN_WIDTH)}px, 100%)" '
            f'title="{html.escape(alt)}" {attrs}><p class="tx-main">{_literal(texts[0] if texts else "")}</p>'
            f"{samples}</div>")


def row(xs, captions, width: int, cls: str = "") -> str:
    """Several sentences, one a line, each after its caption (neighbours: "#12 · d 0.8 · people")."""
    cells = [f'<div class="tx-cell"><span class="tx-caption">{html.escape(c)}</span>'
             f'<p class="tx-main">{_literal(readings(x)[0])}</p></div>' for x, c in zip(xs, captions)]
    return f'<div class="tx-row {html.escape(cls)}">{"".join(cells)}</div>'


def strip(frames, width: int, alt: str = "", cls: str = "") -> str:
    """A path's decodings as a numbered list (Bowman's homotopy table); a repeat of the line above is faded."""
    lines = [readings(f)[0] for f in frames]
    items = "".join(f'<li class="{"same" if i and t == lines[i - 1] else ""}">{_literal(t)}</li>'
                    for i, t in enumerate(lines))
    return (f'<ol class="tx-strip {html.escape(cls)}" title="{html.escape(alt)}" '
            f'style="min-width:min({max(int(width), MIN_WIDTH)}px, 100%)">{items}</ol>')


def pad_preview(x) -> dict:
    """The latent pad shows the greedy decoding, then each sample on its own line after "~ "."""
    texts = readings(x)
    return {"image": "", "text": "\n".join(texts[:1] + [f"~ {t}" for t in texts[1:]]), "audio": ""}


def _txt(lines) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def downloads(x, stem: str) -> list[tuple]:
    """The decoding (and its samples, one a line) as a .txt file."""
    return [("Text (.txt)", _txt(readings(x)), f"{stem}.txt", "text/plain")]


def strip_downloads(frames, stem: str) -> list[tuple]:
    """A path's decodings, one a line in order, as a .txt file."""
    return [("Sentences (.txt)", lambda: _txt(readings(f)[0] for f in frames), f"{stem}.txt", "text/plain")]


def animation(frames, width: int) -> str:
    """A path of sentences has no animation: the numbered list is the whole of it."""
    return ""


def describe(bundle) -> str:
    """What the bundle's examples are, in words: "sentence of up to 120 characters"."""
    return f"sentence of up to {int(bundle.input_shape[0]) - 1} characters"


# ------------------------------------------------------------------------ a person's own sentence

def own_example_input(key: str, noun: str = NOUN, **widget):
    """A text box; (text, "typed sentence") once something is typed, else None."""
    return example_value(st.text_input(f"Your {noun}", key=key, placeholder="Type a sentence and press Enter",
                                       **widget))


def example_value(value):
    """The text box's value as (text, name), or None while it is empty (blanks alone are passed on, to be
    told they are empty)."""
    if not isinstance(value, str) or value == "":
        return None
    return value, "typed sentence"


def own_example_help(bundle) -> str:
    return (f"Type a sentence of up to {int(bundle.input_shape[0]) - 1} plain ASCII characters: it is encoded, "
            "reconstructed and placed on the map.")


def own_example_options(columns, data_options: dict, on_change) -> None:
    """A sentence has no reading options."""


def own_example_read_options() -> dict:
    return {}


def own_example_adjust(x, data_options: dict, new: bool):
    return x


def own_example_preview(source, name: str, bundle) -> str:
    """The sentence as the model reads it (whitespace normalised), literal, as HTML; raises TextInputError."""
    from vae.modalities.text import MODALITY, TextSpec

    x = MODALITY.read_example(source, TextSpec(length=int(bundle.input_shape[0])), name)[0]
    return tag(x, MIN_WIDTH, alt="your sentence", cls="upload-preview")
