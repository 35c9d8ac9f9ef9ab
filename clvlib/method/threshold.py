"""Dynamic thresholds on an anomaly score and the merging of anomalous steps into events.

Peaks over threshold (the paper's rule): in a window of scores, take the ``q`` quantile ``u``,
fit a generalized Pareto distribution (``scipy.stats.genpareto``, location 0) to the
exceedances ``s - u``, and call a score anomalous when its tail probability
``(1 - q) * (1 - GPD.cdf(s - u))`` is below ``alpha``; equivalently, when it exceeds
``u + GPD.ppf(1 - alpha / (1 - q))``.

Unlike the original code, the window is *trailing* by default (a decision never reads scores
after the block it belongs to), and the GPD is fitted once per block of ``block`` positions
rather than once per point. ``centred=True`` reproduces the original's centred window.

With ``calibration > 0`` (SPOT's initial calibration, Siffer et al. 2017) the first ``calibration``
scores, the training period, are fitted once and that threshold applies to all of them; after it,
each block is fitted on the trailing ``max(window, calibration)`` scores before it. Every position
then has a threshold: a trailing window alone leaves the first ``min_history`` positions (the first
three melt seasons of a record) without any decision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import genpareto

__all__ = [
    "PotConfig",
    "gpd_fit",
    "pot_threshold",
    "pot_threshold_per_point",
    "scoped_threshold",
    "sigma_threshold",
    "tail_threshold",
    "to_events",
]


@dataclass(frozen=True)
class PotConfig:
    """Settings of :func:`pot_threshold`.

    Attributes
    ----------
    window : int
        Number of scores in the fitting window.
    block : int
        Positions that share one fit (1 = per point, as the original code).
    quantile : float
        Quantile ``q`` of the window that starts the tail.
    alpha : float
        Tail probability below which a score is anomalous.
    min_history : int
        Fewest scores a trailing window needs; earlier positions get no threshold (NaN).
    centred : bool
        Centre the window on the block (reads the future; reproduces the original).
    calibration : int
        Leading scores fitted once as the initial calibration (0: none, every block trailing).
    """

    window: int = 730
    block: int = 73
    quantile: float = 0.9
    alpha: float = 0.02
    min_history: int = 146
    centred: bool = False
    calibration: int = 0

    def __post_init__(self) -> None:
        if self.calibration < 0 or (self.calibration and self.centred):
            raise ValueError(f"calibration must be >= 0 and is not used with a centred window, got {self.calibration}")
        if not 0.0 < self.alpha < 1.0 - self.quantile:
            raise ValueError(f"alpha must be in (0, 1 - quantile) = (0, {1 - self.quantile:g}), got {self.alpha}")
        if self.block < 1 or self.window < 10 or self.min_history < 10:
            raise ValueError("block must be >= 1, window and min_history >= 10")


def tail_threshold(window_scores: np.ndarray, quantile: float, alpha: float) -> float:
    """Score above which the peaks-over-threshold tail probability is below ``alpha``.

    Examples
    --------
    Exponential scores have a GPD tail with shape 0, so the threshold is close to the
    exact quantile ``-log(alpha)``:

    >>> s = np.random.default_rng(0).exponential(size=20000)
    >>> round(tail_threshold(s, 0.9, 0.01), 1), round(float(-np.log(0.01)), 1)
    (4.6, 4.6)
    """
    finite = window_scores[np.isfinite(window_scores)]
    u = float(np.quantile(finite, quantile))
    excess = finite[finite > u] - u
    if excess.size < 5:
        return u
    shape, scale = gpd_fit(np.ascontiguousarray(excess, dtype=float).tobytes())
    return u + float(genpareto.ppf(1.0 - alpha / (1.0 - quantile), shape, loc=0.0, scale=scale))


@lru_cache(maxsize=65536)
def gpd_fit(excess: bytes) -> tuple[float, float]:
    """Shape and scale of the generalized Pareto distribution (location 0) fitted to ``excess`` (float64 bytes).

    Cached on the exceedances themselves: notebook 04 thresholds the same scores under several
    tail probabilities and periods, and the fit (``scipy.stats.genpareto.fit``, about 50 ms) does
    not depend on ``alpha``, so each distinct window is fitted once and the results are identical.

    Examples
    --------
    >>> shape, scale = gpd_fit(np.random.default_rng(0).exponential(size=5000).tobytes())
    >>> round(shape, 1), round(scale, 1)
    (0.0, 1.0)
    """
    shape, _, scale = genpareto.fit(np.frombuffer(excess, dtype=float), floc=0.0)
    return float(shape), float(scale)


def _window(n: int, start: int, stop: int, config: PotConfig) -> slice | None:
    """Scores used for positions ``start..stop-1``; None when a trailing window is too short."""
    if config.centred:
        centre = (start + stop) // 2
        lo = max(0, min(centre - config.window // 2, n - config.window))
        return slice(lo, min(n, lo + config.window))
    if config.calibration:
        if start < config.calibration:
            return slice(0, min(config.calibration, n)) if config.calibration >= config.min_history else None
        return slice(max(0, start - max(config.window, config.calibration)), start)
    if start < config.min_history:
        return None
    return slice(max(0, start - config.window), start)


def _blocks(n: int, config: PotConfig) -> list[tuple[int, int]]:
    """Position ranges that share one fit: the calibration period as one, then blocks of ``config.block``."""
    first = min(config.calibration, n)
    edges = [0, *range(first, n, config.block), n] if first else [*range(0, n, config.block), n]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def pot_threshold(scores: np.ndarray, config: PotConfig = PotConfig()) -> np.ndarray:
    """Dynamic peaks-over-threshold threshold, one GPD fit per block of positions.

    Parameters
    ----------
    scores : ndarray, shape (n,)
        Anomaly scores in time order.
    config : PotConfig
        Window, block, quantile, alpha, causal or centred.

    Returns
    -------
    ndarray, shape (n,)
        Threshold of each position; NaN where a trailing window has fewer than
        ``config.min_history`` scores (never with a calibration of at least ``min_history`` scores).

    Examples
    --------
    Ten "years" of exponential scores: the trailing rule decides nothing in the first two, the
    calibrated one decides everywhere, with one threshold over the calibration period.

    >>> s = np.random.default_rng(1).exponential(size=500)
    >>> cfg = PotConfig(window=200, block=50, quantile=0.8, alpha=0.1, min_history=100)
    >>> trailing, calibrated = pot_threshold(s, cfg), pot_threshold(s, replace(cfg, calibration=300))
    >>> int(np.isnan(trailing).sum()), int(np.isnan(calibrated).sum()), len(set(calibrated[:300].round(9)))
    (100, 0, 1)
    """
    scores = np.asarray(scores, dtype=float)
    out = np.full(scores.shape, np.nan)
    for start, stop in _blocks(scores.size, config):
        window = _window(scores.size, start, stop, config)
        if window is not None:
            out[start:stop] = tail_threshold(scores[window], config.quantile, config.alpha)
    return out


def pot_threshold_per_point(scores: np.ndarray, config: PotConfig = PotConfig()) -> np.ndarray:
    """Reference implementation: one GPD fit per point (the original code's cost), same windows as ``block=1``."""
    scores = np.asarray(scores, dtype=float)
    out = np.full(scores.shape, np.nan)
    for t in range(scores.size):
        window = _window(scores.size, t, t + 1, replace(config, calibration=0))
        if window is not None:
            out[t] = tail_threshold(scores[window], config.quantile, config.alpha)
    return out


def sigma_threshold(scores: np.ndarray, window: int = 730, k: float = 3.0, min_history: int = 146) -> np.ndarray:
    """Trailing mean + ``k`` standard deviations of the previous ``window`` scores (comparison rule).

    Examples
    --------
    >>> thr = sigma_threshold(np.r_[np.zeros(200), 1.0, np.zeros(5)], window=200, k=3.0, min_history=10)
    >>> bool(np.isnan(thr[5])), float(thr[200]), round(float(thr[201]), 3)
    (True, 0.0, 0.217)
    """
    s = pd.Series(np.asarray(scores, dtype=float))
    past = s.shift(1).rolling(window, min_periods=min_history)
    return (past.mean() + k * past.std(ddof=0)).to_numpy()


def to_events(anomalous: np.ndarray, time: pd.DatetimeIndex, scores: np.ndarray) -> pd.DataFrame:
    """Merge consecutive anomalous steps into events.

    Returns
    -------
    pandas.DataFrame
        Columns event_id, start, end (first and last anomalous step), peak_time, peak_score, n_steps.

    Examples
    --------
    >>> t = pd.date_range("2000-01-01", periods=6, freq="5D")
    >>> ev = to_events(np.array([0, 1, 1, 0, 0, 1], bool), t, np.arange(6.0))
    >>> ev[["start", "end", "n_steps", "peak_score"]].astype(str).values.tolist()
    [['2000-01-06', '2000-01-11', '2', '2.0'], ['2000-01-26', '2000-01-26', '1', '5.0']]
    """
    flag = np.asarray(anomalous, dtype=bool)
    padded = np.concatenate([[False], flag, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    rows = []
    for i, (a, b) in enumerate(zip(edges[::2], edges[1::2], strict=True), start=1):
        peak = a + int(np.argmax(scores[a:b]))
        rows.append((i, time[a], time[b - 1], time[peak], float(scores[peak]), int(b - a)))
    return pd.DataFrame(rows, columns=["event_id", "start", "end", "peak_time", "peak_score", "n_steps"])


def scoped_threshold(
    scores: np.ndarray, scope: np.ndarray, config: PotConfig = PotConfig(), calibration: np.ndarray | None = None
) -> np.ndarray:
    """Peaks-over-threshold threshold computed on the in-scope scores only (NaN elsewhere).

    The in-scope scores (for example the melt-season steps) are taken in time order as one
    series, the threshold is fitted on it with :func:`pot_threshold`, and mapped back. A winter
    step can then neither be flagged nor inflate the tail of the summer distribution. With
    ``calibration`` (True for the leading steps of the calibration period, e.g. the training
    years), its in-scope steps are the initial calibration (``PotConfig.calibration``).

    Examples
    --------
    >>> s = np.arange(20.0)
    >>> thr = scoped_threshold(s, s % 2 == 0, PotConfig(window=10, block=5, min_history=10, quantile=0.5, alpha=0.1))
    >>> int(np.isfinite(thr).sum()), bool(np.isnan(thr[1::2]).all())
    (0, True)
    """
    scope = np.asarray(scope, dtype=bool)
    if calibration is not None:
        config = replace(config, calibration=int((np.asarray(calibration, dtype=bool) & scope).sum()))
    out = np.full(np.shape(scores), np.nan)
    out[scope] = pot_threshold(np.asarray(scores, dtype=float)[scope], config)
    return out
