"""A hierarchical bundle's lower level (vae/hierarchy.py): the map, the pad and the dimension sliders move the
top latent; the details come from here. They are standardised noise for the lower level, so they travel with
the point when it moves: the selected point's own (its posterior), the most likely (the prior's mean), a
fresh draw at a temperature of its own, or edited one dimension at a time.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from . import session
from .state import Fragment, state

SOURCES = {"own": "the selected point's own details (its posterior)", "likely": "the most likely details (the prior's "
           "mean at this point)", "drawn": "details drawn from the prior", "edited": "details edited on the sliders"}


def current(loaded) -> np.ndarray | None:
    """The details to decode the current point with: (lower_dim,) float32, or None (most likely / flat bundle)."""
    dim = int(getattr(loaded.bundle, "lower_dim", 0) or 0)
    lower = state.lower
    if not dim or lower is None or np.shape(lower) != (dim,):
        return None
    return np.asarray(lower, np.float32)


def _on_own() -> None:
    loaded = state.loaded
    if loaded.pre.lower is not None:
        state.lower, state.lower_source = loaded.pre.lower[state.sel].astype(np.float32), "own"
    _sync_and_rerun(loaded)


def _on_likely() -> None:
    state.lower, state.lower_source = None, "likely"
    _sync_and_rerun(state.loaded)


def _on_redraw() -> None:
    loaded = state.loaded
    temperature = float(session.kept_value("lower_temperature", 1.0))
    rng = np.random.default_rng(int(state.lower_draws))
    state.lower_draws = int(state.lower_draws) + 1
    state.lower = (rng.standard_normal(loaded.bundle.lower_dim) * temperature).astype(np.float32)
    state.lower_source = "drawn"
    _sync_and_rerun(loaded)


def _on_slider(i: int) -> None:
    loaded = state.loaded
    lower = current(loaded)
    lower = np.zeros(loaded.bundle.lower_dim, np.float32) if lower is None else lower.copy()
    lower[i] = float(state.widget(session.LOWER_KEY.format(i)))
    state.lower, state.lower_source = lower, "edited"
    session.rerun(Fragment.LIVE)


def _sync_and_rerun(loaded) -> None:
    session.sync_lower(loaded)
    session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS)


def details_controls(loaded) -> None:
    """Under the decoder: which details the point is decoded with, and a redraw at the lower level's temperature."""
    b = loaded.bundle
    if not getattr(b, "lower_dim", 0):
        return
    st.markdown(f"**Details** · lower level, {b.lower_dim} dimensions under the {b.latent_dim} the map moves")
    row = st.container(horizontal=True, gap="small", key="levels_actions")
    row.button("Redraw details", icon=":material/casino:", on_click=_on_redraw, key="lower_redraw",
               help="Keep the point (the top level) and draw new details from the prior at the temperature below.")
    row.button("Most likely", on_click=_on_likely, key="lower_likely",
               help="Details at the prior's mean for this point: what the top level alone says.")
    row.button("Selected point's own", on_click=_on_own, key="lower_own", disabled=loaded.pre.lower is None,
               help="The details the encoder inferred for the encoding selected on the map.")
    session.kept(st.slider, "Detail temperature", 0.0, 2.0, key="lower_temperature", default=1.0, step=0.1,
                 help="The lower level's own temperature: the standard deviation of a redraw (0: most likely).")
    source = state.lower_source if current(loaded) is not None else "likely"
    st.caption(f"Decoded with {SOURCES.get(source, SOURCES['likely'])}. Drag the pad: the details travel with the "
               "point. Redraw twice and compare: what changes is what the lower level controls.")


def detail_sliders(loaded) -> None:
    """The lower level's dimensions as sliders (in prior standard deviations), grouped apart from the top's."""
    b = loaded.bundle
    if not getattr(b, "lower_dim", 0):
        return
    kl = loaded.pre.kl_lower_per_dim
    # lazy: its sliders exist only while it is open, so a drag's rerun does not redraw them all the time
    box = st.expander(f"Lower level (details): {b.lower_dim} dimensions", expanded=False, key="details_box",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        st.caption("Each slider moves one lower-level dimension in prior standard deviations at the current point; "
                   "KL is that dimension's mean information in nats (near 0: the level leaves it unused).")
        if not all(state.has(session.LOWER_KEY.format(i)) for i in range(b.lower_dim)):
            session.sync_lower(loaded)  # before any of them is drawn: setting a drawn slider is an error
        cols = st.columns(2, gap="medium")
        for i in range(b.lower_dim):
            label = f"detail {i}" + (f" · KL {float(kl[i]):.2f}" if kl is not None else "")
            with cols[i % 2]:
                st.slider(label, -session.LOWER_RANGE, session.LOWER_RANGE, key=session.LOWER_KEY.format(i), step=0.05,
                          format="%.2f", on_change=_on_slider, args=(i,))
