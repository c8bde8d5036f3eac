"""What a Keras model config may hold to be loaded here: Keras' own layers, and custom classes the
person running the app registered; never a Lambda, a foreign module or code named by the file.

    from vae.keras_config import scan, load_network
    found = scan(json.loads(zipfile.ZipFile("enc.keras").read("config.json")))
    found.custom      # {"Sampling"}: classes and functions to register or cut off
    encoder = load_network("enc.keras", "encoder", objects={})   # Sampling stood in for, safe_mode=True

`scan` is pure JSON walking, no TensorFlow: the bundle loader runs it before Keras reads an archive.
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
import zipfile
from pathlib import Path

from .errors import VAEError

# Keras modules whose built-in classes a config may name (registered_name null).
KERAS_MODULES = {"keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
                 "keras.models", "keras.src.models.functional", "keras.src.models.sequential"}
MODEL_CLASSES = {"Functional", "Sequential"}
# Built-in layers that run code or read files named by the config: never loaded, only cut off.
UNSAFE_LAYERS = {"Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper"}
MAX_NODES = 500_000
MAX_DEPTH = 200
MAX_NAME = 120
MAX_CONFIG_BYTES = 16 << 20
CUT = "vae_cut"  # package under which cut-off layers are stood in for while loading


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


# ---------------------------------------------------------------------- a user's .keras file

def _stub_class(class_name: str, unsafe: bool):
    """A weightless stand-in for a layer whose class is not available (or must not run): its output
    is its first input. It only lets Keras rebuild the graph; a kept output that passes through one
    is refused."""
    import keras

    class Stub(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(name=kwargs.get("name"))

        @classmethod
        def from_config(cls, config):
            return cls(name=config.get("name"))

        def call(self, *args, **kwargs):
            return keras.tree.flatten(args)[0]

    # the same Python name as the original, so Keras finds the other layers' weights where they were saved
    return type(class_name, (Stub,), {"cut_class": class_name, "unsafe": unsafe})


def _layer_entries(config):
    """Every serialized layer of a model config, nested models included (iterative)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            layers = node.get("config", {}).get("layers") if isinstance(node.get("config"), dict) else None
            if isinstance(layers, list):
                for entry in layers:
                    if isinstance(entry, dict):
                        yield entry
                        stack.append(entry)


def read_config(path: Path, role: str) -> dict:
    """The config.json of a user's .keras file, with one sentence for anything that is not one."""
    flag = f"--{role}"
    if not path.is_file():
        raise VAEError(f"No file at {path}: give {flag} the .keras file your {role} was saved to (model.save).")
    if not zipfile.is_zipfile(path):
        raise VAEError(f"{path} is not a Keras 3 .keras file: save the {role} with {role}.save('{role}.keras') "
                       "(HDF5 .h5 and SavedModel folders are not read).")
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise VAEError(f"{path} has a config.json over {MAX_CONFIG_BYTES >> 20} MB: it is not a model "
                               "this app can show.")
            config = json.loads(z.read(info))
    except VAEError:
        raise
    except Exception as exc:  # whatever stops the archive or its JSON being read (RecursionError included)
        raise VAEError(f"{path} is damaged ({exc.__class__.__name__}): save the {role} again.") from exc
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        what = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise VAEError(f"{path} holds a {str(what)[:60]!r}, not a functional or sequential Keras model: save the "
                       f"{role} network itself (keras.Model(inputs, outputs)), not a subclassed model around it.")
    return config


def load_network(path, role: str, objects: dict):
    """Load a user's encoder or decoder with safe_mode=True; layers whose class is unavailable (or a
    Lambda) become weightless stand-ins. Returns the model."""
    import keras

    path = Path(path).expanduser()
    config = read_config(path, role)
    missing = set(missing_names(scan(config).custom, objects))
    stubs = {}
    for entry in _layer_entries(config):
        cls = entry.get("class_name")
        name = entry.get("registered_name") or cls
        if name in missing or (cls in UNSAFE_LAYERS and entry.get("registered_name") is None):
            stub = _stub_class(cls, unsafe=cls in UNSAFE_LAYERS)
            stubs[f"{CUT}>{cls}"] = stub
            entry.update(module=None, registered_name=f"{CUT}>{cls}",
                         config={"name": entry.get("config", {}).get("name", entry.get("name"))})
            entry.pop("build_config", None)
            missing.discard(name)
    found = scan(config)  # what is left once unavailable and code-running layers are stood in for
    if found.problems:
        raise VAEError(f"{path} cannot be loaded safely: it holds {found.problems[0]}; save the {role} with "
                       "built-in Keras layers and registered layer classes only.")
    if missing:  # a custom function, initializer or regularizer: cannot be cut off
        first = sorted(missing)[0]
        raise VAEError(f"The {role} in {path} uses the custom object {first!r}, which is not registered: define it in "
                       "a .py file and pass --custom-layers FILE.")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / f"{role}.keras"
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w") as dst:
            for info in src.infolist():
                data = json.dumps(config).encode() if info.filename == "config.json" else src.read(info)
                dst.writestr(info.filename, data)
        try:
            model = keras.saving.load_model(copy, compile=False, safe_mode=True, custom_objects={**objects, **stubs})
        except Exception as exc:
            cut = f" (cut off: {', '.join(sorted(s.cut_class for s in stubs.values()))}; if one of them has weights or "\
                  "feeds the outputs you keep, register it with --custom-layers FILE)" if stubs else ""
            raise VAEError(f"The {role} in {path} could not be loaded ({exc.__class__.__name__}: "
                           f"{str(exc).splitlines()[0][:160]}){cut}.") from exc
    return model


def all_layers(model):
    """Every layer of a model, nested models' layers included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)


def refuse_cut_layers(model, role: str, what: str) -> None:
    """Refuse a network whose kept outputs pass through a stand-in: name the class to register."""
    for layer in all_layers(model):
        cls = getattr(layer, "cut_class", None)
        if cls is None:
            continue
        if layer.unsafe:
            raise VAEError(f"The {role}'s {what} passes through the {cls} layer {layer.name!r}, which stores Python "
                           f"code and is never loaded: rewrite it as a layer class in a .py file and pass "
                           "--custom-layers FILE.")
        raise VAEError(f"The {role}'s {what} passes through layer {layer.name!r} of the custom class {cls!r}, which "
                       f"is not registered: pass the .py file that defines {cls} with --custom-layers FILE (and set "
                       "VAE_CUSTOM_LAYERS=FILE for precompute and the app).")


def missing_names(names, objects: dict) -> list[str]:
    """The custom names a config needs that neither `objects` nor Keras' activations provide."""
    import keras

    def known(n):
        if n in objects or keras.saving.get_registered_object(n) is not None:
            return True
        try:
            keras.activations.get(n)
            return True
        except (ValueError, TypeError):
            return False
    return sorted(n for n in names if not known(n))
