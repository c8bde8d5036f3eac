"""Process set-up: Streamlit settings that keep reruns cheap with TensorFlow loaded, and loading
the default bundle while the server starts.

Streamlit, after every script run, (1) calls keras.backend.clear_session(), which resets the
default graph, drops TensorFlow's kernel cache and runs a full garbage collection, and (2) runs
gc.collect(2) itself. With TensorFlow in memory each costs tens to hundreds of milliseconds, on
every rerun of the latent pad's fragment; clear_session from one session's thread can also race
another session's decode. The model here is built once and never rebuilt, so neither is needed.

(1) has no public switch, so Streamlit's private script_runner._clean_problem_modules is replaced,
and (further down) an import hook keeps scikit-learn out of TensorFlow's import. Each leans on a
library's internals: each checks the version it was read on and that the internal is still what it
was, and otherwise leaves the library as it is, with a warning in the server's log (slower, same app).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.metadata
import logging
import sys
import threading

from . import bundles

_done = False
_lock = threading.Lock()
_log = logging.getLogger(__name__)

# The versions whose internals these hooks were read against (requirements.txt's "tested" ones).
TESTED_STREAMLIT = ((1, 67),)
TESTED_KERAS = ((3, 14), (3, 15))


def _version_ok(version: str, tested) -> bool:
    try:
        return tuple(int(p) for p in version.split(".")[:2]) in tested
    except ValueError:
        return False


def tune_streamlit() -> None:
    """Skip Streamlit's per-rerun Keras reset and full GC; stop watching TensorFlow's modules."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
    import streamlit
    from streamlit import config
    from streamlit.runtime.scriptrunner import script_runner

    skip_keras_reset(script_runner, streamlit.__version__)
    for key, value in (("runner.postScriptGC", False), ("server.fileWatcherType", "none")):
        if config.is_manually_set(key):
            continue  # the person running the app chose; .streamlit/config.toml sets both already
        config.set_option(key, value, "ui/runtime.py")


def _clean_nothing() -> None:
    """Replaces Streamlit's post-run keras.backend.clear_session() (see the module docstring)."""


def keras_reset(script_runner):
    """Streamlit's private post-run reset that clears Keras's session, or None where there is none such."""
    fn = getattr(script_runner, "_clean_problem_modules", None)
    code = getattr(fn, "__code__", None)
    return fn if code is not None and "clear_session" in code.co_names else None


def skip_keras_reset(script_runner, version: str) -> bool:
    """Replace the reset (see the module docstring) on a checked Streamlit; elsewhere warn and keep it."""
    if script_runner.__dict__.get("_clean_problem_modules") is _clean_nothing:
        return True
    if not _version_ok(version, TESTED_STREAMLIT) or keras_reset(script_runner) is None:
        _log.warning("Streamlit %s: its post-run Keras reset is skipped only on the versions this was checked on "
                     "(%s, where script_runner._clean_problem_modules clears the Keras session); kept here, so "
                     "each rerun may take tens of milliseconds longer.", version,
                     ", ".join("%d.%d" % v for v in TESTED_STREAMLIT))
        return False
    script_runner._clean_problem_modules = _clean_nothing
    return True


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
    TensorFlow loads; other threads, and later imports, get scikit-learn as usual. On a Keras this
    was not checked on, TensorFlow is imported as usual (a warning says so)."""
    if "tensorflow" not in sys.modules:
        finder = _MissingInThisThread({"sklearn"}) if _keras_checked() else None
        if finder:
            sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("tensorflow")
        except ImportError:
            pass  # reported by whoever needs TensorFlow next, without this finder
        finally:
            if finder:
                sys.meta_path.remove(finder)
    if "tensorflow" in sys.modules:  # (not installed: the page that needs the model says so)
        bundles.limit_tensorflow_threads()


def _keras_checked() -> bool:
    try:
        version = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        return True  # no Keras of its own: TensorFlow's import says what is missing
    if _version_ok(version, TESTED_KERAS):
        return True
    _log.warning("Keras %s: TensorFlow is imported with scikit-learn (about 1 s longer), as Keras's guarded "
                 "import of it was checked only on %s.", version, ", ".join("%d.%d" % v for v in TESTED_KERAS))
    return False


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
