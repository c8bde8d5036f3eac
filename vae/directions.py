"""Latent directions a slider moves along, and how well each does what its name says (edit fidelity).

    directions, probe = fit_directions(mean, labels, attributes, class_names, seed=0)
    measure_fidelity(bundle, directions, mean, labels, probe, measure)       # attribute sliders
    judge_info = measure_class_fidelity(bundle, directions, mean, labels, examples, judge)   # class sliders

Attribute fidelity decodes points moved along a direction and measures the attribute again (the
modality's measure); class fidelity asks an independent judge (the modality's, e.g. a pixel classifier
that never saw the VAE) whether the decoded output looks more like the target class.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from . import latent
from .precomputed import Direction

MAX_FIT = 20000         # directions and the class probe are fitted on at most this many points
FIDELITY_POINTS = 128   # encodings moved along each attribute direction
FIDELITY_STEPS = 9
FIDELITY_SPAN = 2.0     # in standard deviations of the encodings along the direction (the sliders' effect too)
MAX_PAIR_CLASSES = 20   # class-to-class directions only up to this many classes (n^2 of them)
CLASS_FIDELITY_DECODES = 16384   # moved points decoded for all class sliders together: n classes give n^2
CLASS_FIDELITY_MIN_POINTS = 64   # sliders, so each is measured on budget / (steps x n^2) points, at least this


def class_fidelity_points(directions: int) -> int:
    """Points moved along each of `directions` class directions: FIDELITY_POINTS while the budget allows."""
    per = CLASS_FIDELITY_DECODES // (FIDELITY_STEPS * max(int(directions), 1))
    return int(min(FIDELITY_POINTS, max(CLASS_FIDELITY_MIN_POINTS, per)))


def fit_directions(mean, labels, attributes, class_names, seed, progress=False, notes: list | None = None,
                   noun: str = "example", class_directions: bool = True):
    """Class (one-versus-rest), class-to-class and attribute directions, plus a linear class probe.

    An attribute that does not vary over these points has no direction: skipped, with a note. Without
    `class_directions` (a class-conditional model, whose class is an input) no class direction is fitted."""
    pick = np.arange(len(mean))
    if len(mean) > MAX_FIT:
        pick = np.random.default_rng(seed).choice(len(mean), MAX_FIT, replace=False)
    z, y = mean[pick], labels[pick]
    classes = [c for c in range(len(class_names)) if (y == c).sum() >= 2]
    directions, probe = [], {}
    if len(classes) >= 2:
        keep = np.isin(y, classes)
        clf = latent.linear_classifier(z[keep], y[keep], seed)
        train, test = latent.split_holdout(int(keep.sum()), 0.2, seed)
        held = latent.linear_classifier(z[keep][train], y[keep][train], seed)
        coef = np.zeros((len(class_names), z.shape[1]), np.float32)
        intercept = np.full(len(class_names), -1e9, np.float32)  # classes never seen are never predicted
        coef[clf.classes_], intercept[clf.classes_] = clf.coef_, clf.intercept_
        probe = {"coef": coef, "intercept": intercept,
                 "accuracy": float(np.mean(held.predict(z[keep][test]) == y[keep][test])), "held_out": int(len(test))}
        for c in tqdm(classes if class_directions else [], desc="class directions", disable=not progress):
            v, fit = latent.class_direction(z, y, c, seed=seed)
            directions.append(Direction(f"class: {class_names[c]}", "class", v, {**fit, "target": int(c)}, {}))
        pairs = [(a, b) for a in classes for b in classes if a < b] if len(classes) <= MAX_PAIR_CLASSES else []
        pairs = pairs if class_directions else []
        for a, b in tqdm(pairs, desc="class-to-class directions", disable=not progress):
            v, fit = latent.class_direction(z, y, b, other=a, seed=seed)  # points from a towards b
            directions.append(Direction(f"{class_names[a]} -> {class_names[b]}", "class_pair", v,
                                        {**fit, "source": int(a), "target": int(b)}, {}))
            directions.append(Direction(f"{class_names[b]} -> {class_names[a]}", "class_pair", -v,
                                        {**fit, "source": int(b), "target": int(a)}, {}))
    for name, values in attributes.items():
        if not np.ptp(values[pick]) > 0:
            (notes if notes is not None else []).append(
                f"The {name} direction skipped: {name} is the same for all {len(pick)} {noun}s.")
            continue
        v, fit = latent.attribute_direction(z, values[pick], seed=seed)
        directions.append(Direction(name, "attribute", v, fit, {}))
    return directions, probe


def measure_fidelity(bundle, directions, mean, labels, probe, measure, seed=0, progress=False) -> None:
    """Fill each attribute direction's fidelity; measure(decoded) -> {name: (N,)} is the modality's."""
    predict = (lambda m: (m @ probe["coef"].T + probe["intercept"]).argmax(1)) if probe else None
    for direction in tqdm([x for x in directions if x.kind == "attribute"], desc="edit fidelity", disable=not progress):
        span = FIDELITY_SPAN * float(np.std(mean @ direction.vector))
        direction.fidelity = edit_fidelity(
            bundle.decode, lambda xs, n=direction.name: measure(xs)[n], mean, direction.vector, span, FIDELITY_STEPS,
            FIDELITY_POINTS, encode=lambda xs, *y: bundle.encode(xs, *y)[0], probe=predict,
            labels=labels if bundle.conditional else None, seed=seed)


def measure_class_fidelity(bundle, directions, mean, labels, examples, judge, seed=0, progress=False) -> dict:
    """Fill each class direction's fidelity, judged by the modality's judge (fitted here on the examples).

    "class: X" moves points of the other classes, "A -> B" points of class A, FIDELITY_SPAN spreads
    either way; spearman is the rank correlation of the step with the judge's probability of the
    target class, reached the share of points the judge calls the target class at +span. Each direction
    moves class_fidelity_points(n) points, n the number of class directions (a fixed budget of decodes).
    Returns the judge's description (stored in meta.json)."""
    chosen = [d for d in directions if d.kind in ("class", "class_pair") and "target" in d.fit]
    if not chosen:
        return {}
    pick = np.arange(len(examples))
    if len(examples) > MAX_FIT:
        pick = np.sort(np.random.default_rng(seed).choice(len(examples), MAX_FIT, replace=False))
    judge.fit(examples[pick], labels[pick])
    points = class_fidelity_points(len(chosen))
    info = {"judge": judge.description, "accuracy": judge.accuracy, "held_out": judge.held_out,
            "fitted_on": int(len(pick) - judge.held_out), "points": points}
    for direction in tqdm(chosen, desc="class edit fidelity", disable=not progress):
        target = direction.fit["target"]
        start = labels == direction.fit["source"] if "source" in direction.fit else labels != target
        if not start.any():
            continue
        span = FIDELITY_SPAN * float(np.std(mean @ direction.vector))
        direction.fidelity = edit_fidelity(
            bundle.decode, lambda xs, t=target: judge.proba(xs, t), mean[start], direction.vector, span,
            FIDELITY_STEPS, points, encode=lambda xs, *y: xs, probe=judge.predict,
            labels=labels[start] if bundle.conditional else None, seed=seed, target=target)
        direction.fidelity["judge_accuracy"] = judge.accuracy
    return info


# --------------------------------------------------------------------- edit fidelity, generic

def moved_along(means, direction, span: float, steps: int, points: int, seed: int = 0):
    """`points` seeded encodings, each moved by `steps` values in [-span, span] along the unit `direction`:
    (rows picked (P,), step values (S,), moved latents (P * S, d), point by point, steps in order)."""
    means = np.asarray(means, np.float32)
    values = np.linspace(-span, span, steps).astype(np.float32)
    pick = np.random.default_rng(seed).choice(len(means), size=min(points, len(means)), replace=False)
    v = latent.unit(direction)
    z = means[pick, None, :] + values[None, :, None] * v[None, None, :]  # (P, S, d)
    return pick, values, z.reshape(-1, z.shape[-1])


def edit_fidelity(decode, measure, means, direction, span: float, steps: int = 9, points: int = 128,
                  encode=None, probe=None, labels=None, seed: int = 0, target: int | None = None) -> dict:
    """Does moving along `direction` change what it claims to? Decode and measure, step by step.

    `points` encodings are each moved by `steps` values in [-span, span] (0 included), decoded, and
    `measure(images) -> (M,)` is applied. spearman: median over points of the rank correlation between
    step and measured value; spearman_of_mean: the same for the mean curve. With `encode(images) ->
    means` and `probe(means) -> classes`, class_change_rate is the share of points whose predicted
    class anywhere on the way differs from the unedited point's; with a `target` class as well,
    target_share_by_step is the share of points predicted as `target` at each step, and reached and
    start_share are that share at +span and at 0. For a conditional model pass the points' `labels`:
    decode and encode are then called with a label per image as second argument.
    """
    steps = steps + (steps % 2 == 0)  # odd, so that 0 is one of the steps
    pick, values, flat = moved_along(means, direction, span, steps, points, seed)
    extra = () if labels is None else (np.repeat(np.asarray(labels)[pick], steps),)
    images = decode(flat, *extra)
    measured = np.asarray(measure(images), np.float64).reshape(len(pick), steps)  # (P, S)
    rho = step_rank_correlation(measured)
    curve = measured.mean(0)
    out = {"spearman": float(np.median(rho)), "spearman_mean_points": float(rho.mean()),
           "spearman_of_mean": float(_spearman(values, curve)), "span": float(span),
           "steps": [round(float(s), 4) for s in values], "mean_values": [round(float(c), 5) for c in curve],
           "points": int(len(pick))}
    if encode is not None and probe is not None:
        classes = np.asarray(probe(encode(images, *extra))).reshape(len(pick), steps)
        changed = classes != classes[:, steps // 2:steps // 2 + 1]  # (P, S) against the unedited point
        out["class_change_rate"] = float(np.mean(changed.any(axis=1)))
        out["class_changed_by_step"] = [round(float(c), 4) for c in changed.mean(0)]
        if target is not None:
            share = (classes == target).mean(0)  # (S,)
            out["target_share_by_step"] = [round(float(c), 4) for c in share]
            out["reached"], out["start_share"] = float(share[-1]), float(share[steps // 2])
    return out


def step_rank_correlation(measured) -> np.ndarray:
    """Spearman correlation of each row of `measured` (P, S), values at S increasing steps, with the
    step: (P,), +1 when a row only rises, -1 when it only falls, 0 for a flat row."""
    from scipy.stats import rankdata

    measured = np.asarray(measured, np.float64)
    ranks = rankdata(measured, axis=1)
    step_ranks = np.arange(1, measured.shape[1] + 1, dtype=np.float64)
    rc, sc = ranks - ranks.mean(1, keepdims=True), step_ranks - step_ranks.mean()
    denom = np.sqrt((rc ** 2).sum(1) * (sc ** 2).sum())
    return np.where(denom > 0, (rc * sc).sum(1) / np.maximum(denom, 1e-12), 0.0)  # flat curves count as 0


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    if np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)
