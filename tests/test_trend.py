"""Mann-Kendall and Theil-Sen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from clvlib.method.trend import counts_per_decade, counts_per_year, mann_kendall, trend_table


def test_mann_kendall_matches_kendall_tau_without_ties():
    y = np.random.default_rng(0).normal(size=40) + 0.03 * np.arange(40)
    s, tau, z, p = mann_kendall(y)
    ref = kendalltau(np.arange(40), y, method="asymptotic")
    assert tau == pytest.approx(ref.statistic)
    # scipy has no continuity correction; the two p-values differ only slightly
    assert p == pytest.approx(ref.pvalue, rel=0.05)


def test_increasing_counts_are_significant_and_flat_noise_is_not():
    rng = np.random.default_rng(1)
    years = np.arange(1951, 2021)
    rising = pd.Series(rng.poisson(1 + 0.08 * (years - 1951)), index=years)
    flat = pd.Series(rng.poisson(3, size=years.size), index=years)
    table = trend_table({"rising": rising, "flat": flat}).set_index("series")
    assert table.loc["rising", "p_value"] < 0.001 and table.loc["rising", "slope_per_decade"] > 0.4
    assert table.loc["flat", "p_value"] > 0.05
    assert table.loc["rising", "slope_low_per_decade"] <= table.loc["rising", "slope_per_decade"]


def test_ties_reduce_the_variance():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1, 2, 1, 2, 2])
    s, _, z, _ = mann_kendall(y)
    n = y.size
    untied = (s - 1) / np.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    assert z > untied > 0


def test_counts_per_year_and_decade():
    time = pd.DatetimeIndex(["1955-06-01", "1955-07-01", "1969-06-01", "1970-06-01"])
    per_year = counts_per_year(np.array([1, 1, 0, 1], bool), time, range(1951, 1971))
    assert per_year.loc[1955] == 2 and per_year.loc[1969] == 0 and per_year.sum() == 3
    assert counts_per_decade(per_year).to_dict() == {1950: 2, 1960: 0, 1970: 1}


def test_too_short_series_is_an_error():
    with pytest.raises(ValueError, match="at least 3"):
        mann_kendall(np.array([1.0, 2.0]))
