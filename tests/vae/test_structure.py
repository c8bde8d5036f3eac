"""The library's structure: no import circle among vae's modules (counting imports inside functions, which can
hide one), no Streamlit or ui import anywhere in vae/, and what a kind of data is known only in its modality."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tiny import ROOT

VAE = ROOT / "vae"
MODULES = sorted(VAE.rglob("*.py"))
MAX_LINES = 310  # vae/bundle.py, the Bundle and its compiled encode/decode, is the largest


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it, resolved to full names (`from . import x`: the module x)."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    known = {_name(p) for p in MODULES}
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_library_modules_import_each_other_without_a_circle():
    known = {_name(p) for p in MODULES}
    # a package's __init__ that only re-exports is an entry point, not a member others depend on
    graph = {_name(p): {m for m in _imports(p) if m in known and m != _name(p) and m not in ("vae", "vae.modalities")}
             for p in MODULES}
    done, path = set(), []

    def visit(m):
        if m in path:
            pytest.fail("import circle: " + " -> ".join(path[path.index(m):] + [m]))
        if m in done:
            return
        path.append(m)
        for n in sorted(graph.get(m, ())):
            visit(n)
        path.pop()
        done.add(m)

    for m in sorted(graph):
        visit(m)


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
