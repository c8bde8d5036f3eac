"""The decoder column: the live decoding with the pad and the meter (fragment "live") and the buttons
under it (fragment "actions"); the sliders are in ui/sliders.py. A drag's callback moves the current
point and reruns just the "live" fragment, so the big map is never sent again while a person drags.
"""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from vae import VAEError, explore, latent, render
from vae.view import METER_K

from . import display, levels, map_view, session, words
from .latent_pad import latent_pad, pad_point
from .state import Fragment, state


def _loaded():
    return state.loaded


def every_class(loaded, z, width: int = 54) -> str:
    """A class-conditional bundle's "same style, every class" row: one latent point (the style) decoded as each
    class (the decoder's other input), captioned with the class names, as HTML."""
    b = loaded.bundle
    k = len(b.class_names)
    xs = b.decode(np.repeat(np.asarray(z, np.float32).reshape(1, -1), k, axis=0), labels=list(range(k)))  # one batch
    return (f'<div class="px-caption">Same style, every class: this point decoded as each class</div>'
            + display.for_bundle(loaded).row(list(xs), [str(c) for c in b.class_names], width, cls="every-class"))


def decode_current(loaded) -> np.ndarray:
    b = loaded.bundle
    lower = levels.current(loaded)
    return display.decodings(b, state.z[None], labels=[state.z_label] if b.conditional else None,
                             lower=None if lower is None else lower[None])[0]


# ------------------------------------------------------------------------------ callbacks

def _on_pad() -> None:
    loaded = _loaded()
    p = pad_point("pad")
    if not p:
        return
    state.pad_ack = int(p.get("seq", 0))
    if p.get("source") == "map3d":  # an encoding clicked on the 3-D map
        row = p.get("row")
        if isinstance(row, int) and 0 <= row < len(loaded.pre.labels):
            session.select(loaded, row)
            session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS, Fragment.INSPECTOR)
        return
    dragging = bool(p.get("dragging"))
    state.dragging = dragging
    try:
        z = explore.from_map(loaded.pre.projections[state.proj_pick], (float(p["x"]), float(p["y"])), state.z)
        session.move(loaded, z, from_pad=True, sync=not dragging)
    except (VAEError, KeyError, TypeError, ValueError) as exc:
        state.live_error = str(exc)
        return
    state.live_error = None
    if not dragging:  # released (or a click on the map): the sliders catch up once
        session.rerun(Fragment.LIVE, Fragment.CONTROLS)

def _on_reset() -> None:
    loaded = _loaded()
    session.select(loaded, state.sel)
    session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS)


SEED_LIMIT = 2**31  # seeds 0 .. 2**31 - 1


def seed_key() -> str:
    """The Seed box's key. It changes after each draw, so the browser shows a new box holding the next seed:
    a value set from a callback that reruns only some fragments never reaches a box already on the page."""
    return f"sample_seed_{state.sample_rev}"


def _on_seed_typed() -> None:
    state.sample_next = int(state.widget(seed_key()))


def _on_sample() -> None:
    loaded = _loaded()
    seed = int(state.sample_next)
    temperature = float(session.kept_value("sample_temperature", 1.0))
    session.move(loaded, latent.sample_prior(1, loaded.bundle.latent_dim, temperature, seed)[0])
    state.last_sample = (seed, temperature)
    state.sample_next = (seed + 1) % SEED_LIMIT  # the next press draws a new point; the Seed box shows which
    state.sample_rev = state.sample_rev + 1
    session.rerun(Fragment.LIVE, Fragment.ACTIONS, Fragment.CONTROLS)


def _on_label() -> None:
    state.z_label = int(state.z_label_pick)
    session.rerun(Fragment.LIVE, Fragment.ACTIONS)


def _on_bookmark() -> None:
    name = (state.bookmark_name or "").strip()[:60]
    if not name:
        state.bookmark_msg = "Give the bookmark a name first."
        return
    state.bookmarks[name] = {"z": state.z.copy(), "label": int(state.z_label)}
    state.bookmark_msg = f"Saved {words.quoted(name)}: find it under Tools › Bookmarks."
    state.bookmark_name = ""
    session.rerun(Fragment.ACTIONS, Fragment.TOOLS)


# ---------------------------------------------------------------------------------- live

def meter_html(report: dict) -> str:
    """The off-manifold meter: how far the point is from the encodings, as a coloured verdict.

    (Styled by the .meter rules in latent_pad.py's CSS: it is drawn inside the decoder view.)
    """
    verdict = str(report["verdict"])
    said, _ = words.meter_words(report)
    where = words.measured_in(report)
    pct = float(np.clip(report["percentile"], 0, 100))
    return f"""
<div class="meter" data-verdict="{html.escape(verdict)}"
     title="Mean distance to the {METER_K} nearest encodings, against how far encodings lie from their own {METER_K} nearest, in {where}">
  <div class="meter-head"><span class="meter-verdict">● {html.escape(said)}</span>
    <span class="meter-pct" title="share of encodings lying closer to their own neighbours">{words.percentile(pct)}</span></div>
  <div class="meter-bar"><div class="meter-tick" style="left: calc({pct:.1f}% - 2px)"></div></div>
  <div class="meter-text">distance to the data: {report['ratio']:.2f}× the usual, in {words.measured_in(report, short=True)}<br>
    prior density: {words.percentile(report['log_prior_percentile'])} among encodings</div>
</div>"""


def pad_help(name: str, proj, noun: str = "example") -> str:
    inverse = "exact" if proj.exact_inverse else (
        f"approximate ({words.inverse_error(proj.inverse_error)})")
    where = (f"the {map_view.projection_title(name)} plane (or click empty space on the map)" if proj.dims == 2
             else f"the first two axes of the {map_view.projection_title(name)} map")
    return (f"Drag on the pad to move through {where}; the {noun} follows live, and the meter says how far the "
            f"point is from the encoded data. Map → latent: {inverse}.")


@st.fragment(key=Fragment.LIVE)
def live() -> None:
    """What a drag reruns, and nothing more: the decoding with its meter, and the pad."""
    loaded = _loaded()
    pre = loaded.pre
    proj_name = state.proj_pick
    proj = pre.projections[proj_name]
    x = decode_current(loaded)
    show = display.for_bundle(loaded)
    holder = state.now  # read by the export buttons' deferred downloads
    holder.update(z=state.z.copy(), x=x)
    marks = list(state.marks_extra or [])
    interp = state.interp
    path = interp["map_path"] if interp else []
    if interp:
        marks += [map_view.mark(path[0], "A"), map_view.mark(path[-1], "B")]
    point = explore.map_point(proj, state.z)
    preview = show.pad_preview(x)
    if state.dragging and preview.get("audio"):  # a sound plays on release, not per step: keep the drag light
        preview = {**preview, "audio": ""}
    latent_pad("pad", preview=preview, side=meter_html(loaded.pre.off_manifold(state.z, METER_K)),
               help=pad_help(proj_name, proj, show.NOUN), alt=f"decoded {show.NOUN} at the current point", bounds=loaded.view.bounds[proj_name], point=point[:2],
               rev=state.pad_rev, ack=state.pad_ack, on_change=_on_pad, background=map_view.pad_background(loaded, proj_name),
               axes=map_view.axis_titles(proj_name, proj.dims)[:2], map_key=map_view.chart_key(proj.dims),
               map_dims=proj.dims, point3=point if proj.dims == 3 else None, path=path, marks=marks,
               clear_sel=state.clear_sel, legend_key=loaded.name)
    if state.live_error:
        st.caption(f":red[{state.live_error}]")
    if loaded.bundle.conditional:
        st.html(every_class(loaded, state.z))
    if not state.dragging:
        session.write_url(loaded)


@st.fragment(key=Fragment.ACTIONS)
def actions() -> None:
    """Buttons under the decoder: reset, sample, bookmark, export; the class of a conditional decoder."""
    loaded = _loaded()
    b = loaded.bundle
    if b.conditional:
        st.selectbox("Class the decoder draws", range(len(b.class_names)), format_func=lambda k: b.class_names[k],
                     index=int(state.z_label), key="z_label_pick", on_change=_on_label,
                     help="This bundle is class-conditional: the same latent point drawn as another class.")
    # one row that wraps when the column is narrow: a label is never cut to "R..."
    c1 = c2 = c3 = c4 = st.container(horizontal=True, gap="small", key="decoder_actions")
    c1.button("Reset", icon=":material/restart_alt:", on_click=_on_reset, key="reset",
              help=f"Back to encoding #{state.sel}, the point selected on the map.")
    # lazy popovers: their contents exist only while open, so every rerun of the page stays light
    sample = c2.popover("Sample", key="pop_sample", on_change="rerun",
                        help="Draw a point from the prior N(0, T²I), with a seed and a temperature T.")
    if sample.open:
        with sample:
            st.number_input("Seed", 0, SEED_LIMIT - 1, value=int(state.sample_next), step=1, key=seed_key(),
                            on_change=_on_seed_typed, help="The seed of the next draw: each draw moves it on by one; "
                                                           "type a seed to draw that point again.")
            session.kept(st.slider, "Temperature", 0.1, 2.0, key="sample_temperature", default=1.0, step=0.1,
                         help="Standard deviation of the draw: below 1 gives more typical points, above 1 stranger "
                              "ones.")
            st.button("Draw a point", on_click=_on_sample, type="primary", key="draw")
            if state.last_sample:
                st.caption("Last draw: seed %d, temperature %.1f" % state.last_sample)
    save = c3.popover("Save", key="pop_save", on_change="rerun",
                      help="Bookmark the current point by name.")
    if save.open:
        with save:
            st.text_input("Name", key="bookmark_name", placeholder=f"e.g. my favourite {display.for_bundle(_loaded()).NOUN}")
            st.button("Save this point", on_click=_on_bookmark, key="save_bookmark")
            if state.bookmark_msg:
                st.caption(state.bookmark_msg)
    holder = state.now
    show = display.for_bundle(loaded)
    export = c4.popover("Export", key="pop_export", on_change="rerun",
                        help=f"Download the decoded {show.NOUN} or the latent vector (CSV); share the page's address.")
    if export.open:
        with export:
            # deferred: made when clicked, from the point shown then (the holder follows every live run)
            for i, (label, _, file_name, mime) in enumerate(show.downloads(holder["x"], "decoded")):
                st.download_button(label, data=lambda h=holder, i=i: _made(show.downloads(h["x"], "decoded")[i][1]),
                                   file_name=file_name, mime=mime, on_click="ignore", key=f"dl_decoded_{i}")
            st.download_button("Latent vector (CSV)", data=lambda h=holder: render.latent_csv(h["z"]),
                               file_name="latent.csv", mime="text/csv", on_click="ignore", key="dl_csv")
            st.caption("The page's address holds this point: copy it to share the view.")
    levels.details_controls(loaded)  # a hierarchical bundle: which details the point is decoded with


def _made(data):
    """A download's data: bytes as they are, a zero-argument callable called."""
    return data() if callable(data) else data

