"""The app's process set-up (ui/runtime.py): TensorFlow imported at start-up without scikit-learn,
and scikit-learn still there for everything else."""
import subprocess
import sys

from tiny import ROOT


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
