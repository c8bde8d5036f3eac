"""The sliders under the decoder (fragment "controls"): one per latent dimension, one per fitted
direction with how far to trust it, and making a slider from two lassoed groups. Each slider's
callback moves the current point and reruns the "live" and "controls" fragments only.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae import VAEError, explore, manifold, view
from vae.manifold import INACTIVE_KL

from . import display, levels, session, words
from .session import DIM_KEY, DIR_KEY, SLIDER_RANGE, SLIDER_STEP
from .state import Fragment, state


def _loaded():
    return state.loaded


# ------------------------------------------------------------------------------ callbacks

def _on_dim(i: int) -> None:
    loaded = _loaded()
    z = explore.set_dimension(state.z, i, state.widget(DIM_KEY.format(i)), loaded.view.latent_mean, loaded.view.latent_std)
    session.move(loaded, z)
    session.rerun(Fragment.LIVE, Fragment.CONTROLS)


def _on_direction(name: str) -> None:
    loaded = _loaded()
    d = session.find_direction(loaded, name)
    if d is None:
        return
    scales = session.direction_scales(loaded)
    keep = []
    if session.kept_value("keep_fixed", False):
        shown = session.kept_value("shown_dirs") or []
        keep = [o for o in session.all_directions(loaded) if o.name in shown and o.name != name]
    state.keep_note = None
    try:
        z = explore.move_to(state.z, d.vector, state.widget(DIR_KEY.format(name)), scales[name], [o.vector for o in keep])
        state.controls_error = None
    except VAEError as exc:
        state.controls_error = str(exc)
        z = state.z
    drift = max((abs(explore.along(z, o.vector, scales[o.name]) - explore.along(state.z, o.vector, scales[o.name]))
                 for o in keep), default=0.0)
    if drift > SLIDER_STEP / 2:  # a kept slider would show the move
        state.keep_note = {"name": name, "text": keep_note(len(keep), loaded.bundle.latent_dim, drift)}
    session.move(loaded, z)
    session.rerun(Fragment.LIVE, Fragment.CONTROLS)


def keep_note(kept: int, latent_dim: int, drift: float) -> str:
    """Why the kept sliders moved a little, shown under the slider that moved them."""
    why = (f"{kept} directions cannot all stay fixed in a {latent_dim}-dimensional latent space"
           if kept >= latent_dim else "this direction lies almost within the ones kept fixed")
    return (f"Kept the other shown sliders as nearly as possible: {why}, so they moved by up to {drift:.2f} σ "
            "(least squares). Show fewer sliders to keep them exactly.")


# ------------------------------------------------------------------------------ controls

def trust(d, noun: str = "example") -> tuple[str, str]:
    """A short fidelity line for a direction's slider and its level (vae.view.trust): good, fair or poor."""
    measure, value, level = view.trust(d)
    fid, fit = d.fidelity or {}, d.fit or {}
    if measure == "spearman":
        text = f"edit fidelity ρ = {value:+.2f}"
        if fid.get("reached") is not None:  # a class slider, scored by the class judge
            text += (f" · {float(fid['reached']):.0%} of edited {noun}s look like {target_name(d)} to a class "
                     f"judge (from {float(fid.get('start_share', 0)):.0%})")
        elif side_effect(d):
            text += f" · {side_effect(d)}"
    elif measure == "accuracy" and d.kind == "custom":
        text = f"splits the two groups with {value:.0%} accuracy · {side_effect(d)}"
    elif measure == "accuracy":
        text = f"separates the class with {value:.0%} accuracy (edit fidelity not measured)"
    elif measure == "r2":
        text = f"fit R² = {value:.2f} (edit fidelity not measured)"
    else:
        text = "fidelity not measured"
    return text, level


def side_effect(d) -> str:
    """What else a slider measurably changes, in words ("" when nothing measured): the share of edits that
    change the predicted class (attribute sliders), or the attributes a lasso-made slider moves. The one
    source of these facts for the slider's label, its help and the model card."""
    fit = d.fit or {}
    if d.kind == "custom" and "accuracy" in fit:
        steady = [f"{k} (ρ {r:+.2f})" for k, r in (fit.get("effects") or {}).items() if abs(r) >= 0.5][:2]
        return ("mostly changes " + ", ".join(steady)) if steady else "changes no measured attribute steadily"
    rate, _ = view.class_change(d)
    return f"changes the class in {rate:.0%} of edits" if np.isfinite(rate) else ""


def side_effect_colour(d) -> str:
    """red when most edits change the class, orange when enough do to name it on the slider, grey otherwise."""
    return {"most": "red", "some": "orange"}.get(view.class_change(d)[1], "gray")


def slider_label(d) -> str:
    """A direction slider's label: its name (literal), the trust dot, and the side effect that matters."""
    text, level = trust(d)
    label = f"{words.literal(d.name)} · :{TRUST_COLOUR[level]}[● {short_trust(d)}]"
    effect, colour = side_effect(d), side_effect_colour(d)
    if effect and (d.kind == "custom" or colour != "gray"):
        label += f" · :{colour}[{words.literal(effect)}]"
    return label


def target_name(d) -> str:
    """The class a class slider moves towards: "Sandal" for "class: Sandal" and for "Sneaker -> Sandal"."""
    if d.kind == "class_pair" and " -> " in d.name:
        return d.name.split(" -> ", 1)[1]
    return d.name.split(": ", 1)[1] if d.name.startswith("class: ") else d.name


TRUST_COLOUR = {"good": "green", "fair": "orange", "poor": "red"}


def _default_shown(loaded) -> list[str]:
    attrs = [d.name for d in loaded.pre.directions if d.kind == "attribute"]
    classes = [d.name for d in loaded.pre.directions if d.kind == "class"]
    return attrs[:6] + classes[:10]


def _on_add_pair() -> None:
    a, b = session.kept_value("pair_a"), session.kept_value("pair_b")
    name = f"{a} -> {b}"
    if a == b or session.find_direction(_loaded(), name) is None:
        state.controls_error = "Pick two different classes."
        return
    state.controls_error = None
    shown = session.kept_value("shown_dirs") or []
    if name not in shown:
        session.set_kept("shown_dirs", shown + [name])
    session.sync_controls(_loaded())


def _on_group(which: str) -> None:
    state.groups[which] = list(state.lasso or [])
    state.controls_error = None


def _on_make_slider() -> None:
    from vae.precomputed import Direction

    loaded = _loaded()
    name = (state.custom_name or "").strip()[:40] or f"custom {len(state.custom_dirs) + 1}"
    if session.find_direction(loaded, name) is not None:
        state.controls_error = f"A slider called {words.quoted(name)} exists already: choose another name."
        return
    try:
        v, fit = explore.group_direction(loaded.pre.mean, state.groups["A"], state.groups["B"])
    except VAEError as exc:
        state.controls_error = str(exc)
        return
    fit["effects"] = view.slider_effects(loaded.bundle, loaded.pre, v, int(state.z_label))
    state.custom_dirs = state.custom_dirs + [Direction(name, "custom", v, fit, {})]
    session.set_kept("shown_dirs", (session.kept_value("shown_dirs") or []) + [name])
    state.custom_name = ""
    state.controls_error = None
    state.lasso = []
    state.clear_sel = state.clear_sel + 1  # the lasso is used: the map lets go of it
    session.sync_controls(loaded)
    session.rerun(Fragment.CONTROLS, Fragment.LIVE)


def short_trust(d) -> str:
    """The fidelity in a few characters for the slider's label: ρ for edits measured, accuracy or R² otherwise."""
    measure, value, _ = view.trust(d)
    return {"spearman": f"ρ {value:+.2f}", "accuracy": f"acc {value:.0%}", "r2": f"R² {value:.2f}"}.get(measure, "unmeasured")


def _slider_for(loaded, d) -> None:
    """One direction's slider; its label carries the fidelity (one element per slider keeps reruns light)."""
    key = DIR_KEY.format(d.name)
    text, level = trust(d, display.for_bundle(loaded).NOUN)
    st.slider(slider_label(d), -SLIDER_RANGE, SLIDER_RANGE, key=key,
              step=SLIDER_STEP, format="%.2f σ", on_change=_on_direction, args=(d.name,),
              help=f"Moves the current point along the {d.kind.replace('_', ' ')} direction {words.quoted(d.name)}, in "
                   f"spreads of the encodings along it (0: their average). Trust: {level}; {words.literal(text, 300)}.")


# With more than MANY dimension sliders, the MOST_USED first until "Show all": every slider on the page is drawn
# again by the browser on each drag step of the pad (Streamlit redraws the page's elements per run), so 32 of
# them cost a third of a step. Up to MANY are all shown: hiding one or two behind a toggle helps nobody.
MANY = 16
MOST_USED = 12


@st.fragment(key=Fragment.CONTROLS)
def controls() -> None:
    loaded = _loaded()
    pre = loaded.pre
    if session.kept_value("shown_dirs") is None:
        session.set_kept("shown_dirs", _default_shown(loaded))
    # lazy tabs: only the open one runs and is drawn, which keeps every rerun of the page light
    tab_dims, tab_dirs, tab_make = st.tabs(["Latent dimensions", "Attribute sliders", "Make a slider"],
                                           key="controls_tab", on_change="rerun")
    if tab_dims.open:
        with tab_dims:
            kl = np.nan_to_num(pre.kl_per_dim, nan=0.0)
            inactive = int(np.sum(kl < INACTIVE_KL))
            st.caption("One slider per latent dimension, in units of its spread σ over the encoded data (0 = their "
                       "average), most-used first (KL in nats: how much the model uses it).")
            show_all = inactive == 0 or session.kept(
                st.toggle, f"Show the {inactive} inactive dimensions (KL < {INACTIVE_KL} nats: the decoder ignores them)",
                key="show_inactive", default=False)
            active = set(manifold.active_dimensions(kl).tolist())
            dims = [i for i in loaded.view.dim_order if show_all or i in active]
            if len(dims) > MANY and not session.kept(
                    st.toggle, f"Show all {len(dims)} dimensions (the {MOST_USED} most used are shown)",
                    key="show_all_dims", default=False):
                dims = dims[:MOST_USED]
            if not all(state.has(DIM_KEY.format(i)) for i in dims):
                # before any slider of this run exists: setting one already drawn is an error (a bundle with
                # more dimensions than the last one used to hit it half way through the loop)
                session.sync_controls(loaded)
            cols = st.columns(2, gap="medium")
            for n, i in enumerate(dims):
                key = DIM_KEY.format(i)
                label = f"z{i} · KL {kl[i]:.2f}" + ("" if i in active else " · inactive")
                with cols[n % 2]:
                    st.slider(label, -SLIDER_RANGE, SLIDER_RANGE, key=key, step=SLIDER_STEP, format="%.2f σ",
                              on_change=_on_dim, args=(int(i),))
            levels.detail_sliders(loaded)  # a hierarchical bundle's lower level, grouped apart
    if tab_dirs.open:
        with tab_dirs:
            st.caption("Each slider moves the point along a direction fitted in latent space: towards a class, from one "
                       "class to another, or along a measured attribute. The coloured dot says how far to trust it: "
                       "ρ, how faithfully edits change what the slider names (±1: exactly) - the measured attribute, "
                       "or for a class how much more like that class a class judge finds the decoding; "
                       "acc, how well a direction without measured edits separates its groups. Hover ? for details.")
            if loaded.bundle.conditional:
                st.caption("No class sliders: this model takes the class as an input, so moving the point cannot "
                           "change it. Pick the class under the decoder (Class the decoder draws); the row under "
                           "the pad shows the same point as every class.")
            names = [d.name for d in session.all_directions(loaded)]
            session.set_kept("shown_dirs", [n for n in session.kept_value("shown_dirs") if n in names])
            shown = session.kept(st.multiselect, "Sliders shown", names, key="shown_dirs", placeholder="Choose directions")
            classes = list(loaded.bundle.class_names)
            if any(d.kind == "class_pair" for d in pre.directions) and len(classes) > 1:
                a, b = st.columns(2, vertical_alignment="bottom")
                for key, default in (("pair_a", classes[0]), ("pair_b", classes[1])):
                    if session.kept_value(key) not in classes:  # kept from another bundle
                        session.set_kept(key, default)
                session.kept(a.selectbox, "From class", classes, key="pair_a")
                session.kept(b.selectbox, "to class", classes, key="pair_b")
                st.button("Add the A → B slider", on_click=_on_add_pair)  # own row: never cut to "Add ..."
            session.kept(st.toggle, "Keep the other shown sliders fixed (conditional editing)", key="keep_fixed",
                         default=False, help="Moves along the direction with the other shown directions projected "
                                             "out, so their sliders stay put. With more shown sliders than latent "
                                             "dimensions they cannot all stay put: they then move as little as "
                                             "possible (least squares), and a note under the slider says so.")
            note = state.keep_note if session.kept_value("keep_fixed", False) else None
            if not all(state.has(DIR_KEY.format(name)) for name in shown):
                session.sync_controls(loaded)  # before the first slider of this run is drawn
            for name in shown:
                d = session.find_direction(loaded, name)
                if d is not None:
                    _slider_for(loaded, d)
                    if note and note["name"] == name:  # right under the slider that was moved
                        st.caption(f":orange[{note['text']}]")
    if tab_make.open:
        with tab_make:
            st.caption("Lasso (or box-select) a group of points on the map, make it group A; lasso another, make it "
                       "group B. The line from A's centre to B's becomes a new slider.")
            lasso = state.lasso or []
            st.markdown(f"Current map selection: **{len(lasso)}** points")
            ca, cb = st.columns(2)
            ca.button(f"Selection → group A ({len(state.groups['A'])})", on_click=_on_group, args=("A",),
                      disabled=not lasso, width="stretch")
            cb.button(f"Selection → group B ({len(state.groups['B'])})", on_click=_on_group, args=("B",),
                      disabled=not lasso, width="stretch")
            st.text_input("Slider name", key="custom_name", placeholder="e.g. wider soles")
            st.button("Make the slider", type="primary", on_click=_on_make_slider,
                      disabled=not (state.groups["A"] and state.groups["B"]))
            for d in state.custom_dirs:
                text, level = trust(d)
                st.caption(f"**{words.literal(d.name)}**: A {d.fit['n_a']} points → B {d.fit['n_b']} points; :{TRUST_COLOUR[level]}[●] {text}")
    if state.controls_error:
        st.caption(f":red[{state.controls_error}]")
