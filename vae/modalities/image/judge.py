"""An independent judge of what class an image shows: a pixel-space classifier that never saw the VAE.

    from vae.judge import PixelJudge
    judge = PixelJudge(seed=0).fit(images, labels)     # (N, H, W, C) uint8 or floats in [0, 1]
    judge.predict(decoded), judge.proba(decoded, 7)    # (M,) classes; (M,) probability of class 7
    judge.accuracy                                     # on images it was not fitted on

Class sliders are scored with it: moving a point along "class: Sandal" should make the decoded
image look more like a sandal to a classifier trained on the dataset's own pixels, not only to the
encoder whose encodings defined the direction (a decode-and-re-encode check would grade the VAE by
its own reading). PCA to 50 components, then multinomial logistic regression: seconds to fit on
8,000 Fashion-MNIST test images, 81% accurate on the other 2,000.
"""
from __future__ import annotations

import numpy as np

from ... import latent
from ...errors import VAEError


def _flat(images) -> np.ndarray:
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32, copy=False)
    return x.reshape(len(x), -1)


class PixelJudge:
    """PCA + logistic regression on raw pixels; `accuracy` is measured on held-out images."""

    def __init__(self, components: int = 50, holdout: float = 0.2, seed: int = 0):
        self.components, self.holdout, self.seed = components, holdout, seed
        self.accuracy = float("nan")
        self.classes_ = np.zeros(0, np.int64)

    def fit(self, images, labels) -> PixelJudge:
        from sklearn.decomposition import PCA
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        x, y = _flat(images), np.asarray(labels).reshape(-1)
        if len(x) != len(y) or np.unique(y).size < 2:
            raise VAEError("The class judge needs one label per image and at least two classes.")
        train, test = latent.split_holdout(len(x), self.holdout, self.seed)
        if np.unique(y[train]).size < 2:
            train = test = np.arange(len(x))
        k = max(1, min(self.components, x.shape[1], len(train) - 1))
        self._model = make_pipeline(PCA(k, random_state=self.seed),
                                    LogisticRegression(max_iter=1000, random_state=self.seed)).fit(x[train], y[train])
        self.classes_ = self._model.classes_
        self.accuracy = float(np.mean(self._model.predict(x[test]) == y[test]))
        self.held_out = int(len(test))
        return self

    def predict(self, images) -> np.ndarray:
        """The class each image shows, (M,)."""
        return self._model.predict(_flat(images))

    def proba(self, images, cls: int) -> np.ndarray:
        """The probability that each image shows class `cls`, (M,); 0 for a class the judge never saw."""
        where = np.nonzero(self.classes_ == cls)[0]
        if not where.size:
            return np.zeros(len(images), np.float64)
        return self._model.predict_proba(_flat(images))[:, where[0]]
