"""Which bundles the app offers, and loading one once per process (shared by every session).

The choices are the folders directly inside pretrained/ and the folders given with
`streamlit run app.py -- --bundle PATH` (repeatable) or VAE_BUNDLE (several joined by ':').
A name from a URL is looked up among these choices and never turned into a path itself.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path

import streamlit as st

from vae import BundleError, load_bundle
from vae.bundle import PRECOMPUTE_HINT
from vae.view import METER_K, ExplorerView

from . import map_view

_log = st.logger.get_logger(__name__)
ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "pretrained"
PREFERRED = ("fashion_mnist", "fashion_mnist_2d")  # the default when no bundle is asked for


@dataclasses.dataclass(frozen=True)
class Choice:
    """A bundle the app can open: its display name and its folder."""

    name: str
    path: Path
    extra: bool = False  # given by --bundle / VAE_BUNDLE rather than found in pretrained/


def extra_paths(argv: list[str] | None = None, environ=None) -> list[Path]:
    """Folders named by --bundle (after `--` on the streamlit command line) and by VAE_BUNDLE."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--bundle", action="append", default=[])
    known, _ = parser.parse_known_args(argv)
    raw = list(known.bundle) + [p for p in environ.get("VAE_BUNDLE", "").split(os.pathsep) if p.strip()]
    out = []
    for p in raw:
        path = Path(p).expanduser()
        path = path if path.is_absolute() else (Path.cwd() / path)
        path = path.resolve()
        if path not in out:
            out.append(path)
    return out


def discover(pretrained: Path = PRETRAINED, extra: list[Path] | None = None) -> list[Choice]:
    """The bundles on offer: --bundle / VAE_BUNDLE first, then pretrained/'s folders by name."""
    choices: list[Choice] = []
    taken: set[str] = set()
    for path in extra if extra is not None else extra_paths():
        name = path.name or str(path)
        if name in taken:
            name = f"{name} ({path.parent.name})"
        taken.add(name)
        choices.append(Choice(name, path, extra=True))
    if pretrained.is_dir():
        for path in sorted(p for p in pretrained.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            if path.name not in taken:
                taken.add(path.name)
                choices.append(Choice(path.name, path.resolve()))
    return choices


def default_choice(choices: list[Choice]) -> Choice | None:
    for c in choices:
        if c.extra:
            return c
    for name in PREFERRED:
        for c in choices:
            if c.name == name:
                return c
    return choices[0] if choices else None


def find(choices: list[Choice], name) -> Choice | None:
    """The choice called exactly `name`, or None: a URL can name a choice, never a path."""
    if not isinstance(name, str):
        return None
    return next((c for c in choices if c.name == name), None)


@dataclasses.dataclass
class Loaded:
    """A bundle with its precomputed arrays and what the explorer derives from them once (vae.view)."""

    choice: Choice
    bundle: object
    pre: object
    view: ExplorerView

    @property
    def name(self) -> str:
        return self.choice.name


_preloads: dict[str, concurrent.futures.Future] = {}
_preloads_lock = threading.Lock()


def is_loading(choice: Choice) -> bool:
    """Whether a start-up thread is still loading this bundle (load() would wait for it)."""
    with _preloads_lock:
        future = _preloads.get(str(choice.path))
    return future is not None and not future.done()


def preload(choice: Choice) -> None:
    """Start loading a bundle in background threads (at server start, before anyone asks for it):
    its arrays and map first (no TensorFlow needed), its model alongside."""
    key = str(choice.path)
    with _preloads_lock:
        if key in _preloads:
            return
        future = _preloads[key] = concurrent.futures.Future()

    def work():
        t0 = time.perf_counter()
        try:
            loaded = _build(key)
            if isinstance(loaded, Loaded):
                threading.Thread(target=_load_model_quietly, args=(loaded,), name=f"model {choice.name}",
                                 daemon=True).start()
                warm(loaded)
            future.set_result(loaded)
            _log.info("Preloaded bundle %s in %.1f s", choice.name, time.perf_counter() - t0)
        except BaseException as exc:  # handed to whoever waits for it
            future.set_exception(exc)

    threading.Thread(target=work, name=f"preload {choice.name}", daemon=True).start()


def limit_tensorflow_threads(intra: int = 1, inter: int = 1) -> None:
    """One thread per decode: a single 28x28 decode gains nothing from more, and sessions run side by side."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        pass  # TensorFlow already initialised its thread pools: keep them


def load_model(loaded: Loaded) -> None:
    """Wait until the bundle's model is ready, loading it in this thread if nobody else is.

    The page draws the map before calling this, so the browser draws it while TensorFlow loads.
    Raises BundleError (one sentence, with what to do) if the model cannot be loaded."""
    if loaded.bundle.model_ready:
        return
    limit_tensorflow_threads()
    t0 = time.perf_counter()
    loaded.bundle.load_model()
    _log.info("Model of %s ready after %.1f s", loaded.name, time.perf_counter() - t0)


def _load_model_quietly(loaded: Loaded) -> None:
    try:
        load_model(loaded)
    except BundleError:
        pass  # kept by the bundle: the page that needs the model shows it


def warm(loaded: Loaded) -> None:
    """Build what the first page of a bundle needs: its map figure, the pad's backdrop, the meter's reference."""
    proj = map_view.default_projection(loaded.pre)
    map_view.figure(loaded, proj, map_view.CLASS)
    map_view.pad_background(loaded, proj)
    loaded.pre.off_manifold(loaded.pre.mean[0], METER_K)  # builds the meter's reference once


@st.cache_resource(show_spinner="Loading the precomputed maps...", max_entries=8)
def _load(path: str) -> Loaded | BundleError:
    """One Loaded per bundle folder per process; a BundleError is cached too (retry: clear cache)."""
    with _preloads_lock:
        future = _preloads.pop(path, None)
    return future.result() if future is not None else _build(path)


def _build(path: str) -> Loaded | BundleError:
    """The bundle with its arrays and what the app derives from them; its model is loaded later
    (load_model), so this needs no TensorFlow and takes a fraction of a second."""
    from vae.precomputed import load_precomputed

    try:
        bundle = load_bundle(path, lazy=True)
    except BundleError as exc:
        return exc
    try:
        pre = load_precomputed(bundle)
    except BundleError as exc:
        exc.bundle = bundle  # the model card can still show the metadata
        return exc
    return Loaded(Choice(Path(path).name, Path(path)), bundle, pre, ExplorerView.from_precomputed(pre))


def load(choice: Choice) -> Loaded:
    """The loaded bundle; raises BundleError (with what to do) for a damaged or unprecomputed one."""
    result = _load(str(choice.path))
    if isinstance(result, BundleError):
        raise result
    return dataclasses.replace(result, choice=choice)  # shallow: the arrays stay shared


def precompute_command(choice: Choice) -> str:
    try:
        rel = choice.path.relative_to(Path.cwd())
    except ValueError:
        rel = choice.path
    return PRECOMPUTE_HINT.format(path=rel)


def forget(choice: Choice) -> None:
    """Drop a cached failure, so that a bundle fixed on disk loads on the next try."""
    _load.clear(str(choice.path))
