"""The package's shape: subpackages by concern, an explicit public API, one error module, no cycles."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import clvlib
import clvlib.errors

PACKAGE = Path(clvlib.__file__).parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
TOP_LEVEL = {"availability", "config", "errors", "files", "variables"}
SUBPACKAGES = {"io", "method", "pipeline", "publish", "synthetic", "testing"}


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _clvlib_imports(path: Path) -> list[ast.ImportFrom]:
    return [
        n
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[0] == "clvlib"
    ]


def test_the_top_level_holds_only_the_shared_modules_and_the_subpackages():
    files = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert files == TOP_LEVEL
    assert folders == SUBPACKAGES


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: _dotted(p))
def test_every_package_init_is_a_documented_map_that_imports_nothing(init):
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree) and len(ast.get_docstring(tree)) > 100
    assert [type(n).__name__ for n in tree.body] == ["Expr"]  # the docstring only: make's rules stay narrow


@pytest.mark.parametrize("path", MODULES, ids=_dotted)
def test_every_module_declares_its_public_names(path):
    module = importlib.import_module(_dotted(path))
    assert isinstance(module.__all__, list) and module.__all__
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    private = [name for name in module.__all__ if name.startswith("_")]
    assert not missing and not private, (missing, private)


def test_no_file_imports_another_modules_private_names():
    root = PACKAGE.parent
    files = [*MODULES, *root.glob("notebooks/*.py"), *root.glob("tests/*.py"), *root.glob("bench/*.py")]
    found = [
        (str(f.relative_to(root)), n.module, a.name)
        for f in files
        for n in _clvlib_imports(f)
        for a in n.names
        if a.name.startswith("_")
    ]
    assert found == []


def test_every_error_class_lives_in_clvlib_errors_under_one_base():
    defined = {}
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Terminated")):
                defined[node.name] = _dotted(path)
    assert set(defined.values()) == {"clvlib.errors"}
    errors = [getattr(clvlib.errors, name) for name in clvlib.errors.__all__]
    assert all(issubclass(e, clvlib.errors.ClvlibError) for e in errors if e is not clvlib.errors.RunTerminated)
    assert issubclass(clvlib.errors.RunTerminated, KeyboardInterrupt)
    assert not issubclass(clvlib.errors.RunTerminated, Exception)  # a stop request is not caught as an error


def test_the_modules_import_each_other_without_cycles():
    graph = {_dotted(p): {n.module for n in _clvlib_imports(p)} for p in MODULES}
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", " -> ".join((*path, name))
        state[name] = "open"
        for other in graph.get(name, ()):
            visit(other, (*path, name))
        state[name] = "done"

    for name in graph:
        visit(name, ())


def test_the_method_does_not_import_the_publishing_or_the_pipeline():
    for path in (PACKAGE / "method").glob("*.py"):
        for node in _clvlib_imports(path):
            assert not node.module.startswith(("clvlib.pipeline", "clvlib.publish")), (path.name, node.module)


# --- layers (issue 27) -----------------------------------------------------------------------------------

#: Layers from the bottom up: a module imports only from its own subpackage and from lower layers;
#: ``method`` and ``io`` share a layer and import neither each other; ``testing`` may import anything.
LAYERS: dict[str, int] = {
    "availability": 0,
    "config": 0,
    "errors": 0,
    "files": 0,
    "variables": 0,
    "method": 1,
    "io": 1,
    "synthetic": 2,
    "publish": 3,
    "pipeline": 4,
    "testing": 5,
}


def layer_violations(files: dict[str, str]) -> list[str]:
    """Imports against :data:`LAYERS` in ``{dotted module name: source}``, as "importer -> imported"."""
    found = []
    for name, source in files.items():
        own = name.split(".")[1]
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clvlib.")):
                continue
            other = node.module.split(".")[1]
            if own == other or own == "testing":
                continue
            if LAYERS[other] > LAYERS[own] or (LAYERS[other] == LAYERS[own] and LAYERS[own] > 0):
                found.append(f"{name} -> {node.module}")
    return found


def test_every_module_imports_only_its_own_subpackage_and_the_layers_below():
    assert set(LAYERS) == TOP_LEVEL | SUBPACKAGES
    assert layer_violations({_dotted(p): p.read_text() for p in MODULES}) == []


def test_the_layer_check_catches_a_planted_wrong_way_import():
    planted = {
        "clvlib.method.fake": "from clvlib.synthetic.events import EVENT_TYPES\n",
        "clvlib.io.fake": "from clvlib.method.preprocess import preprocess\n",
        "clvlib.publish.fake": "from clvlib.method.model import CLVConfig\n",  # allowed: publish is above method
    }
    assert layer_violations(planted) == [
        "clvlib.method.fake -> clvlib.synthetic.events",
        "clvlib.io.fake -> clvlib.method.preprocess",
    ]


def test_every_name_imported_from_a_clvlib_module_is_in_its_public_names():
    root = PACKAGE.parent
    files = [*MODULES, *root.glob("notebooks/*.py"), *root.glob("tests/*.py"), *root.glob("bench/*.py")]
    wrong = []
    for f in files:
        for node in _clvlib_imports(f):
            module = importlib.import_module(node.module)
            public = getattr(module, "__all__", None)
            if public is None:  # a package: names imported from it are its modules
                continue
            wrong += [f"{f.relative_to(root)}: {node.module}.{a.name}" for a in node.names if a.name not in public]
    assert wrong == []
