"""VAE latent explorer: click, drag and slide through a trained VAE's latent space, live.

    streamlit run app.py                                      # the bundles in pretrained/
    streamlit run app.py -- --bundle runs/my_bundle           # or: VAE_BUNDLE=runs/my_bundle streamlit run app.py

Layout and wiring only: the panels live in ui/, every computation in vae/. `streamlit run` first
imports this file to find `app` below (an st.App whose start-up loads TensorFlow and the default
bundle while the browser fetches the page), then runs it as the page script for every session.
"""
import streamlit as st

from ui import bundle_picker, runtime


def main() -> None:
    runtime.tune_streamlit()
    st.set_page_config(page_title="VAE latent explorer", page_icon="🧭", layout="wide",
                       initial_sidebar_state="expanded")
    ctx = bundle_picker.choose()
    pages = [st.Page("app_pages/explorer.py", title="Explorer", icon=":material/explore:", url_path="explorer", default=True),
             st.Page("app_pages/model_card.py", title="Model card", icon=":material/description:", url_path="model-card"),
             st.Page("app_pages/gallery.py", title="Gallery", icon=":material/grid_view:", url_path="gallery")]
    nav = st.navigation(pages, position="top")
    if ctx.choice is None or (ctx.loaded is None and nav.url_path != "model-card"):
        return  # the picker explained what is wrong; the model card can still show a bundle without maps
    nav.run()


if __name__ == "__main__":  # a page run (and AppTest)
    main()
else:  # imported by `streamlit run app.py`, which then serves `app`
    app = st.App(__file__, lifespan=runtime.lifespan)
