"""Benchmark: block-fitted peaks-over-threshold threshold against the per-point GPD fit.

Runs on a fresh clone (seeded gamma scores with a seasonal cycle, 71 years x 73 five-day steps):

    python bench/threshold.py [--repeats 3] [--reference-steps 1200]

:func:`clvlib.method.threshold.pot_threshold` (one GPD fit per block of positions) runs on the whole
series; the per-point reference :func:`clvlib.method.threshold.pot_threshold_per_point` (one fit per
position, the original code's cost) runs once on the first ``reference-steps`` steps. Both windows
are trailing (causal), so the reference's thresholds there are exactly those of a full run.
Speeds are positions with a threshold per second; the agreement is measured on the shared positions.
"""

from __future__ import annotations

import argparse

import numpy as np

from clvlib.method.threshold import PotConfig, gpd_fit, pot_threshold, pot_threshold_per_point
from clvlib.testing.benchmark import figure, format_table, timed


def seasonal_scores(n_time: int = 71 * 73, seed: int = 0) -> np.ndarray:
    """Seeded anomaly-score stand-in: gamma noise scaled by a seasonal cycle, a few spikes."""
    rng = np.random.default_rng(seed)
    season = 1.0 + 0.5 * np.sin(2 * np.pi * np.arange(n_time) / 73)
    scores = rng.gamma(2.0, 1.0, n_time) * season
    scores[rng.choice(n_time, n_time // 100, replace=False)] += rng.uniform(5, 15, n_time // 100)
    return scores


def _uncached(fn):
    """``fn()`` with every GPD fit computed, none served from :func:`clvlib.method.threshold.gpd_fit`'s cache."""
    gpd_fit.cache_clear()
    return fn()


def run(repeats: int = 3, reference_steps: int = 1200) -> list[dict]:
    """Speed and agreement rows (see the module docstring)."""
    scores, config = seasonal_scores(), PotConfig()
    block_times = [timed(lambda: _uncached(lambda: pot_threshold(scores, config)))[0] for _ in range(repeats)]
    block = pot_threshold(scores, config)
    ref_time, ref = timed(lambda: _uncached(lambda: pot_threshold_per_point(scores[:reference_steps], config)))
    fitted = np.isfinite(ref)
    ours_speed = np.isfinite(block).sum() / np.median(block_times)
    ref_speed = fitted.sum() / ref_time
    rel = np.abs(block[:reference_steps][fitted] / ref[fitted] - 1.0)
    same = (scores[:reference_steps] > block[:reference_steps])[fitted] == (scores[:reference_steps] > ref)[fitted]
    return [
        figure(
            f"block-fitted POT threshold (block {config.block}, median of {repeats})",
            ours_speed,
            "positions/s",
            f"per-point GPD fit, same windows, {fitted.sum()} positions",
            ref_speed,
            target=">= 20x",
        ),
        figure("threshold: max |block - per point| / per point", float(rel.max()), "relative"),
        figure("threshold: median |block - per point| / per point", float(np.median(rel)), "relative"),
        figure("anomaly decisions identical to the per-point fit", float(same.mean()), "fraction of positions"),
        figure(
            "whole series, block-fitted",
            float(np.median(block_times)),
            "s",
            f"per-point fit, extrapolated to {np.isfinite(block).sum()} positions",
            float(np.isfinite(block).sum() / ref_speed),
            higher_is_better=False,
        ),
    ]


def main() -> None:
    """Command line: print the rows as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-steps", type=int, default=1200)
    args = parser.parse_args()
    print(format_table(run(args.repeats, args.reference_steps)))


if __name__ == "__main__":
    main()
