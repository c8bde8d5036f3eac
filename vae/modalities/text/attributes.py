"""Measured attributes of sentences, read from token ids (natural or decoded, the same form).

    from vae.modalities.text.attributes import measure
    measure(ids)     # {"length": (N,), "question": (N,), "capitals": (N,), "punctuation": (N,)} float32
"""
from __future__ import annotations

import string

import numpy as np

from .tokenizer import decode

PUNCTUATION = frozenset(string.punctuation)
INFO = {
    "length": {"unit": "characters", "description": "Number of characters in the sentence."},
    "question": {"unit": "0 or 1", "description": "1 when the sentence ends with a question mark "
                 "(a closing quote or bracket after it allowed)."},
    "capitals": {"unit": "share of letters", "description": "Share of the letters that are capitals."},
    "punctuation": {"unit": "share of characters", "description": "Share of the characters that are "
                    "punctuation marks (spaces not counted as characters)."},
}


def is_question(text: str) -> bool:
    return text.rstrip(" \"')]").endswith("?")


def text_attributes(texts) -> dict:
    """The four attributes of a list of strings, each (N,) float32."""
    length, question, capitals, punctuation = [], [], [], []
    for t in texts:
        letters = [c for c in t if c.isalpha()]
        chars = [c for c in t if not c.isspace()]
        length.append(len(t))
        question.append(float(is_question(t)))
        capitals.append(sum(c.isupper() for c in letters) / len(letters) if letters else 0.0)
        punctuation.append(sum(c in PUNCTUATION for c in chars) / len(chars) if chars else 0.0)
    return {name: np.asarray(v, np.float32) for name, v in
            (("length", length), ("question", question), ("capitals", capitals), ("punctuation", punctuation))}


def measure(ids) -> dict:
    """The four attributes of an (N, T) id array."""
    return text_attributes(decode(ids))
