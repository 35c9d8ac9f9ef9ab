"""Which ``clvlib`` modules each notebook imports, directly or through other modules (for ``make``).

``make`` includes ``build/deps.mk``, written by this module: first the rules of the stage table
(:func:`clvlib.pipeline.stages.makefile_rules`: ``NOTEBOOKS``, ``METHOD_STAGES``, each executed
notebook's source, earlier stages and inputs), then each executed notebook's module files, so that
editing one module reruns only the notebooks that import it (and, through the chain of executed
notebooks, what depends on their outputs). It reads the sources with :mod:`ast` and needs only the
standard library, so the Makefile runs it with the system Python as a script::

    python3 clvlib/pipeline/deps.py --out build/deps.mk
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the package from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from clvlib.pipeline.stages import DATASETS  # noqa: E402
from clvlib.pipeline.stages import makefile_rules as stage_rules

__all__ = [
    "DATASETS",
    "PACKAGE",
    "closure",
    "imported_modules",
    "main",
    "makefile_rules",
    "module_file",
    "module_graph",
    "notebook_modules",
]

PACKAGE = "clvlib"


def imported_modules(source: str) -> set[str]:
    """Dotted names (below ``clvlib``) of what ``source`` imports from the package.

    ``from clvlib.a import b`` gives both ``a`` and ``a.b``: ``b`` may be a module or a name defined
    in ``a``; :func:`closure` keeps only the names that are files.

    Examples
    --------
    >>> sorted(imported_modules("import clvlib.method.model\\nfrom clvlib.io.era5 import sniff\\n"
    ...                         "from clvlib.method import trend\\nfrom clvlib import config\\nimport numpy"))
    ['config', 'io.era5', 'io.era5.sniff', 'method', 'method.model', 'method.trend']
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.partition(".")[2] for a in node.names if a.name.startswith(f"{PACKAGE}.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                found |= {a.name for a in node.names}
            elif node.module.startswith(f"{PACKAGE}."):
                below = node.module.partition(".")[2]
                found |= {below} | {f"{below}.{a.name}" for a in node.names}
    return found


def module_graph(package: Path) -> dict[str, set[str]]:
    """Direct ``clvlib`` imports of every module file of the package, keyed by dotted name.

    A subpackage's ``__init__.py`` is keyed by the subpackage's name (``method``), the package's own
    by ``__init__``.
    """
    graph: dict[str, set[str]] = {}
    for path in sorted(Path(package).rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"
        graph[name] = imported_modules(path.read_text())
    return graph


def module_file(name: str, graph: dict[str, set[str]]) -> str:
    """The file of the dotted module ``name`` relative to the package folder.

    Examples
    --------
    >>> module_file("method.model", {"method": set(), "method.model": set()})
    'method/model.py'
    >>> module_file("method", {"method": set(), "method.model": set()})
    'method/__init__.py'
    >>> module_file("__init__", {})
    '__init__.py'
    """
    if name == "__init__":
        return "__init__.py"
    if any(other.startswith(f"{name}.") for other in graph):
        return f"{name.replace('.', '/')}/__init__.py"
    return f"{name.replace('.', '/')}.py"


def closure(modules: set[str], graph: dict[str, set[str]]) -> set[str]:
    """``modules``, every package above them and everything they import, transitively.

    Python runs the ``__init__`` of every package above a module it imports, so those count too
    (``__init__`` is the package's own).

    Examples
    --------
    >>> graph = {"a": {"b.c"}, "b": set(), "b.c": {"d"}, "d": set(), "e": set()}
    >>> sorted(closure({"a"}, graph))
    ['__init__', 'a', 'b', 'b.c', 'd']
    """
    seen: set[str] = {"__init__"}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
            parent = name.rpartition(".")[0]
            if parent:
                todo.append(parent)
    return seen


def notebook_modules(notebook: Path, graph: dict[str, set[str]]) -> list[str]:
    """Sorted dotted modules (existing files only) that ``notebook`` depends on."""
    return sorted(m for m in closure(imported_modules(Path(notebook).read_text()), graph) if m in graph)


def makefile_rules(notebooks: Path, package: Path, target_dir: str = "build/notebooks") -> str:
    """Make rules: the stage table's rules, then the module files each executed notebook imports.

    A notebook with a dataset parameter gives one target per data set (``<stem>_<dataset>.ipynb``);
    ``07_compare`` gives one.
    """
    graph = module_graph(package)
    lines = [
        "# The stages (clvlib/pipeline/stages.py): the notebooks and what each executed notebook needs.",
        *stage_rules(target_dir),
        "# Written by clvlib/pipeline/deps.py: the clvlib modules each notebook imports (directly or not).",
    ]
    for nb in sorted(Path(notebooks).glob("[0-9][0-9]_*.py")):
        deps = " ".join(f"{package.name}/{module_file(m, graph)}" for m in notebook_modules(nb, graph))
        targets = (
            [f"{target_dir}/{nb.stem}.ipynb"]
            if nb.stem == "07_compare"
            else [f"{target_dir}/{nb.stem}_{d}.ipynb" for d in DATASETS]
        )
        lines += [f"{t}: {deps}" for t in targets]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line: write the rules to ``--out`` (only when they change, so make need not re-read)."""
    parser = argparse.ArgumentParser(description="Write build/deps.mk for make.")
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    parser.add_argument("--package", type=Path, default=Path(PACKAGE))
    parser.add_argument("--out", type=Path, default=Path("build/deps.mk"))
    args = parser.parse_args(argv)
    text = makefile_rules(args.notebooks, args.package)
    if not args.out.exists() or args.out.read_text() != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(f".{args.out.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, args.out)
    else:
        os.utime(args.out)  # up to date: mark it checked so make does not run this again


if __name__ == "__main__":
    main()
