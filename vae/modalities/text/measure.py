"""The sentence VAE measured against its language-model anchor on the test split (BENCHMARKS.md rows).

    python -m vae.modalities.text.measure pretrained/fortunes --anchor runs/fortunes_lm --k 20

Both are bundles written by scripts/train.py, the anchor with --no-latent (the same decoder trained alone,
fed z = 0). Per-token figures divide the test split's summed NLL by its scored tokens (characters + END
marks). The VAE's NLL is the importance-weighted bound (Burda et al. 2016) with k posterior samples; the
anchor's is exact (it has no latent).
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def iwae(enc, dec, x, k: int = 20, batch: int = 128, seed: int = 0) -> np.ndarray:
    """-log p(x) upper bound per sentence, (N,): -logmeanexp over k of log p(x|z) + log p(z) - log q(z|x)."""
    from . import networks

    rng = np.random.default_rng(seed)
    out = []
    for lo in range(0, len(x), batch):
        xb = x[lo:lo + batch]
        mean, logvar = (t.numpy() for t in enc(xb))
        logw = []
        for _ in range(k):
            eps = rng.standard_normal(mean.shape).astype(np.float32)
            z = mean + np.exp(0.5 * logvar) * eps
            log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
            log_qz = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(1)
            logw.append(-networks.nll(dec, z, xb).numpy() + log_pz - log_qz)
        logw = np.stack(logw)                                             # (k, B)
        top = logw.max(0)
        out.append(-(top + np.log(np.exp(logw - top).mean(0))))
    return np.concatenate(out)


def knn_accuracy(train_z, train_y, test_z, test_y, k: int = 10) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(k).fit(train_z, train_y).score(test_z, test_y))


def measure(model, ds, k: int = 20, rows: int | None = None, anchor: bool = False) -> dict:
    """Every test-split figure of one model (a VAE, or with `anchor` the decoder alone at z = 0): NLL per token
    (IWAE bound with k samples; exact for the anchor) and per sentence, perplexity, KL, active units,
    reconstruction from the posterior mean (exact match, character accuracy), 10-NN collection accuracy."""
    from . import networks
    from .tokenizer import lengths

    enc, dec = model.encoder, model.decoder
    x = ds.x_test[:rows]
    tokens, d = int(lengths(x).sum()), int(model.config.latent_dim)
    if anchor:
        from ... import metrics

        bound = metrics.anchor_nll(model, x)
        return {"nll_per_token": float(bound.sum() / tokens), "nll_per_sentence": float(bound.mean()),
                "perplexity": float(math.exp(bound.sum() / tokens)), "kl_per_sentence": 0.0, "exact": True,
                "test_sentences": len(x), "test_tokens": tokens}
    bound = iwae(enc, dec, x, k)
    mean, logvar = (np.concatenate(a) for a in zip(*[(m.numpy(), v.numpy()) for m, v in
                                                     (enc(x[lo:lo + 256]) for lo in range(0, len(x), 256))]))
    kl = (-0.5 * (1 + logvar - mean ** 2 - np.exp(logvar))).sum(1)
    recon = np.concatenate([networks.greedy(dec, mean[lo:lo + 256]) for lo in range(0, len(x), 256)])
    n = lengths(x)
    scored = np.arange(x.shape[1])[None] < n[:, None]
    train_mean = np.concatenate([enc(ds.x_train[lo:lo + 256])[0].numpy() for lo in range(0, len(ds.x_train), 256)])
    return {"nll_per_token": float(bound.sum() / tokens), "nll_per_sentence": float(bound.mean()),
            "perplexity": float(math.exp(bound.sum() / tokens)), "kl_per_sentence": float(kl.mean()),
            "active_units": int((mean.var(0) > 0.01).sum()), "latent_dim": d,
            "exact_match": float((recon == x).all(1).mean()),
            "char_accuracy": float(((recon == x) & scored).sum() / scored.sum()),
            "knn10_accuracy": knn_accuracy(train_mean, ds.y_train, mean, ds.y_test[:rows]), "iwae_k": k,
            "test_sentences": len(x), "test_tokens": tokens}


def decode_latency(path, x, repeats: int = 50) -> dict:
    """Median and 90th-percentile milliseconds of Bundle.decode of one latent vector (after one warm-up call)."""
    from ...bundle import load_bundle

    b = load_bundle(path)
    z = b.encode(x[:repeats])[0]
    b.decode(z[:1])
    times = []
    for row in z:
        t = time.perf_counter()
        b.decode(row[None])
        times.append(1000 * (time.perf_counter() - t))
    return {"decode_ms_median": float(np.median(times)), "decode_ms_p90": float(np.percentile(times, 90))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the sentence VAE's bundle folder")
    parser.add_argument("--anchor", default="", help="the anchor's bundle (scripts/train.py --no-latent)")
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args(argv)

    from ...bundle import load_bundle
    from ...data import bundle_dataset

    start = time.perf_counter()
    b = load_bundle(args.bundle)
    ds = bundle_dataset(b.meta)
    row = {"model": str(args.bundle), **measure(b.load_model(), ds, args.k)}
    if args.anchor:
        anchor = load_bundle(args.anchor)
        if not (anchor.meta.get("training") or {}).get("no_latent"):
            raise SystemExit(f"error: {args.anchor} is not an anchor: train one with scripts/train.py --no-latent.")
        lm = measure(anchor.load_model(), ds, anchor=True)
        row.update({f"anchor_{key}": lm[key] for key in ("nll_per_token", "nll_per_sentence", "perplexity")})
        row["gap_percent"] = 100 * (row["nll_per_token"] / lm["nll_per_token"] - 1)
    row.update(decode_latency(args.bundle, ds.x_test))
    row["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(row, indent=1))
    return row


if __name__ == "__main__":
    main()
