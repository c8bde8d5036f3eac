"""The app's process set-up (ui/runtime.py): TensorFlow imported at start-up without scikit-learn,
and scikit-learn still there for everything else; Streamlit's post-run Keras reset skipped where it is
what it was, and kept, with a warning, where it is not."""
import logging
import subprocess
import sys
import types

from tiny import ROOT

from ui import runtime


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_tensorflow_is_imported_without_scikit_learn_and_keras_still_loads_a_model(tiny_bundle_dir):
    run = _run(f"""
import sys
from ui import runtime
runtime.import_tensorflow()
assert 'tensorflow' in sys.modules and 'keras' in sys.modules
assert 'sklearn' not in sys.modules, 'scikit-learn was imported with TensorFlow'
assert not any(type(f).__name__ == '_MissingInThisThread' for f in sys.meta_path), 'the finder was left behind'
import tensorflow as tf
assert tf.config.threading.get_intra_op_parallelism_threads() == 1
from vae import load_bundle
assert load_bundle({str(tiny_bundle_dir)!r}).decode([[0.0] * 4]).shape == (1, 8, 8, 1)
import sklearn.neighbors  # afterwards, and in this same thread, scikit-learn imports as usual
print('ok')
""")
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]


def test_other_threads_import_scikit_learn_while_tensorflow_loads():
    run = _run("""
import threading, sys
from ui import runtime
seen = {}
def other():
    import sklearn.base
    seen['sklearn'] = sklearn.base.BaseEstimator
t = threading.Thread(target=runtime.import_tensorflow)
t.start()
other()
t.join()
assert seen['sklearn'] is not None and 'tensorflow' in sys.modules
print('ok')
""")
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]


def test_streamlits_post_run_keras_reset_is_still_the_private_function_replaced():
    """Fails when Streamlit moves or changes what ui/runtime.py replaces: then read its new source."""
    run = _run("""
import streamlit
from streamlit.runtime.scriptrunner import script_runner
from ui import runtime
assert runtime._version_ok(streamlit.__version__, runtime.TESTED_STREAMLIT), streamlit.__version__
assert runtime.keras_reset(script_runner) is not None, 'no _clean_problem_modules that clears the Keras session'
assert '_clean_problem_modules' in script_runner.ScriptRunner._run_script.__code__.co_names, 'no longer called there'
runtime.tune_streamlit()
assert script_runner._clean_problem_modules is runtime._clean_nothing
print('ok')
""")
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]
    assert "WARNING" not in run.stderr and "post-run Keras reset" not in run.stderr, run.stderr[-3000:]


def _fake_script_runner(clears_keras: bool = True):
    module = types.ModuleType("fake_script_runner")
    if clears_keras:
        exec("import keras\ndef _clean_problem_modules():\n    keras.backend.clear_session()\n", module.__dict__)
    return module


def test_an_unchecked_streamlit_keeps_its_reset_and_says_so(caplog):
    fake = _fake_script_runner()
    original = fake._clean_problem_modules
    with caplog.at_level(logging.WARNING, logger="ui.runtime"):
        assert not runtime.skip_keras_reset(fake, "1.99.0")
    assert fake._clean_problem_modules is original
    assert "Streamlit 1.99.0" in caplog.text and "1.67" in caplog.text and "kept here" in caplog.text


def test_a_streamlit_without_the_reset_is_left_alone_and_says_so(caplog):
    fake = _fake_script_runner(clears_keras=False)
    fake._clean_problem_modules = lambda: None  # there, but no longer the Keras reset
    with caplog.at_level(logging.WARNING, logger="ui.runtime"):
        assert not runtime.skip_keras_reset(fake, "1.67.0")
        assert not runtime.skip_keras_reset(_fake_script_runner(clears_keras=False), "1.67.0")  # not there at all
    assert caplog.text.count("post-run Keras reset") == 2


def test_a_checked_streamlit_gets_its_reset_replaced_once(caplog):
    fake = _fake_script_runner()
    with caplog.at_level(logging.WARNING, logger="ui.runtime"):
        assert runtime.skip_keras_reset(fake, "1.67.2") and runtime.skip_keras_reset(fake, "1.67.2")
    assert fake._clean_problem_modules is runtime._clean_nothing and not caplog.text


def test_version_parsing():
    assert runtime._version_ok("1.67.0", runtime.TESTED_STREAMLIT) and runtime._version_ok("3.15.1", runtime.TESTED_KERAS)
    assert not runtime._version_ok("1.68.0", runtime.TESTED_STREAMLIT) and not runtime._version_ok("4.0.0", runtime.TESTED_KERAS)
    assert not runtime._version_ok("1.x", runtime.TESTED_STREAMLIT) and not runtime._version_ok("", runtime.TESTED_KERAS)


def test_an_unchecked_keras_imports_tensorflow_as_usual_and_says_so():
    run = _run("""
import sys
from ui import runtime
runtime.TESTED_KERAS = ((2, 0),)  # as if the installed Keras were one this was not checked on
runtime.import_tensorflow()
assert 'tensorflow' in sys.modules, 'TensorFlow was not imported'
assert not any(type(f).__name__ == '_MissingInThisThread' for f in sys.meta_path), 'the finder was installed'
print('ok')
""")
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]
    assert "TensorFlow is imported with scikit-learn" in run.stderr and "checked only on 2.0" in run.stderr
