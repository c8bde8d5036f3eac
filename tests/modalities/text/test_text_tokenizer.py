"""Character tokenizer: round trip, END and padding, lengths."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vae.modalities.text import tokenizer as tk

ascii_text = st.text(alphabet=tk.ALPHABET, max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(ascii_text, min_size=1, max_size=5))
def test_round_trip(texts):
    ids = tk.encode(texts, 31)
    assert ids.shape == (len(texts), 31) and ids.dtype == np.int32
    assert tk.decode(ids) == texts
    np.testing.assert_array_equal(tk.lengths(ids), [len(t) + 1 for t in texts])


def test_layout_end_then_padding():
    ids = tk.encode(["Hi?"], 6)[0]
    assert list(ids[3:]) == [tk.END, tk.PAD, tk.PAD]
    assert min(ids[:3]) >= tk.SPECIALS
    assert tk.VOCAB_SIZE == 4 + 95


def test_decode_stops_at_end_and_skips_start_and_drop():
    h, i = tk.encode(["h"], 2)[0][0], tk.encode(["i"], 2)[0][0]
    assert tk.decode(np.array([[tk.START, h, tk.DROP, i, tk.END, h]])) == ["hi"]
    assert tk.decode(np.array([h, i, h])) == ["hih"]      # one row, no end mark: all of it


def test_too_long_and_unknown_characters():
    assert tk.outside_alphabet("café — ok é") == ["é", "—"]
    try:
        tk.encode(["abc"], 3)
    except ValueError:
        pass
    else:
        raise AssertionError("a text without room for its END mark must be refused")
