"""Benchmark: batched counterfactual attribution against the looped reference, same anomalies.

Run after ``make paper`` (it reads the trained ERA5-like model and its anomalies):

    .venv/bin/python bench/attribution.py [--dataset era5] [--repeats 3] [--steps 40]

Prints the median wall time per explained step of each implementation and the speed-ups:
the batched :func:`clvlib.attribution.attribute` against the plain loop over (step, feature)
pairs that rescores the whole series for each pair (run on ``--plain-steps`` steps, it is slow)
and against the loop that rescores only the neighbourhood of the step (``--steps`` steps).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from clvlib.attribution import attribute, attribute_looped, baseline_values
from clvlib.config import Paths
from clvlib.model import ClusterLSTMVAE
from clvlib.scores import read_scores


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="era5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="anomalous steps for the batched and local-loop runs")
    parser.add_argument("--plain-steps", type=int, default=2, help="anomalous steps for the plain loop")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = Paths(args.root)
    features = xr.load_dataset(paths.processed(args.dataset) / "features.nc")
    scores, _ = read_scores(paths.processed(args.dataset))
    model = ClusterLSTMVAE.load(paths.models(args.dataset) / "clv")
    x = features["za"].values
    base = baseline_values(x, pd.DatetimeIndex(features["time"].values), "median")
    anomalous = np.flatnonzero(scores["anomaly"].values.astype(bool))
    steps = anomalous[np.linspace(0, len(anomalous) - 1, min(args.steps, len(anomalous))).astype(int)]
    plain_steps = steps[: args.plain_steps]
    batched = _median_time(lambda: attribute(model, x, steps, base), args.repeats) / len(steps)
    local = _median_time(lambda: attribute_looped(model, x, steps, base, local=True), args.repeats) / len(steps)
    plain = _median_time(lambda: attribute_looped(model, x, plain_steps, base), 1) / len(plain_steps)
    all_batched = _median_time(lambda: attribute(model, x, anomalous, base), args.repeats)
    gap = np.abs(attribute(model, x, plain_steps, base) - attribute_looped(model, x, plain_steps, base)).max()
    print(f"attribution, {args.dataset}: {x.shape[1]} features, 1 thread; times per explained step")
    print(f"  plain loop (rescore series) : {plain * 1e3:9.1f} ms  ({len(plain_steps)} steps, 1 run)")
    print(f"  loop over neighbourhood     : {local * 1e3:9.1f} ms  ({len(steps)} steps, median of {args.repeats})")
    print(f"  batched                     : {batched * 1e3:9.1f} ms  ({len(steps)} steps, median of {args.repeats})")
    print(f"  speed-up vs plain loop      : {plain / batched:9.1f} x  (target >= 20 x)")
    print(f"  speed-up vs neighbourhood   : {local / batched:9.1f} x")
    print(f"  batched vs plain max |diff| : {gap:.2e}")
    print(f"  batched, all {len(anomalous)} anomalous steps: {all_batched:.2f} s")


if __name__ == "__main__":
    main()
