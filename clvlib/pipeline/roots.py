"""A root folder of a chain of notebooks (a project root, as the notebooks expect one): started, resumed, finished.

A root that finished writes ``complete.json`` (its parameters, seconds per notebook, the SHA-256 of its
outputs); :func:`is_complete` checks it, so a rerun skips finished roots. :func:`prepare_root` empties a
root left by other parameters (or half filled) and records the parameters in ``params.json`` once its
starting files are in place; :func:`copy_base` fills a root from a shared one (``make seeds``' base).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from clvlib.files import atomic_write, sha256
from clvlib.publish.registry import git_commit

__all__ = [
    "CLAIMS",
    "HASHED",
    "MARKER",
    "PARAMS",
    "copy_base",
    "is_complete",
    "prepare_root",
    "run_params",
    "write_marker",
]

MARKER, PARAMS, CLAIMS = "complete.json", "params.json", "claims.csv"
#: Folders of a root whose files :func:`write_marker` hashes (``data/raw`` has its own manifest).
HASHED: tuple[str, ...] = ("data/processed", "data/models", "paper", "notebooks")


def run_params(profile: str, seed: int, method: str | None = None) -> dict:
    """The parameters that make a root (``method`` None for the base root of notebooks 01-03)."""
    return {"profile": profile, "seed": seed, "method": method}


def _outputs(root: Path) -> dict[str, str]:
    files = {}
    for folder in HASHED:
        for path in sorted((Path(root) / folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[str(path.relative_to(root))] = sha256(path)
    if (Path(root) / CLAIMS).exists():
        files[CLAIMS] = sha256(Path(root) / CLAIMS)
    return files


def write_marker(root: Path, params: dict, seconds: Mapping[str, float]) -> Path:
    """Record that ``root`` finished: ``complete.json`` with ``params``, seconds per notebook and output hashes."""
    marker = {
        **params,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "git_commit": git_commit(Path(__file__).resolve().parents[2]),
        "outputs": _outputs(root),
    }
    return atomic_write(
        Path(root) / MARKER, lambda p: p.write_text(json.dumps(marker, indent=1, sort_keys=True) + "\n")
    )


def is_complete(root: Path, params: dict) -> bool:
    """Whether ``root`` finished with ``params``: its ``complete.json`` matches and every output it lists is unchanged.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = atomic_write(root / "paper" / "tables" / "tab_a.csv", lambda p: p.write_text("x\\n1\\n"))
    >>> params = run_params("quick", 0, "paper")
    >>> is_complete(root, params)
    False
    >>> _ = write_marker(root, params, {"04_detect_era5": 1.0})
    >>> is_complete(root, params), is_complete(root, run_params("full", 0, "paper"))
    (True, False)
    >>> _ = (root / "paper" / "tables" / "tab_a.csv").write_text("x\\n2\\n")
    >>> is_complete(root, params)
    False
    """
    path = Path(root) / MARKER
    if not path.exists():
        return False
    try:
        marker = json.loads(path.read_text())
    except json.JSONDecodeError:
        return False
    if any(marker.get(k) != v for k, v in params.items()) or not marker.get("outputs"):
        return False
    for rel, digest in marker["outputs"].items():
        file = Path(root) / rel
        if not file.is_file() or sha256(file) != digest:
            return False
    return True


def prepare_root(root: Path, params: dict, fill: Callable[[Path], None] | None = None) -> bool:
    """Make ``root`` a folder for ``params``: a root left by other parameters (or half filled) is emptied first.

    ``fill(root)`` puts the starting files in place (the base's copy); ``params.json`` is written
    after it, so an interrupted copy is started again.

    Returns True when the root was (re)started empty, False when an unfinished run with the same
    parameters is resumed.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / "r"
    >>> prepare_root(root, {"seed": 0}), prepare_root(root, {"seed": 0}), prepare_root(root, {"seed": 1})
    (True, False, True)
    """
    root = Path(root)
    recorded = root / PARAMS
    if recorded.exists() and json.loads(recorded.read_text()) == params:
        return False
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if fill is not None:
        fill(root)
    atomic_write(recorded, lambda p: p.write_text(json.dumps(params, sort_keys=True) + "\n"))
    return True


def copy_base(base: Path, root: Path) -> None:
    """Copy the base root's ``data/`` and ``paper/`` into a method root (``data/raw`` hard-linked: never modified)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(base / "data" / "raw", root / "data" / "raw", copy_function=link_or_copy, dirs_exist_ok=True)
    for folder in ("data/processed", "data/models", "paper"):
        if (base / folder).exists():
            shutil.copytree(base / folder, root / folder, dirs_exist_ok=True)
