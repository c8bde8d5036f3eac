"""An independent judge of which collection a melody comes from: logistic regression on what the notes do.

    judge = NoteJudge(seed=0).fit(tokens, labels)      # tokens (N, T)
    judge.predict(decoded), judge.proba(decoded, 2)    # (M,) classes; (M,) probability of class 2
    judge.accuracy                                     # on windows it was not fitted on

Features (never the VAE's): the pitch-class histogram (12, each note once), the interval histogram
(-12..12 semitones, 25), note lengths (1..16 steps, 16), where notes start in the bar (16), the
share of rests and the mean pitch. Class sliders are scored with it.
"""
from __future__ import annotations

import numpy as np

from ... import latent
from ...errors import VAEError
from .tokens import notes

FEATURES = 12 + 25 + 16 + 16 + 2


def features(tokens) -> np.ndarray:
    """Tokens (N, T) -> (N, FEATURES) float32 normalised histograms."""
    tokens = np.atleast_2d(np.asarray(tokens))
    out = np.zeros((len(tokens), FEATURES), np.float32)
    for i, seq in enumerate(tokens):
        ns = notes(seq)
        if not ns:
            out[i, -2] = 1.0
            continue
        starts, ends, pitches = (np.array(c) for c in zip(*ns))
        k = len(ns)
        out[i, :12] = np.bincount(pitches % 12, minlength=12) / k
        if k > 1:
            out[i, 12:37] = np.bincount(np.clip(np.diff(pitches), -12, 12) + 12, minlength=25) / (k - 1)
        out[i, 37:53] = np.bincount(np.clip(ends - starts, 1, 16) - 1, minlength=16) / k
        out[i, 53:69] = np.bincount(starts % 16, minlength=16) / k
        out[i, 69] = 1.0 - (ends - starts).sum() / len(seq)
        out[i, 70] = (pitches.mean() - 60.0) / 12.0
    return out


class NoteJudge:
    """Logistic regression on note histograms; `accuracy` is measured on held-out windows."""

    description = ("logistic regression on pitch-class, interval, note-length and onset-position "
                   "histograms of the notes")

    def __init__(self, holdout: float = 0.2, seed: int = 0, max_fit: int = 20000):
        self.holdout, self.seed, self.max_fit = holdout, seed, max_fit
        self.accuracy = float("nan")
        self.held_out = 0
        self.classes_ = np.zeros(0, np.int64)

    def fit(self, tokens, labels) -> NoteJudge:
        from sklearn.linear_model import LogisticRegression

        tokens, y = np.asarray(tokens), np.asarray(labels).reshape(-1)
        if len(tokens) != len(y) or np.unique(y).size < 2:
            raise VAEError("The class judge needs one label per melody and at least two classes.")
        train, test = latent.split_holdout(len(tokens), self.holdout, self.seed)
        if np.unique(y[train]).size < 2:
            train = test = np.arange(len(tokens))
        train = np.random.default_rng(self.seed).permutation(train)[: self.max_fit]
        test = test[: self.max_fit]
        self._model = LogisticRegression(max_iter=2000, C=10.0, random_state=self.seed)
        self._model.fit(features(tokens[train]), y[train])
        self.classes_ = self._model.classes_
        self.accuracy = float(np.mean(self._model.predict(features(tokens[test])) == y[test]))
        self.held_out = int(len(test))
        return self

    def predict(self, tokens) -> np.ndarray:
        return self._model.predict(features(tokens))

    def proba(self, tokens, cls: int) -> np.ndarray:
        """The probability that each melody belongs to class `cls`, (M,); 0 for a class never seen."""
        where = np.nonzero(self.classes_ == cls)[0]
        if not where.size:
            return np.zeros(len(np.atleast_2d(tokens)), np.float64)
        return self._model.predict_proba(features(tokens))[:, where[0]]
