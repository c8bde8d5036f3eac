"""Latent explorer library: the VAE, its datasets, bundles and latent-space tools (no Streamlit here)."""
from .bundle import Bundle, load_bundle
from .errors import BundleError, DataError, VAEError

__all__ = ["Bundle", "BundleError", "DataError", "VAEError", "load_bundle"]
