"""Counterfactual attribution: batched = looped, a planted driver ranks first, baselines, aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.attribution import (
    attribute, attribute_looped, baseline_values, event_ranking, overall_ranking, tidy, top_k_stability,
)
from clvlib.model import CLVConfig, ClusterLSTMVAE

N = 73 * 8


def _time(n: int = N) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(f"{2000 + i // 73}-01-01") + pd.Timedelta(days=5 * (i % 73)) for i in range(n)])


def _series(seed: int = 0, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a, b = np.sin(2 * np.pi * t / 73), np.cos(2 * np.pi * t / 19)
    return (np.stack([a, 0.8 * a, -a, b, 0.5 * b], axis=1) + 0.1 * rng.normal(size=(n, 5))).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    cfg = CLVConfig(epochs=25, batch_size=32, learning_rate=3e-3, patience=25)
    return ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=0, progress=False).fit(_series()[: 73 * 6])


@pytest.mark.parametrize("kind", ["median", "zero"])
def test_batched_and_looped_agree(model, kind):
    x = _series(1)
    base = baseline_values(x, _time(), kind)
    steps = np.array([0, 3, 14, 200, 300, N - 15, N - 1])
    batched = attribute(model, x, steps, base, chunk=50)
    np.testing.assert_allclose(batched, attribute_looped(model, x, steps, base), atol=1e-6)
    np.testing.assert_allclose(batched[:3], attribute_looped(model, x, steps[:3], base, local=True), atol=1e-6)


def test_planted_driver_ranks_first_and_an_untouched_feature_is_near_zero(model):
    x = _series(2)
    t = 73 * 7 + 40
    x[t, 1] += 4.0
    deltas = attribute(model, x, np.array([t]), baseline_values(x, _time(), "median"))[0]
    assert int(np.argmax(deltas)) == 1
    assert abs(deltas[4]) < 0.1 * deltas[1]


def test_yearly_median_uses_each_calendar_year_of_the_data_passed_in():
    time = _time()
    x = np.random.default_rng(0).normal(size=(N, 2))
    base = baseline_values(x, time, "median")
    for year in (2000, 2003, 2007):
        sel = time.year == year
        np.testing.assert_allclose(base[sel], np.broadcast_to(np.median(x[sel], axis=0), base[sel].shape))
    changed = x.copy()
    changed[time.year == 2003] += 10.0
    moved = baseline_values(changed, time, "median")
    assert np.allclose(moved[time.year != 2003], base[time.year != 2003])
    assert np.allclose(moved[time.year == 2003], base[time.year == 2003] + 10.0)


def test_climatology_baseline_is_the_training_mean_per_step_of_year():
    time = _time()
    step = np.tile(np.arange(73), 8)
    train = time.year < 2006
    x = np.random.default_rng(1).normal(size=(N, 1))
    base = baseline_values(x, time, "climatology", step, train)
    assert base[5, 0] == pytest.approx(x[train & (step == 5), 0].mean())
    with pytest.raises(ValueError, match="step_of_year"):
        baseline_values(x, time, "climatology")
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_values(x, time, "mean")


def test_rankings_and_stability():
    time = pd.date_range("2000-06-01", periods=4, freq="5D")
    deltas = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.5], [0.1, 0.2, 5.0], [0.0, 1.0, 2.0]])
    table = tidy(deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    assert table.groupby("time")["rank"].apply(sorted).map(tuple).unique().tolist() == [(1, 2, 3)]
    ev = event_ranking(table)
    assert ev[ev["rank"] == 1].set_index("event_id")["feature"].to_dict() == {1: "a", 2: "c"}
    overall = overall_ranking(table, n_boot=200)
    assert overall["feature"].iloc[0] == "c" and (overall["ci_low"] <= overall["mean_delta"]).all()
    assert overall["top1_share"].sum() == pytest.approx(1.0)
    same = top_k_stability(ev, ev, k=2)
    assert (same["jaccard_top"] == 1.0).all() and (same["kendall_tau"] == 1.0).all() and same["same_top1"].all()
    flipped = ev.assign(rank=ev.groupby("event_id")["rank"].transform(lambda r: r.max() + 1 - r))
    assert (top_k_stability(ev, flipped, k=1)["jaccard_top"] == 0.0).all()


def test_shapley_values_add_up_and_find_the_planted_driver(model):
    from clvlib.attribution import attribute_shapley
    x = _series(2)
    t = 73 * 7 + 40
    x[t, 1] += 4.0
    base = baseline_values(x, _time(), "median")
    phi = attribute_shapley(model, x, np.array([t, 100]), base, n_permutations=4)
    full = x.copy()
    w = model.config.window
    for i, step in enumerate((t, 100)):
        lo, hi = max(0, step - w + 1), min(N, step + w)
        all_base = x.copy()
        all_base[lo:hi] = base[lo:hi]
        expected = model.score(full)[step] - model.score(all_base)[step]
        assert phi[i].sum() == pytest.approx(expected, abs=1e-5)
    assert int(np.argmax(phi[0])) == 1


def test_driver_check_renames_drivers_for_gemb_and_counts_accuracy():
    from clvlib.attribution import driver_accuracy, driver_check
    ranking = pd.DataFrame({"event_id": [1, 1, 1, 2, 2, 2], "feature": ["albedo", "t2m", "tcc"] * 2,
                            "delta": [3, 2, 1, 1, 2, 3.0], "rank": [1, 2, 3, 3, 2, 1]})
    events = pd.DataFrame({"event_id": [1, 2, 3], "reference_ids": ["10", "11;12", ""]})
    truth = pd.DataFrame({"event_id": [10, 11, 12], "type": ["dark_surface", "warm_advection", "foehn"],
                          "drivers": ["fal", "t2m;d2m;strd", "u10;sshf;t2m"]})
    check = driver_check(ranking, events, truth, k=2, dataset="gemb")
    assert check["top1"].tolist() == ["albedo", "tcc"] and check["drivers"].iloc[0] == "albedo"
    assert check["top1_is_driver"].tolist() == [True, False] and check["driver_in_top2"].tolist() == [True, True]
    acc = driver_accuracy(check, k=2).set_index("type")
    assert acc.loc["all", "n_events"] == 2 and acc.loc["all", "top1_accuracy"] == 0.5 and acc.loc["all", "top2_accuracy"] == 1.0
    assert not driver_check(ranking, events, truth, k=2, dataset="era5")["top1_is_driver"].iloc[0]


def test_baseline_stability_summarises_identical_and_different_baselines():
    from clvlib.attribution import baseline_stability
    time = pd.date_range("2000-06-01", periods=4, freq="5D")
    deltas = np.array([[3.0, 1.0, 0.0], [2.0, 1.0, 0.5], [0.1, 0.2, 5.0], [0.0, 1.0, 2.0]])
    same = tidy(deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    flipped = tidy(-deltas, time, np.array([1, 1, 2, 2]), ("a", "b", "c"))
    summary, per_event = baseline_stability({"median": same, "zero": same, "other": flipped}, k=1)
    rows = summary.set_index("alternative")
    assert rows.loc["zero", "mean_jaccard_top1"] == 1.0 and rows.loc["zero", "overall_kendall_tau"] == 1.0
    assert rows.loc["other", "mean_jaccard_top1"] == 0.0 and rows.loc["other", "same_top1_share"] == 0.0
    assert len(per_event) == 4 and set(per_event["alternative"]) == {"zero", "other"}


def test_counterfactual_scores_change_only_where_the_feature_is_replaced(model):
    from clvlib.attribution import counterfactual_scores
    x = _series(3)
    base = baseline_values(x, _time(), "median")
    cf = counterfactual_scores(model, x, 300, 310, 1, base)
    original = model.score(x)
    w = model.config.window
    np.testing.assert_array_equal(cf[: 300 - w + 1], original[: 300 - w + 1])
    np.testing.assert_array_equal(cf[310 + w - 1:], original[310 + w - 1:])
    assert not np.allclose(cf[300:310], original[300:310])
