"""Process set-up: Streamlit settings that keep reruns cheap with TensorFlow loaded, and loading
the default bundle while the server starts.

Streamlit, after every script run, (1) calls keras.backend.clear_session(), which resets the
default graph, drops TensorFlow's kernel cache and runs a full garbage collection, and (2) runs
gc.collect(2) itself. With TensorFlow in memory each costs tens to hundreds of milliseconds, on
every rerun of the latent pad's fragment; clear_session from one session's thread can also race
another session's decode. The model here is built once and never rebuilt, so neither is needed.
"""
from __future__ import annotations

import contextlib
import importlib
import threading

_done = False
_lock = threading.Lock()


def tune_streamlit() -> None:
    """Skip Streamlit's per-rerun Keras reset and full GC; stop watching TensorFlow's modules."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
    from streamlit import config
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _clean_nothing
    for key, value in (("runner.postScriptGC", False), ("server.fileWatcherType", "none")):
        if config.is_manually_set(key):
            continue  # the person running the app chose; .streamlit/config.toml sets both already
        config.set_option(key, value, "ui/runtime.py")


def _clean_nothing() -> None:
    """Replaces Streamlit's post-run keras.backend.clear_session() (see the module docstring)."""


def limit_tensorflow_threads(intra: int = 1, inter: int = 1) -> None:
    """One thread per decode: a single 28x28 decode gains nothing from more, and sessions run side by side."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        pass  # TensorFlow already initialised its thread pools: keep them


_preloading = threading.Event()     # set when the start-up thread runs
_shared_imports = threading.Event()  # set once pandas and plotly are fully imported


@contextlib.asynccontextmanager
async def lifespan(app):
    """st.App start-up: load TensorFlow and the default bundle in the background while the server
    starts and the browser fetches the page, so the first page does not wait for them (~3 s here)."""
    tune_streamlit()
    _preloading.set()
    threading.Thread(target=_preload_default, name="preload", daemon=True).start()
    yield


def wait_for_shared_imports(timeout: float = 60.0) -> None:
    """Before building a Plotly figure during start-up: plotly peeks at sys.modules for pandas and
    would find it half-imported by the start-up thread (a race on the first page)."""
    if _preloading.is_set():
        _shared_imports.wait(timeout)


def _preload_default() -> None:
    try:
        for name in ("pandas", "narwhals", "plotly.graph_objects"):
            importlib.import_module(name)
    except ImportError:
        pass
    finally:
        _shared_imports.set()
    from . import bundles

    choice = bundles.default_choice(bundles.discover())
    if choice is not None:
        bundles.preload(choice)
