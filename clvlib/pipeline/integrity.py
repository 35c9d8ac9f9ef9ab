"""Before ``make`` decides what is current: find stage outputs that are missing, truncated or edited.

An executed notebook (``build/notebooks/<stage>_<dataset>.ipynb``) is ``make``'s record that a
stage ran. Its data outputs (features, clusters, model weights, scores) carry checksum files
(:func:`clvlib.files.atomic_write` with ``checksum=True``) and its tables and figures are hashed in
``paper/manifest.json``. When any of them is missing or does not match, the executed notebook is
removed, so ``make`` runs that stage (and the stages after it) again instead of using a broken file.

Standard library only; the Makefile runs it with the system Python::

    python3 clvlib/pipeline/integrity.py --root . --notebooks build/notebooks
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the package from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from clvlib.errors import ChecksumError  # noqa: E402
from clvlib.files import verify_checksum  # noqa: E402
from clvlib.pipeline.stages import stage_outputs  # noqa: E402

__all__ = ["STAGE_OUTPUTS", "data_problems", "invalidate", "main", "manifest_problems"]

#: Data files each stage writes, relative to the project root ({ds}: data set): from the stage table.
STAGE_OUTPUTS: dict[str, tuple[str, ...]] = stage_outputs()


def _stem(notebook: str, dataset: str | None) -> str:
    return notebook if dataset is None else f"{notebook}_{dataset}"


def data_problems(root: Path, notebooks: Path) -> dict[str, str]:
    """Executed notebooks whose data outputs are missing or do not match their checksums.

    Returns
    -------
    dict
        ``{notebook stem: reason}``.
    """
    problems: dict[str, str] = {}
    for executed in sorted(Path(notebooks).glob("[0-9][0-9]_*_*.ipynb")):
        stage, _, dataset = executed.stem.rpartition("_")
        for pattern in STAGE_OUTPUTS.get(stage, ()):
            try:
                verify_checksum(Path(root) / pattern.format(ds=dataset))
            except ChecksumError as err:
                problems.setdefault(executed.stem, str(err))
    return problems


def manifest_problems(root: Path, notebooks: Path) -> dict[str, str]:
    """Executed notebooks whose registered tables or figures are missing or changed since they were saved."""
    path = Path(root) / "paper" / "manifest.json"
    if not path.exists():
        return {}
    from clvlib.files import sha256

    problems: dict[str, str] = {}
    for entry in json.loads(path.read_text())["artefacts"].values():
        stem = _stem(entry["notebook"], entry.get("dataset"))
        if not (Path(notebooks) / f"{stem}.ipynb").exists():
            continue
        for output, digest in entry["outputs"].items():
            file = Path(root) / output
            if not file.exists():
                problems.setdefault(stem, f"{output} is missing")
            elif sha256(file) != digest:
                problems.setdefault(stem, f"{output} changed since {stem} saved it")
    return problems


def invalidate(root: Path, notebooks: Path) -> list[str]:
    """Remove the executed notebooks of stages with a broken output; return one message per stage."""
    problems = {**manifest_problems(root, notebooks), **data_problems(root, notebooks)}
    for stem in problems:
        (Path(notebooks) / f"{stem}.ipynb").unlink(missing_ok=True)
    return [f"{stem} will run again: {reason}" for stem, reason in sorted(problems.items())]


def main(argv: list[str] | None = None) -> None:
    """Command line: print what will be rebuilt and why."""
    parser = argparse.ArgumentParser(description="Invalidate stages whose outputs are broken.")
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--notebooks", type=Path, default=Path("build/notebooks"))
    args = parser.parse_args(argv)
    for line in invalidate(args.root, args.notebooks):
        print(line, file=sys.stderr)  # stderr: make's $(shell) passes it through to the terminal


if __name__ == "__main__":
    main()
