"""Benchmark: batched counterfactual attribution against the looped references, same anomalies.

Runs on a fresh clone: unless ``--dataset`` names a built project data set (``make paper``), it
trains a small CLV itself (2 epochs, seeded synthetic series of 71 years x 73 steps x 17 features,
six clusters) and explains the steps with the highest scores:

    python bench/attribution.py [--repeats 3] [--steps 40] [--plain-steps 1] [--dataset era5]

Times are per explained step, median of the repeats (the plain loop runs once): the batched
:func:`clvlib.method.attribution.attribute` against the plain loop over (step, feature) pairs that
rescores the whole series for each pair (``plain-steps`` steps, it is slow) and against the loop
that rescores only the neighbourhood of the step (``steps`` steps). One torch thread.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.method.attribution import attribute, baseline_values
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.testing.attribution_reference import attribute_looped
from clvlib.testing.benchmark import figure, format_table, seasonal_series, timed, torch_threads

CLUSTERS = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10], [11, 12, 13], [14, 15], [16]]


def _synthetic_case() -> tuple[ClusterLSTMVAE, np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """A small model trained on the seeded series, the series, its times and its top-2% steps."""
    x = seasonal_series()
    time = pd.DatetimeIndex(
        [pd.Timestamp(f"{1951 + i // 73}-01-01") + pd.Timedelta(days=5 * (i % 73)) for i in range(len(x))]
    )
    model = ClusterLSTMVAE(CLUSTERS, CLVConfig(epochs=2, patience=3), random_state=0, progress=False).fit(x)
    scores = model.decision_function(x)
    return model, x, time, np.flatnonzero(scores >= np.quantile(scores, 0.98))


def _project_case(root: Path, dataset: str) -> tuple[ClusterLSTMVAE, np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """The trained model, features and anomalous steps of a built project (``make paper``)."""
    import xarray as xr

    from clvlib.config import Paths
    from clvlib.method.scores import read_scores

    paths = Paths(root)
    features = xr.load_dataset(paths.processed(dataset) / "features.nc")
    scores, _ = read_scores(paths.processed(dataset))
    recorded = paths.root / "build" / "method.txt"  # the METHOD of the last make paper
    method = recorded.read_text().strip() if recorded.is_file() else "best"
    model = ClusterLSTMVAE.load(paths.models(dataset) / method)
    return (
        model,
        features["za"].values,
        pd.DatetimeIndex(features["time"].values),
        np.flatnonzero(scores["anomaly"].values.astype(bool)),
    )


def run(
    repeats: int = 3, steps: int = 40, plain_steps: int = 1, dataset: str | None = None, root: Path | None = None
) -> list[dict]:
    """Speed rows (see the module docstring)."""
    with torch_threads(1):
        model, x, time, anomalous = (
            _synthetic_case()
            if dataset is None
            else _project_case(root or Path(__file__).resolve().parents[1], dataset)
        )
        base = baseline_values(x, time, "median")
        chosen = anomalous[np.linspace(0, len(anomalous) - 1, min(steps, len(anomalous))).astype(int)]
        plain_chosen = chosen[:plain_steps]
        batched = np.median([timed(lambda: attribute(model, x, chosen, base))[0] for _ in range(repeats)]) / len(chosen)
        local = np.median(
            [timed(lambda: attribute_looped(model, x, chosen, base, local=True))[0] for _ in range(repeats)]
        ) / len(chosen)
        plain_time, plain = timed(lambda: attribute_looped(model, x, plain_chosen, base))
        gap = float(np.abs(attribute(model, x, plain_chosen, base) - plain).max())
    source = dataset or "seeded synthetic series, model trained here"
    per_step = f"per explained step, {source}, {x.shape[1]} features, 1 thread"
    return [
        figure(
            f"batched attribution ({len(chosen)} steps, median of {repeats})",
            1e3 * batched,
            "ms/step",
            f"plain loop rescoring the series per (step, feature), {len(plain_chosen)} step(s), 1 run",
            1e3 * plain_time / len(plain_chosen),
            higher_is_better=False,
            target=">= 20x",
        ),
        figure(
            f"batched attribution vs neighbourhood loop ({per_step})",
            1e3 * batched,
            "ms/step",
            f"loop rescoring only the neighbourhood of the step, median of {repeats}",
            1e3 * local,
            higher_is_better=False,
        ),
        figure("batched vs plain loop: max |delta difference|", gap, "score units"),
    ]


def main() -> None:
    """Command line: print the rows as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None, help="a built project data set (era5, gemb); default: train here")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="anomalous steps for the batched and local-loop runs")
    parser.add_argument("--plain-steps", type=int, default=1, help="anomalous steps for the plain loop")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    print(format_table(run(args.repeats, args.steps, args.plain_steps, args.dataset, args.root)))


if __name__ == "__main__":
    main()
