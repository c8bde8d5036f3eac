"""Does a VAE's generated data help a classifier? A small CNN trained on k labelled images per class, with and without it.

    from vae.augment import CONDITIONS, experiment
    for row in experiment(bundle, dataset, k=10, seed=0, conditions=CONDITIONS):   # one row per condition
        print(row["condition"], row["accuracy"])

Every condition of one (k, seed) trains the same network from the same initial weights on the same k
real images per class, for the same number of steps (steps_for), so differences come from the data.
Generated images come from class regions fitted on the encodings of those same k labelled images only:
the classifier never sees more labels than k per class. Classic augmentation is random shifts of up to
SHIFT pixels and horizontal flips, in tf.data. Accuracy is measured on the whole test split.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .errors import VAEError
from .generate import ClassRegions, decode_in_batches

BATCH = 64
SHIFT = 2                 # pixels, each way
MIN_STEPS, MAX_STEPS, EPOCHS = 400, 1500, 3
LEARNING_RATE = 1e-3
TEMPERATURE = 1.0

# name -> (classic augmentation, generated:real ratio, region kind)
CONDITIONS = {
    "real only": (False, 0, None),
    "VAE exemplar 1:1": (False, 1, "exemplar"),
    "VAE exemplar 4:1": (False, 4, "exemplar"),
    "VAE gaussian 1:1": (False, 1, "gaussian"),
    "classic": (True, 0, None),
    "classic + VAE exemplar 1:1": (True, 1, "exemplar"),
}


def steps_for(n_real: int) -> int:
    """The step budget of every condition at this training-set size: EPOCHS epochs, clamped."""
    return int(min(MAX_STEPS, max(MIN_STEPS, math.ceil(EPOCHS * n_real / BATCH))))


def per_class_subset(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Sorted row indices of k seeded random rows of each class (all of a class's rows if it has fewer)."""
    rng = np.random.default_rng([seed, k])
    rows = [rng.permutation(np.flatnonzero(labels == c))[:k] for c in np.unique(labels)]
    return np.sort(np.concatenate(rows))


def classifier(image_shape: tuple, num_classes: int):
    """The fixed small CNN (16,938 parameters for 28x28x1 and 10 classes; "same" padding below 16 pixels,
    so that the tests' 8x8 digits fit)."""
    import keras
    from keras import layers

    pad = "valid" if min(image_shape[:2]) >= 16 else "same"
    return keras.Sequential([
        keras.Input(image_shape),
        layers.Conv2D(16, 3, activation="relu", padding=pad),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu", padding=pad),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu", padding=pad),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(num_classes),
    ], name="classifier")


def _shift_flip(x):
    """One image (H, W, C): a random shift of up to SHIFT pixels each way, then a coin-flip mirror."""
    import tensorflow as tf

    shape = tf.shape(x)
    padded = tf.pad(x, [[SHIFT, SHIFT], [SHIFT, SHIFT], [0, 0]])
    x = tf.image.random_crop(padded, shape)
    return tf.image.random_flip_left_right(x)


def train_and_score(x, y, x_test, y_test, num_classes: int, steps: int, classic: bool, seed: int) -> float:
    """Train the classifier for `steps` batches of (x, y) (uint8 images), return test accuracy."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # the same initial weights for every condition of this seed
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
    ds = ds.map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b), num_parallel_calls=tf.data.AUTOTUNE)
    if classic:
        ds = ds.map(lambda a, b: (_shift_flip(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)
    model = classifier(x.shape[1:], num_classes)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), jit_compile=False,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(ds, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    _, accuracy = model.evaluate(x_test.astype(np.float32) / 255.0, y_test, batch_size=1000, verbose=0)
    return float(accuracy)


def generated_pool(bundle, x, y, kind: str, per_class: int, num_classes: int, seed: int,
                   temperature: float = TEMPERATURE) -> tuple[np.ndarray, np.ndarray]:
    """per_class decoded samples of each class's region, fitted on the encodings of (x, y) only: uint8 images, labels."""
    mean, logvar = bundle.encode(x)
    regions = ClassRegions(kind).fit(mean, y, logvar, num_classes=num_classes)
    xs, ys = [], []
    for c in regions.classes:  # one class at a time: a pool may exceed one draw's cap
        z, labels = regions.sample([per_class if i == c else 0 for i in range(num_classes)], temperature, [seed, c])
        xs.append(np.round(decode_in_batches(bundle, z, batch_size=1024) * 255).astype(np.uint8))
        ys.append(labels)
    return np.concatenate(xs), np.concatenate(ys)


def _take(pool: tuple, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The first per_class rows of each class of a pool."""
    x, y = pool
    rows = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    return x[rows], y[rows]


def experiment(bundle, data, k: int, seed: int, conditions=CONDITIONS, steps: int | None = None,
               test_limit: int | None = None):
    """Yield one result row (a dict) per condition for k real training images per class and this seed."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise VAEError(f"Unknown condition(s) {unknown}: use {', '.join(CONDITIONS)}.")
    if bundle.conditional:
        raise VAEError("The benchmark samples class regions of an unconditional bundle: give one trained without labels.")
    num_classes = len(data.class_names)
    rows = per_class_subset(data.y_train, k, seed)
    x_real, y_real = data.x_train[rows], data.y_train[rows]
    x_test, y_test = data.x_test[:test_limit], data.y_test[:test_limit]
    steps = steps or steps_for(len(rows))
    cap = math.ceil(steps * BATCH / num_classes)  # more generated images than the budget can show is wasted decoding
    pools = {}
    for name in conditions:
        classic, ratio, kind = CONDITIONS[name]
        started = time.perf_counter()
        x, y, n_generated = x_real, y_real, 0
        if ratio:
            if kind not in pools:
                most = max(r for _, r, kd in (CONDITIONS[c] for c in conditions) if kd == kind)
                pools[kind] = generated_pool(bundle, x_real, y_real, kind, min(most * k, cap), num_classes, seed)
            x_gen, y_gen = _take(pools[kind], min(ratio * k, cap))
            x, y, n_generated = np.concatenate([x_real, x_gen]), np.concatenate([y_real, y_gen]), len(y_gen)
        accuracy = train_and_score(x, y, x_test, y_test, num_classes, steps, classic, seed)
        yield {"k": k, "seed": seed, "condition": name, "accuracy": accuracy, "steps": steps,
               "n_real": len(rows), "n_generated": n_generated, "test_images": len(y_test),
               "seconds": round(time.perf_counter() - started, 1)}


def summary(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation of accuracy per (k, condition), and the difference to "real only" of the
    same k in pooled standard deviations: (mean - mean_real) / sqrt((std^2 + std_real^2) / 2)."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["k"], r["condition"]), []).append(r["accuracy"])
    out = []
    order = list(CONDITIONS)
    for (k, name) in sorted(groups, key=lambda g: (g[0], order.index(g[1]) if g[1] in order else len(order))):
        acc = np.array(groups[(k, name)])
        mean, std = float(acc.mean()), float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
        base = np.array(groups.get((k, "real only"), []))
        diff = None
        if name != "real only" and len(base) > 1 and len(acc) > 1:
            pooled = math.sqrt((std ** 2 + float(base.std(ddof=1)) ** 2) / 2)
            diff = (mean - float(base.mean())) / pooled if pooled > 0 else None
        out.append({"k": k, "condition": name, "runs": len(acc), "mean": mean, "std": std, "diff_pooled_sd": diff})
    return out


def markdown_table(rows: list[dict], expected_runs: int | None = None) -> str:
    """The summary as a Markdown table: test accuracy mean ± std (percent) and the difference to "real only"."""
    lines = ["| k per class | condition | runs | test accuracy (%) | vs real only (pooled SDs) |",
             "|---:|---|---:|---:|---:|"]
    for s in summary(rows):
        runs = f"{s['runs']}" + (f" of {expected_runs} (partial)" if expected_runs and s["runs"] < expected_runs else "")
        diff = "" if s["diff_pooled_sd"] is None else f"{s['diff_pooled_sd']:+.1f}"
        lines.append(f"| {s['k']} | {s['condition']} | {runs} | {100 * s['mean']:.2f} ± {100 * s['std']:.2f} | {diff} |")
    return "\n".join(lines)
