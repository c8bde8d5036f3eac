"""What a model.keras may hold before Keras reads it: this project's VAE of plain values, or an imported pair
of Keras built-ins (defence in depth behind safe_mode=True)."""
from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

from .errors import BundleError, VAEError
from .keras_config import check_imported

MODEL_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
MODEL_KEYS = {"module", "class_name", "config", "registered_name", "compile_config", "build_config"}
VAE_KEYS = {"name", "trainable", "dtype", "seed", "modality", "latent_dim", "beta", "conditional", "num_classes"}
LADDER_KEYS = {"lower_dim", "hidden_units_top"}   # vae.hierarchy.LadderVAE's own
MODEL_CLASSES = {("VAE", "vae>VAE", "vae.model"): set(), ("LadderVAE", "vae>LadderVAE", "vae.hierarchy"): LADDER_KEYS}


def vae_keys(modality) -> set:
    """What a VAE's config may hold: VAE_KEYS and the named modality's settings (an unknown modality: BundleError)."""
    from . import modalities

    try:
        m = modalities.get(modality)
    except VAEError as exc:
        raise BundleError(str(exc)) from None
    return VAE_KEYS | {f.name for f in dataclasses.fields(m.spec_class)}
MAX_CONFIG_BYTES = 1 << 16
MAX_IMPORTED_CONFIG_BYTES = 16 << 20
IMPORTED_CLASS = ("ImportedVAE", "vae>ImportedVAE", "vae.imported")


def _plain_value(v, depth: int = 0) -> bool:
    """Numbers, strings, booleans, None and lists of them: nothing that names code."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, list) and depth < 3 and all(_plain_value(x, depth + 1) for x in v)


def check_model_archive(f: Path) -> dict:
    """Refuse a model.keras that is not this project's VAE before Keras reads it (defence in depth
    behind safe_mode): the archive's config may name only the registered VAE class and plain values,
    so no Lambda, no function, no module of the file's choosing. Returns the VAE's config (plain values)."""
    def refuse(reason: str):
        raise BundleError(f"model.keras in {f.parent} could not be loaded safely: {reason}; retrain the bundle "
                          "with scripts/train.py.")
    if not zipfile.is_zipfile(f):
        refuse("it is not a Keras archive")
    try:
        with zipfile.ZipFile(f) as z:
            members = {i.filename: i for i in z.infolist()}
            if set(members) != MODEL_MEMBERS:
                refuse(f"it holds {sorted(members)[:6]}, not a VAE saved by this project")
            if members["config.json"].file_size > MAX_IMPORTED_CONFIG_BYTES:
                refuse("its config.json is too large")
            config = json.loads(z.read("config.json"))
    except BundleError:
        raise
    except Exception as exc:  # whatever stops the archive or its JSON being read (a RecursionError too)
        refuse(f"its archive is unreadable ({exc.__class__.__name__})")
    if not isinstance(config, dict) or not set(config) <= MODEL_KEYS:
        refuse("its config.json is not a model config")
    if config.get("compile_config") not in (None, {}):
        refuse("it carries a compile configuration (loss, optimizer) that a bundle never has")
    build = config.get("build_config")
    if build is not None and not (isinstance(build, dict) and all(_plain_value(v) for v in build.values())):
        refuse("its build configuration holds more than plain values")
    if (config.get("class_name"), config.get("registered_name"), config.get("module")) == IMPORTED_CLASS:
        reason, _ = check_imported(config)  # a pair imported by scripts/import_model.py: Keras built-ins and
        if reason:                          # the custom classes the app's operator registers
            refuse(reason)
        return
    if members["config.json"].file_size > MAX_CONFIG_BYTES:
        refuse("its config.json is too large")
    own = MODEL_CLASSES.get((config.get("class_name"), config.get("registered_name"), config.get("module")))
    if own is None:
        refuse(f"it holds a {str(config.get('class_name'))[:40]!r}, not this project's VAE")
    inner = config.get("config")
    modality = inner.get("modality", "image") if isinstance(inner, dict) else None
    if not isinstance(modality, str):
        refuse("its VAE config names no modality as text")
    keys = vae_keys(modality) | own
    if not isinstance(inner, dict) or not set(inner) <= keys:
        extra = sorted(set(inner) - keys)[:5] if isinstance(inner, dict) else []
        refuse(f"its VAE config has unexpected entries {extra}")
    for key, value in inner.items():
        if key == "dtype" and isinstance(value, dict):
            policy = value.get("config")
            if not (value.get("module") == "keras" and value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy")
                    and value.get("registered_name") is None and isinstance(policy, dict)
                    and set(policy) == {"name"} and isinstance(policy["name"], str)):
                refuse("its dtype policy is not a plain Keras one")
        elif not _plain_value(value):
            refuse(f"its VAE config entry {key!r} is not a plain value")
    if own:  # a hierarchical model: its level sizes in range before Keras builds a layer
        from .limits import levels_problem

        width = inner.get("num_classes", 0) if inner.get("conditional") else 0
        problem = levels_problem(inner.get("latent_dim", 16), inner.get("lower_dim"), inner.get("hidden_units_top", 256),
                                 width if isinstance(width, int) else -1)
        if problem:
            refuse(problem)
    return inner

