"""The library's structure: no import circle among vae's modules (counting imports inside functions, which can
hide one), no Streamlit or ui import anywhere in vae/, and what a kind of data is known only in its modality."""
from __future__ import annotations

from pathlib import Path


from import_graph import circle, imports, module_name
from tiny import ROOT

VAE = ROOT / "vae"
MODULES = sorted(VAE.rglob("*.py"))
MAX_LINES = 315  # vae/bundle.py, the Bundle and its compiled encode/decode (with a hierarchical model's details), is the largest


def _imports(path: Path) -> set[str]:
    return imports(path, {module_name(p) for p in MODULES})


def test_the_library_modules_import_each_other_without_a_circle():
    known = {module_name(p) for p in MODULES}
    # a package's __init__ that only re-exports is an entry point, not a member others depend on
    graph = {module_name(p): {m for m in _imports(p) if m in known and m != module_name(p)
                              and m not in ("vae", "vae.modalities")} for p in MODULES}
    found = circle(graph)
    assert found is None, "import circle: " + " -> ".join(found or [])


def test_the_library_imports_no_streamlit_and_no_ui():
    for p in MODULES:
        found = [m for m in _imports(p) if m.split(".")[0] in ("streamlit", "ui", "scripts")]
        assert not found, (str(p.relative_to(ROOT)), found)


def test_only_modalities_know_their_data():
    """Generic modules import no picture library and no modality package (the image-only tools excepted: imported
    pairs, gallery exports and generated pictures); a modality imports no other modality's package."""
    allowed = {"render.py", "imported.py", "importer.py", "export.py", "augment.py", "generate.py"}
    for p in MODULES:
        rel = p.relative_to(VAE)
        imports = _imports(p)
        if rel.parts[0] == "modalities" and len(rel.parts) > 2:  # inside vae/modalities/NAME/
            others = [m for m in imports if m.startswith("vae.modalities.") and m.split(".")[2] not in (rel.parts[1], "base")]
            assert not others, (str(rel), others)
        elif p.name not in allowed:
            found = [m for m in imports if m.split(".")[0] == "PIL" or
                     (m.startswith("vae.modalities.") and m.split(".")[2] not in ("base",))]
            assert not found, (str(rel), found)


def test_library_modules_stay_readable_in_one_sitting():
    long = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_no_modality_package_imports_tensorflow_when_imported():
    """The app imports TensorFlow in one start-up thread while another loads the default bundle (its meta,
    arrays and map) and with it the bundle's modality package: a package that imported Keras at once would
    import TensorFlow from two threads together, which deadlocks. Networks are imported when a model is built."""
    import subprocess
    import sys

    from vae import modalities

    code = ("import sys, vae.modalities as m\n"
            "for name in m.names(): m.get(name)\n"
            "print(sorted(k for k in ('keras', 'tensorflow') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", (modalities.names(), out.stdout)
