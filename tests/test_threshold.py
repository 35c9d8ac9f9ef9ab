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


def test_calibrated_threshold_decides_everywhere_and_is_causal_after_the_calibration():
    s = _scores(4)
    cfg = PotConfig(window=200, block=10, min_history=50, quantile=0.9, alpha=0.01, calibration=150)
    thr = pot_threshold(s, cfg)
    assert np.isfinite(thr).all() and np.unique(thr[:150]).size == 1
    assert np.isnan(pot_threshold(s, SMALL)[:50]).all()  # the trailing rule decides nothing before min_history
    changed = s.copy()
    changed[300:] *= 10.0
    np.testing.assert_array_equal(thr[:300], pot_threshold(changed, cfg)[:300])  # never reads later scores
    inside = s.copy()
    inside[:150] *= 3.0  # the calibration period is what the first fit reads
    assert pot_threshold(inside, cfg)[0] > 2.0 * thr[0]


def test_calibration_shorter_than_min_history_gives_no_decision_rather_than_a_bad_fit():
    cfg = PotConfig(window=200, block=10, min_history=50, quantile=0.9, alpha=0.01, calibration=30)
    assert np.isnan(pot_threshold(_scores(5), cfg)[:30]).all()


@pytest.mark.parametrize("years", [70, 10])
def test_false_alarm_rate_on_event_free_years_is_near_nominal(years):
    """Synthetic years without any injected event, the trivial score: the calibrated rule flags about alpha
    (0.1, DEFAULT_POT) of the melt-season steps of the held-out and training years alike."""
    from clvlib.config import PreprocessConfig
    from clvlib.method.baselines import mean_square_z
    from clvlib.method.detection import DetectConfig, detect
    from clvlib.method.evaluation import melt_season
    from clvlib.method.preprocess import preprocess
    from clvlib.synthetic.generator import SyntheticConfig, generate
    from clvlib.variables import dataset_variables

    first = 2021 - years + 1
    climate = generate(11, SyntheticConfig(start=f"{first}-01-01"), inject_events=False)
    features = preprocess(
        climate.era5, dataset_variables("era5"), PreprocessConfig(dataset="era5", first_year=first), source="calm"
    ).features
    time = pd.DatetimeIndex(features["time"].values)
    train_end = str(time[features["is_train"].values][-1].date())
    detection = detect(mean_square_z(features["za"].values), time, DetectConfig(calibration_end=train_end))
    scope = melt_season(time)
    assert np.isfinite(detection["threshold"].to_numpy()[scope]).all()  # every melt-season step has a decision
    rate = detection["anomaly"].to_numpy()[scope].mean()
    assert 0.1 / 1.5 < rate < 0.1 * 1.5, rate
