"""The bundle picker in the sidebar (shared by both pages) and what the pages need from it.

On a session's first run the URL may name a bundle (only one on offer); afterwards the picker
decides. A damaged bundle or one without precomputed arrays gets one clear sentence (and the
command to run), and the picker stays there to choose another.
"""
from __future__ import annotations

import streamlit as st

from vae import BundleError
from vae.errors import PrecomputeError

from . import bundles, session
from .state import Context, state


def _on_pick() -> None:
    state.forget("loaded_path")  # the next run resets the per-bundle state


def retry(choice) -> None:
    """The "Try again" button: forget the cached failure (or the bundle whose model failed) and reload."""
    bundles.forget(choice)
    state.forget("loaded_path")


def choose() -> Context:
    """Resolve the bundle for this run (stored as state.ctx for the pages)."""
    choices = bundles.discover()
    ctx = Context(choices)
    state.ctx = ctx
    session.init_defaults()
    session.restore_widgets()
    if not choices:
        st.title("VAE latent explorer")
        st.error(f"No bundles found in {bundles.PRETRAINED}. Train one, precompute its maps, and start again:")
        st.code("python scripts/train.py --dataset fashion_mnist --out pretrained/fashion_mnist\n"
                "python scripts/precompute.py pretrained/fashion_mnist\nstreamlit run app.py", language="bash")
        return ctx
    if not state.has("_url_read"):  # first run of this session: the URL may choose
        state.url_read = True
        state.url_params = session.read_url(choices)
        first = state.url_params.get("choice") or bundles.default_choice(choices)
        state.bundle_pick = first.name
    names = [c.name for c in choices]
    if state.bundle_pick not in names:
        state.bundle_pick = bundles.default_choice(choices).name
    with st.sidebar:
        st.markdown("### :material/explore: Latent explorer")
        st.selectbox("Bundle", names, key="bundle_pick", on_change=_on_pick,
                     format_func=lambda n: n + (" (--bundle)" if bundles.find(choices, n).extra else ""),
                     help="A trained VAE with its precomputed maps: pretrained/ and any folder given with "
                          "`streamlit run app.py -- --bundle PATH` or VAE_BUNDLE.")
    choice = bundles.find(choices, state.bundle_pick)
    ctx.choice = choice
    slot = _warm_browser() if bundles.is_loading(choice) else None
    try:
        loaded = bundles.load(choice)
    except BundleError as exc:
        ctx.error, ctx.bundle = exc, exc.bundle
        _explain(choice, choices, exc)
        return ctx
    finally:
        if slot is not None:
            slot.empty()
    ctx.loaded, ctx.bundle = loaded, loaded.bundle
    state.loaded = loaded
    if state.loaded_path != str(choice.path):
        params, state.url_params = state.url_params or {}, None
        if params and (params.get("choice") is None or params["choice"].path == choice.path):
            session.apply_url(loaded, params)  # the link's view, on the bundle it named (or the default)
        else:
            session.reset_for_bundle(loaded)
    return ctx


def _warm_browser():
    """While the server loads the bundle's arrays (and TensorFlow), have the browser load its chart code.

    A one-point WebGL chart (invisible) makes the browser fetch and compile Plotly (~5 MB of
    JavaScript) and set up WebGL now, instead of after the arrays are ready; the slot is cleared then.
    """
    from .runtime import wait_for_shared_imports

    wait_for_shared_imports()
    import plotly.graph_objects as go

    slot = st.empty()
    fig = go.Figure(go.Scattergl(x=[0], y=[0], mode="markers", marker=dict(opacity=0), hoverinfo="skip"))
    fig.update_layout(height=40, margin=dict(l=0, r=0, t=0, b=0), xaxis_visible=False, yaxis_visible=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False)
    with slot.container():
        st.caption("Loading the bundle (once per server)...")
        st.plotly_chart(fig, key="warm_browser", config={"staticPlot": True, "displayModeBar": False})
    return slot


def _explain(choice, choices, exc: BundleError) -> None:
    """One sentence on what is wrong with the chosen bundle, the fix, and the other bundles."""
    others = [c.name for c in choices if c.name != choice.name]
    st.title(f"Bundle “{choice.name}” cannot be shown")
    st.error(str(exc), icon=":material/error:")
    if isinstance(exc, PrecomputeError) and exc.bundle is not None:
        st.markdown("Run this once, then press **Try again** (the model card works already):")
        st.code(bundles.precompute_command(choice), language="bash")
    st.button("Try again", on_click=retry, args=(choice,))
    if others:
        st.info("Choose another bundle in the sidebar: " + ", ".join(f"**{n}**" for n in others) + ".")
