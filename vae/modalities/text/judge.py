"""An independent judge of which collection a sentence comes from: TF-IDF + logistic regression.

    from vae.modalities.text.judge import TextJudge
    judge = TextJudge(seed=0).fit(ids, labels)      # (N, T) token ids, (N,) collection labels
    judge.predict(decoded), judge.proba(decoded, 3)  # classes; probability of collection 3
    judge.accuracy                                   # on sentences it was not fitted on

Collection sliders are scored with it: moving along "collection: startrek" should make the decoded
sentence read more like Star Trek to a bag-of-n-grams classifier trained on the corpus's own text,
never on the VAE's encodings. Word 1-2 grams and character 2-4 grams (sub-word spelling survives the
decoder's typos), balanced class weights since the collections range from 40 to 1,000 sentences.
"""
from __future__ import annotations

import numpy as np

from ...errors import VAEError
from .. import base
from .tokenizer import decode

DESCRIPTION = "TF-IDF of word 1-2 grams and character 2-4 grams, then logistic regression (scikit-learn)"


def _texts(x) -> list[str]:
    if isinstance(x, (list, tuple)) and (not x or isinstance(x[0], str)):
        return list(x)
    return decode(x)


def split_holdout(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.random.default_rng(seed).permutation(n)
    k = max(1, int(round(n * fraction))) if n > 1 else 0
    return np.sort(rows[k:]), np.sort(rows[:k])


class TextJudge:
    """TF-IDF features + logistic regression; `accuracy` is measured on held-out sentences."""

    description = DESCRIPTION

    def __init__(self, holdout: float = 0.2, seed: int = 0):
        self.holdout, self.seed = holdout, seed
        self.accuracy = float("nan")
        self.held_out = 0
        self.classes_ = np.zeros(0, np.int64)

    def fit(self, x, labels) -> TextJudge:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        texts, y = _texts(x), np.asarray(labels).reshape(-1)
        if len(texts) != len(y) or np.unique(y).size < 2:
            raise VAEError("The collection judge needs one label per sentence and at least two collections.")
        train, test = split_holdout(len(y), self.holdout, self.seed)
        if np.unique(y[train]).size < 2:
            train = test = np.arange(len(y))
        min_df = 2 if len(train) >= 200 else 1   # a tiny corpus keeps every n-gram
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=min_df,
                                              sublinear_tf=True))
        self._model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced",
                                                                 random_state=self.seed))
        self._model.fit([texts[i] for i in train], y[train])
        self.classes_ = self._model.classes_
        self.accuracy = float(np.mean(self._model.predict([texts[i] for i in test]) == y[test]))
        self.held_out = int(len(test))
        return self

    def predict(self, x) -> np.ndarray:
        """The collection each sentence reads like, (M,)."""
        return self._model.predict(_texts(x))

    def proba(self, x, cls: int) -> np.ndarray:
        """The probability that each sentence comes from collection `cls`, (M,); 0 for one never seen."""
        texts = _texts(x)
        where = np.nonzero(self.classes_ == cls)[0]
        if not where.size:
            return np.zeros(len(texts), np.float64)
        return self._model.predict_proba(texts)[:, where[0]]

    def info(self) -> base.Judge:
        return base.Judge(self.description, self.accuracy, self.held_out)
