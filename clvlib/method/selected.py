"""The committed outcome of ``make select``: which configuration is ``best`` and which attribution is recommended.

:mod:`clvlib.pipeline.selection` writes these tables (on tuning seeds that are never reported); notebooks 03 and 05
read them here, without importing the selection machinery, so that editing it does not rerun them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["SELECTION", "read_selection", "read_attribution_selection"]

#: Where ``make select`` writes the selection tables (committed: they are the provenance of ``best``).
SELECTION = Path(__file__).resolve().parents[2] / "paper" / "selection"


def read_selection(folder: Path | None = None) -> pd.DataFrame:
    """The committed selection summary (``selection.csv``), or an error saying how to rebuild it."""
    path = Path(folder or SELECTION) / "selection.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the selection of the best configuration is missing; rebuild it with "
            "`make select` (tens of minutes) or restore it from git"
        )
    return pd.read_csv(path)


def read_attribution_selection(folder: Path | None = None) -> pd.DataFrame:
    """The committed attribution selection (``attribution_selection.csv``), or an error saying how to rebuild it."""
    path = Path(folder or SELECTION) / "attribution_selection.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the selection of the recommended attribution is missing; rebuild it with "
            "`make select` or restore it from git"
        )
    return pd.read_csv(path)
