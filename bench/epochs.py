"""Benchmark: does each CLV configuration need its full training? Detection quality against epochs, tuning seeds only.

Issue 13 asks whether every model needs its full training before any is shortened. This trains the
``paper`` configuration for 40, 20 and 10 epochs and ``best`` for 40 and 20 on the tuning seeds of
the embedded default (never the reported seeds 0, 4 and 6), with the criterion and code of the
selection (:func:`clvlib.pipeline.selection.evaluate_candidates`: PR-AUC, event recall and precision on the
melt-season steps of the training years, the held-out year never looked at), and writes one row per
seed, data set and candidate or baseline::

    .venv/bin/python bench/epochs.py [--seeds 1,2,3] [--out bench/epochs_runs.csv]   # ~10 min on 2 cores

It changes nothing in the pipeline: the paired differences it prints (shorter minus 40 epochs, per
seed and data set) are the evidence a later change of the configurations' epochs would rest on.
The two data sets run side by side, one thread each.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from clvlib.config import TUNING_SEEDS  # noqa: E402
from clvlib.method.model import CLVConfig  # noqa: E402
from clvlib.pipeline import selection  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: The configurations and training lengths compared (``best`` is ``paper`` on the melt-season windows).
CANDIDATES: tuple[selection.Candidate, ...] = (
    selection.Candidate("paper, 40 epochs", CLVConfig.paper()),
    selection.Candidate("paper, 20 epochs", CLVConfig(epochs=20)),
    selection.Candidate("paper, 10 epochs", CLVConfig(epochs=10)),
    selection.Candidate("best, 40 epochs", CLVConfig.best()),
    selection.Candidate("best, 20 epochs", replace(CLVConfig.best(), epochs=20)),
)

#: Pairs (shorter, full) whose per-run PR-AUC difference is reported.
PAIRS: tuple[tuple[str, str], ...] = (
    ("paper, 20 epochs", "paper, 40 epochs"),
    ("paper, 10 epochs", "paper, 40 epochs"),
    ("best, 20 epochs", "best, 40 epochs"),
)


def runs_of(dataset: str, seeds: tuple[int, ...]) -> pd.DataFrame:
    """Rows of :func:`clvlib.pipeline.selection.evaluate_candidates` for one data set over ``seeds``."""
    import torch

    torch.set_num_threads(1)
    rows = []
    for seed, name, features, truth in selection.tuning_sets(list(seeds), [dataset], 1951, f"{dataset}, tuning seeds"):
        table = selection.evaluate_candidates(features, truth, CANDIDATES, seed, max_epochs=40, progress=False)
        rows.append(table.assign(seed=seed, dataset=name))
    return pd.concat(rows, ignore_index=True)


def paired_differences(runs: pd.DataFrame, pairs: tuple[tuple[str, str], ...] = PAIRS) -> pd.DataFrame:
    """Per pair: mean and spread of the PR-AUC difference over the (seed, data set) runs, and its sign count.

    Examples
    --------
    >>> runs = pd.DataFrame({"method": ["a", "b", "a", "b"], "seed": [1, 1, 2, 2],
    ...                      "dataset": ["era5"] * 4, "pr_auc": [0.7, 0.6, 0.8, 0.75]})
    >>> paired_differences(runs, (("a", "b"),)).values.tolist()
    [['a', 'b', 0.075, 0.0354, 2, 2]]
    """
    wide = runs.pivot_table(index=["seed", "dataset"], columns="method", values="pr_auc")
    rows = []
    for shorter, full in pairs:
        diff = wide[shorter] - wide[full]
        rows.append(
            {
                "shorter": shorter,
                "full": full,
                "pr_auc_difference_mean": round(float(diff.mean()), 4),
                "pr_auc_difference_std": round(float(diff.std(ddof=1)), 4),
                "runs_higher": int((diff > 0).sum()),
                "n_runs": int(diff.notna().sum()),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=",".join(map(str, TUNING_SEEDS)))
    parser.add_argument("--datasets", default="era5,gemb")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "epochs_runs.csv")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    if set(seeds) - set(TUNING_SEEDS):
        parser.error(f"seeds {sorted(set(seeds) - set(TUNING_SEEDS))} are not tuning seeds {TUNING_SEEDS}")
    datasets = args.datasets.split(",")
    with ProcessPoolExecutor(max_workers=len(datasets)) as pool:
        runs = pd.concat(list(pool.map(runs_of, datasets, [seeds] * len(datasets))), ignore_index=True)
    runs.round(4).to_csv(args.out, index=False)
    metrics = ["pr_auc", "event_recall", "event_precision"]
    print(runs.groupby(["method", "dataset"])[metrics].mean().round(3).unstack("dataset").to_string())
    print(paired_differences(runs).to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
