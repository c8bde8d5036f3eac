"""Per-session state: the current latent point and everything that follows it, and the URL.

Every person (browser tab) has their own st.session_state; the model and the arrays are shared
read-only. The current point `z` changes through `move()`, which also puts the latent pad's
handle and the sliders where the new point is. The URL carries bundle, projection, colouring,
latent point, selected encoding and the bookmarks (`bm`, one value each: LABEL:z0,z1,...:NAME), so a
copied link or a reload opens the same view; both pages write it.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae import VAEError, explore

from . import bundles, map_view, words
from .state import state

DIM_KEY = "dim_{}"
DIR_KEY = "dir_{}"


# ------------------------------------------------------------------------------------- notices

def notice(text: str) -> None:
    """A one-line note shown at the top of the page on the next full run (bad URL parameters...). It is
    Markdown: pass anything from the URL or typed by a person through words.quoted / words.literal."""
    notes = state.notices
    if text not in notes:
        notes.append(text)


def pop_notices() -> list[str]:
    notes, state.notices = state.notices, []
    return notes


def kept(widget, label, *args, key: str, default=None, **kwargs):
    """Call a widget whose value outlives the run it is not drawn in (lazy tabs drop widget state)."""
    store = state.kept_widgets
    if not state.has(key):
        state.set_widget(key, store.get(key, default))
    value = widget(label, *args, key=key, **kwargs)
    store[key] = value
    return value


def kept_value(key: str, default=None):
    """A kept widget's value, drawn this run or not."""
    if state.has(key):
        return state.widget(key)
    return state.kept_widgets.get(key, default)


def set_kept(key: str, value) -> None:
    """Set a kept widget's value from a callback."""
    state.kept_widgets[key] = value
    state.set_widget(key, value)


def switch_page(page: str, keep=("bundle_pick", "proj_pick", "colour_pick")) -> None:
    """st.switch_page, keeping these widgets' values: a switch from the script drops all widget state."""
    state.restore = {k: state.widget(k) for k in keep if state.has(k)}
    st.switch_page(page)


def restore_widgets() -> None:
    """Put back the widget values switch_page kept (call before the widgets are drawn)."""
    restore, state.restore = state.restore or {}, None
    for key, value in restore.items():
        if not state.has(key):
            state.set_widget(key, value)


# ------------------------------------------------------------------------------- the bundle

def init_defaults() -> None:
    """Starting values of state the widgets and callbacks read before any widget has run."""
    state.kept_widgets


def reset_for_bundle(loaded, z=None, sel=None) -> None:
    """Fresh per-bundle state: start at the selected encoding (or the first one)."""
    pre = loaded.pre
    state.loaded_path = str(loaded.choice.path)
    state.sel = sel if sel is not None else 0
    state.z_label = int(pre.labels[state.sel]) if len(pre.labels) else 0
    state.groups = {"A": [], "B": []}
    state.lasso = []
    state.custom_dirs = []
    state.custom_scales = {}
    state.interp = None
    state.forget("end_A", "end_B", "_upload_id", "marks_extra", "last_sample")  # the previous bundle's latent space
    state.upload = None
    state.traverse = None
    state.grid = None
    state.pad_rev = state.pad_rev + 1
    state.pad_ack = state.pad_ack
    state.dragging = False
    state.bookmarks = state.all_bookmarks.setdefault(loaded.name, {})  # kept per bundle
    state.kept_widgets["shown_dirs"] = None  # the directions tab picks its defaults
    state.forget("shown_dirs")
    # a hierarchical bundle starts with the selected point's own details (a URL's z: the most likely)
    own = z is None and pre.lower is not None and state.sel < len(pre.lower)
    state.lower, state.lower_source = (pre.lower[state.sel].astype(np.float32), "own") if own else (None, "likely")
    move(loaded, pre.mean[state.sel] if z is None else z)


def direction_scales(loaded) -> dict:
    """name -> {"center", "spread"} for every direction: the bundle's (shared) and this session's own."""
    own = state.custom_scales
    for d in state.custom_dirs:
        if d.name not in own:
            own[d.name] = explore.direction_scale(loaded.pre.mean, d.vector)
    return {**loaded.view.scales, **own}


def all_directions(loaded) -> list:
    return list(loaded.pre.directions) + list(state.custom_dirs)


def find_direction(loaded, name: str):
    return next((d for d in all_directions(loaded) if d.name == name), None)


# ------------------------------------------------------------------------------- moving

def move(loaded, z, *, from_pad: bool = False, sync: bool = True) -> None:
    """Make z the current point. The pad follows unless it sent z itself; the sliders follow if `sync`."""
    z = np.asarray(z, np.float32).reshape(-1).copy()
    if z.shape != (loaded.bundle.latent_dim,) or not np.all(np.isfinite(z)):
        raise VAEError(f"A latent point for this bundle has {loaded.bundle.latent_dim} finite numbers.")
    state.z = z
    if not from_pad:
        state.pad_rev = state.pad_rev + 1
    if sync:
        sync_controls(loaded)


def sync_controls(loaded) -> None:
    """Put every slider at the current point (spreads from the encodings' mean / centre)."""
    z = state.z
    t = loaded.view.in_spreads(z)
    for i, v in enumerate(t):
        state.set_widget(DIM_KEY.format(i), _on_step(v))
    scales = direction_scales(loaded)
    for d in all_directions(loaded):
        state.set_widget(DIR_KEY.format(d.name), _on_step(explore.along(z, d.vector, scales[d.name])))
    sync_lower(loaded)


LOWER_KEY, LOWER_RANGE = "lower_{}", 3.0  # a hierarchical bundle's detail sliders (ui/levels.py), in prior sds


def sync_lower(loaded) -> None:
    """Put a hierarchical bundle's detail sliders at the current details (0: the most likely)."""
    dim = int(getattr(loaded.bundle, "lower_dim", 0) or 0)
    lower = state.lower if state.lower is not None and np.shape(state.lower) == (dim,) else np.zeros(dim)
    for i in range(dim):
        state.set_widget(LOWER_KEY.format(i), round(float(np.clip(lower[i], -LOWER_RANGE, LOWER_RANGE)), 2))


SLIDER_RANGE, SLIDER_STEP = 4.0, 0.05


def _on_step(v: float) -> float:
    """A slider value on the slider's own grid, inside its range."""
    return float(np.clip(round(float(v) / SLIDER_STEP) * SLIDER_STEP, -SLIDER_RANGE, SLIDER_RANGE).round(2))


def select(loaded, row: int) -> None:
    """Select encoding `row`: the inspector shows it and the current point jumps to it."""
    pre = loaded.pre
    state.sel = int(row)
    if loaded.bundle.conditional:
        state.z_label = int(pre.labels[row])
    if pre.lower is not None:  # a hierarchical bundle: the point's own details come with it
        state.lower, state.lower_source = pre.lower[row].astype(np.float32), "own"
    move(loaded, pre.mean[row])


def rerun(*fragments: str) -> None:
    """From a callback: rerun only these fragments (state.Fragment names), not the whole page."""
    try:
        st.rerun(list(fragments) if fragments else "app")
    except st.errors.StreamlitAPIException:
        pass  # not in a callback (AppTest runs, tests): the ordinary rerun follows anyway


# ------------------------------------------------------------------------------------ URL

def read_url(choices) -> dict:
    """Validated URL parameters for the first run of a session; each bad one becomes a notice.

    bundle must name one of the offered bundles (never a path); z, a finite vector of the bundle's
    length; sel, a row of its encodings; proj and color, ones the bundle has.
    """
    qp = st.query_params
    out = {}
    name = qp.get("bundle")
    if name is not None:
        choice = bundles.find(choices, name)
        if choice is None:
            notice(f"The link's bundle {words.quoted(name)} is not one of this app's bundles: showing the default instead.")
        else:
            out["choice"] = choice
    for key in ("proj", "color", "z", "sel", "label"):
        if qp.get(key) is not None:
            out[key] = qp.get(key)[:2000]
    if qp.get_all("bm"):
        out["bm"] = [v[:2000] for v in qp.get_all("bm")[:explore.MAX_BOOKMARKS]]
    return out


def apply_url(loaded, params: dict) -> None:
    """Apply the URL's projection, colouring, selection and latent point to a freshly loaded bundle."""
    pre = loaded.pre
    if "proj" in params:
        if params["proj"] in pre.projections:
            state.proj_pick = params["proj"]
        else:
            notice(f"The link's map {words.quoted(params['proj'], 40)} is not in this bundle: showing "
                   f"{map_view.projection_title(map_view.default_projection(pre))}.")
    if "color" in params:
        if params["color"] in map_view.colour_options(pre):
            state.colour_pick = params["color"]
        else:
            notice(f"The link's colouring {words.quoted(params['color'], 40)} is not measured in this bundle: colouring by class.")
    sel = None
    if "sel" in params:
        try:
            sel = int(params["sel"])
            if not 0 <= sel < len(pre.labels):
                raise ValueError
        except ValueError:
            sel = None
            notice(f"The link's selected point {words.quoted(params['sel'], 20)} does not exist in this bundle: ignored.")
    z = None
    if "z" in params:
        try:
            z = explore.parse_latent(params["z"], loaded.bundle.latent_dim)
        except VAEError as exc:
            notice(f"The link's latent point was ignored: {exc}.")
    reset_for_bundle(loaded, z=z, sel=sel)
    if "label" in params and loaded.bundle.conditional:
        try:
            label = int(params["label"])
            if not 0 <= label < len(loaded.bundle.class_names):
                raise ValueError
            state.z_label = label
        except ValueError:
            notice(f"The link's class {words.quoted(params['label'], 20)} does not exist in this bundle: ignored.")
    bad = 0
    for text in params.get("bm", []):
        try:
            name, z, label = explore.parse_bookmark(text, loaded.bundle.latent_dim, len(loaded.bundle.class_names))
        except VAEError:
            bad += 1
            continue
        state.bookmarks[name] = {"z": z, "label": label}
    if bad:
        notice(f"{bad} of the link's bookmarks could not be read (each is written LABEL:z0,z1,...:NAME with "
               f"{loaded.bundle.latent_dim} numbers): ignored.")


def write_url(loaded) -> None:
    """Mirror the shareable state into the URL (skipped while dragging: the release writes it)."""
    if state.dragging:
        return
    want = {"bundle": loaded.name, "proj": state.proj_pick, "color": state.colour_pick,
            "z": explore.format_latent(state.z), "sel": str(state.sel)}
    if loaded.bundle.conditional:
        want["label"] = str(state.z_label)
    marks = [explore.format_bookmark(name, bm["z"], bm.get("label", 0))
             for name, bm in list(state.bookmarks.items())[:explore.MAX_BOOKMARKS]]
    if marks:
        want["bm"] = marks
    qp = st.query_params
    current = {k: (qp.get_all(k) if k == "bm" else qp.get(k)) for k in want}
    current.update({k: qp.get(k) for k in qp if k not in want})  # a stale key (a deleted last bookmark) rewrites
    if current != want:
        try:
            qp.from_dict(want)
        except st.errors.StreamlitAPIException:
            pass
