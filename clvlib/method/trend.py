"""Trends in anomaly counts: Mann-Kendall test and Theil-Sen slope.

The Mann-Kendall statistic ``S = sum_{i<j} sign(y_j - y_i)`` is tested with the normal
approximation, continuity correction and the variance correction for ties (Kendall 1975), which
matters for small integer counts. The Theil-Sen slope is the median of pairwise slopes
(``scipy.stats.theilslopes``) with its 95 % confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, theilslopes

__all__ = [
    "Trend",
    "counts_per_decade",
    "counts_per_year",
    "decided_years",
    "mann_kendall",
    "trend_table",
    "trend_test",
]


@dataclass(frozen=True)
class Trend:
    """Result of :func:`trend_test`."""

    n: int
    s: int
    tau: float
    z: float
    p_value: float
    slope: float
    slope_low: float
    slope_high: float


def mann_kendall(y: np.ndarray) -> tuple[int, float, float, float]:
    """Mann-Kendall S, Kendall tau-a, z and the two-sided p-value (tie-corrected variance).

    Examples
    --------
    >>> s, tau, z, p = mann_kendall(np.arange(10.0))
    >>> s, tau, round(p, 5)
    (45, 1.0, 8e-05)
    """
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    n = y.size
    if n < 3:
        raise ValueError(f"the Mann-Kendall test needs at least 3 values, got {n}")
    i, j = np.triu_indices(n, k=1)
    s = int(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18.0
    z = 0.0 if s == 0 or var <= 0 else (s - np.sign(s)) / np.sqrt(var)
    return s, s / (n * (n - 1) / 2), float(z), float(2.0 * norm.sf(abs(z)))


def trend_test(y: np.ndarray, x: np.ndarray | None = None) -> Trend:
    """Mann-Kendall test and Theil-Sen slope (per unit of ``x``, default per index) of ``y``."""
    y = np.asarray(y, dtype=float)
    x = np.arange(y.size, dtype=float) if x is None else np.asarray(x, dtype=float)
    s, tau, z, p = mann_kendall(y)
    slope, _, low, high = theilslopes(y, x, alpha=0.95)
    return Trend(
        n=int(np.isfinite(y).sum()),
        s=s,
        tau=float(tau),
        z=z,
        p_value=p,
        slope=float(slope),
        slope_low=float(low),
        slope_high=float(high),
    )


def counts_per_year(
    flags: np.ndarray, time: pd.DatetimeIndex, years: range, decided: set[int] | None = None
) -> pd.Series:
    """Number of flagged steps in each calendar year of ``years`` (zeros included).

    With ``decided`` (the years in which at least one step had a threshold, :func:`decided_years`),
    a year without any decision is NaN, never a calm year with zero anomalies.

    Examples
    --------
    >>> t = pd.DatetimeIndex(["2000-06-01", "2000-07-01", "2002-06-01"])
    >>> counts_per_year(np.array([1, 1, 1], bool), t, range(2000, 2003)).tolist()
    [2, 0, 1]
    >>> counts_per_year(np.array([1, 1, 1], bool), t, range(2000, 2003), decided={2000, 2002}).tolist()
    [2.0, nan, 1.0]
    """
    years_of = pd.DatetimeIndex(time).year
    counts = pd.Series(np.asarray(flags, dtype=int), index=years_of).groupby(level=0).sum()
    counts = counts.reindex(list(years), fill_value=0).rename_axis("year").astype(int)
    if decided is None:
        return counts
    return counts.astype(float).where(counts.index.isin(sorted(decided)))


def decided_years(threshold: np.ndarray, time: pd.DatetimeIndex) -> set[int]:
    """Calendar years in which at least one step has a threshold (a decision).

    Examples
    --------
    >>> decided_years(np.array([np.nan, 1.0, np.nan]), pd.DatetimeIndex(["2000-06-01", "2001-06-01", "2002-06-01"]))
    {2001}
    """
    has = np.isfinite(np.asarray(threshold, dtype=float))
    return {int(y) for y in pd.DatetimeIndex(time).year[has]}


def counts_per_decade(per_year: pd.Series) -> pd.Series:
    """Sum of yearly counts per decade (1951-1960 is labelled 1950s with the 1950 convention: year // 10).

    Years without a decision (NaN) are left out of the sum; a decade with none decided is NaN.
    """
    decade = (per_year.index.to_numpy() // 10) * 10
    return per_year.groupby(decade).sum(min_count=1).rename_axis("decade")


def trend_table(per_year: dict[str, pd.Series]) -> pd.DataFrame:
    """Mann-Kendall and Theil-Sen results (slope per decade) of several yearly count series.

    Years without a decision (NaN, :func:`counts_per_year` with ``decided``) are left out; ``n_years``
    says how many years each test used.

    Examples
    --------
    >>> counts = pd.Series([0, 1, 1, 2, 3, 3, 4, 6], index=range(2000, 2008))
    >>> row = trend_table({"steps": counts}).iloc[0]
    >>> row["series"], int(row["first_year"]), bool(row["p_value"] < 0.01), float(row["slope_per_decade"])
    ('steps', 2000, True, 7.0833)
    """
    rows = []
    for name, series in per_year.items():
        series = series.dropna()  # years without a decision are not calm years: they are left out
        t = trend_test(series.to_numpy(dtype=float), series.index.to_numpy(dtype=float))
        rows.append(
            {
                "series": name,
                "first_year": int(series.index.min()),
                "last_year": int(series.index.max()),
                "n_years": int(series.size),
                "total": float(series.sum()),
                "mann_kendall_s": t.s,
                "kendall_tau": round(t.tau, 4),
                "z": round(t.z, 4),
                "p_value": t.p_value,
                "slope_per_decade": round(10 * t.slope, 4),
                "slope_low_per_decade": round(10 * t.slope_low, 4),
                "slope_high_per_decade": round(10 * t.slope_high, 4),
            }
        )
    return pd.DataFrame(rows)
