"""The threshold rule chosen on the tuning seeds: calibrated on the training years against the trailing window.

Issue 25 asks for the default rule to be the one the tuning seeds show best at an equal false-alarm
rate. The rule does not depend on the detector, so it is compared here on the scores that need no
training (the Mahalanobis distance and mean z², :mod:`clvlib.method.baselines`), on the tuning seeds
1-3 of both synthetic worlds and both data sets (never the reported seeds), over the melt-season
steps of the whole record, with ``clvlib.method.detection.threshold_rules``: steps without a
decision, share of calm steps flagged (nominal 0.1), and event recall and precision on the steps
where both rules decide, plus event recall over every melt-season step (the trailing rule cannot
flag anything in its first three seasons)::

    .venv/bin/python bench/threshold_rules.py [--out bench/threshold_rules_runs.csv]   # ~2 min

The table it writes is committed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.config import TUNING_SEEDS
from clvlib.method.baselines import MahalanobisScore, mean_square_z
from clvlib.method.detection import DetectConfig, detect, threshold_rules
from clvlib.method.evaluation import evaluate, melt_season
from clvlib.pipeline import selection
from clvlib.synthetic.events import WORLDS

ROOT = Path(__file__).resolve().parents[1]
RULES = ("pot", "pot_trailing")


def runs(seeds: tuple[int, ...]) -> pd.DataFrame:
    rows = []
    for world in WORLDS:
        for seed, dataset, features, truth in selection.tuning_sets(list(seeds), ["era5", "gemb"], 1951, world, world):
            time = pd.DatetimeIndex(features["time"].values)
            za, is_train, n_days = features["za"].values, features["is_train"].values, features["n_days"].values
            config = DetectConfig(calibration_end=f"{time[is_train][-1]:%Y-%m-%d}")
            scope = melt_season(time)
            for name, score in (
                ("Mahalanobis", MahalanobisScore().fit(za[is_train]).decision_function(za)),
                ("mean z^2", mean_square_z(za)),
            ):
                table = threshold_rules(score, time, n_days, truth, config, RULES)
                for rule in RULES:
                    d = detect(score, time, config, rule)
                    whole = evaluate(score, d["anomaly"].to_numpy(), time, n_days, truth, scope)
                    table.loc[table["threshold"] == rule, "event_recall_all_steps"] = whole.event_recall
                rows.append(table.assign(world=world, seed=seed, dataset=dataset, score=name))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "threshold_rules_runs.csv")
    args = parser.parse_args()
    table = runs(TUNING_SEEDS)
    columns = [
        "world",
        "seed",
        "dataset",
        "score",
        "threshold",
        "n_undecided",
        "flag_rate",
        "event_recall",
        "event_precision",
        "event_recall_all_steps",
    ]
    table[columns].round(4).to_csv(args.out, index=False)
    summary = table.groupby(["world", "threshold"])[columns[5:]].mean().round(4)
    print(summary.to_string())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
