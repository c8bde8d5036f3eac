"""Tiny bundles trained in seconds on scikit-learn's 8x8 digits, for tests (import as `from tiny import ...`)."""
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent


def train_tiny(out: Path, epochs: int = 4, latent_dim: int = 4, **kw) -> Path:
    """Train a small VAE on digits and save it as a bundle at `out`."""
    from vae.bundle import save_bundle
    from vae.training import TrainConfig, train

    cfg = TrainConfig.from_dict({"dataset": "digits", "latent_dim": latent_dim, "epochs": epochs, "batch_size": 64,
                                 "lr": 3e-3, "hidden_units": 64, "jit_compile": False, **kw})
    model, history, info = train(cfg, out.parent / f"run_{out.name}", verbose=0)
    save_bundle(out, model, info, history)
    return out


def precomputed_tiny(out: Path, epochs: int = 4, **kw) -> Path:
    """A tiny bundle with its test split precomputed (PCA only: no t-SNE or UMAP), ready for the app."""
    from vae.precompute import precompute

    train_tiny(out, epochs=epochs, **kw)
    precompute(out, split="test", progress=False, no_tsne=True, no_umap=True)
    return out


def shipped_bundle_missing(name: str) -> str | None:
    """Why pretrained/NAME cannot be opened by the app tests (absent, unreadable meta.json, not precomputed),
    or None: the reason their skip gives."""
    import json

    try:
        meta = json.loads((ROOT / "pretrained" / name / "meta.json").read_text())
    except (OSError, ValueError):
        return f"no pretrained/{name} bundle"
    return None if "precompute" in meta else f"pretrained/{name} is not precomputed"
