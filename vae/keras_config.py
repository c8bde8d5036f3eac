"""What a Keras model config may hold to be loaded here: Keras' own layers, and custom classes the
person running the app registered; never a Lambda, a foreign module or code named by the file.

    from vae.keras_config import scan
    found = scan(json.loads(zipfile.ZipFile("enc.keras").read("config.json")))
    found.custom      # {"Sampling"}: classes and functions to register or cut off

Pure JSON walking, no TensorFlow: the bundle loader runs it before Keras reads an archive.
"""
from __future__ import annotations

import dataclasses

# Keras modules whose built-in classes a config may name (registered_name null).
KERAS_MODULES = {"keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
                 "keras.models", "keras.src.models.functional", "keras.src.models.sequential"}
MODEL_CLASSES = {"Functional", "Sequential"}
# Built-in layers that run code or read files named by the config: never loaded, only cut off.
UNSAFE_LAYERS = {"Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper"}
MAX_NODES = 500_000
MAX_DEPTH = 64
MAX_NAME = 120


@dataclasses.dataclass
class Scan:
    """What a config names beyond Keras' safe built-ins."""

    custom: set = dataclasses.field(default_factory=set)      # custom classes and functions, by registered name
    unsafe: set = dataclasses.field(default_factory=set)      # Lambda and other code-running built-ins
    problems: list = dataclasses.field(default_factory=list)  # anything else that is not allowed, as phrases


def _entry(d: dict, found: Scan) -> None:
    """Classify one serialized object ({"module", "class_name", "config", "registered_name"})."""
    module, name, registered = d.get("module"), d.get("class_name"), d.get("registered_name")
    if name == "__keras_tensor__" and module is None:
        return  # a symbolic tensor in a layer's inbound nodes: shape, dtype, history
    if not isinstance(name, str) or len(name) > MAX_NAME or not (module is None or isinstance(module, str)):
        found.problems.append("an object without a proper class name")
        return
    if module in KERAS_MODULES and (registered is None or (name in MODEL_CLASSES and registered == name)):
        if name in UNSAFE_LAYERS:
            found.unsafe.add(name)
        return
    if module == "builtins" and name == "function" and registered == "function" and isinstance(d.get("config"), str):
        found.custom.add(d["config"][:MAX_NAME])  # a function saved by name: a Keras activation or a registered one
        return
    if name.startswith("__"):
        found.problems.append(f"a serialized {name[:40]!r}")  # __lambda__, __numpy__, __bytes__ ...
        return
    if isinstance(module, str) and (module == "keras" or module.startswith("keras.")):
        found.problems.append(f"the Keras object {module[:60]}.{name} that is not a layer")
        return
    found.custom.add(registered if isinstance(registered, str) and registered else name)


def scan(config) -> Scan:
    """Walk a serialized Keras object (iteratively, capped in size and depth) and classify what it names."""
    found = Scan()
    stack, seen = [(config, 0)], 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH:
            found.problems.append("a config too large or too deeply nested")
            break
        if isinstance(node, dict):
            if "class_name" in node:
                _entry(node, found)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return found


IMPORTED_KEYS = {"name", "trainable", "dtype", "seed", "image_shape", "latent_dim", "decoder_output", "input_range",
                 "conditional", "num_classes", "encoder", "decoder"}


def check_imported(config: dict) -> tuple[str | None, set]:
    """For an ImportedVAE's saved config: (why it is refused or None, the custom names it needs registered)."""
    inner = config.get("config")
    if not isinstance(inner, dict) or not set(inner) <= IMPORTED_KEYS:
        extra = sorted(set(inner) - IMPORTED_KEYS)[:5] if isinstance(inner, dict) else []
        return f"its imported model config has unexpected entries {extra}", set()
    for part in ("encoder", "decoder"):
        net = inner.get(part)
        if not isinstance(net, dict) or net.get("class_name") not in MODEL_CLASSES:
            return f"its {part} is not a functional or sequential Keras model", set()
    found = scan(inner)
    if found.problems:
        return f"it holds {found.problems[0]}", set()
    if found.unsafe:
        return f"it holds a {sorted(found.unsafe)[0]} layer, which runs code from the file", set()
    return None, found.custom
