"""The ui package's structure: one typed home for session state, no import circles, modules small, and
only the image display module knowing that the data are images."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tiny import ROOT

UI = ROOT / "ui"
MODULES = sorted(p for p in UI.rglob("*.py"))


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _ui_imports(path: Path) -> set[str]:
    """The ui modules `path` imports anywhere (inside functions too), resolved to module names."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    known = {_name(p) for p in MODULES}
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in known and m != _name(path)}


def test_the_ui_modules_import_each_other_without_a_circle():
    graph = {_name(p): _ui_imports(p) for p in MODULES}
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


def test_only_the_state_module_touches_streamlit_session_state():
    for p in MODULES:
        if p.name != "state.py":
            uses = [n.lineno for n in ast.walk(ast.parse(p.read_text()))
                    if isinstance(n, ast.Attribute) and n.attr == "session_state"]
            assert not uses, (p.name, uses)


IMAGE_ONLY = ("image_input", "modalities.image", "PIL", "png_bytes", "gif_bytes", "render.grid", "render.strip", "to_uint8",
              "attributes.measure", "file_uploader")


def test_only_the_image_display_module_knows_the_data_are_images():
    for p in MODULES:
        if p in (UI / "display" / "image.py", UI / "map_view.py"):  # the map's backdrop is a picture of the map
            continue
        code = ast.unparse(ast.parse(p.read_text()))
        allowed = ("file_uploader",) if p == UI / "display" / "melody.py" else ()  # melodies arrive as MIDI files
        found = [word for word in IMAGE_ONLY if word in code and word not in allowed]
        assert not found, (p.name, found)


def test_ui_modules_stay_readable_in_one_sitting():
    for p in MODULES:
        assert len(p.read_text().splitlines()) <= 300, p


def test_a_state_key_reads_its_default_and_a_factory_stores_its_value(monkeypatch):
    import streamlit as st

    from ui.state import Key

    store = {}
    monkeypatch.setattr(st, "session_state", store)

    class Box:
        count = Key(default=0)
        notes = Key("_notes", factory=list)

    box = Box()
    assert box.count == 0 and "count" not in store
    box.notes.append("hi")
    assert store["_notes"] == ["hi"]
    box.count = 3
    assert store["count"] == 3
    del box.count
    assert box.count == 0
