"""Detection metrics and the melt-record reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.method.evaluation import evaluate, measures_anomalies, melt_season, step_labels


def _steps(n: int = 60, start: str = "2000-05-01"):
    return pd.date_range(start, periods=n, freq="5D"), np.full(n, 5)


def test_metrics_match_a_hand_count():
    time, n_days = _steps(10)
    ref = pd.DataFrame({"start": [time[2], time[7]], "end": [time[3] + pd.Timedelta("4D"), time[7]]})
    flags = np.zeros(10, bool)
    flags[[2, 5]] = True  # one hit of the first event, one false alarm; the second event missed
    score = np.where(flags, 2.0, 0.0) + np.arange(10) * 1e-3
    m = evaluate(score, flags, time, n_days, ref)
    assert m.n_true_steps == 3 and m.n_flagged_steps == 2
    assert m.precision == pytest.approx(0.5) and m.recall == pytest.approx(1 / 3)
    assert m.f1 == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert m.event_recall == pytest.approx(0.5) and m.event_precision == pytest.approx(0.5)
    assert m.n_detected_events == 2 and m.n_reference_events == 2


def test_a_perfect_score_has_pr_auc_one_and_a_random_one_near_the_base_rate():
    time, n_days = _steps(2000)
    rng = np.random.default_rng(0)
    starts = time[rng.choice(2000, 200, replace=False)]
    ref = pd.DataFrame({"start": starts, "end": starts})
    labels = step_labels(time, n_days, ref)
    assert evaluate(labels.astype(float), labels, time, n_days, ref).pr_auc == pytest.approx(1.0)
    noise = evaluate(rng.random(2000), np.zeros(2000, bool), time, n_days, ref).pr_auc
    assert abs(noise - labels.mean()) < 0.05


def test_scope_and_nan_scores_are_excluded():
    time, n_days = _steps(20)
    ref = pd.DataFrame({"start": [time[15]], "end": [time[15]]})
    score = np.arange(20.0)
    score[:5] = np.nan
    scope = np.arange(20) < 12
    m = evaluate(score, score > 100, time, n_days, ref, scope)
    assert m.n_steps == 7 and m.n_reference_events == 0 and np.isnan(m.recall)


def test_melt_season_is_may_to_september():
    time = pd.date_range("2000-01-01", "2000-12-31", freq="5D")
    assert set(time[melt_season(time)].month) == {5, 6, 7, 8, 9}


def test_planted_melt_extent_anomaly_is_found_and_winter_noise_ignored():
    days = pd.date_range("1979-01-01", "2012-12-31", freq="D")
    rng = np.random.default_rng(1)
    season = np.clip(np.sin(np.pi * (days.day_of_year.to_numpy() - 120) / 150), 0, None) * 50_000
    area = season * (1 + 0.1 * rng.normal(size=len(days)))
    area[(days.month == 1)] = rng.uniform(0, 3000, (days.month == 1).sum())  # winter noise
    planted = (days >= "1995-07-10") & (days <= "1995-07-16")
    area[planted] += 40_000
    measures = pd.DataFrame({"date": days, "melt area": area, "interpolated": 0})
    events = measures_anomalies(measures)
    hit = events[(events["start"] <= "1995-07-16") & (events["end"] >= "1995-07-10")]
    assert len(hit) == 1 and hit["peak_excess"].iloc[0] > 30_000
    assert not (events["start"].dt.month == 1).any()


def test_interpolated_days_are_not_evidence():
    days = pd.date_range("1980-01-01", "1989-12-31", freq="D")
    area = np.full(len(days), 10_000.0)
    fake = (days >= "1985-07-10") & (days <= "1985-07-20")
    area[fake] = 90_000.0
    measures = pd.DataFrame({"date": days, "melt area": area, "interpolated": fake.astype(int)})
    assert len(measures_anomalies(measures)) == 0
    assert len(measures_anomalies(measures, exclude_interpolated=False)) == 1


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="melt area"):
        measures_anomalies(pd.DataFrame({"date": [], "extent": []}))
