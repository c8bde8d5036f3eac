"""The latent pad alone with a fake display module (a sentence and a sound): `streamlit run` this file.
Streamlit puts this file's folder on the path (fake_display); the tests' PYTHONPATH gives `ui`."""
import numpy as np
import streamlit as st

from ui import display
from ui.latent_pad import latent_pad, pad_point

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
