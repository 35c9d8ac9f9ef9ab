"""``make bench``'s modules run against the current library (shrunk inputs) and their two implementations agree.

``make bench`` takes about an hour and runs no test, so a renamed method used only by a benchmark
(``ClusterLSTMVAE.score`` became ``decision_function``) went unnoticed until the next bench; these
run each section's ``run`` on a few years instead of 71 (the build section is ``make paper`` itself,
tested end to end elsewhere).
"""

from __future__ import annotations

import math

import pytest

from bench import attribution, threshold, training
from clvlib.testing import benchmark

pytestmark = pytest.mark.slow


@pytest.fixture
def short_series(monkeypatch):
    """The benchmarks' seeded series shortened to six years."""
    full = benchmark.seasonal_series
    for module in (training, attribution):
        monkeypatch.setattr(module, "seasonal_series", lambda n_time=6 * 73, **kw: full(6 * 73, **kw))


def _rows(rows: list[dict]) -> dict[str, dict]:
    assert rows and all(set(r) >= {"figure", "value", "unit", "reference_value", "ratio", "target"} for r in rows)
    return {r["figure"].split(" (")[0].split(",")[0]: r for r in rows}


def test_training_bench_runs_and_batched_scores_equal_looped(short_series):
    rows = _rows(training.run(repeats=1, epochs=1))
    assert rows["training throughput"]["value"] > 0 and rows["training throughput"]["reference_value"] > 0
    assert rows["training throughput"]["target"] == ">= 2x"
    assert rows["scores: max |batched - looped|"]["value"] < 1e-5  # same weights, two implementations


def test_attribution_bench_runs_and_batched_equals_the_plain_loop(short_series):
    rows = _rows(attribution.run(repeats=1, steps=3))
    assert rows["batched attribution"]["value"] > 0 and math.isfinite(rows["batched attribution"]["ratio"])
    assert rows["batched vs plain loop: max |delta difference|"]["value"] < 1e-6


def test_threshold_bench_runs_and_the_block_fit_matches_the_per_point_fit():
    rows = _rows(threshold.run(repeats=1, reference_steps=400))
    assert rows["block-fitted POT threshold"]["value"] > 0
    assert rows["threshold: median |block - per point| / per point"]["value"] < 0.05
    assert rows["anomaly decisions identical to the per-point fit"]["value"] >= 0.99
