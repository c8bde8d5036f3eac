"""Per-session state, typed: one property per st.session_state key the app keeps, the fragments'
names, and the context a page run resolves. The only module that touches st.session_state.

    from ui.state import Fragment, state
    loaded = state.loaded                  # the bundle this session shows (set by the bundle picker)
    state.z = z                            # the current latent point (ui.session.move also syncs the pad)
    session.rerun(Fragment.LIVE)           # from a callback: rerun the decoder view only

Every person (browser tab) has their own st.session_state; `state` reads and writes it for the
session whose script is running. The keys keep their names, so tests read them as before
(`at.session_state["_loaded"]`, `["z"]`, `["upload"]`...).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import streamlit as st


class Fragment:
    """The fragments' keys: a callback reruns these by name (session.rerun), not the whole page."""

    MAP = "map"             # the big map (ui/explorer.py)
    LIVE = "live"           # the decoder view: decoding, meter, pad (ui/decoder.py)
    ACTIONS = "actions"     # the buttons under it (ui/decoder.py)
    CONTROLS = "controls"   # the sliders (ui/sliders.py)
    INSPECTOR = "inspector"  # the selected encoding (ui/inspector.py)
    TOOLS = "tools"         # the tools under the map (ui/tools.py)


@dataclasses.dataclass
class Context:
    """What the bundle picker resolved for this run (both pages read it)."""

    choices: list
    choice: Any = None   # ui.bundles.Choice, or None when there are no bundles
    loaded: Any = None   # ui.bundles.Loaded, or None when the bundle cannot be shown
    bundle: Any = None   # the bundle's metadata, even when its maps cannot be loaded (the model card)
    error: Exception | None = None


class Key:
    """A session-state key as a property; `factory` makes (and stores) a missing value, else `default` is returned."""

    def __init__(self, key: str | None = None, default: Any = None, factory: Callable[[], Any] | None = None):
        self.key, self.default, self.factory = key, default, factory

    def __set_name__(self, owner, name: str) -> None:
        self.key = self.key or name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        ss = st.session_state
        if self.key not in ss:
            if self.factory is None:
                return self.default
            ss[self.key] = self.factory()
        return ss[self.key]

    def __set__(self, obj, value) -> None:
        st.session_state[self.key] = value

    def __delete__(self, obj) -> None:
        st.session_state.pop(self.key, None)


class State:
    """The session's state, one property per key (widget keys included: a widget writes them itself)."""

    # the bundle and the page run
    ctx: Context = Key("_ctx")
    loaded = Key("_loaded")                        # ui.bundles.Loaded
    loaded_path: str = Key()                       # the folder the per-bundle state below belongs to
    url_read: bool = Key("_url_read", False)       # the URL was read (first run of the session)
    url_params: dict = Key("_url_params")          # its validated parameters, until a bundle applies them
    notices: list = Key("_notices", factory=list)  # one-line notes for the next full run
    kept_widgets: dict = Key("_kept", factory=dict)  # values of widgets not drawn this run (see session.kept)
    restore: dict = Key("_restore_widgets")        # widget values to put back after a page switch

    # the current point
    z = Key()                                      # (d,) float32
    z_label: int = Key(default=0)                  # the class a conditional decoder draws
    sel: int = Key(default=0)                      # the selected encoding's row
    pad_rev: int = Key(default=0)                  # bumped when Python moves the point: the pad follows
    pad_ack: int = Key(default=0)                  # the last pad point handled
    dragging: bool = Key(default=False)
    clear_sel: int = Key(default=0)                # bumped when the map's selection is used up
    now: dict = Key("_now", factory=dict)          # the shown decoding and z, for deferred downloads
    live_error: str = Key()
    sample_next: int = Key("_sample_next", 0)      # the seed of the next prior draw
    sample_rev: int = Key("_sample_rev", 0)        # names the Seed box afresh after each draw
    last_sample: tuple = Key()                     # (seed, temperature)
    bookmark_msg: str = Key()
    # a hierarchical bundle's lower level: the details the current point is decoded with (ui/levels.py)
    lower = Key()                                  # (lower_dim,) float32 standardised noise; None: the most likely
    lower_source: str = Key(default="likely")      # "own" (the selected point's), "likely", "drawn", "edited"
    lower_draws: int = Key(default=0)              # seeds the next "Redraw details"

    # sliders
    groups: dict = Key()                           # {"A": rows, "B": rows} for a new slider
    lasso: list = Key(default=())                  # rows of the map's current lasso
    custom_dirs: list = Key(default=())            # this session's own directions
    custom_scales: dict = Key("_custom_scales", factory=dict)
    controls_error: str = Key()
    keep_note: dict = Key()

    # tools
    interp: dict = Key()                           # the interpolation: z, frames, map_path, kind, n
    end_a: dict = Key("end_A")
    end_b: dict = Key("end_B")
    traverse: dict = Key()
    grid: dict = Key()
    upload: dict = Key()                           # a person's own example placed: x, z, recon, idx...; or {"error"}
    upload_id: tuple = Key("_upload_id")
    marks_extra: list = Key(default=())            # labelled marks on the map besides A and B
    bookmarks: dict = Key()                        # this bundle's: name -> {"z", "label"}
    all_bookmarks: dict = Key(factory=dict)        # bundle name -> its bookmarks

    # the gallery and the map's in-place redraws
    gallery_draw: dict = Key()
    gallery_open: int = Key("_gallery_open")
    map_shells: dict = Key("_map_shells", factory=dict)
    map_moved: set = Key("_map_moved", factory=set)
    map_in_place_off: bool = Key("_map_in_place_off", False)

    # widgets
    bundle_pick: str = Key()
    proj_pick: str = Key()
    colour_pick: str = Key()
    z_label_pick: int = Key()
    neighbour_pick: int = Key()
    custom_name: str = Key()
    bookmark_name: str = Key()
    interp_step: int = Key()

    def has(self, key: str) -> bool:
        """Whether a key (by its session-state name) holds a value."""
        return key in st.session_state

    def widget(self, key: str, default=None):
        """A widget's value by its key (keys made at run time: a slider per dimension or direction)."""
        return st.session_state.get(key, default)

    def set_widget(self, key: str, value) -> None:
        st.session_state[key] = value

    def forget(self, *keys: str) -> None:
        for key in keys:
            st.session_state.pop(key, None)


state = State()
