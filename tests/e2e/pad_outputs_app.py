"""The latent pad alone with a fake display module (a sentence and a sound): `streamlit run` this file."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from ui import display  # noqa: E402
from ui.latent_pad import latent_pad, pad_point  # noqa: E402

display.register("fake", "fake_display")
show = display.get("fake")
ss = st.session_state
ss.setdefault("xy", [0.0, 0.0])
ss.setdefault("ack", 0)


def _on_pad() -> None:
    p = pad_point("pad")
    if p:
        ss.ack, ss.xy = int(p.get("seq", 0)), [float(p["x"]), float(p["y"])]


@st.fragment
def view() -> None:
    latent_pad("pad", preview=show.pad_preview(np.array(ss.xy)), bounds=(-1.0, 1.0, -1.0, 1.0), point=ss.xy, rev=0,
               ack=ss.ack, on_change=_on_pad, alt=f"decoded {show.NOUN}")


view()
