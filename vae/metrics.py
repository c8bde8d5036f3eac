"""Model quality on held-out data: -ELBO and its parts, the importance-weighted bound, active units, k-NN.

    from vae.metrics import evaluate
    figures = evaluate(model, x_test, y_test, x_train, y_train)   # a dict of plain floats
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .model import log_normal


def _input(model, x: np.ndarray):
    """A natural batch in the encoder's input form (the modality decides: pixels to [0, 1], ids as they are)."""
    return model.modality.model_input(x)


def _batches(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


def negative_elbo(model, x: np.ndarray, y=None, samples: int = 1, batch_size: int = 1000, seed: int = 0) -> dict:
    """Mean -ELBO per example in nats (closed-form KL, `samples` draws for the reconstruction term)."""
    tf.random.set_seed(seed)
    recon, kl = [], []
    for s in _batches(len(x), batch_size):
        xb = _input(model, x[s])
        yb = None if y is None else tf.constant(y[s])
        terms = [model.compute_terms(xb, yb) for _ in range(samples)]  # KL: closed form (per level, at a draw)
        recon.append(np.mean([r.numpy() for r, _ in terms], axis=0))
        kl.append(np.mean([k.numpy() for _, k in terms], axis=0))
    recon, kl = np.concatenate(recon), np.concatenate(kl)
    return {"neg_elbo": float(np.mean(recon + kl)), "reconstruction": float(np.mean(recon)), "kl": float(np.mean(kl))}


def anchor_nll(model, x: np.ndarray, y=None, batch_size: int = 1000) -> np.ndarray:
    """A decoder trained alone (--no-latent, the likelihood anchor): its exact -log p(x) at z = 0 per example
    in nats, (N,)."""
    nll = []
    for s in _batches(len(x), batch_size):
        z = tf.zeros((len(x[s]), model.config.latent_dim))
        nll.append(model.nll(z, _input(model, x[s]), None if y is None else tf.constant(y[s])).numpy())
    return np.concatenate(nll)


def anchor_figures(model, x: np.ndarray, y=None, batch_size: int = 1000) -> dict:
    """The anchor's figures: its exact mean -log p(x) in nats; no KL, no latent to measure."""
    nll = anchor_nll(model, x, y, batch_size)
    return {"anchor": True, "neg_elbo": float(nll.mean()), "reconstruction": float(nll.mean()), "kl": 0.0,
            "test_points": int(len(x))}


def iwae_bound(model, x: np.ndarray, y=None, k: int = 1000, batch: int = 8, seed: int = 0) -> float:
    """Importance-weighted bound on log p(x) (Burda et al.), mean over examples, returned as -log p in nats."""
    gen = tf.random.Generator.from_seed(seed)

    @tf.function
    def log_px(xb, yb):  # xb (B, ...) -> (B,) log-mean-exp over k importance weights
        if hasattr(model, "importance_log_weights"):  # a hierarchical model: joint draws through its levels
            return tf.reduce_logsumexp(model.importance_log_weights(xb, yb, k, gen), axis=0) - math.log(k)
        mean, logvar = model.encode(xb, yb)                                    # (B, d)
        z = mean + tf.exp(0.5 * logvar) * gen.normal((k, *mean.shape))         # (k, B, d)
        flat = tf.reshape(z, (-1, mean.shape[1]))                              # (k*B, d)
        tiled = tf.tile(xb, [k] + [1] * (len(xb.shape) - 1))                   # (k*B, ...), k-major like flat
        ll = -tf.reshape(model.nll(flat, tiled, None if yb is None else tf.tile(yb, [k])), (k, -1))  # (k, B)
        logw = ll + log_normal(z, 0.0, 0.0) - log_normal(z, mean, logvar)
        return tf.reduce_logsumexp(logw, axis=0) - math.log(k)

    out = [log_px(_input(model, x[s]), None if y is None else tf.constant(y[s])).numpy()
           for s in _batches(len(x), batch)]
    return float(-np.mean(np.concatenate(out)))


def active_units(means: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies over the data: Cov_x(E[z|x]) > threshold."""
    return int(np.sum(np.var(means, axis=0) > threshold))


def knn_accuracy(train_means, train_labels, test_means, test_labels, k: int = 10) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k, n_jobs=-1).fit(train_means, train_labels)
    return float(clf.score(test_means, test_labels))


def knn_chance(train_labels, test_labels) -> float:
    """What k-NN accuracy is to beat: guessing each test label at random with the training split's class
    frequencies, sum over classes of p_train(c) * p_test(c) (0.1 for ten balanced classes)."""
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if not len(train_labels) or not len(test_labels):
        return float("nan")
    n = int(max(train_labels.max(), test_labels.max())) + 1
    p_train = np.bincount(train_labels, minlength=n) / len(train_labels)
    p_test = np.bincount(test_labels, minlength=n) / len(test_labels)
    return float(p_train @ p_test)


def encode_means(model, x: np.ndarray, y=None, batch_size: int = 1000):
    """Posterior means and log-variances (N, d) of a natural batch (uint8 or float images; token ids)."""
    means, logvars = [], []
    for s in _batches(len(x), batch_size):
        m, lv = model.encode(_input(model, x[s]), None if y is None else tf.constant(y[s]))
        means.append(m.numpy())
        logvars.append(lv.numpy())
    return np.concatenate(means), np.concatenate(logvars)


def reconstruction_distance(model, x: np.ndarray, means: np.ndarray, y=None, batch_size: int = 1000) -> float:
    """The modality's second reconstruction error (images: mean squared error per pixel; sequences: share of
    wrong tokens) between examples and the decoded form of their posterior means, averaged."""
    err = []
    for s in _batches(len(x), batch_size):
        if hasattr(model, "lower_noise"):  # a hierarchical model: both levels' posterior means
            decoded = model({"x": _input(model, x[s]), "label": None if y is None else tf.constant(y[s])})
        else:
            decoded = model.generate(tf.constant(means[s]), None if y is None else tf.constant(y[s]))
        err.append(model.modality.distance(x[s], np.asarray(decoded)))
    return float(np.mean(np.concatenate(err)))


def evaluate(model, x_test, y_test, x_train, y_train, iwae_k: int = 1000, iwae_points: int = 500,
             seed: int = 0, progress=None) -> dict:
    """All the figures for a model card; conditional models get their labels."""
    cond = model.config.conditional
    yt, ytr = (y_test if cond else None), (y_train if cond else None)
    figures = negative_elbo(model, x_test, yt, seed=seed)
    subset = np.random.default_rng(seed).permutation(len(x_test))[:iwae_points]
    if iwae_k > 0 and iwae_points > 0:
        figures["iwae_nll"] = iwae_bound(model, x_test[subset], None if yt is None else yt[subset], k=iwae_k, seed=seed)
        figures["iwae_k"], figures["iwae_points"] = iwae_k, int(len(subset))
    test_means, _ = encode_means(model, x_test, yt)
    train_means, _ = encode_means(model, x_train, ytr)
    figures["active_units"] = active_units(test_means)
    figures["knn_accuracy"] = knn_accuracy(train_means, y_train, test_means, y_test)
    figures["knn_chance"] = knn_chance(y_train, y_test)
    distance = reconstruction_distance(model, x_test, test_means, yt)
    if model.config.modality == "image":
        figures["reconstruction_mse"] = distance
    else:
        figures["reconstruction_distance"], figures["distance_name"] = distance, model.modality.distance_name
    figures["test_points"] = int(len(x_test))
    return figures
