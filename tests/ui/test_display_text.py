"""ui/display/text.py: sentences shown as literal text, readings, the homotopy list and .txt downloads."""
import html

import types

import numpy as np
import pytest

from ui.display import text as show
from vae.modalities.text import TextInputError
from vae.modalities.text import tokenizer as tk

T = 41
NASTY = "<b>bold</b> **no** & [x](javascript:1)"


def test_tag_escapes_and_lists_samples():
    x = tk.encode([NASTY, "a sample", "another"], T)
    out = show.tag(x, 150, alt='q"', cls="recon", row=3)
    assert "<b>" not in out and html.escape(NASTY) in out
    assert out.index(html.escape(NASTY)) < out.index("a sample") < out.index("another")
    assert 'data-row="3"' in out and "min-width:min(220px, 100%)" in out and 'title="q&quot;"' in out
    single = show.tag(x[0], 300)
    assert "tx-samples" not in single and "min-width:min(300px, 100%)" in single


def test_row_and_strip():
    xs = tk.encode(["one", "two"], T)
    out = show.row(xs, ["#1 · <i>", "#2"], 60)
    assert out.count("tx-cell") == 2 and "&lt;i&gt;" in out
    frames = tk.encode(["a", "a", "b", ""], T)
    strip = show.strip(frames, 200)
    assert strip.count("<li") == 4 and strip.count('class="same"') == 1 and "(empty)" in strip


def test_pad_preview_and_downloads():
    x = tk.encode(["greedy one", "drawn"], T)
    assert show.pad_preview(x) == {"image": "", "text": "greedy one\n~ drawn", "audio": ""}
    (label, data, name, mime), = show.downloads(x, "point")
    assert (name, mime, data) == ("point.txt", "text/plain", b"greedy one\ndrawn\n")
    (_, make, name, _), = show.strip_downloads(tk.encode(["a", "b"], T)[:, None], "path")
    assert name == "path.txt" and make() == b"a\nb\n"


def test_own_example_values():
    assert show.example_value(None) is None and show.example_value("") is None
    assert show.example_value("  ") == ("  ", "typed sentence")
    bundle = types.SimpleNamespace(input_shape=(T,))
    preview = show.own_example_preview("Hi  <b>there</b>", "typed sentence", bundle)
    assert "Hi &lt;b&gt;there&lt;/b&gt;" in preview and "<b>" not in preview
    with pytest.raises(TextInputError, match="empty"):
        show.own_example_preview("   ", "typed sentence", bundle)
    assert show.describe(bundle) == "sentence of up to 40 characters"
    assert show.own_example_read_options() == {} and show.animation(np.zeros((2, T)), 100) == ""
    x = np.ones(T)
    assert show.own_example_adjust(x, {}, True) is x
