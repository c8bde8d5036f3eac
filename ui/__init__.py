"""Streamlit panels of the latent explorer; app.py composes them. Imports vae/, never the reverse."""
