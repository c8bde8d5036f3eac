"""The decoder column: the live image with the pad and the meter (fragment "live"), and the
sliders (fragment "controls"). Each control's callback moves the current point and reruns just
these two fragments, so the big map is never sent again while a person drags or slides.
"""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from vae import VAEError, explore, latent, render
from vae.latent import INACTIVE_KL

from . import images, map_view, session, words
from .latent_pad import latent_pad, pad_point
from .session import DIM_KEY, DIR_KEY, SLIDER_RANGE, SLIDER_STEP, ss


def _loaded():
    return ss._loaded


def decode_current(loaded) -> np.ndarray:
    b = loaded.bundle
    return b.decode(ss.z[None], labels=[ss.z_label] if b.conditional else None)[0]


# ------------------------------------------------------------------------------ callbacks

def _on_pad() -> None:
    loaded = _loaded()
    p = pad_point("pad")
    if not p:
        return
    ss.pad_ack = int(p.get("seq", 0))
    if p.get("source") == "map3d":  # an encoding clicked on the 3-D map
        row = p.get("row")
        if isinstance(row, int) and 0 <= row < len(loaded.pre.labels):
            session.select(loaded, row)
            session.rerun("live", "actions", "controls", "inspector")
        return
    dragging = bool(p.get("dragging"))
    ss.dragging = dragging
    try:
        z = explore.from_map(loaded.pre.projections[ss.proj_pick], (float(p["x"]), float(p["y"])), ss.z)
        session.move(loaded, z, from_pad=True, sync=not dragging)
    except (VAEError, KeyError, TypeError, ValueError) as exc:
        ss.live_error = str(exc)
        return
    ss.live_error = None
    if not dragging:  # released (or a click on the map): the sliders catch up once
        session.rerun("live", "controls")


def _on_dim(i: int) -> None:
    loaded = _loaded()
    z = explore.set_dimension(ss.z, i, ss[DIM_KEY.format(i)], loaded.latent_mean, loaded.latent_std)
    session.move(loaded, z)
    session.rerun("live", "controls")


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
    ss.keep_note = None
    try:
        z = explore.move_to(ss.z, d.vector, ss[DIR_KEY.format(name)], scales[name], [o.vector for o in keep])
        ss.controls_error = None
    except VAEError as exc:
        ss.controls_error = str(exc)
        z = ss.z
    drift = max((abs(explore.along(z, o.vector, scales[o.name]) - explore.along(ss.z, o.vector, scales[o.name]))
                 for o in keep), default=0.0)
    if drift > SLIDER_STEP / 2:  # a kept slider would show the move
        ss.keep_note = {"name": name, "text": keep_note(len(keep), loaded.bundle.latent_dim, drift)}
    session.move(loaded, z)
    session.rerun("live", "controls")


def keep_note(kept: int, latent_dim: int, drift: float) -> str:
    """Why the kept sliders moved a little, shown under the slider that moved them."""
    why = (f"{kept} directions cannot all stay fixed in a {latent_dim}-dimensional latent space"
           if kept >= latent_dim else "this direction lies almost within the ones kept fixed")
    return (f"Kept the other shown sliders as nearly as possible: {why}, so they moved by up to {drift:.2f} σ "
            "(least squares). Show fewer sliders to keep them exactly.")


def _on_reset() -> None:
    loaded = _loaded()
    session.select(loaded, ss.get("sel", 0))
    session.rerun("live", "actions", "controls")


SEED_LIMIT = 2**31  # seeds 0 .. 2**31 - 1


def seed_key() -> str:
    """The Seed box's key. It changes after each draw, so the browser shows a new box holding the next seed:
    a value set from a callback that reruns only some fragments never reaches a box already on the page."""
    return f"sample_seed_{ss.get('_sample_rev', 0)}"


def _on_seed_typed() -> None:
    ss._sample_next = int(ss[seed_key()])


def _on_sample() -> None:
    loaded = _loaded()
    seed = int(ss.get("_sample_next", 0))
    temperature = float(session.kept_value("sample_temperature", 1.0))
    session.move(loaded, latent.sample_prior(1, loaded.bundle.latent_dim, temperature, seed)[0])
    ss.last_sample = (seed, temperature)
    ss._sample_next = (seed + 1) % SEED_LIMIT  # the next press draws a new point; the Seed box shows which
    ss._sample_rev = ss.get("_sample_rev", 0) + 1
    session.rerun("live", "actions", "controls")


def _on_label() -> None:
    ss.z_label = int(ss.z_label_pick)
    session.rerun("live", "actions")


def _on_bookmark() -> None:
    name = (ss.get("bookmark_name") or "").strip()[:60]
    if not name:
        ss.bookmark_msg = "Give the bookmark a name first."
        return
    ss.bookmarks[name] = {"z": ss.z.copy(), "label": int(ss.get("z_label", 0))}
    ss.bookmark_msg = f"Saved {words.quoted(name)}: find it under Tools › Bookmarks."
    ss.bookmark_name = ""
    session.rerun("actions", "tools")


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
     title="Mean distance to the 5 nearest encodings, against how far encodings lie from their own 5 nearest, in {where}">
  <div class="meter-head"><span class="meter-verdict">● {html.escape(said)}</span>
    <span class="meter-pct" title="share of encodings lying closer to their own neighbours">{words.percentile(pct)}</span></div>
  <div class="meter-bar"><div class="meter-tick" style="left: calc({pct:.1f}% - 2px)"></div></div>
  <div class="meter-text">distance to the data: {report['ratio']:.2f}× the usual, in {words.measured_in(report, short=True)}<br>
    prior density: {words.percentile(report['log_prior_percentile'])} among encodings</div>
</div>"""


def pad_help(name: str, proj) -> str:
    inverse = "exact" if proj.exact_inverse else (
        f"approximate ({words.inverse_error(proj.inverse_error)})")
    where = (f"the {map_view.projection_title(name)} plane (or click empty space on the map)" if proj.dims == 2
             else f"the first two axes of the {map_view.projection_title(name)} map")
    return (f"Drag on the pad to move through {where}; the image follows live, and the meter says how far the "
            f"point is from the encoded data. Map → latent: {inverse}.")


@st.fragment(key="live")
def live() -> None:
    """What a drag reruns, and nothing more: the decoded image with its meter, and the pad."""
    loaded = _loaded()
    pre = loaded.pre
    proj_name = ss.proj_pick
    proj = pre.projections[proj_name]
    img = decode_current(loaded)
    holder = ss.setdefault("_now", {})  # read by the export buttons' deferred downloads
    holder.update(z=ss.z.copy(), image=img)
    marks = list(ss.get("marks_extra") or [])
    interp = ss.get("interp")
    path = interp["map_path"] if interp else []
    if interp:
        marks += [map_view.mark(path[0], "A"), map_view.mark(path[-1], "B")]
    point = explore.map_point(proj, ss.z)
    latent_pad("pad", image=images.uri(img), side=meter_html(loaded.off_manifold(ss.z)), help=pad_help(proj_name, proj),
               alt="decoded image at the current point", bounds=loaded.bounds[proj_name], point=point[:2],
               rev=ss.pad_rev, ack=ss.pad_ack, on_change=_on_pad, background=map_view.pad_background(loaded, proj_name),
               axes=map_view.axis_titles(proj_name, proj.dims)[:2], map_key=map_view.chart_key(proj.dims),
               map_dims=proj.dims, point3=point if proj.dims == 3 else None, path=path, marks=marks,
               clear_sel=ss.get("clear_sel", 0), legend_key=loaded.name)
    if ss.get("live_error"):
        st.caption(f":red[{ss.live_error}]")
    if not ss.get("dragging"):
        session.write_url(loaded)


@st.fragment(key="actions")
def actions() -> None:
    """Buttons under the decoder: reset, sample, bookmark, export; the class of a conditional decoder."""
    loaded = _loaded()
    b = loaded.bundle
    if b.conditional:
        st.selectbox("Class the decoder draws", range(len(b.class_names)), format_func=lambda k: b.class_names[k],
                     index=int(ss.z_label), key="z_label_pick", on_change=_on_label,
                     help="This bundle is class-conditional: the same latent point drawn as another class.")
    # one row that wraps when the column is narrow: a label is never cut to "R..."
    c1 = c2 = c3 = c4 = st.container(horizontal=True, gap="small", key="decoder_actions")
    c1.button("Reset", icon=":material/restart_alt:", on_click=_on_reset, key="reset",
              help=f"Back to encoding #{ss.get('sel', 0)}, the point selected on the map.")
    # lazy popovers: their contents exist only while open, so every rerun of the page stays light
    sample = c2.popover("Sample", key="pop_sample", on_change="rerun",
                        help="Draw a point from the prior N(0, T²I), with a seed and a temperature T.")
    if sample.open:
        with sample:
            st.number_input("Seed", 0, SEED_LIMIT - 1, value=int(ss.get("_sample_next", 0)), step=1, key=seed_key(),
                            on_change=_on_seed_typed, help="The seed of the next draw: each draw moves it on by one; "
                                                           "type a seed to draw that point again.")
            session.kept(st.slider, "Temperature", 0.1, 2.0, key="sample_temperature", default=1.0, step=0.1,
                         help="Standard deviation of the draw: below 1 gives more typical points, above 1 stranger "
                              "ones.")
            st.button("Draw a point", on_click=_on_sample, type="primary", key="draw")
            if ss.get("last_sample"):
                st.caption("Last draw: seed %d, temperature %.1f" % ss.last_sample)
    save = c3.popover("Save", key="pop_save", on_change="rerun",
                      help="Bookmark the current point by name.")
    if save.open:
        with save:
            st.text_input("Name", key="bookmark_name", placeholder="e.g. thin sneaker")
            st.button("Save this point", on_click=_on_bookmark, key="save_bookmark")
            if ss.get("bookmark_msg"):
                st.caption(ss.bookmark_msg)
    holder = ss.setdefault("_now", {})
    export = c4.popover("Export", key="pop_export", on_change="rerun",
                        help="Download the image (PNG) or the latent vector (CSV); share the page's address.")
    if export.open:
        with export:
            # deferred: made when clicked, from the point shown then (the holder follows every live run)
            st.download_button("Image (PNG)", data=lambda h=holder: render.png_bytes(h["image"], scale=8),
                               file_name="decoded.png", mime="image/png", on_click="ignore", key="dl_png")
            st.download_button("Latent vector (CSV)", data=lambda h=holder: render.latent_csv(h["z"]),
                               file_name="latent.csv", mime="text/csv", on_click="ignore", key="dl_csv")
            st.caption("The page's address holds this point: copy it to share the view.")


# ------------------------------------------------------------------------------ controls

def trust(d) -> tuple[str, str]:
    """A short fidelity line for a direction's slider and its level: good, fair or poor."""
    fid, fit = d.fidelity or {}, d.fit or {}
    if "spearman" in fid and fid["spearman"] is not None and np.isfinite(fid["spearman"]):
        rho = float(fid["spearman"])
        level = "good" if abs(rho) >= 0.8 else "fair" if abs(rho) >= 0.5 else "poor"
        text = f"edit fidelity ρ = {rho:+.2f}"
        if fid.get("reached") is not None:  # a class slider, scored by the pixel classifier
            text += (f" · {float(fid['reached']):.0%} of edited images look like {target_name(d)} to a pixel "
                     f"classifier (from {float(fid.get('start_share', 0)):.0%})")
        elif side_effect(d):
            text += f" · {side_effect(d)}"
        return text, level
    if "accuracy" in fit:
        acc = float(fit["accuracy"])
        level = "good" if acc >= 0.9 else "fair" if acc >= 0.75 else "poor"
        if d.kind == "custom":
            return f"splits the two groups with {acc:.0%} accuracy · {side_effect(d)}", level
        return f"separates the class with {acc:.0%} accuracy (edit fidelity not measured)", level
    if "r2" in fit:
        r2 = float(fit["r2"])
        return f"fit R² = {r2:.2f} (edit fidelity not measured)", "good" if r2 >= 0.7 else "fair" if r2 >= 0.4 else "poor"
    return "fidelity not measured", "poor"


SIDE_EFFECT_SHOWN = 0.1  # a class change rate from here on is named on the slider itself


def side_effect(d) -> str:
    """What else a slider measurably changes, in words ("" when nothing measured): the share of edits that
    change the predicted class (attribute sliders), or the attributes a lasso-made slider moves. The one
    source of these facts for the slider's label, its help and the model card."""
    fid, fit = d.fidelity or {}, d.fit or {}
    if d.kind == "custom" and "accuracy" in fit:
        steady = [f"{k} (ρ {r:+.2f})" for k, r in (fit.get("effects") or {}).items() if abs(r) >= 0.5][:2]
        return ("mostly changes " + ", ".join(steady)) if steady else "changes no measured attribute steadily"
    rate = fid.get("class_change_rate")
    if fid.get("reached") is None and rate is not None and np.isfinite(rate):
        return f"changes the class in {float(rate):.0%} of edits"
    return ""


def side_effect_colour(d) -> str:
    """red when most edits change the class, orange when some do, grey otherwise."""
    rate = (d.fidelity or {}).get("class_change_rate")
    if (d.fidelity or {}).get("reached") is not None or rate is None or not np.isfinite(rate):
        return "gray"
    return "red" if rate >= 0.5 else "orange" if rate >= SIDE_EFFECT_SHOWN else "gray"


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
        ss.controls_error = "Pick two different classes."
        return
    ss.controls_error = None
    shown = session.kept_value("shown_dirs") or []
    if name not in shown:
        session.set_kept("shown_dirs", shown + [name])
    session.sync_controls(_loaded())


def _on_group(which: str) -> None:
    ss.groups[which] = list(ss.get("lasso") or [])
    ss.controls_error = None


def _on_make_slider() -> None:
    from vae.precomputed import Direction

    loaded = _loaded()
    name = (ss.get("custom_name") or "").strip()[:40] or f"custom {len(ss.custom_dirs) + 1}"
    if session.find_direction(loaded, name) is not None:
        ss.controls_error = f"A slider called {words.quoted(name)} exists already: choose another name."
        return
    try:
        v, fit = explore.group_direction(loaded.pre.mean, ss.groups["A"], ss.groups["B"])
    except VAEError as exc:
        ss.controls_error = str(exc)
        return
    fit["effects"] = attribute_effects(loaded, v)
    ss.custom_dirs = ss.custom_dirs + [Direction(name, "custom", v, fit, {})]
    session.set_kept("shown_dirs", (session.kept_value("shown_dirs") or []) + [name])
    ss.custom_name = ""
    ss.controls_error = None
    ss.lasso = []
    ss.clear_sel = ss.get("clear_sel", 0) + 1  # the lasso is used: the map lets go of it
    session.sync_controls(loaded)
    session.rerun("controls", "live")


EFFECT_SPAN = 2.0  # spreads either way, as the precomputed sliders' edit fidelity


def attribute_effects(loaded, vector) -> dict:
    """{attribute: rank correlation with the step} for the three attributes a new slider changes most
    steadily, measured on decodings (~0.2 s); {} if the bundle measured none."""
    from vae.modalities.image import attributes

    pre, b = loaded.pre, loaded.bundle
    if not pre.attributes:
        return {}
    opts = pre.info.get("attribute_options", {})
    label = int(ss.get("z_label", 0))
    decode = (lambda z: b.decode(z, labels=[label] * len(z))) if b.conditional else b.decode
    keep = set(pre.attributes)
    measure = lambda imgs: {k: v for k, v in attributes.measure(  # noqa: E731
        imgs, bool(opts.get("digits", False)), bool(opts.get("invert", False))).items() if k in keep}
    span = EFFECT_SPAN * float(np.std(pre.mean @ np.asarray(vector, np.float32)))
    try:
        effects = explore.attribute_effects(decode, measure, pre.mean, vector, span)
    except VAEError:
        return {}
    return {k: round(r, 3) for k, r in list(effects.items())[:3]}


def short_trust(d) -> str:
    """The fidelity in a few characters for the slider's label: ρ for edits measured, accuracy or R² otherwise."""
    fid, fit = d.fidelity or {}, d.fit or {}
    if fid.get("spearman") is not None and np.isfinite(fid["spearman"]):
        return f"ρ {float(fid['spearman']):+.2f}"
    if "accuracy" in fit:
        return f"acc {float(fit['accuracy']):.0%}"
    if "r2" in fit:
        return f"R² {float(fit['r2']):.2f}"
    return "unmeasured"


def _slider_for(loaded, d) -> None:
    """One direction's slider; its label carries the fidelity (one element per slider keeps reruns light)."""
    key = DIR_KEY.format(d.name)
    if key not in ss:
        session.sync_controls(loaded)
    text, level = trust(d)
    st.slider(slider_label(d), -SLIDER_RANGE, SLIDER_RANGE, key=key,
              step=SLIDER_STEP, format="%.2f σ", on_change=_on_direction, args=(d.name,),
              help=f"Moves the current point along the {d.kind.replace('_', ' ')} direction {words.quoted(d.name)}, in "
                   f"spreads of the encodings along it (0: their average). Trust: {level}; {words.literal(text, 300)}.")


@st.fragment(key="controls")
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
            active = set(latent.active_dimensions(kl).tolist())
            dims = [i for i in loaded.dim_order if show_all or i in active]
            cols = st.columns(2, gap="medium")
            for n, i in enumerate(dims):
                key = DIM_KEY.format(i)
                if key not in ss:
                    session.sync_controls(loaded)
                label = f"z{i} · KL {kl[i]:.2f}" + ("" if i in active else " · inactive")
                with cols[n % 2]:
                    st.slider(label, -SLIDER_RANGE, SLIDER_RANGE, key=key, step=SLIDER_STEP, format="%.2f σ",
                              on_change=_on_dim, args=(int(i),))
    if tab_dirs.open:
        with tab_dirs:
            st.caption("Each slider moves the point along a direction fitted in latent space: towards a class, from one "
                       "class to another, or along a measured attribute. The coloured dot says how far to trust it: "
                       "ρ, how faithfully edits change what the slider names (±1: exactly) - the measured attribute, "
                       "or for a class how much more like that class a pixel classifier finds the decoded image; "
                       "acc, how well a direction without measured edits separates its groups. Hover ? for details.")
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
            note = ss.get("keep_note") if session.kept_value("keep_fixed", False) else None
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
            lasso = ss.get("lasso") or []
            st.markdown(f"Current map selection: **{len(lasso)}** points")
            ca, cb = st.columns(2)
            ca.button(f"Selection → group A ({len(ss.groups['A'])})", on_click=_on_group, args=("A",),
                      disabled=not lasso, width="stretch")
            cb.button(f"Selection → group B ({len(ss.groups['B'])})", on_click=_on_group, args=("B",),
                      disabled=not lasso, width="stretch")
            st.text_input("Slider name", key="custom_name", placeholder="e.g. wider soles")
            st.button("Make the slider", type="primary", on_click=_on_make_slider,
                      disabled=not (ss.groups["A"] and ss.groups["B"]))
            for d in ss.custom_dirs:
                text, level = trust(d)
                st.caption(f"**{words.literal(d.name)}**: A {d.fit['n_a']} points → B {d.fit['n_b']} points; :{TRUST_COLOUR[level]}[●] {text}")
    if ss.get("controls_error"):
        st.caption(f":red[{ss.controls_error}]")
