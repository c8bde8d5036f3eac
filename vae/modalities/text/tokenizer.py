"""Characters <-> token ids over a fixed alphabet: printable ASCII plus padding, start, end and dropout.

    from vae.modalities.text.tokenizer import encode, decode
    ids = encode(["Hello, world."], length=121)   # (1, 121) int32: characters, then END, then PAD zeros
    decode(ids)                                    # ["Hello, world."]

The alphabet is fixed rather than learned so that any array of ids reads back as the same text
without the model at hand (the explorer shows decoded ids, the judge and the attributes read them).
On the fortunes corpus, after whitespace is normalised, it spells all but a handful of the short
quotations (corpus.read_corpus counts those left out). Characters beat subwords here: ~12,000
training sentences are too few for a subword vocabulary's rare pieces, and every user sentence
spelt in ASCII has an encoding.
"""
from __future__ import annotations

import numpy as np

PAD, START, END, DROP = 0, 1, 2, 3       # DROP: the token that replaces a dropped decoder input ("word dropout")
SPECIALS = 4
ALPHABET = "".join(chr(c) for c in range(32, 127))   # 95 printable ASCII characters, space first
VOCAB_SIZE = SPECIALS + len(ALPHABET)
_ID = {ch: i + SPECIALS for i, ch in enumerate(ALPHABET)}
_CHAR = np.array([""] * SPECIALS + list(ALPHABET), dtype=object)


def outside_alphabet(text: str) -> list[str]:
    """The distinct characters of `text` that have no id, in order of appearance."""
    return list(dict.fromkeys(ch for ch in text if ch not in _ID))


def encode(texts, length: int) -> np.ndarray:
    """(N, length) int32 ids: each text's characters, END, then PAD. Texts must fit (len < length) and be
    spelt in the alphabet; the caller checks (corpus and read_example do, with a sentence for the user)."""
    out = np.zeros((len(texts), length), np.int32)
    for row, text in enumerate(texts):
        ids = [_ID[ch] for ch in text]
        if len(ids) >= length:
            raise ValueError(f"text of {len(ids)} characters does not fit {length} tokens with its end mark")
        out[row, :len(ids)] = ids
        out[row, len(ids)] = END
    return out


def decode(ids) -> list[str]:
    """Texts of an (N, T) id array: characters up to the first END or PAD; START and DROP are skipped."""
    ids = np.asarray(ids)
    if ids.ndim == 1:
        ids = ids[None]
    texts = []
    for row in ids.astype(np.int64):
        row = np.clip(row, 0, VOCAB_SIZE - 1)
        stop = np.nonzero((row == END) | (row == PAD))[0]
        row = row[:stop[0]] if stop.size else row
        texts.append("".join(_CHAR[row[row >= SPECIALS]]))
    return texts


def lengths(ids) -> np.ndarray:
    """Tokens each sequence scores, (N,): its characters plus the END mark (capped at T)."""
    ids = np.asarray(ids)
    stop = (ids == END) | (ids == PAD)
    first = np.where(stop.any(axis=1), stop.argmax(axis=1), ids.shape[1])
    return np.minimum(first + 1, ids.shape[1]).astype(np.int32)
