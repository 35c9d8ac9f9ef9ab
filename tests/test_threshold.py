"""Dynamic threshold: causal, block fit agrees with per-point fit, planted anomalies exceed it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.method.threshold import PotConfig, pot_threshold, pot_threshold_per_point, sigma_threshold, to_events

SMALL = PotConfig(window=200, block=10, min_history=50, quantile=0.9, alpha=0.01)


def _scores(seed: int = 0, n: int = 400) -> np.ndarray:
    return np.random.default_rng(seed).gamma(2.0, 1.0, n)


@pytest.mark.slow
def test_block_fit_agrees_with_per_point_reference():
    s = _scores()
    per_point = pot_threshold_per_point(s, SMALL)
    same_windows = pot_threshold(s, PotConfig(window=200, block=1, min_history=50, alpha=0.01))
    np.testing.assert_allclose(same_windows, per_point, rtol=1e-12, equal_nan=True)
    blocked = pot_threshold(s, SMALL)
    ok = np.isfinite(per_point)
    assert np.array_equal(np.isfinite(blocked), ok)
    assert np.median(np.abs(blocked[ok] / per_point[ok] - 1.0)) < 0.05
    assert ((s > blocked)[ok] == (s > per_point)[ok]).mean() > 0.97


@pytest.mark.parametrize("rule", ["pot", "sigma"])
def test_causal_threshold_never_reads_the_future(rule):
    s = _scores(1)
    changed = s.copy()
    changed[300:] *= 10.0
    if rule == "pot":
        a, b = pot_threshold(s, SMALL), pot_threshold(changed, SMALL)
    else:
        a, b = sigma_threshold(s, 200, 3.0, 50), sigma_threshold(changed, 200, 3.0, 50)
    np.testing.assert_array_equal(a[:300], b[:300])
    assert not np.allclose(a[310:], b[310:], equal_nan=True)


def test_centred_window_reads_the_future():
    s = _scores(2)
    changed = s.copy()
    changed[300:] *= 10.0
    cfg = PotConfig(window=200, block=10, min_history=50, alpha=0.01, centred=True)
    assert not np.allclose(pot_threshold(s, cfg)[200:300], pot_threshold(changed, cfg)[200:300])


def test_planted_anomaly_exceeds_the_threshold():
    s = _scores(3)
    s[[250, 251, 330]] += 15.0
    thr = pot_threshold(s, SMALL)
    flagged = s > thr
    assert flagged[[250, 251, 330]].all() and flagged.mean() < 0.05
    events = to_events(flagged, pd.date_range("2000-01-01", periods=s.size, freq="5D"), s)
    assert {250, 330} <= {int((e - pd.Timestamp("2000-01-01")).days // 5) for e in events["start"]}


def test_alpha_is_validated():
    with pytest.raises(ValueError, match="alpha"):
        PotConfig(quantile=0.9, alpha=0.2)


def test_cached_gpd_fit_equals_scipy_and_serves_every_alpha():
    from scipy.stats import genpareto

    from clvlib.method.threshold import gpd_fit

    excess = np.random.default_rng(3).pareto(4.0, size=200)
    shape, _, scale = genpareto.fit(excess, floc=0.0)
    assert gpd_fit(excess.tobytes()) == (shape, scale)
    scores = np.random.default_rng(4).gamma(2.0, size=900)
    gpd_fit.cache_clear()
    low = pot_threshold(scores, PotConfig(alpha=0.02))
    fits = gpd_fit.cache_info().misses
    high = pot_threshold(scores, PotConfig(alpha=0.05))
    assert gpd_fit.cache_info().misses == fits and fits > 0  # the second alpha refits nothing
    assert np.all((low > high) | np.isnan(low))
