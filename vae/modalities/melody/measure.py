"""The melody figures BENCHMARKS.md reports, for one bundle, on its held-out tunes.

    python -m vae.modalities.melody.measure pretrained/folk_melodies [--iwae-k 100 --iwae-points 200]

Token accuracy teacher forced, free running (greedy from the posterior mean) and sampled at temperature 1
from the posterior mean (MusicVAE's "sampling" column: its Table 1 samples from the logits), -ELBO and IWAE bound per
window in nats, active units, 10-NN collection accuracy, and the median time to decode one melody
through the bundle API (bundle.decode of one latent vector, after a warm-up).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def teacher_forced_accuracy(bundle, x, mean, batch: int = 1024) -> float:
    """Share of tokens the decoder ranks first when it is given the true tokens before each step."""
    model = bundle.load_model()
    hits = 0
    for i in range(0, len(x), batch):
        logits = model.decoder([mean[i:i + batch].astype("float32"), x[i:i + batch].astype("int32")])
        hits += int(np.sum(np.argmax(np.asarray(logits), -1) == x[i:i + batch]))
    return hits / x.size


def decode_ms(bundle, z, repeats: int = 30) -> float:
    bundle.decode(z[:1])
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        bundle.decode(z[i % len(z):i % len(z) + 1])
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--iwae-k", type=int, default=100)
    ap.add_argument("--iwae-points", type=int, default=200)
    a = ap.parse_args(argv)
    from ... import load_bundle, metrics
    from ...data import bundle_dataset

    b = load_bundle(a.bundle)
    ds = bundle_dataset(b.meta)
    mean, _ = b.encode(ds.x_test)
    free = 1.0 - float(np.mean(b.modality.distance(ds.x_test, b.decode(mean))))
    sampled = 1.0 - float(np.mean(b.modality.distance(ds.x_test, b.sample(mean, temperature=1.0, seed=0))))
    out = {"test_windows": len(ds.x_test), "teacher_forced_accuracy": teacher_forced_accuracy(b, ds.x_test, mean),
           "free_running_accuracy": free, "sampled_accuracy_t1": sampled, "decode_one_ms": decode_ms(b, mean)}
    figures = metrics.evaluate(b.load_model(), ds.x_test, ds.y_test, ds.x_train, ds.y_train, iwae_k=a.iwae_k,
                               iwae_points=a.iwae_points)
    out.update({k: v for k, v in figures.items() if isinstance(v, (int, float, str))})
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
