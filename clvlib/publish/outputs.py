"""Saving the paper's figures and tables with one style and stable names.

Figures go to ``paper/figures/fig_<id>.{png,pdf}``, tables to ``paper/tables/tab_<id>.{csv,md,tex}``.
Files are written to a temporary name and renamed, so an interrupted run leaves no half-written
artefact. PNG and PDF carry no creation timestamp, so reruns give identical files.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: notebooks and make run without a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from clvlib.files import atomic_write  # noqa: E402

__all__ = ["save_figure", "save_table", "set_style"]

_ID = re.compile(r"^[a-z0-9_]+$")


def set_style() -> None:
    """The project's plotting style (seaborn ticks, colour-blind palette, 9 pt)."""
    sns.set_theme(style="ticks", context="paper", palette="colorblind", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 200, "savefig.bbox": "tight", "axes.titlesize": 9})


def _check_id(artefact_id: str) -> None:
    if not _ID.match(artefact_id):
        raise ValueError(f"artefact id {artefact_id!r} must be lower-case letters, digits and underscores")


def save_figure(fig: plt.Figure, artefact_id: str, folder: Path) -> list[Path]:
    """Save ``fig`` as ``fig_<id>.png`` and ``.pdf`` in ``folder``; returns the paths."""
    _check_id(artefact_id)
    meta = {"png": {"Software": None}, "pdf": {"CreationDate": None, "ModDate": None, "Producer": None}}
    return [
        atomic_write(
            Path(folder) / f"fig_{artefact_id}.{ext}", lambda p, e=ext: fig.savefig(p, format=e, metadata=meta[e])
        )
        for ext in ("png", "pdf")
    ]


def save_table(
    table: pd.DataFrame,
    artefact_id: str,
    folder: Path,
    float_format: str = "%.4g",
    formats: tuple[str, ...] = ("csv", "md", "tex"),
) -> list[Path]:
    """Save ``table`` as ``tab_<id>.csv``, ``.md`` and ``.tex`` in ``folder``; returns the paths.

    ``formats=("csv",)`` is for long data tables (one row per step and feature) that no one reads
    as Markdown or LaTeX.
    """
    unknown = set(formats) - {"csv", "md", "tex"}
    if unknown or "csv" not in formats:
        raise ValueError(f"formats must include 'csv' and be among csv, md, tex; got {formats}")
    _check_id(artefact_id)
    folder = Path(folder)
    fmt = float_format.replace("%", "")

    def markdown(p: Path) -> None:
        p.write_text(table.to_markdown(index=False, floatfmt=fmt) + "\n")

    def latex(p: Path) -> None:
        p.write_text(table.to_latex(index=False, float_format=lambda v: float_format % v, escape=True))

    writers = {"csv": lambda p: table.to_csv(p, index=False, float_format=float_format), "md": markdown, "tex": latex}
    return [atomic_write(folder / f"tab_{artefact_id}.{ext}", writers[ext]) for ext in formats]
