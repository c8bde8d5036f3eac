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
import importlib.abc
import sys
import threading

from . import bundles

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


class _MissingInThisThread(importlib.abc.MetaPathFinder):
    """Reports some top-level packages as not installed, to imports made by one thread only."""

    def __init__(self, names: set[str]):
        self.names, self.thread = names, threading.current_thread()

    def find_spec(self, name, path=None, target=None):
        if threading.current_thread() is self.thread and name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is not imported while TensorFlow starts", name=name)
        return None


def import_tensorflow() -> None:
    """Import TensorFlow (in the start-up thread) without scikit-learn, then set its thread counts.

    `import tensorflow` imports tf.keras, whose keras.wrappers imports scikit-learn (and with it
    SciPy's stats) for Keras's scikit-learn estimator wrappers: about 0.9 s of a 3.3 s import on
    this machine's cores, for wrappers the app never uses. Keras guards that import and leaves the
    wrappers disabled when scikit-learn is missing, so this thread reports it missing while
    TensorFlow loads; other threads, and later imports, get scikit-learn as usual."""
    if "tensorflow" not in sys.modules:
        finder = _MissingInThisThread({"sklearn"})
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("tensorflow")
        except ImportError:
            pass  # reported by whoever needs TensorFlow next, without this finder
        finally:
            sys.meta_path.remove(finder)
    if "tensorflow" in sys.modules:  # (not installed: the page that needs the model says so)
        bundles.limit_tensorflow_threads()


_preloading = threading.Event()     # set when the start-up thread runs
_shared_imports = threading.Event()  # set once pandas and plotly are fully imported


@contextlib.asynccontextmanager
async def lifespan(app):
    """st.App start-up: import TensorFlow (the long pole, ~4 s here) and load the default bundle in
    the background while the server starts and the browser fetches the page. The bundle's arrays
    and map are ready within a second, so the map is drawn while the model is still loading."""
    tune_streamlit()
    _preloading.set()
    threading.Thread(target=import_tensorflow, name="import tensorflow", daemon=True).start()
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
    choice = bundles.default_choice(bundles.discover())
    if choice is not None:
        bundles.preload(choice)
