"""Comparisons of the two data sets (notebook 07): rankings side by side and stacked result tables."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from clvlib.availability import NotAvailable
from clvlib.variables import ERA5_TO_GEMB

__all__ = ["stack_validation", "GEMB_TO_ERA5", "plot_side_by_side", "side_by_side", "stack"]

GEMB_TO_ERA5: dict[str, str] = {v: k for k, v in ERA5_TO_GEMB.items()}


def side_by_side(era5: pd.DataFrame, gemb: pd.DataFrame) -> pd.DataFrame:
    """Driver rankings of both data sets on one row per physical variable.

    GEMB variables with an ERA5 counterpart (albedo and fal, shf and sshf, ...) share a row;
    variables of only one data set have an empty other side.

    Examples
    --------
    >>> e = pd.DataFrame({"feature": ["t2m", "fal"], "mean_delta": [2.0, 1.0], "rank": [1, 2]})
    >>> g = pd.DataFrame({"feature": ["albedo", "refreeze"], "mean_delta": [3.0, 1.0], "rank": [1, 2]})
    >>> side_by_side(e, g)[["variable", "era5_rank", "gemb_feature", "gemb_rank"]].values.tolist()
    [['t2m', 1.0, nan, nan], ['fal', 2.0, 'albedo', 1.0], ['refreeze', nan, 'refreeze', 2.0]]
    """
    a = era5[["feature", "mean_delta", "rank"]].rename(
        columns={"feature": "era5_feature", "mean_delta": "era5_mean_delta", "rank": "era5_rank"}
    )
    b = gemb[["feature", "mean_delta", "rank"]].rename(
        columns={"feature": "gemb_feature", "mean_delta": "gemb_mean_delta", "rank": "gemb_rank"}
    )
    a["variable"] = a["era5_feature"]
    b["variable"] = b["gemb_feature"].map(lambda f: GEMB_TO_ERA5.get(f, f))
    out = a.merge(b, on="variable", how="outer")
    out = out.sort_values(["era5_rank", "gemb_rank"], na_position="last", kind="stable").reset_index(drop=True)
    return out[
        ["variable", "era5_feature", "era5_rank", "era5_mean_delta", "gemb_feature", "gemb_rank", "gemb_mean_delta"]
    ]


def plot_side_by_side(table: pd.DataFrame) -> plt.Figure:
    """Mean delta per variable, ERA5-like and GEMB-like panels on the same rows."""
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 0.24 * len(table) + 1.2), sharey=True)
    y = np.arange(len(table))
    labels = [
        v if isinstance(g, float) or g == v else f"{v} / {g}"
        for v, g in zip(table["variable"], table["gemb_feature"], strict=True)
    ]
    for ax, ds, colour in zip(axes, ("era5", "gemb"), ("C0", "C1"), strict=True):
        ax.barh(y, table[f"{ds}_mean_delta"].fillna(0.0), color=colour)
        for yi, rank in zip(y, table[f"{ds}_rank"], strict=True):
            if np.isnan(rank):
                ax.text(0, yi, " (not a feature)", va="center", fontsize=6, color="grey")
        ax.axvline(0, color="black", lw=0.6)
        ax.set(title=f"{ds.upper()}-like", xlabel="mean counterfactual delta")
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    fig.suptitle("Drivers of the detected anomalies, side by side (rows: ERA5 order)", fontsize=9)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def stack(
    folder: Path, table_id: str, datasets: tuple[str, ...] = ("era5", "gemb"), query: str | None = None
) -> pd.DataFrame:
    """Rows of ``tab_<table_id>_<dataset>.csv`` of each data set, with a ``dataset`` column first.

    Raises
    ------
    FileNotFoundError
        Naming the missing table and the notebook that writes it.
    """
    parts = []
    for ds in datasets:
        path = Path(folder) / f"tab_{table_id}_{ds}.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the notebooks for data set {ds!r} first (make paper)")
        part = pd.read_csv(path)
        if query:
            part = part.query(query)
        parts.append(part.drop(columns="dataset", errors="ignore").assign(dataset=ds))
    out = pd.concat(parts, ignore_index=True)
    return out[["dataset"] + [c for c in out.columns if c != "dataset"]]


def stack_validation(
    folder: Path, table_id: str, kinds: dict[str, str], query: str | None = None, columns: list[str] | None = None
) -> pd.DataFrame | NotAvailable:
    """:func:`stack` of a validation table, which a data set without its reference does not write.

    ``kinds`` maps each data set to the kind of its input (``features.nc``'s ``source_kind``). A
    missing table of the synthetic default is an error (:func:`stack` raises); a data set from
    real files without the table makes the comparison not available. ``columns`` selects columns
    (``dataset`` first) of the stacked table.
    """
    missing = [
        d
        for d, kind in kinds.items()
        if kind != "synthetic" and not (Path(folder) / f"tab_{table_id}_{d}.csv").exists()
    ]
    if missing:
        return NotAvailable(
            f"{', '.join(missing)} (from real files) has no tab_{table_id}: no reference to validate against"
        )
    out = stack(folder, table_id, tuple(kinds), query=query)
    return out if columns is None else out[columns]
