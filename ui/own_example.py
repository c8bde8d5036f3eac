"""The "your own example" tool tab: a person's own file or text, encoded, reconstructed and placed on the map.

The display module of the bundle draws the input (a file uploader, a text box) and any reading
options, and reads what was given into the model's natural form; this tab encodes it, finds its
nearest encodings and measures it with the decoder's own meter.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae import VAEError, latent
from vae.view import METER_K

from . import display, map_view, session, words
from .decoder import every_class
from .state import Fragment, state

KEY = "upload_file"


def _on_upload(kind: str | None = None) -> None:
    """A file was given, a text typed or an option changed (`kind`: which of a display's inputs changed)."""
    loaded = state.loaded
    show = display.for_bundle(loaded)
    if hasattr(show, "example_given"):  # a display with more than one input (a melody: a file or pasted ABC)
        given = show.example_given(state.widget, KEY, kind)
    else:
        given = show.example_value(state.widget(KEY))
    state.upload = None
    state.marks_extra = []
    if given is None:
        session.rerun(Fragment.TOOLS, Fragment.LIVE)
        return
    source, name = given
    b = loaded.bundle
    ident = (name, len(source))
    new = state.upload_id != ident
    try:
        x = b.modality.read_example(source, b.spec, name=name, **show.own_example_read_options())[0]
        x = show.own_example_adjust(x, _data_options(loaded), new)
        preview = show.own_example_preview(source, name, b)
    except VAEError as exc:  # one sentence naming the file and what to do
        state.upload = {"error": str(exc)}
        session.rerun(Fragment.TOOLS, Fragment.LIVE)
        return
    state.upload_id = ident
    label = int(session.kept_value("upload_label", 0)) if b.conditional else None
    state.upload = {"name": name, "preview": preview, **place_upload(loaded, x, label)}
    proj = loaded.pre.projections[state.proj_pick]
    state.marks_extra = [map_view.mark(proj.transform(state.upload["z"][None])[0], f"your {show.NOUN}")]
    session.rerun(Fragment.TOOLS, Fragment.LIVE)


def _data_options(loaded) -> dict:
    return loaded.pre.info.get("attribute_options", {})


def place_upload(loaded, x: np.ndarray, label: int | None) -> dict:
    """An example in natural form -> its encoding, reconstruction, nearest encodings and meter report."""
    b = loaded.bundle
    labels = [label] if label is not None else None
    mean, _ = b.encode(x[None], labels=labels)
    recon = b.decode(mean, labels=labels)[0]
    idx, dist = latent.nearest(mean[0], loaded.pre.mean, 8)
    return {"x": x, "z": mean[0], "recon": recon, "idx": idx, "dist": dist, "label": label,
            "meter": loaded.pre.off_manifold(mean[0], METER_K)}


def _on_explore_upload() -> None:
    up = state.upload
    if up and "z" in up:
        if up["label"] is not None:
            state.z_label = up["label"]
        session.move(state.loaded, up["z"])
        session.rerun(Fragment.LIVE, Fragment.CONTROLS)


def tab(loaded) -> None:
    b = loaded.bundle
    show = display.for_bundle(loaded)
    st.caption(show.own_example_help(b))
    c = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    with c[0]:
        show.own_example_input(KEY, show.NOUN, on_change=_on_upload)
    show.own_example_options([c[1], c[3]], _data_options(loaded), on_change=_on_upload)
    if b.conditional:
        session.kept(c[2].selectbox, "Its class", range(len(b.class_names)), format_func=lambda k: b.class_names[k],
                     key="upload_label", default=0, on_change=_on_upload)
    up = state.upload
    if not up:
        return
    if "error" in up:
        st.error(words.literal(up["error"], limit=400))  # it names the uploaded file: shown as typed, never as Markdown
        return
    names = b.class_names
    cols = st.columns([1, 1, 1, 1.5], gap="small")
    cols[0].html(up["preview"])  # what was given, as the display module shows it
    cols[1].html(show.tag(up["x"], 120, alt="converted", cls="upload-converted")
                 + '<div class="px-caption">as the model sees it</div>')
    cols[2].html(show.tag(up["recon"], 120, alt="reconstruction", cls="upload-recon")
                 + '<div class="px-caption">reconstruction</div>')
    with cols[3]:
        m = up["meter"]
        st.markdown(f"Placed on the map as **your {show.NOUN}**. Nearest encodings: "
                    f"{', '.join(names[loaded.pre.labels[i]] for i in up['idx'][:3])}.")
        st.caption("Off-manifold: %s (%s)" % words.meter_words(m))
        st.button("Explore from here", on_click=_on_explore_upload, type="primary")
    if b.conditional:
        st.html(every_class(loaded, up["z"], 56))
    st.html(show.row([loaded.pre.images[i] for i in up["idx"]],
                     [f"{names[loaded.pre.labels[i]]} · {d:.2f}" for i, d in zip(up["idx"], up["dist"])], 56))
