"""The committed outcome of ``make select``: which configuration is ``best`` and which attribution is recommended.

:mod:`clvlib.pipeline.selection` writes these tables (on tuning seeds that are never reported); notebooks 03 and 05
read them here, without importing the selection machinery, so that editing it does not rerun them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["SELECTION", "read_selection", "read_attribution_selection", "read_search", "search_summary"]

#: Where ``make select`` writes the selection tables (committed: they are the provenance of ``best``).
SELECTION = Path(__file__).resolve().parents[2] / "paper" / "selection"


def _committed(folder: Path | None, name: str, what: str, rebuild: str) -> pd.DataFrame:
    """The committed table ``name`` under ``folder`` (the checkout's by default), or how to rebuild it."""
    path = Path(folder or SELECTION) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} is missing; rebuild it with {rebuild} or restore it from git")
    return pd.read_csv(path)


def read_selection(folder: Path | None = None) -> pd.DataFrame:
    """The committed selection summary (``selection.csv``), or an error saying how to rebuild it."""
    return _committed(folder, "selection.csv", "the selection of the best configuration", "`make select` (an hour)")


def read_attribution_selection(folder: Path | None = None) -> pd.DataFrame:
    """The committed attribution selection (``attribution_selection.csv``), or an error saying how to rebuild it."""
    return _committed(
        folder, "attribution_selection.csv", "the selection of the recommended attribution", "`make select`"
    )


def read_search(folder: Path | None = None) -> pd.DataFrame:
    """The committed trials of the Optuna search (``search_trials.csv``), or an error saying how to rebuild it."""
    return _committed(folder, "search_trials.csv", "the table of the search's trials", "`make search` (an hour)")


def search_summary(trials: pd.DataFrame) -> pd.DataFrame:
    """The search's trials as a reader wants them: the mean PR-AUC overall and per world, the settings in words.

    Examples
    --------
    >>> trials = pd.DataFrame({"trial": [2], "name": ["best"], "kind": ["trial"], "state": ["complete"],
    ...     "pr_auc": [0.7], "score": ["gaussian"], "latent_dim": [5], "epochs": [10], "learning_rate": [0.001],
    ...     "batch_size": [64], "kl_weight": [0.001], "dropout": [0.5], "window": [15], "train_months": ["all"]})
    >>> search_summary(trials)["settings"].item()
    'gaussian score, latent 5, 10 epochs, lr 0.001, batch 64, KL 0.001, dropout 0.5, window 15, all months'
    """

    def words(row: pd.Series) -> str:
        if row["kind"] != "trial":
            return ""
        return (
            f"{row['score']} score, latent {int(row['latent_dim'])}, {int(row['epochs'])} epochs, "
            f"lr {row['learning_rate']:.2g}, batch {int(row['batch_size'])}, KL {row['kl_weight']:.2g}, "
            f"dropout {row['dropout']:.2g}, window {int(row['window'])}, {row['train_months']} months"
        )

    keep = ["trial", "name", "kind", "state", *[c for c in trials.columns if c.startswith("pr_auc")]]
    return trials[keep].assign(settings=trials.apply(words, axis=1))
