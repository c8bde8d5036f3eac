"""scripts/browser.py: the one module that drives the app in a browser, shared by the e2e tests and the
browser benchmarks, all importing it as a package module (no sys.path edits)."""
import ast
import socket

from tiny import ROOT

from scripts import browser

USERS = ["scripts/benchmark.py", "scripts/loadtest.py", "scripts/bench_map.py", "tests/e2e/conftest.py",
         "tests/e2e/make_screenshot.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "e2e").glob("test_*.py"))]


def _imports_browser(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module == "scripts.browser" or
                                                 (node.module == "scripts" and any(a.name == "browser" for a in node.names))):
            return True
    return False


def test_the_browser_scripts_and_e2e_tests_import_the_one_module():
    for name in USERS:
        assert _imports_browser(ast.parse((ROOT / name).read_text())), f"{name} does not import scripts.browser"
    assert not (ROOT / "tests" / "e2e" / "helpers.py").exists()


def _edits_sys_path(tree: ast.AST) -> bool:
    def is_sys_path(n):
        return isinstance(n, ast.Attribute) and n.attr == "path" and isinstance(n.value, ast.Name) and n.value.id == "sys"

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_sys_path(node.value):  # sys.path.insert(...), .append(...)
            return True
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(is_sys_path(t) or (isinstance(t, ast.Subscript) and is_sys_path(t.value)) for t in targets):
                return True
    return False


def test_the_edit_detector_sees_each_kind_of_edit():
    for code in ("sys.path.insert(0, 'x')", "sys.path.append('x')", "sys.path = []", "sys.path += ['x']",
                 "sys.path[:0] = ['x']"):
        assert _edits_sys_path(ast.parse(code)), code
    assert not _edits_sys_path(ast.parse("print(sys.executable, sys.argv)"))


def test_no_sys_path_edits_in_the_tests_or_the_browser_scripts():
    files = sorted((ROOT / "tests").rglob("*.py")) + [ROOT / n for n in USERS if n.startswith("scripts/")]
    files.append(ROOT / "scripts" / "browser.py")
    edits = [str(f.relative_to(ROOT)) for f in files if _edits_sys_path(ast.parse(f.read_text()))]
    assert edits == [], f"sys.path edited in {edits}: pytest.ini's pythonpath and the installed package cover imports"


def test_root_is_the_repository_and_a_free_port_is_free():
    assert (browser.ROOT / "app.py").is_file() and browser.ROOT == ROOT
    port = browser.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nothing holds it
