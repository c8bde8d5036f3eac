"""The model card page: metrics, training curves, KL per latent dimension, architecture,
dataset and training settings, and how faithfully each direction edits."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae import BundleError
from vae.manifold import INACTIVE_KL

from . import display, map_view, session
from .sliders import side_effect, trust
from .state import state

METRIC_NAMES = {"neg_elbo": ("Test −ELBO", "nats, lower is better"), "reconstruction": ("Reconstruction", "nats"),
                "kl": ("KL", "nats"), "iwae_nll": ("Importance-weighted NLL bound", "nats"),
                "active_units": ("Active latent units", "of the latent size"),
                "knn_accuracy": ("10-NN accuracy of the encodings", "fraction"),
                "knn_chance": ("10-NN chance level", "fraction, guessing with the training class shares"),
                "reconstruction_mse": ("Reconstruction MSE per pixel", "[0, 1] scale"),
                "test_points": ("Test examples", "count"),
                "iwae_k": ("Importance samples per point (IWAE)", "count"),
                "iwae_points": ("Test examples in the IWAE bound", "count")}



def _shown(value) -> str:
    """A meta.json value as a reader wants it: 'train 54,000 · test 10,000', 'yes', '—', not JSON or Python."""
    if value is None:
        return "—"  # not "-": a table cell renders Markdown, where a lone "-" is a list bullet
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return " · ".join(f"{k.replace('_', ' ')} {_shown(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value)
    return str(value)

def _read_history(bundle) -> dict:
    try:
        h = json.loads((bundle.path / "history.json").read_text())
        return h if isinstance(h, dict) else {}
    except (OSError, ValueError):
        return {}


def curves_figure(history: dict) -> go.Figure | None:
    """Training and validation curves, one line per recorded series (seconds left out)."""
    series = {k: v for k, v in history.items() if isinstance(v, list) and v and k != "seconds"
              and all(isinstance(x, (int, float)) for x in v)}
    if not series:
        return None
    fig = go.Figure()
    for i, (name, values) in enumerate(sorted(series.items(), key=lambda kv: (kv[0].startswith("val_"), kv[0]))):
        base = name.removeprefix("val_")
        fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=name, mode="lines+markers",
                                 line=dict(dash="dot" if name.startswith("val_") else "solid",
                                           color=map_view.PALETTE[sorted({k.removeprefix('val_') for k in series}).index(base) % 10]),
                                 marker=dict(size=4), yaxis="y2" if base.startswith("kl") else "y"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="epoch",
                      yaxis=dict(title="loss, reconstruction (nats)"), hovermode="x unified",
                      yaxis2=dict(title="KL (nats)", overlaying="y", side="right", showgrid=False),
                      legend=dict(orientation="h", y=1.12))
    if max((len(v) for v in series.values()), default=0) <= 20:
        fig.update_xaxes(dtick=1)  # whole epochs only (two epochs drew ticks at 1.2, 1.4, ...)
    return fig


def kl_figure(kl: np.ndarray, prefix: str = "z") -> go.Figure:
    order = np.argsort(-kl, kind="stable")
    colours = ["#bab0ac" if kl[i] < INACTIVE_KL else "#4e79a7" for i in order]
    fig = go.Figure(go.Bar(x=[f"{prefix}{i}" for i in order], y=kl[order], marker_color=colours,
                           hovertemplate="%{x}: %{y:.3f} nats<extra></extra>"))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="mean KL (nats)",
                      xaxis_title="latent dimension, most used first")
    return fig


def page() -> None:
    ctx = state.ctx
    bundle = ctx.bundle if ctx else None
    if bundle is None:
        return  # app.py already explained why
    loaded, meta = ctx.loaded, bundle.meta
    if loaded is not None and state.z is not None:
        session.write_url(loaded)  # the explorer's view stays in the address while the card is shown
    st.markdown(f"## Model card · {ctx.choice.name}")
    show = display.for_bundle(bundle)
    lower = (meta.get("model") or {}).get("lower_dim") if isinstance(meta.get("model"), dict) else None
    levels = f"hierarchical: top {bundle.latent_dim}, lower {lower} · " if lower else ""
    st.caption(f"{meta.get('dataset', '?')} · latent {bundle.latent_dim} · {levels}{show.describe(bundle)} · "
               f"β {meta.get('beta', 1)} · {'class-conditional · ' if bundle.conditional else ''}"
               f"saved {meta.get('created', '?')}")

    st.markdown("#### Metrics")
    metrics = meta.get("metrics") or {}
    if metrics:
        names = {**METRIC_NAMES, "reconstruction_distance": ("Reconstruction distance",
                                                            str(metrics.get("distance_name", "")))}
        rows = [{"metric": names.get(k, (k, ""))[0], "value": v, "unit": names.get(k, ("", ""))[1]}
                for k, v in metrics.items() if isinstance(v, (int, float))]
        binary = metrics.get("binarized") if isinstance(metrics.get("binarized"), dict) else {}
        rows += [{"metric": f"Binarised protocol: {names[k][0]}", "value": binary[k],
                  "unit": f"{names[k][1]}; {binary.get('protocol', '')}"}
                 for k in ("iwae_nll", "neg_elbo") if isinstance(binary.get(k), (int, float))]
        st.dataframe(rows, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3,  # every row, no scroll
                     column_config={"value": st.column_config.NumberColumn(format="%.4g"),
                                    "unit": st.column_config.TextColumn(width="large")})
    else:
        st.info(f"No test metrics stored yet: run `python scripts/evaluate.py {_folder(ctx.choice)}`.")

    st.markdown("#### Training curves")
    fig = curves_figure(_read_history(bundle))
    if fig is None:
        st.info("This bundle has no training history (history.json is empty).")
    else:
        st.plotly_chart(fig, key="curves", config={"displaylogo": False})
        st.caption(f"Solid: training; dotted: validation. Loss = reconstruction + β·KL, per {show.NOUN}, in nats.")

    st.markdown("#### KL per latent dimension")
    if loaded is not None and np.isfinite(loaded.pre.kl_per_dim).any():
        kl = np.nan_to_num(loaded.pre.kl_per_dim)
        dead = [f"z{i}" for i in range(len(kl)) if kl[i] < INACTIVE_KL]
        st.plotly_chart(kl_figure(kl), key="kl", config={"displaylogo": False})
        st.caption(f"How much information each dimension carries about the {show.NOUN} (mean KL of its posterior from the prior "
                   f"over the {loaded.pre.split} encodings). Grey: inactive, below {INACTIVE_KL} nats - the decoder "
                   "ignores them" + (f": {', '.join(dead)}." if dead else "; none here."))
        lower = loaded.pre.kl_lower_per_dim
        if lower is not None:  # a hierarchical bundle: the lower level's own chart, named by level
            st.plotly_chart(kl_figure(lower, prefix="detail "), key="kl_lower", config={"displaylogo": False})
            st.caption(f"The lower level (details), KL of q(z1 | x, z2) from the prior p(z1 | z2) per dimension: "
                       f"{float(lower.sum()):.1f} nats in all, {int(np.sum(lower >= INACTIVE_KL))} of {len(lower)} "
                       f"dimensions active; the top level above: {float(kl.sum()):.1f} nats, "
                       f"{int(np.sum(kl >= INACTIVE_KL))} of {len(kl)} active.")
    else:
        st.info("Needs the precomputed encodings (see the explorer page for the command).")

    st.markdown("#### Architecture")  # full width: a layer table in half the page cuts its columns
    architecture(bundle, show.NOUN)
    st.markdown("#### Data and training")
    training = dict(meta.get("training") or {})
    training.pop("dataset_spec", None)  # where the data lay on the training machine: not for display
    training["dataset"] = meta.get("dataset", "?")  # the display name, never the server's path
    rows = [{"setting": "dataset", "value": str(meta.get("dataset", "?"))}]
    if isinstance(meta.get("splits"), dict) and meta["splits"]:
        rows.append({"setting": "splits", "value": _shown(meta["splits"])})
    rows += [{"setting": k.replace("_", " "), "value": _shown(v)} for k, v in training.items() if k != "dataset"]
    st.table(rows)  # a table wraps long values, where a data grid cuts them off
    if meta.get("versions"):
        st.caption("Trained with " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))

    st.markdown("#### Directions and their edit fidelity")
    if loaded is None or not loaded.pre.directions:
        st.info("Needs the precomputed directions (see the explorer page for the command).")
        return
    rows = []
    order = {"attribute": 0, "class": 1, "class_pair": 2}
    for d in sorted(loaded.pre.directions, key=lambda d: order.get(d.kind, 3)):
        text, level = trust(d)
        fid = d.fidelity or {}
        rows.append({"direction": d.name, "kind": d.kind.replace("_", " "),
                     "fit": d.fit.get("accuracy", d.fit.get("r2")),
                     "fit measure": "accuracy" if "accuracy" in d.fit else "R²" if "r2" in d.fit else "",
                     "edit fidelity ρ": fid.get("spearman"), "ρ of the mean": fid.get("spearman_of_mean"),
                     "judged the target class": fid.get("reached"),
                     "class change rate": None if "reached" in fid else fid.get("class_change_rate"),
                     "side effects": side_effect(d), "trust": level})
    kinds = sorted({r["kind"] for r in rows})
    pick = st.segmented_control("Show", kinds, default=[k for k in kinds if k != "class pair"] or kinds,
                                selection_mode="multi", key="card_kinds")
    st.dataframe([r for r in rows if r["kind"] in (pick or kinds)], hide_index=True, width="stretch",
                 column_config={"fit": st.column_config.NumberColumn(format="%.3f"),
                                "edit fidelity ρ": st.column_config.NumberColumn(format="%.2f"),
                                "ρ of the mean": st.column_config.NumberColumn(format="%.2f"),
                                "judged the target class": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                                "class change rate": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
    st.caption("Fit: how well the direction was fitted (held-out accuracy of the linear class probe, or R² of the "
               "attribute regression). Edit fidelity ρ: Spearman correlation between how far a point is moved "
               "along the direction and the attribute measured again on its decoding - near ±1 the slider does "
               "what its name says (the median over the points edited). ρ of the mean: the same for the points' mean "
               "curve; where it is high and the median low, the slider works on average but most single points "
               "change only near its end. For a class slider the measure is a class judge's probability of the "
               "target class" + _judge_note(loaded.pre.info.get("class_judge")) + "; judged the target class: the "
               "share of points it calls that class after the largest edit. Class change rate (attribute sliders): "
               "how often an edit also changes the predicted class.")
    projections = {n: p for n, p in loaded.pre.projections.items() if not p.exact_inverse}
    if projections:
        st.markdown("#### Maps and their inverses")
        st.dataframe([{"map": map_view.projection_title(n), "median inverse error": p.inverse_error.get("median_rel"),
                       "90th percentile": p.inverse_error.get("p90_rel"),
                       "nearest other encoding": p.inverse_error.get("nn_rel")} for n, p in projections.items()],
                     hide_index=True, width="stretch",
                     column_config={k: st.column_config.NumberColumn(format="percent") for k in
                                    ("median inverse error", "90th percentile", "nearest other encoding")})
        st.caption("Map → latent errors on held-out encodings, relative to the encodings' spread: how far the pad's "
                   "latent point can be from the true latent of the spot dragged to. PCA maps invert exactly.")


def _folder(choice) -> str:
    """The bundle's folder for a command line: relative to the working directory, never the server's absolute path."""
    from pathlib import Path

    try:
        return str(choice.path.relative_to(Path.cwd()))
    except ValueError:
        return f"path/to/{choice.name}"


def architecture(bundle, noun: str = "example") -> None:
    """The encoder's and decoder's layers (name, type, output shape, parameters) and the parameter count;
    the settings they were built from under them."""
    from vae.model import layer_table

    meta_model = bundle.meta.get("model") or {}
    settings = ", ".join(f"{k.replace('_', ' ')} {_shown(v)}" for k, v in meta_model.items())
    try:
        rows = layer_table(bundle.model)
    except BundleError as exc:  # the model card still shows the rest when the model cannot load
        st.info(f"The layers are shown once the model loads: {exc}")
        rows = []
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch", height=min(35 * (len(rows) + 1) + 3, 800),  # every layer
                     column_config={"parameters": st.column_config.NumberColumn(format="%d")})
        total = int(bundle.model.count_params())
        parts = " + ".join(f"{net} {sum(r['parameters'] for r in rows if r['network'] == net):,}"
                           for net in dict.fromkeys(r["network"] for r in rows))
        st.caption(f"**{total:,} parameters** ({parts}). The encoder q(z|x) gives each {noun}'s posterior mean and "
                   f"log-variance; the decoder p(x|z) gives the {noun} back.")
    if meta_model:
        st.caption(f"Built from: {settings}.")


def _judge_note(judge) -> str:
    """A bracketed note on what the class judge is and its held-out accuracy (empty without one)."""
    if not isinstance(judge, dict) or judge.get("accuracy") is None:
        return ""
    n = judge.get("points")
    points = f"; each class slider moved {n} points" if isinstance(n, int) and n > 0 else ""
    return (f" ({judge.get('judge', 'a class judge')}, {float(judge['accuracy']):.0%} accurate on "
            f"{int(judge.get('held_out', 0)):,} held-out examples; it never saw the VAE{points})")

