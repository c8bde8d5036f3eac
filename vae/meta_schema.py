"""meta.json checked before anything uses it: a regular file of bounded size and nesting, and the fields
the loaders read of the right type and range (finite numbers where a number is needed). Unknown keys are allowed (newer writers add some).

    from vae.meta_schema import read_meta_file
    meta = read_meta_file(Path("pretrained/fashion_mnist/meta.json"))   # dict, or BundleError naming the field

Hand-written rather than a JSON Schema library: the checks that matter here (regular file, O_NONBLOCK,
byte and depth caps before parsing, class_names as long as num_classes, a weight count) are outside
what a schema language says, and the rest is a table of a few dozen lines.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from . import limits
from .errors import BundleError

MAX_BYTES = 32 << 20   # 10,000 classes with their directions' fidelity stay well under this
MAX_DEPTH = 32         # a written meta.json nests 6 deep
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class MetaError(BundleError):
    """meta.json is unreadable or one of its fields is wrong; the message names the file and the field."""


def _refuse(path: Path, field: str | None, problem: str):
    where = f"{path}: {field} {problem}" if field else f"{path} {problem}"
    raise MetaError(f"{where}; restore the bundle from a copy or retrain it with scripts/train.py.")


class UnreadableJSON(ValueError):
    """A JSON file that is not a plain file, too large, too deep or not a JSON object; str() says which."""


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; a device, FIFO, link or folder is refused
    before it is opened (and O_NONBLOCK keeps a FIFO swapped in meanwhile from hanging the read).
    FileNotFoundError if there is none, UnreadableJSON for the rest."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableJSON(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise UnreadableJSON(f"is {kind}, where a plain JSON file is needed")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise UnreadableJSON(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):  # replaced between lstat and open
            raise UnreadableJSON("is not a regular file, where a plain JSON file is needed")
        if info.st_size > limit:
            raise UnreadableJSON(f"is {info.st_size:,} bytes, over the {limit:,} it may have")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableJSON(f"grew past the {limit:,} bytes it may have while it was read")
    return data


def nesting_depth(data: bytes) -> int:
    """How deep the JSON text's arrays and objects nest, counted without parsing (strings skipped)."""
    codes = np.frombuffer(_STRING.sub(b'""', data), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max()) if len(steps) else 0


def parse_object(data: bytes, max_depth: int = MAX_DEPTH) -> dict:
    """A JSON object from bytes, its nesting checked first (json.loads would raise RecursionError)."""
    if nesting_depth(data) > max_depth:
        raise UnreadableJSON(f"is damaged: it nests deeper than {max_depth} levels")
    try:
        # NaN, Infinity and 1e999 parse (older writers put NaN in free-form figures); typed fields refuse them
        obj = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError and over-long integers
        raise UnreadableJSON(f"is damaged: it is not valid JSON ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(obj, dict):
        raise UnreadableJSON(f"is damaged: it holds a JSON {type(obj).__name__}, where an object is needed")
    return obj


def read_json_object(path, limit: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> dict:
    """read_bytes then parse_object: FileNotFoundError, UnreadableJSON, or a dict."""
    return parse_object(read_bytes(Path(path), limit), max_depth)


def read_meta_file(path) -> dict:
    """Read, parse and validate a meta.json; FileNotFoundError if there is none."""
    path = Path(path)
    try:
        meta = read_json_object(path)
    except UnreadableJSON as exc:
        _refuse(path, None, str(exc))
    validate(meta, path)
    return meta


# ------------------------------------------------------------------------------------------ fields

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    """A finite JSON number (not true/false, NaN or Infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(low, high):
    return (lambda v: _is_int(v) and low <= v <= high), f"must be a whole number from {low} to {high:,}"


MAPPING = (lambda v: isinstance(v, dict)), "must be a JSON object (a mapping)"
LIST_OF_MAPPINGS = (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)), "must be a list of objects"
TEXT = (lambda v: isinstance(v, str) and len(v) <= 4096), "must be a string (at most 4,096 characters)"
OPTIONAL_TEXT = (lambda v: v is None or TEXT[0](v)), "must be a string or null"
BOOL = (lambda v: isinstance(v, bool)), "must be true or false"
BETA = (lambda v: _is_number(v) and v >= 0), "must be a finite number >= 0"
IMAGE_SHAPE = ((lambda v: isinstance(v, list) and len(v) == 3 and all(_is_int(s) for s in v)
                and all(1 <= s <= limits.MAX_SIDE for s in v[:2]) and v[2] in (1, 3)),
               f"must be [height, width, channels] with sides from 1 to {limits.MAX_SIDE} and 1 or 3 channels")
CLASS_NAMES = ((lambda v: isinstance(v, list) and len(v) <= limits.MAX_CLASSES
                and all(isinstance(x, str) and len(x) <= 200 for x in v)),
               f"must be a list of at most {limits.MAX_CLASSES:,} strings (each at most 200 characters)")
CHECKSUMS = ((lambda v: isinstance(v, dict) and all(isinstance(x, str) and re.fullmatch("[0-9a-f]{64}", x)
                                                     for x in v.values())),
             "must map file names to SHA-256 checksums (64 hex digits)")
COUNTS = (lambda v: isinstance(v, dict) and all(_is_int(x) and x >= 0 for x in v.values())), \
    "must map names to whole numbers >= 0"
MODEL_FIELDS = {
    "image_shape": IMAGE_SHAPE, "latent_dim": _integer(1, limits.MAX_LATENT), "beta": BETA, "conditional": BOOL,
    "num_classes": _integer(0, limits.MAX_CLASSES), "base_filters": _integer(1, limits.MAX_BASE_FILTERS),
    "hidden_units": _integer(0, limits.MAX_HIDDEN_UNITS), "convs_per_stage": _integer(1, limits.MAX_CONVS_PER_STAGE),
    "lower_dim": _integer(1, limits.MAX_LATENT), "hidden_units_top": _integer(1, limits.MAX_HIDDEN_UNITS)}
SIZE_FIELDS = ("image_shape", "latent_dim", "num_classes", "base_filters", "hidden_units", "convs_per_stage",
               "conditional")  # what limits.model_size_problem weighs

# field path -> (check, what it must be); a field that is absent is not checked here (loaders say what they miss)
FIELDS = {
    "format_version": _integer(1, 1000), "created": TEXT, "dataset": TEXT, "source": OPTIONAL_TEXT,
    "versions": MAPPING, "class_names": CLASS_NAMES, "splits": COUNTS, "skipped_files": _integer(0, 10**12),
    "data_options": MAPPING, "data_options.image_size": ((lambda v: v is None or (_is_int(v) and 4 <= v <= limits.MAX_SIDE)),
                                                         f"must be null or a whole number from 4 to {limits.MAX_SIDE}"),
    "data_options.channels": ((lambda v: v is None or (_is_int(v) and v in (1, 3))), "must be null, 1 or 3"),
    "training": MAPPING, "model": MAPPING, **{f"model.{k}": check for k, check in MODEL_FIELDS.items()},
    "image_shape": IMAGE_SHAPE, "latent_dim": MODEL_FIELDS["latent_dim"], "beta": BETA, "conditional": BOOL,
    "modality": TEXT, "model.modality": TEXT,
    "input_shape": ((lambda v: isinstance(v, list) and 1 <= len(v) <= 4 and all(_is_int(s) and 1 <= s <= 10**6 for s in v)),
                    "must be a list of 1 to 4 whole numbers from 1 to 1,000,000"),
    "files": CHECKSUMS, "metrics": MAPPING,
    "precompute": MAPPING, "precompute.split": TEXT, "precompute.n_points": _integer(0, 10**9),
    "precompute.projections": MAPPING, "precompute.attributes": MAPPING, "precompute.class_probe": MAPPING,
    "precompute.directions": LIST_OF_MAPPINGS, "precompute.skipped": (lambda v: isinstance(v, list), "must be a list"),
}
# directions in the app: each entry's fit and fidelity are read as mappings
DIRECTION_FIELDS = {"name": TEXT, "kind": TEXT, "fit": MAPPING, "fidelity": MAPPING}


def _lookup(meta: dict, field: str):
    value = meta
    for key in field.split("."):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def validate(meta: dict, path) -> None:
    """Refuse, in one sentence naming the file and the field, the first field of the wrong type or range,
    or fields that disagree with each other (latent size, classes, image shape)."""
    path = Path(path)
    for field, (ok, must) in FIELDS.items():
        present, value = _lookup(meta, field)
        if present and not ok(value):
            _refuse(path, field, f"{must}, got {_describe(value)}")
    for i, entry in enumerate(meta.get("precompute", {}).get("directions", [])):
        for key, (ok, must) in DIRECTION_FIELDS.items():
            if key in entry and not ok(entry[key]):
                _refuse(path, f"precompute.directions[{i}].{key}", f"{must}, got {_describe(entry[key])}")
    model = meta.get("model", {})
    for key in ("image_shape", "latent_dim", "beta", "conditional", "modality"):
        if key in meta and key in model and meta[key] != model[key]:
            _refuse(path, key, f"({_describe(meta[key])}) disagrees with model.{key} ({_describe(model[key])})")
    num_classes, names = model.get("num_classes"), meta.get("class_names")
    if num_classes and names is not None and len(names) != num_classes:
        _refuse(path, "class_names", f"has {len(names)} names but model.num_classes is {num_classes}")
    if all(k in model for k in ("image_shape", "latent_dim", "hidden_units")):  # this project's VAE, not an imported pair
        problem = limits.model_size_problem(**{k: model[k] for k in SIZE_FIELDS if k in model})
        if problem:
            _refuse(path, "model", f"describes a model out of range ({problem})")


def check_agrees(meta: dict, model_config: dict, path) -> None:
    """Refuse a meta.json whose "model" differs from model.keras's own config (read from the archive);
    `model_config` None or not a mapping: nothing to compare."""
    model = meta.get("model", {})
    if not isinstance(model_config, dict):
        return
    if model and model.get("lower_dim") != model_config.get("lower_dim"):  # a level missing on one side
        _refuse(Path(path), "model.lower_dim", f"is {_describe(model.get('lower_dim'))} but model.keras holds "
                                               f"{_describe(model_config.get('lower_dim'))}")
    for key in (*MODEL_FIELDS, "modality"):
        if key in model and key in model_config and model[key] != model_config[key]:
            _refuse(Path(path), f"model.{key}",
                    f"is {_describe(model[key])} but model.keras holds {_describe(model_config[key])}")


def _describe(value) -> str:
    """A short description of a value for a message: numbers as such, else the type (text is never echoed)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if _is_number(value):
        return f"{value:g}" if isinstance(value, float) else str(value) if abs(value) < 10**15 else f"{float(value):g}"
    if isinstance(value, float):  # NaN, Infinity
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
    if isinstance(value, str):
        return f"a string of {len(value)} characters"  # never echoed: the app shows these messages
    if isinstance(value, list):
        if len(value) <= 4 and all(_is_number(x) for x in value):
            return json.dumps(value)
        return f"a list of {len(value)}"
    return "an object" if isinstance(value, dict) else type(value).__name__
