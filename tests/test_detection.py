"""From scores to detections: threshold rules, events, comparison tables, a planted anomaly end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.errors import InputDataError
from clvlib.method.baselines import IsolationForestScore, max_abs_z, mean_square_z
from clvlib.method.clustering import CorrelationClusterer, load_clusters, save_clusters
from clvlib.method.detection import (
    DetectConfig,
    comparison_table,
    detect,
    detected_events,
    detection_by_kind,
    extremes_row,
    match_events,
    recall_by_type,
    threshold,
)
from clvlib.method.evaluation import melt_season
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.scores import read_scores, write_scores
from clvlib.method.validation import VALIDATION_TABLES, validation_tables


def _time(years: int = 12) -> pd.DatetimeIndex:
    """A 5-day axis, 73 steps per year (the last step of each year 5 or 6 days)."""
    return pd.DatetimeIndex(
        [pd.Timestamp(f"{2000 + y}-01-01") + pd.Timedelta(days=5 * s) for y in range(years) for s in range(73)]
    )


def _scores(seed: int = 0, years: int = 12) -> tuple[pd.DatetimeIndex, np.ndarray]:
    time = _time(years)
    return time, np.random.default_rng(seed).gamma(2.0, 1.0, len(time))


def test_out_of_scope_steps_are_never_flagged():
    time, s = _scores()
    s[~melt_season(time)] += 100.0  # huge winter scores
    d = detect(s, time, DetectConfig())
    assert not d["anomaly"][~melt_season(time)].any()
    assert d["anomaly"].sum() > 0


def test_rules_and_unknown_rule():
    time, s = _scores()
    cfg = DetectConfig()
    pot, centred, sigma = (threshold(s, time, cfg, r) for r in ("pot", "pot_centred", "sigma"))
    scope = melt_season(time)
    assert np.isfinite(centred[scope]).all()  # the centred window always has data
    assert np.isnan(pot[scope][: cfg.pot.min_history]).all() and np.isfinite(pot[scope][cfg.pot.min_history :]).all()
    assert np.isfinite(sigma[scope][cfg.pot.min_history :]).all()
    with pytest.raises(ValueError, match="unknown threshold rule"):
        threshold(s, time, cfg, "median")


def test_comparison_rows_share_the_same_steps():
    time, s = _scores()
    ref = pd.DataFrame({"start": time[[400, 500]], "end": time[[400, 500]], "type": ["a", "b"], "event_id": [1, 2]})
    table = comparison_table(
        {"a": s, "b": s[::-1].copy()},
        time,
        np.full(len(time), 5),
        ref,
        DetectConfig(),
        rules=("pot", "sigma", "pot_centred"),
    )
    assert len(table) == 6 and table["n_steps"].nunique() == 1
    assert set(table["threshold"]) == {"pot", "sigma", "pot_centred"}


def test_events_intensity_extremes_and_matching():
    time, s = _scores()
    peak = 73 * 6 + 40  # July of the seventh year
    s[peak] = 60.0  # one step far in the tail
    assert melt_season(time[[peak]])[0]
    cfg = DetectConfig()
    events = detected_events(detect(s, time, cfg), cfg)
    assert (events["intensity"] > 1.0).all()
    top = events.loc[events["peak_score"].idxmax()]
    assert top["peak_time"] == time[peak] and top["extreme"]
    assert events["extreme"].sum() < len(events)
    ref = pd.DataFrame(
        {
            "event_id": [7, 8],
            "type": ["heat", "rain"],
            "start": [time[peak], time[10]],
            "end": [time[peak] + pd.Timedelta("2D"), time[10]],
        }
    )
    matched = match_events(events, ref)
    assert matched.loc[matched["peak_time"] == time[peak], "reference_ids"].iloc[0] == "7"
    rec = recall_by_type(ref, events).set_index("type")
    assert rec.loc["heat", "recall"] == 1.0 and rec.loc["rain", "recall"] == 0.0 and rec.loc["all", "n_events"] == 2
    row = extremes_row(events, 2000, 2011)
    assert row["n_events"] == len(events) and row["n_extreme"] == int(events["extreme"].sum())


@pytest.mark.slow
def test_a_planted_anomaly_is_flagged_by_the_trained_clv():
    time = _time(8)
    rng = np.random.default_rng(0)
    t = np.arange(len(time))
    a, b = np.sin(2 * np.pi * t / 73), np.cos(2 * np.pi * t / 19)
    x = (np.stack([a, 0.8 * a, -a, b, 0.5 * b], axis=1) + 0.1 * rng.normal(size=(len(t), 5))).astype(np.float32)
    target = int(np.flatnonzero((time.year == 2006) & (time.month == 7))[2])
    planted = x.copy()
    planted[target, :3] += 3.0
    model = ClusterLSTMVAE(
        [[0, 1, 2], [3, 4]],
        CLVConfig(epochs=25, batch_size=32, learning_rate=3e-3, patience=25),
        random_state=0,
        progress=False,
    ).fit(x[: 73 * 6])
    d = detect(model.decision_function(planted), time, DetectConfig())
    assert d["anomaly"].iloc[target]
    assert d["anomaly"].sum() <= 0.15 * melt_season(time).sum()


def test_isolation_forest_and_z_baselines_rank_a_planted_outlier_first():
    x = np.random.default_rng(0).normal(size=(500, 6))
    x[123, 2] = 8.0
    for score in (
        IsolationForestScore(random_state=0).fit(x[:400]).decision_function(x),
        max_abs_z(x),
        mean_square_z(x),
    ):
        assert int(np.argmax(score)) == 123


def test_scores_round_trip(tmp_path):
    time, s = _scores(years=4)
    d = detect(s, time, DetectConfig())
    errors = np.random.default_rng(0).random((len(time), 3))
    cfg = DetectConfig()
    events = detected_events(d, cfg)
    first = events.iloc[0]
    ref = pd.DataFrame({"event_id": [85], "type": ["heat"], "start": [first["start"]], "end": [first["end"]]})
    events = match_events(events, ref)
    write_scores(d, errors, ("a", "b", "c"), events, tmp_path)
    ds, ev = read_scores(tmp_path)
    assert ev["reference_ids"].iloc[0] == "85" and ev["reference_ids"].iloc[-1] == ""  # text, not float
    np.testing.assert_array_equal(ds["score"].values, s)
    np.testing.assert_array_equal(ds["errors"].values, errors)
    assert (ds["anomaly"].values.astype(bool) == d["anomaly"].to_numpy()).all()
    assert len(ev) == len(events) and (ds["event_id"].values > 0).sum() == int(events["n_steps"].sum())
    assert not list(tmp_path.glob(".*tmp"))


def test_clusters_written_for_other_features_are_refused(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 4))
    clusterer = CorrelationClusterer(n_clusters=2, random_state=0).fit(x, ("a", "b", "c", "d"))
    path = save_clusters(clusterer, tmp_path / "clusters.json")
    assert load_clusters(path, ("a", "b", "c", "d")) == clusterer.groups()
    with pytest.raises(InputDataError, match="rerun notebook 02"):
        load_clusters(path, ("a", "b", "c", "e"))


def test_validation_tables_find_planted_events_on_shared_steps():
    time, s = _scores(years=12)
    scope = np.flatnonzero(melt_season(time))
    planted = scope[np.arange(200, len(scope), 40)]  # in-scope steps after the threshold has history
    s[planted] += 25.0
    truth = pd.DataFrame(
        {
            "event_id": np.arange(1, len(planted) + 1),
            "type": ["heat", "rain"] * (len(planted) // 2) + ["heat"] * (len(planted) % 2),
            "start": time[planted],
            "end": time[planted],
        }
    )
    cfg = DetectConfig(calibration_end="2010-12-31")  # calibrated on the training years, 2011 held out
    detection = detect(s, time, cfg)
    events = match_events(detected_events(detection, cfg), truth)
    scores = {"CLV": s, "noise": np.random.default_rng(5).gamma(2.0, 1.0, len(time))}
    tables = validation_tables(scores, detection, events, time, np.full(len(time), 5), truth, cfg, test_year=2011)
    assert tuple(tables) == VALIDATION_TABLES
    truth_table = tables["detection_truth"].set_index(["method", "threshold"])
    assert len(truth_table) == 5  # both methods under pot, the CLV under the three comparison rules
    steps = truth_table["n_steps"]
    assert steps.loc[("CLV", "pot")] == steps.loc[("noise", "pot")] == int(melt_season(time).sum())  # all decided
    assert steps.loc[("CLV", "pot_trailing")] == steps.loc[("CLV", "sigma")] < steps.loc[("CLV", "pot")]
    rules = tables["threshold_rules"].set_index("threshold")
    assert rules.loc["pot", "n_undecided"] == 0 < rules.loc["pot_trailing", "n_undecided"]
    assert rules["n_steps"].nunique() == 1 and rules.loc["pot", "event_recall"] == 1.0
    assert (
        truth_table.loc[("CLV", "pot"), "event_recall"] == 1.0
        and truth_table.loc[("noise", "pot"), "event_recall"] < 0.5
    )
    assert tables["recall_by_type"].set_index("type").loc["all", "recall"] == 1.0
    by_kind = tables["detection_by_kind"].set_index(["method", "kind"])  # no kind column: amplitude events
    assert set(by_kind.index.get_level_values("kind")) == {"all", "amplitude"}
    assert by_kind.loc[("CLV", "amplitude"), "event_recall"] == 1.0

    sens = tables["alpha_sensitivity"]
    assert list(sens["alpha"]) == [0.02, 0.05, 0.1, 0.15] and sens["n_detected_events"].is_monotonic_increasing
    assert list(tables["scope_effect"]["scope"]) == ["whole year", "melt season"]
    held = tables["detection_test_year"].set_index("method")
    assert held.loc["CLV", "n_reference_events"] == int((time[planted].year == 2011).sum())


def test_detection_by_kind_separates_what_a_score_sees():
    """A score that sees only the amplitude events: full recall on them, none on the coupling breaks."""
    time = pd.date_range("1990-01-01", periods=1460, freq="5D")
    july = np.flatnonzero((time.month == 7) & (time.year >= 2000))
    amplitude, coupling = july[::6][:6], july[3::6][:6]
    truth = pd.DataFrame(
        {
            "event_id": np.arange(1, 13),
            "type": ["warm"] * 6 + ["dry_warm"] * 6,
            "kind": ["amplitude"] * 6 + ["coupling"] * 6,
            "start": time[np.r_[amplitude, coupling]],
            "end": time[np.r_[amplitude, coupling]],
        }
    )
    s = np.random.default_rng(3).gamma(2.0, 1.0, len(time))
    s[amplitude] += 30.0
    table = detection_by_kind({"size": s}, time, np.full(len(time), 5), truth, DetectConfig())
    rows = table.set_index("kind")
    assert rows.loc["amplitude", "event_recall"] == 1.0 and rows.loc["amplitude", "pr_auc"] > 0.9
    assert rows.loc["coupling", "event_recall"] <= 0.34 and rows.loc["coupling", "pr_auc"] < 0.2
    assert rows.loc["all", "n_reference_events"] == 12 and rows.loc["coupling", "n_reference_events"] == 6
