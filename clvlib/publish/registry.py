"""The registry of the paper's artefacts: every table and figure is saved through it.

``Registry.figure`` and ``Registry.table`` write the files (through :mod:`clvlib.publish.outputs`) and add
an entry to ``paper/manifest.json``: id, kind, caption, notebook, data set, parameters, seed,
profile, SHA-256 of the inputs and of every output file, git commit and package versions. The
manifest is updated under a file lock (two notebooks may run side by side) and replaced
atomically. No artefact exists without an entry: :func:`check_manifest` lists files that have none
or whose hash does not match.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from filelock import FileLock

from clvlib.availability import NotAvailable
from clvlib.files import atomic_write, sha256
from clvlib.publish.outputs import save_figure, save_table

__all__ = ["PACKAGES", "Registry", "check_manifest", "git_commit", "package_versions", "read_manifest"]

PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scipy",
    "xarray",
    "torch",
    "scikit-learn",
    "xgboost",
    "shap",
    "matplotlib",
    "seaborn",
    "papermill",
    "jupytext",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers and figures."""
    return {name: version(name) for name in PACKAGES}


def git_commit(root: Path) -> str:
    """Commit of the project (``+dirty`` when tracked files differ from it); ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


@contextmanager
def _locked(path: Path):
    """Exclusive lock on ``path`` (created if needed) for the duration of the block (``filelock``, any OS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


def read_manifest(paper: Path) -> dict:
    """The manifest under ``paper`` (an empty one when there is none yet)."""
    path = Path(paper) / "manifest.json"
    if not path.exists():
        return {"artefacts": {}}
    return json.loads(path.read_text())


@dataclass
class Registry:
    """Saves a notebook's artefacts and records their provenance.

    Parameters
    ----------
    root : Path
        Project root; artefacts go to ``paper/figures`` and ``paper/tables``.
    notebook : str
        Notebook name, e.g. ``04_detect``.
    dataset : str or None
        Data set, None for a notebook that compares data sets.
    parameters : dict
        The notebook's parameters (profile and seed included).
    inputs : list of Path
        Files the notebook read; their SHA-256 go into every entry.
    """

    root: Path
    notebook: str
    dataset: str | None
    parameters: dict
    inputs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._input_hashes = {self._relative(p): sha256(Path(p)) for p in self.inputs}
        self._commit = git_commit(Path(__file__).resolve().parents[2])  # the code's commit, wherever the outputs go
        self._versions = package_versions()

    @property
    def paper(self) -> Path:
        """``paper/`` under the root."""
        return self.root / "paper"

    def _relative(self, path: Path) -> str:
        path = Path(path).resolve()
        try:
            return str(path.relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def figure(self, fig: plt.Figure | NotAvailable, artefact_id: str, caption: str) -> list[Path]:
        """Save ``fig`` as ``fig_<id>.png`` and ``.pdf`` and record it (the notebook still shows it).

        A :class:`~clvlib.availability.NotAvailable` result is printed and nothing is saved.
        """
        if isinstance(fig, NotAvailable):
            print(f"fig_{artefact_id}: {fig!r}")
            return []
        paths = save_figure(fig, artefact_id, self.paper / "figures")
        self._record(f"fig_{artefact_id}", "figure", caption, paths)
        return paths

    def table(
        self,
        table: pd.DataFrame | NotAvailable,
        artefact_id: str,
        caption: str,
        float_format: str = "%.4g",
        formats: tuple[str, ...] = ("csv", "md", "tex"),
        show: tuple[str, ...] = (),
    ) -> list[Path]:
        """Save ``table`` as ``tab_<id>`` in ``formats`` and record it.

        ``show`` is the order in which the report shows a long table's rows (columns, ``-`` for largest
        first; :func:`clvlib.publish.report.display_rows`); the files keep the table's own order.
        A :class:`~clvlib.availability.NotAvailable` result is printed and nothing is saved.
        """
        if isinstance(table, NotAvailable):
            print(f"tab_{artefact_id}: {table!r}")
            return []
        paths = save_table(table, artefact_id, self.paper / "tables", float_format=float_format, formats=formats)
        self._record(f"tab_{artefact_id}", "table", caption, paths, show)
        return paths

    def _record(self, key: str, kind: str, caption: str, paths: list[Path], show: tuple[str, ...] = ()) -> None:
        if not caption.strip():
            raise ValueError(f"{key} needs a caption")
        entry = {
            "id": key,
            "kind": kind,
            "caption": caption,
            "notebook": self.notebook,
            "dataset": self.dataset,
            "parameters": self.parameters,
            "seed": self.parameters.get("seed"),
            "profile": self.parameters.get("profile"),
            "inputs": self._input_hashes,
            "outputs": {self._relative(p): sha256(p) for p in paths},
            "git_commit": self._commit,
            "packages": self._versions,
        } | ({"show": list(show)} if show else {})
        manifest_path = self.paper / "manifest.json"
        with _locked(self.paper / ".manifest.lock"):
            manifest = read_manifest(self.paper)
            manifest["artefacts"][key] = entry
            manifest["artefacts"] = dict(sorted(manifest["artefacts"].items()))
            atomic_write(manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n"))


def check_manifest(paper: Path) -> list[str]:
    """Problems of the registry: files without an entry, entries whose file is missing or changed.

    Returns
    -------
    list of str
        One line per problem; empty when every file in ``figures/`` and ``tables/`` is recorded
        with its current hash.
    """
    paper = Path(paper)
    manifest = read_manifest(paper)
    recorded = {}
    for entry in manifest["artefacts"].values():
        recorded.update(entry["outputs"])
    root = paper.parent
    problems = []
    for folder in ("figures", "tables"):
        for path in sorted((paper / folder).glob("*")):
            if path.name.startswith("."):
                continue
            rel = str(path.relative_to(root))
            if rel not in recorded:
                problems.append(f"{rel}: not in paper/manifest.json (saved without the registry)")
            elif sha256(path) != recorded[rel]:
                problems.append(f"{rel}: its SHA-256 differs from the manifest (changed after it was saved)")
    for rel in recorded:
        if not (root / rel).exists():
            problems.append(f"{rel}: in the manifest but missing")
    return problems
