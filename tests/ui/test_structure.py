"""The ui package's structure: one typed home for session state, no import circles, modules small, and
only the image display module knowing that the data are images."""
from __future__ import annotations

import ast


from import_graph import circle, imports, module_name
from tiny import ROOT

UI = ROOT / "ui"
MODULES = sorted(p for p in UI.rglob("*.py"))


def test_the_ui_modules_import_each_other_without_a_circle():
    known = {module_name(p) for p in MODULES}
    graph = {module_name(p): {m for m in imports(p, known) if m in known and m != module_name(p)} for p in MODULES}
    found = circle(graph)
    assert found is None, "import circle: " + " -> ".join(found or [])


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
